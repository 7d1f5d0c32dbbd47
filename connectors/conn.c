/*
 * conn.c - the connector table and what every connector shares: results,
 * credentials, the source context, query validation and get-and-parse.
 *
 * Why here: each connector file should read as "these URLs, this format";
 * the rules that must hold for all of them - secrets only from the
 * environment or files, messages that start with the source, "no data"
 * from every endpoint meaning ERR_NOT_FOUND, series clipped to the asked
 * range, no series growing without bound - are enforced once.
 */
#include "connectors/connector.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

const struct connector *const conn_table[] = {
    &conn_electricitymaps, &conn_watttime, &conn_ukgrid, &conn_entsoe, &conn_eia,
    &conn_openmeteo,	   &conn_pue,	   NULL,
};

const struct connector *conn_find(const char *name)
{
	for (const struct connector *const *c = conn_table; name && *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

const struct conn_endpoint *conn_endpoint(const struct connector *conn, const char *name)
{
	for (const struct conn_endpoint *e = conn->endpoints; name && e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */

void conn_result_init(struct conn_result *r)
{
	sig_set_init(&r->sigs);
	r->nfc = r->capfc = 0;
	r->fc = NULL;
}

void conn_result_release(struct conn_result *r)
{
	if (!r)
		return;
	sig_set_release(&r->sigs);
	for (size_t i = 0; i < r->nfc; i++) {
		series_release(&r->fc[i].p50);
		series_release(&r->fc[i].p10);
		series_release(&r->fc[i].p90);
	}
	free(r->fc);
	r->fc = NULL;
	r->nfc = r->capfc = 0;
}

struct conn_forecast *conn_result_forecast(struct conn_result *r, const char *zone, const char *kind,
					   const char *source, const char *model, int64_t issued_at,
					   int32_t step)
{
	for (size_t i = 0; i < r->nfc; i++) {
		struct conn_forecast *f = &r->fc[i];
		if (f->issued_at == issued_at && !strcmp(f->zone, zone) && !strcmp(f->kind, kind) &&
		    !strcmp(f->source, source) && !strcmp(f->model, model))
			return f;
	}
	r->fc = xgrow(r->fc, &r->capfc, r->nfc + 1, sizeof(*r->fc));
	struct conn_forecast *f = &r->fc[r->nfc++];
	memset(f, 0, sizeof(*f));
	snprintf(f->zone, sizeof(f->zone), "%s", zone);
	snprintf(f->kind, sizeof(f->kind), "%s", kind);
	snprintf(f->source, sizeof(f->source), "%s", source);
	snprintf(f->model, sizeof(f->model), "%s", model);
	f->issued_at = issued_at;
	series_init(&f->p50, 0, step);
	series_init(&f->p10, 0, step);
	series_init(&f->p90, 0, step);
	return f;
}

size_t conn_result_points(const struct conn_result *r)
{
	size_t n = sig_set_points(&r->sigs);

	for (size_t i = 0; i < r->nfc; i++)
		n += series_count_valid(&r->fc[i].p50);
	return n;
}

/* Keep the steps of s inside [from, to), without padding. */
static void clip_series(struct series *s, int64_t from, int64_t to)
{
	size_t a = 0, b = s->n;

	while (a < b && series_ts(s, a) < from)
		a++;
	while (b > a && series_ts(s, b - 1) >= to)
		b--;
	if (a == 0 && b == s->n)
		return;
	size_t n = b - a;
	memmove(s->v, s->v + a, n * sizeof(*s->v));
	if (s->est)
		memmove(s->est, s->est + a, n);
	s->start += (int64_t)a * s->step;
	s->n = n;
}

void conn_result_clip(struct conn_result *r, int64_t from, int64_t to)
{
	size_t k = 0;

	for (size_t i = 0; i < r->sigs.n; i++) {
		clip_series(&r->sigs.items[i].s, from, to);
		if (series_count_valid(&r->sigs.items[i].s) == 0) {
			series_release(&r->sigs.items[i].s);
			continue;
		}
		r->sigs.items[k++] = r->sigs.items[i];
	}
	r->sigs.n = k;
}

int conn_series_set(struct series *s, int64_t t, double v, bool estimated, const char *what,
		    struct err_detail *err)
{
	if (s->n) {
		if ((t - s->start) % s->step)
			return err_set(err, ERR_MALFORMED, what,
				       "%s: time %lld is not on the %d-second grid of the series", what,
				       (long long)t, (int)s->step);
		int64_t first = t < s->start ? t : s->start;
		int64_t last = t > series_ts(s, s->n - 1) ? t : series_ts(s, s->n - 1);
		if ((uint64_t)(last - first) / (uint64_t)s->step >= CONN_MAX_STEPS) {
			char a[TS_BUFSZ], b[TS_BUFSZ];
			return err_set(err, ERR_MALFORMED, what,
				       "%s: times from %s to %s span more than %zu steps", what,
				       ts_format(first, a), ts_format(last, b), CONN_MAX_STEPS);
		}
	}
	series_set(s, t, v, estimated);
	return ERR_OK;
}

/* ------------------------------------------------------------------ */
/* Credentials                                                         */

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Read a secret file: at most 4 KiB, trailing white space removed. */
static int read_secret_file(const char *path, const char *what, char **ret, struct err_detail *err)
{
	FILE *fp = fopen(path, "rb");
	char buf[4097];
	size_t n;

	if (!fp)
		return err_set(err, ERR_INVALID, what, "cannot read the %s file '%s': %s", what, path,
			       strerror(errno));
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	if (n == sizeof(buf)) {
		explicit_bzero(buf, sizeof(buf));
		return err_set(err, ERR_INVALID, what, "the %s file '%s' is larger than 4 KiB", what, path);
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	if (!n)
		return err_set(err, ERR_INVALID, what, "the %s file '%s' is empty", what, path);
	*ret = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return ERR_OK;
}

/* One secret: the file named in the config, else $VAR, else the file
 * named by $VAR_FILE. */
static int load_secret(const char *src, const char *what, const char *var, const char *file, char **ret,
		       struct err_detail *err)
{
	char fvar[160];
	const char *v;

	if (file)
		return read_secret_file(file, what, ret, err);
	v = getenv(var);
	if (v && *v) {
		*ret = xstrdup(v);
		return ERR_OK;
	}
	snprintf(fvar, sizeof(fvar), "%s_FILE", var);
	v = getenv(fvar);
	if (v && *v)
		return read_secret_file(v, what, ret, err);
	return err_set(err, ERR_INVALID, var, "%s needs its %s: set %s, or %s to a file holding it", src,
		       what, var, fvar);
}

static int load_creds(const struct connector *conn, const char *src, const struct conn_cred_names *nm,
		      struct conn_creds *ret, struct err_detail *err)
{
	static const struct conn_cred_names none;
	int rc = ERR_OK;

	if (!nm)
		nm = &none;
	switch (conn->auth) {
	case CONN_AUTH_NONE: break;
	case CONN_AUTH_TOKEN:
		rc = load_secret(src, "API token", nm->token_env ? nm->token_env : conn->token_env,
				 nm->token_file, &ret->token, err);
		break;
	case CONN_AUTH_LOGIN:
		rc = load_secret(src, "user name", nm->username_env ? nm->username_env : conn->username_env,
				 nm->username_file, &ret->username, err);
		if (!rc)
			rc = load_secret(src, "password",
					 nm->password_env ? nm->password_env : conn->password_env,
					 nm->password_file, &ret->password, err);
		break;
	}
	if (rc) {
		wipe_free(ret->token);
		wipe_free(ret->username);
		wipe_free(ret->password);
		*ret = (struct conn_creds){0};
	}
	return rc;
}

int conn_ctx_init(struct conn_ctx *c, const struct connector *conn, const char *source, const char *base_url,
		  struct fetch *f, const struct conn_cred_names *names, struct err_detail *err)
{
	struct conn_creds creds = {0};
	const char *src = source && *source ? source : conn->name;
	int rc;

	if (!base_url && !conn->default_base_url)
		return err_set(err, ERR_INVALID, "base_url", "%s needs a location: a file or an http(s) URL",
			       src);
	rc = load_creds(conn, src, names, &creds, err);
	if (rc)
		return rc;
	memset(c, 0, sizeof(*c));
	c->conn = conn;
	snprintf(c->source, sizeof(c->source), "%s", src);
	c->base_url = xstrdup(base_url ? base_url : conn->default_base_url);
	/* "https://host/" and "https://host" are the same base. */
	size_t n = strlen(c->base_url);
	while (n > 1 && c->base_url[n - 1] == '/' && strstr(c->base_url, "://"))
		c->base_url[--n] = '\0';
	c->creds = creds;
	c->fetch = f;
	pthread_mutex_init(&c->lock, NULL);
	return ERR_OK;
}

void conn_ctx_release(struct conn_ctx *c)
{
	if (!c || !c->conn)
		return;
	wipe_free(c->creds.token);
	wipe_free(c->creds.username);
	wipe_free(c->creds.password);
	wipe_free(c->token);
	free(c->base_url);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

int64_t conn_now(const struct conn_ctx *c)
{
	return c->now ? c->now(c->now_arg) : ts_now();
}

/* ------------------------------------------------------------------ */
/* Fetch and parse                                                     */

bool conn_wants(const struct conn_query *q, const char *name, bool dflt)
{
	if (!q->endpoints)
		return dflt;
	for (const char *const *e = q->endpoints; *e; e++)
		if (!strcmp(*e, name))
			return true;
	return false;
}

void conn_parse_ctx_init(struct conn_parse_ctx *p, const struct conn_ctx *c, const struct conn_query *q)
{
	*p = (struct conn_parse_ctx){
	    .zone = q->zone ? q->zone : "",
	    .source = c->conn->name,
	    .now = conn_now(c),
	    .from = q->from,
	    .to = q->to,
	    .step = q->step,
	    .factors = q->factors,
	    .key = q->key,
	};
}

void conn_urlencode(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	for (; s && *s && k + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			out[k++] = (char)ch;
		} else {
			out[k++] = '%';
			out[k++] = hex[ch >> 4];
			out[k++] = hex[ch & 15];
		}
	}
	out[k] = '\0';
}

int conn_get_parse(struct conn_ctx *c, const struct conn_endpoint *ep, const char *url,
		   const char *const *headers, const char *const *secrets, const struct conn_parse_ctx *p,
		   struct conn_result *ret, struct err_detail *err)
{
	struct fetch_request rq = {
	    .source = c->source,
	    .url = url,
	    .headers = headers,
	    .accept = ep->format,
	    .secrets = secrets,
	};
	struct fetch_response res = {0};
	int rc = fetch_get(c->fetch, &rq, &res, err);

	if (rc)
		return rc;
	rc = ep->parse(p, res.body, res.len, ret, err);
	fetch_response_release(&res);
	if (rc && err) {
		err_prefix(err, "%s: %s response: ", c->source, ep->name);
		fetch_redact_text(err->msg, sizeof(err->msg), secrets);
	}
	return rc;
}

int conn_parse(const struct connector *conn, const char *endpoint, const struct conn_parse_ctx *p,
	       const char *data, size_t len, struct conn_result *ret, struct err_detail *err)
{
	const struct conn_endpoint *ep = conn_endpoint(conn, endpoint);

	if (!ep)
		return err_set(err, ERR_INVALID, "endpoint", "%s has no endpoint '%s'", conn->name, endpoint);
	return ep->parse(p, data, len, ret, err);
}

static int check_query(const struct conn_ctx *c, const struct conn_query *q, struct err_detail *err)
{
	const struct connector *conn = c->conn;

	if (conn != &conn_pue && (!q->zone || !*q->zone || !strcmp(q->zone, "*")))
		return err_set(err, ERR_INVALID, "zone", "%s needs a zone", c->source);
	if (q->zone && strlen(q->zone) >= sizeof(((struct sig_series *)0)->zone))
		return err_set(err, ERR_INVALID, "zone", "zone '%.40s...' is too long", q->zone);
	if ((q->from || q->to) && q->from >= q->to)
		return err_set(err, ERR_INVALID, "from", "the range must have from < to");
	if (q->horizon_h < 0 || q->horizon_h > 24 * 16)
		return err_set(err, ERR_INVALID, "horizon", "the forecast horizon must be 0-384 hours");
	for (const char *const *e = q->endpoints; e && *e; e++) {
		if (conn_endpoint(conn, *e))
			continue;
		struct buf b;
		buf_init(&b, 0);
		for (const struct conn_endpoint *x = conn->endpoints; x->name; x++)
			buf_addf(&b, "%s%s", x == conn->endpoints ? "" : ", ", x->name);
		err_set(err, ERR_INVALID, "endpoints", "%s has no endpoint '%s' (it has %s)", c->source, *e,
			b.data);
		buf_release(&b);
		return ERR_INVALID;
	}
	return ERR_OK;
}

int conn_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
	       struct err_detail *err)
{
	int rc;

	conn_result_init(ret);
	rc = check_query(c, q, err);
	if (!rc)
		rc = c->conn->fetch(c, q, ret, err);
	if (!rc && (q->from || q->to))
		conn_result_clip(ret, q->from, q->to);
	if (!rc && conn_result_points(ret) == 0) {
		char a[TS_BUFSZ], b[TS_BUFSZ];
		if (q->from || q->to)
			rc = err_set(err, ERR_NOT_FOUND, "zone", "%s: no data for '%s' from %s to %s",
				     c->source, q->zone ? q->zone : "*", ts_format(q->from, a),
				     ts_format(q->to, b));
		else
			rc = err_set(err, ERR_NOT_FOUND, "zone", "%s: no recent data for '%s'", c->source,
				     q->zone ? q->zone : "*");
	}
	if (rc) {
		conn_result_release(ret);
		conn_result_init(ret);
	}
	return rc;
}

int conn_soft(struct conn_nodata *nd, int rc, struct err_detail *err)
{
	if (rc != ERR_NOT_FOUND)
		return rc;
	if (!nd->count++ && err)
		nd->first = *err;
	return ERR_OK;
}

int conn_finish(const struct conn_nodata *nd, const struct conn_result *r, struct err_detail *err)
{
	if (nd->count && conn_result_points(r) == 0) {
		if (err)
			*err = nd->first;
		return ERR_NOT_FOUND;
	}
	return ERR_OK;
}

bool conn_parse_time(const char *s, size_t len, int64_t *ret)
{
	return ts_parse_loose(s, len, ret);
}

const char *conn_generation_kind(enum sig_fuel f, char out[48])
{
	snprintf(out, 48, "generation:%s", sig_fuel_name(f));
	return out;
}

int conn_add_mix_signals(struct conn_result *ret, const struct conn_parse_ctx *p, int32_t step, int64_t t,
			 const double mix[FUEL__COUNT], bool direct, bool estimated, struct err_detail *err)
{
	const struct {
		const char *kind;
		double v;
	} out[] = {
	    {"carbon_intensity", sig_intensity_from_mix(mix, FACTORS_LIFECYCLE)},
	    {"carbon_intensity_direct", direct ? sig_intensity_from_mix(mix, FACTORS_DIRECT) : NAN},
	    {"renewable_share", sig_share_from_mix(mix, false)},
	    {"low_carbon_share", sig_share_from_mix(mix, true)},
	};

	for (size_t i = 0; i < ARRAY_SIZE(out); i++) {
		if (isnan(out[i].v))
			continue;
		struct series *s = sig_set_get(&ret->sigs, p->zone, out[i].kind, p->source, step);
		int rc = conn_series_set(s, t, out[i].v, estimated, out[i].kind, err);
		if (rc)
			return rc;
	}
	return ERR_OK;
}
