/*
 * pue.c - a PUE feed: power usage effectiveness per region, from a CSV or
 * JSON document in a file or at a URL.
 *
 * No provider publishes live PUE, so a feed is whatever the operator keeps:
 * a constant per region, a time series (DCIM exports), or annual figures
 * such as the Green Software Foundation's Cloud Region Metadata CSV.  One
 * reader takes all three:
 *
 *   CSV, columns found by name in the header (other columns are ignored):
 *     region  = region | cloud-region | region_id      (required)
 *     pue     = pue | power-usage-effectiveness        (required; blank = not available)
 *     time    = time | ts | timestamp | datetime       (optional: a time series)
 *     year    = year                                   (optional: annual values)
 *   JSON: {"regions": [{"region": "dc-oslo", "pue": 1.08},
 *                      {"region": "dc-paris", "series": [{"time": "...", "pue": 1.3}]}]}
 *         (or the bare array)
 *
 * Time series keep their points (on the feed's step grid).  Constants and
 * annual figures are expanded over the range asked for (by default a day
 * back and five ahead) at the feed's step; a year without a figure takes
 * the latest earlier one (annual reports lag a year or more), steps before
 * the first year stay gaps.  Two figures for one region and year (the GSF
 * file lists twin sites under one region name) are averaged.  A PUE below
 * 1.0 or above 5 is refused with its line: it is a unit error, not data.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/conn_json.h"
#include "connectors/connector.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"

#define MAX_REGIONS    10000
#define MAX_FEED_BYTES ((size_t)64 << 20)
#define PUE_MIN	       1.0
#define PUE_MAX	       5.0

struct annual {
	int year;
	double sum;
	int count;
};

struct region {
	char id[64];
	double constant; /* NAN when none */
	struct annual *years;
	size_t nyears, capyears;
	struct series points;
};

struct feed {
	struct region *r;
	size_t n, cap;
	int32_t step;
};

static void feed_release(struct feed *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->r[i].years);
		series_release(&f->r[i].points);
	}
	free(f->r);
}

static int region_get(struct feed *f, const char *id, struct region **ret, struct err_detail *err)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->r[i].id, id)) {
			*ret = &f->r[i];
			return ERR_OK;
		}
	if (!*id || strlen(id) >= sizeof(f->r[0].id))
		return err_set(err, ERR_MALFORMED, "region", "region '%.40s' is empty or too long", id);
	if (f->n >= MAX_REGIONS)
		return err_set(err, ERR_MALFORMED, "region", "more than %d regions", MAX_REGIONS);
	f->r = xgrow(f->r, &f->cap, f->n + 1, sizeof(*f->r));
	struct region *r = &f->r[f->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->constant = NAN;
	series_init(&r->points, 0, f->step);
	*ret = r;
	return ERR_OK;
}

static int add_value(struct feed *f, const char *id, double pue, bool has_time, int64_t t, int year,
		     struct err_detail *err)
{
	struct region *r = NULL;
	int rc;

	if (!(pue >= PUE_MIN && pue <= PUE_MAX))
		return err_set(err, ERR_MALFORMED, "pue", "PUE %g of '%.40s' is not between %.1f and %.1f",
			       pue, id, PUE_MIN, PUE_MAX);
	if ((rc = region_get(f, id, &r, err)))
		return rc;
	if (has_time) {
		if (t % f->step)
			return err_set(err, ERR_MALFORMED, "time",
				       "time of '%.40s' is not on the feed's %d-second step", id,
				       (int)f->step);
		return conn_series_set(&r->points, t, pue, false, "time", err);
	}
	if (!year) {
		r->constant = pue;
		return ERR_OK;
	}
	for (size_t i = 0; i < r->nyears; i++)
		if (r->years[i].year == year) {
			r->years[i].sum += pue;
			r->years[i].count++;
			return ERR_OK;
		}
	r->years = xgrow(r->years, &r->capyears, r->nyears + 1, sizeof(*r->years));
	r->years[r->nyears++] = (struct annual){year, pue, 1};
	return ERR_OK;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */

static int column(char **fields, int n, const char *const *names)
{
	for (int i = 0; i < n; i++)
		for (const char *const *nm = names; *nm; nm++)
			if (!strcasecmp(fields[i], *nm))
				return i;
	return -1;
}

static int parse_csv(struct feed *f, const char *data, size_t len, struct err_detail *err)
{
	static const char *const region_names[] = {"region", "cloud-region", "region_id", "region-id", NULL};
	static const char *const pue_names[] = {"pue", "power-usage-effectiveness", NULL};
	static const char *const time_names[] = {"time", "ts", "timestamp", "datetime", NULL};
	static const char *const year_names[] = {"year", NULL};
	const char *p = data, *end = data + len;
	int ci = -1, cp = -1, ct = -1, cy = -1, nfields = 0, rc = ERR_OK;
	size_t line = 0;
	struct buf b;

	buf_init(&b, 0);
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *fields[65];
		int k;

		line++;
		buf_reset(&b);
		buf_add(&b, p, n);
		p += n + (nl ? 1 : 0);
		if (memchr(b.data, '\0', b.len)) {
			rc = err_set(err, ERR_MALFORMED, "line", "line %zu: contains a NUL byte", line);
			break;
		}
		b.len = csv_chomp(b.data, b.len);
		char *s = (char *)(line == 1 ? csv_skip_bom(b.data) : b.data);
		if (!*s)
			continue;
		k = csv_split(s, fields, 64);
		if (k < 0 || k > 64) {
			rc = err_set(err, ERR_MALFORMED, "line", "line %zu: %s", line,
				     k < 0 ? "unterminated quote" : "more than 64 columns");
			break;
		}
		if (ci < 0) {
			ci = column(fields, k, region_names);
			cp = column(fields, k, pue_names);
			ct = column(fields, k, time_names);
			cy = column(fields, k, year_names);
			nfields = k;
			if (ci < 0 || cp < 0)
				rc = err_set(err, ERR_MALFORMED, "header",
					     "line %zu: the header needs a region column (region or "
					     "cloud-region) and a pue "
					     "column (pue or power-usage-effectiveness)",
					     line);
			continue;
		}
		if (k != nfields) {
			rc = err_set(err, ERR_MALFORMED, "line", "line %zu: %d fields, the header has %d",
				     line, k, nfields);
			break;
		}
		double pue, year = 0;
		int64_t t = 0;
		bool has_time = ct >= 0 && *fields[ct];
		if (!*fields[cp])
			continue; /* blank: not available */
		if (!csv_double(fields[cp], &pue)) {
			rc = err_set(err, ERR_MALFORMED, "pue", "line %zu: PUE '%.20s' is not a number", line,
				     fields[cp]);
			break;
		}
		if (has_time && !ts_parse_loose(fields[ct], strlen(fields[ct]), &t)) {
			rc = err_set(err, ERR_MALFORMED, "time", "line %zu: '%.40s' is not a time", line,
				     fields[ct]);
			break;
		}
		if (!has_time && cy >= 0 && *fields[cy] &&
		    (!csv_double(fields[cy], &year) || year < 1990 || year > 2199 || year != floor(year))) {
			rc = err_set(err, ERR_MALFORMED, "year", "line %zu: year '%.20s' is not a year", line,
				     fields[cy]);
			break;
		}
		if ((rc = add_value(f, fields[ci], pue, has_time, t, (int)year, err)))
			err_prefix(err, "line %zu: ", line);
	}
	buf_release(&b);
	if (!rc && ci < 0)
		rc = err_set(err, ERR_MALFORMED, "header", "no header line");
	return rc;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static int parse_json(struct feed *f, const char *data, size_t len, struct err_detail *err)
{
	json_t *root, *list, *item, *series, *pt;
	size_t i, k;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	list = json_is_array(root) ? root : json_object_get(root, "regions");
	if (!json_is_array(list)) {
		rc = err_set(err, ERR_MALFORMED, "regions", "regions: expected an array");
		goto out;
	}
	json_array_foreach (list, i, item) {
		const char *id;
		double pue;
		if ((rc = cj_str(item, "region", "regions", i, true, &id, err)))
			goto out;
		series = json_object_get(item, "series");
		if (!series) {
			if ((rc = cj_num(item, "pue", "regions", i, true, &pue, err)) ||
			    (rc = add_value(f, id, pue, false, 0, 0, err)))
				goto out;
			continue;
		}
		if (!json_is_array(series)) {
			rc = err_set(err, ERR_MALFORMED, "series", "regions[%zu].series: expected an array",
				     i);
			goto out;
		}
		json_array_foreach (series, k, pt) {
			int64_t t;
			if ((rc = cj_time(pt, "time", "series", k, &t, err)) ||
			    (rc = cj_num(pt, "pue", "series", k, true, &pue, err)) ||
			    (rc = add_value(f, id, pue, true, t, 0, err))) {
				err_prefix(err, "regions[%zu]: ", i);
				goto out;
			}
		}
	}
out:
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ */

static double annual_at(const struct region *r, int year)
{
	int best = 0;
	double v = NAN;

	for (size_t i = 0; i < r->nyears; i++)
		if (r->years[i].year <= year && r->years[i].year > best) {
			best = r->years[i].year;
			v = r->years[i].sum / r->years[i].count;
		}
	return v;
}

static int emit(const struct conn_parse_ctx *p, const struct feed *f, struct conn_result *ret,
		struct err_detail *err)
{
	bool all = !p->zone || !*p->zone || !strcmp(p->zone, "*");
	int64_t day = ts_floor(p->now, TS_DAY);
	int64_t from = p->from || p->to ? ts_ceil(p->from, f->step) : day - TS_DAY;
	int64_t to = p->from || p->to ? p->to : day + 5 * TS_DAY;
	int rc;

	if (to > from && (uint64_t)(to - from) / (uint64_t)f->step > CONN_MAX_STEPS)
		return err_set(err, ERR_RANGE_TOO_LARGE, "to", "the range is more than %zu steps of %d s",
			       CONN_MAX_STEPS, (int)f->step);
	for (size_t i = 0; i < f->n; i++) {
		const struct region *r = &f->r[i];
		if (!all && strcmp(r->id, p->zone))
			continue;
		struct series *s = sig_set_get(&ret->sigs, r->id, "pue", p->source, f->step);
		for (size_t k = 0; k < r->points.n; k++)
			if (!isnan(r->points.v[k]) &&
			    (rc = conn_series_set(s, series_ts(&r->points, k), r->points.v[k], false, "time",
						  err)))
				return rc;
		if (isnan(r->constant) && !r->nyears)
			continue;
		for (int64_t t = from; t < to; t += f->step) {
			double v = r->constant;
			if (r->nyears) {
				struct ts_civil c;
				ts_to_civil(t, &c);
				v = annual_at(r, c.year);
			}
			if (!isnan(v) && isnan(series_at(s, t)) &&
			    (rc = conn_series_set(s, t, v, false, "time", err)))
				return rc;
		}
	}
	return ERR_OK;
}

static int parse_feed(const struct conn_parse_ctx *p, const char *data, size_t len, struct conn_result *ret,
		      struct err_detail *err)
{
	struct feed f = {.step = p->step > 0 ? p->step : 3600};
	size_t i = 0;
	int rc;

	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		rc = parse_json(&f, data, len, err);
	else
		rc = parse_csv(&f, data, len, err);
	if (!rc)
		rc = emit(p, &f, ret, err);
	feed_release(&f);
	return rc;
}

static const struct conn_endpoint endpoints[] = {
    {"feed", "csv", parse_feed,
     "the whole feed: CSV (GSF Cloud Region Metadata or region,pue[,time]) or JSON"},
    {NULL, NULL, NULL, NULL},
};

static int read_file(const char *path, struct buf *out, struct err_detail *err)
{
	FILE *fp = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!fp)
		return err_set(err, ERR_IO, "location", "cannot open '%s': %m", path);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_add(out, chunk, n)) {
			fclose(fp);
			return err_set(err, ERR_TOO_LARGE, "location", "'%s' is larger than %zu bytes", path,
				       out->max);
		}
	if (ferror(fp)) {
		fclose(fp);
		return err_set(err, ERR_IO, "location", "cannot read '%s'", path);
	}
	fclose(fp);
	return ERR_OK;
}

static int pue_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
		     struct err_detail *err)
{
	struct conn_parse_ctx p;
	struct buf b;
	int rc;

	conn_parse_ctx_init(&p, c, q);
	if (q->step && (q->step < 60 || q->step > TS_DAY))
		return err_set(err, ERR_INVALID, "step", "%s: the step must be 1 minute to 1 day", c->source);
	if (!strncasecmp(c->base_url, "http://", 7) || !strncasecmp(c->base_url, "https://", 8))
		return conn_get_parse(c, conn_endpoint(c->conn, "feed"), c->base_url, NULL, NULL, &p, ret,
				      err);
	buf_init(&b, MAX_FEED_BYTES);
	rc = read_file(!strncmp(c->base_url, "file://", 7) ? c->base_url + 7 : c->base_url, &b, err);
	if (!rc && (rc = parse_feed(&p, b.data, b.len, ret, err)))
		err_prefix(err, "%s: %s: ", c->source, c->base_url);
	else if (rc)
		err_prefix(err, "%s: ", c->source);
	buf_release(&b);
	return rc;
}

const struct connector conn_pue = {
    .name = "pue",
    .summary = "PUE feed: per-region constants, time series or annual figures (GSF CSV), from a file or URL",
    .default_base_url = NULL,
    .auth = CONN_AUTH_NONE,
    .endpoints = endpoints,
    .fetch = pue_fetch,
};
