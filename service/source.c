/*
 * source.c - pull, store, record and judge live sources (see source.h).
 *
 * Why one module for the four: they share the one rule that makes a
 * source's data findable - everything it returns is stored under its
 * configured name - and the one definition of freshness, which the read
 * path (choosing a series), the answers ("stale", "age_s") and
 * GET /v1/sources must agree on.
 *
 * Idempotence: signals are upserted by store_ingest, which writes only
 * rows whose value differs; a provider forecast is compared with the
 * stored run of the same key and skipped when equal, so a poller that
 * pulls the same data every minute writes nothing and wakes no cache.
 */
#include "service/source.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/files.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/fcstore.h"

int source_open(struct source *s, const struct config *config, const struct source_cfg *cfg, struct fetch *f,
		int64_t (*now)(void *arg), void *now_arg, struct err_detail *err)
{
	const struct connector *conn = conn_find(cfg->type);
	struct conn_cred_names names = {
	    .token_env = cfg->token_env,
	    .token_file = cfg->token_file,
	    .username_env = cfg->username_env,
	    .username_file = cfg->username_file,
	    .password_env = cfg->password_env,
	    .password_file = cfg->password_file,
	};
	int rc;

	memset(s, 0, sizeof(*s));
	if (!conn && strcmp(cfg->type, "file"))
		return err_set(err, ERR_INVALID, "type", "%s: unknown source type '%s'", cfg->name,
			       cfg->type);
	if (conn) {
		const char *where = cfg->base_url ? cfg->base_url : (conn == &conn_pue ? cfg->path : NULL);

		if ((rc = conn_ctx_init(&s->ctx, conn, cfg->name, where, f, &names, err)))
			return rc;
		s->ctx.now = now;
		s->ctx.now_arg = now_arg;
	}
	snprintf(s->name, sizeof(s->name), "%s", cfg->name);
	s->cfg = cfg;
	s->config = config;
	s->conn = conn;
	return ERR_OK;
}

void source_close(struct source *s)
{
	if (s && s->conn)
		conn_ctx_release(&s->ctx);
	if (s)
		memset(s, 0, sizeof(*s));
}

/* Series and forecasts carry the source's name.  A file's own second
 * source (DACF's forecast, "dacf") keeps its label: renaming it would
 * merge it with the file's actuals. */
static void relabel(struct conn_result *r, const char *name, bool file)
{
	for (size_t i = 0; i < r->sigs.n; i++)
		if (!file || !strcmp(r->sigs.items[i].source, "file"))
			snprintf(r->sigs.items[i].source, sizeof(r->sigs.items[i].source), "%s", name);
	for (size_t i = 0; i < r->nfc; i++) {
		snprintf(r->fc[i].source, sizeof(r->fc[i].source), "%s", name);
		snprintf(r->fc[i].model, sizeof(r->fc[i].model), "%s", name);
	}
}

void source_relabel(struct conn_result *r, const char *name)
{
	relabel(r, name, false);
}

/* The region whose id, or else whose zone, is 'zone'. */
static const struct region_cfg *region_of(const struct config *config, const char *zone)
{
	const struct region_cfg *r;

	if (!config || !zone)
		return NULL;
	if ((r = config_region(config, zone)))
		return r;
	for (size_t i = 0; i < config->nregions; i++)
		if (!strcmp(config->regions[i].zone, zone))
			return &config->regions[i];
	return NULL;
}

static int pull_file(struct source *s, const char *zone, int64_t from, int64_t to, struct conn_result *ret,
		     struct err_detail *err)
{
	struct files_options fo = {.zone = zone && strcmp(zone, "*") ? zone : NULL};
	int rc;

	sig_set_release(&ret->sigs);
	rc = files_read(s->cfg->path, s->cfg->format, &fo, &ret->sigs, err);
	if (rc) {
		err_prefix(err, "%s: ", s->name);
		return rc;
	}
	if (from || to)
		conn_result_clip(ret, from, to);
	return ERR_OK;
}

int source_pull(struct source *s, const char *zone, int64_t from, int64_t to, struct conn_result *ret,
		struct err_detail *err)
{
	const struct source_cfg *c = s->cfg;
	struct conn_query q = {
	    .zone = zone && *zone ? zone : "*",
	    .from = from,
	    .to = to,
	    .endpoints = (const char *const *)c->endpoints,
	    .factors = c->emission_factors && !strcmp(c->emission_factors, "direct") ? FACTORS_DIRECT
										     : FACTORS_LIFECYCLE,
	    .signal_type = c->signal_type,
	    .horizon_h = (int)(c->horizon / TS_HOUR),
	    .step = (int32_t)c->step,
	};
	int rc;

	conn_result_init(ret);
	if (!s->conn) {
		rc = pull_file(s, zone, from, to, ret, err);
	} else {
		const struct region_cfg *r = region_of(s->config, q.zone);

		q.key = cfg_map_get(&c->keys, q.zone);
		if (r && (s->conn == &conn_openmeteo || (s->conn == &conn_watttime && !q.key))) {
			q.has_coords = true;
			q.lat = r->latitude;
			q.lon = r->longitude;
		}
		rc = conn_fetch(&s->ctx, &q, ret, err);
	}
	if (!rc)
		relabel(ret, s->name, !s->conn);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Storing                                                             */

/* A forecast's interval on p50's grid (connectors grow the three series
 * separately, so their extents may differ); false when there is none. */
static bool align(const struct series *p50, const struct series *band, struct series *ret)
{
	bool any = false;

	if (!band->n)
		return false;
	series_init(ret, p50->start, p50->step);
	series_resize(ret, p50->n);
	for (size_t i = 0; i < p50->n; i++) {
		double v = series_at(band, series_ts(p50, i));

		if (!isnan(v)) {
			series_set(ret, series_ts(p50, i), v, false);
			any = true;
		}
	}
	if (!any)
		series_release(ret);
	return any;
}

static bool same_value(double stored, double v)
{
	return (isnan(stored) && isnan(v)) || stored == v;
}

/* Is the stored run of this key exactly these points? */
static int run_unchanged(struct db *db, const struct conn_forecast *f, const struct series *p10,
			 const struct series *p90, bool *ret, struct err_detail *err)
{
	char issued[24];
	const char *p[4] = {f->zone, f->kind, f->model, db_param_time(f->issued_at, issued)};
	struct db_res *r;
	size_t k = 0, rows;
	bool same = true;
	int rc;

	if ((rc = db_exec(db, DB_SOURCE_FORECAST_RUN_POINTS, p, 4, &r, err)))
		return rc;
	rows = db_res_rows(r);
	for (size_t i = 0; i < f->p50.n && same; i++) {
		if (isnan(f->p50.v[i]))
			continue;
		if (k >= rows || db_res_int64(r, k, 0) != series_ts(&f->p50, i) ||
		    !same_value(db_res_double(r, k, 1), p10 ? p10->v[i] : NAN) ||
		    !same_value(db_res_double(r, k, 2), f->p50.v[i]) ||
		    !same_value(db_res_double(r, k, 3), p90 ? p90->v[i] : NAN))
			same = false;
		k++;
	}
	*ret = same && k == rows;
	db_res_free(r);
	return ERR_OK;
}

static int store_forecasts(struct db *db, const struct conn_result *r, struct source_write_stats *st,
			   struct err_detail *err)
{
	bool open = false;
	int rc = ERR_OK;

	for (size_t i = 0; i < r->nfc && !rc; i++) {
		const struct conn_forecast *f = &r->fc[i];
		struct series p10, p90;
		bool has10, has90, same = false;
		size_t valid = series_count_valid(&f->p50);

		/* Nothing to say about the future: no run. */
		if (!valid || f->issued_at <= 0 || series_end(&f->p50) <= f->issued_at)
			continue;
		st->forecasts++;
		has10 = align(&f->p50, &f->p10, &p10);
		has90 = align(&f->p50, &f->p90, &p90);
		rc = run_unchanged(db, f, has10 ? &p10 : NULL, has90 ? &p90 : NULL, &same, err);
		if (!rc && !same) {
			if (!open && !(rc = db_begin(db, err)))
				open = true;
			if (!rc)
				rc = fcstore_write(db, f->zone, f->kind, f->model, f->issued_at,
						   has10 ? &p10 : NULL, &f->p50, has90 ? &p90 : NULL, err);
			if (!rc) {
				st->fc_written++;
				st->fc_points += valid;
			}
		}
		if (has10)
			series_release(&p10);
		if (has90)
			series_release(&p90);
	}
	if (open && !rc)
		rc = db_commit(db, err);
	else if (open)
		db_rollback(db);
	if (rc) {
		st->fc_written = 0;
		st->fc_points = 0;
	}
	return rc;
}

int source_store(struct db *db, const struct conn_result *r, struct source_write_stats *ret,
		 struct err_detail *err)
{
	struct source_write_stats st = {0};
	struct store_ingest_stats in = {0};
	int rc;

	if (r->sigs.n) {
		if ((rc = store_ingest(db, &r->sigs, &in, err)))
			return rc;
		st.series = in.series;
		st.points = in.points;
		st.written = in.written;
	}
	if ((rc = store_forecasts(db, r, &st, err)))
		return rc;
	if (ret)
		*ret = st;
	return ERR_OK;
}

/* ------------------------------------------------------------------ */
/* source_state                                                        */

int source_state_ok(struct db *db, const char *source, const char *zone, int64_t at, int64_t next_run,
		    int64_t rows, const char *breaker, struct err_detail *err)
{
	char a[24], n[24], w[24];
	const char *p[6] = {
	    source, zone, db_param_time(at, a), next_run ? db_param_time(next_run, n) : NULL, w, breaker};

	snprintf(w, sizeof(w), "%lld", (long long)rows);
	return db_exec(db, DB_SOURCE_STATE_SUCCESS, p, 6, NULL, err);
}

int source_state_fail(struct db *db, const char *source, const char *zone, int64_t at, int64_t next_run,
		      const char *message, const char *breaker, struct err_detail *err)
{
	char a[24], n[24];
	const char *p[6] = {
	    source, zone, message, db_param_time(at, a), next_run ? db_param_time(next_run, n) : NULL,
	    breaker};

	return db_exec(db, DB_SOURCE_STATE_FAILURE, p, 6, NULL, err);
}

/* ------------------------------------------------------------------ */
/* Freshness                                                           */

void source_fetch_options(const struct config *config, struct fetch_options *ret)
{
	fetch_options_default(ret);
	ret->timeout_ms = config->fetch_timeout * 1000;
	ret->connect_timeout_ms = config->fetch_connect_timeout * 1000;
	ret->max_attempts = config->fetch_attempts;
	ret->backoff_base_ms = config->fetch_backoff_ms;
	ret->breaker_threshold = config->fetch_breaker_failures;
	ret->breaker_cooldown_ms = config->fetch_breaker_cooldown * 1000;
	ret->max_bytes = (size_t)config->fetch_max_bytes;
	ret->user_agent = config->fetch_user_agent;
}

int64_t source_stale_after(const struct config *config, const char *source, int32_t step)
{
	const struct source_cfg *c = config ? config_source(config, source) : NULL;
	int64_t interval = c ? c->interval : 0;

	if (c && c->stale_after)
		return c->stale_after;
	return 3 * (step > interval ? step : interval);
}

struct health_row {
	char source[24];
	char zone[64];
	bool failing;
};

struct source_health {
	const struct config *config;
	const struct clock *clock;
	pthread_mutex_t lock;
	int64_t loaded_ms; /* monotonic time of the last refresh attempt; 0 = never */
	struct health_row *rows;
	size_t n;
};

struct source_health *source_health_new(const struct config *config, const struct clock *clock)
{
	struct source_health *h = xcalloc(1, sizeof(*h));

	h->config = config;
	h->clock = clock;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void source_health_free(struct source_health *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h->rows);
	free(h);
}

/* Re-read source_state when the copy is older than a second.  One caller
 * refreshes; the others use the copy they find. */
static void refresh(struct source_health *h, struct db *db)
{
	int64_t now = ts_mono_ms();
	struct db_res *r;

	pthread_mutex_lock(&h->lock);
	if (h->loaded_ms && now - h->loaded_ms < 1000) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	h->loaded_ms = now;
	pthread_mutex_unlock(&h->lock);
	if (!db || db_exec(db, DB_SOURCE_STATE_ALL, NULL, 0, &r, NULL))
		return;
	size_t n = db_res_rows(r);
	struct health_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
	for (size_t i = 0; i < n; i++) {
		int64_t ok = db_res_int64(r, i, 2), bad = db_res_int64(r, i, 4);

		snprintf(rows[i].source, sizeof(rows[i].source), "%s", db_res_get(r, i, 0));
		snprintf(rows[i].zone, sizeof(rows[i].zone), "%s", db_res_get(r, i, 1));
		rows[i].failing = !db_res_is_null(r, i, 4) && (db_res_is_null(r, i, 2) || bad > ok);
	}
	db_res_free(r);
	pthread_mutex_lock(&h->lock);
	free(h->rows);
	h->rows = rows;
	h->n = n;
	pthread_mutex_unlock(&h->lock);
}

void source_health_judge(void *arg, struct db *db, const char *zone, struct store_series *rows, size_t n)
{
	struct source_health *h = arg;
	int64_t now = clock_now(h->clock);

	refresh(h, db);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < n; i++) {
		struct store_series *s = &rows[i];

		s->stale_after = source_stale_after(h->config, s->source, s->step);
		/* A newest point after 'now' (a replay inside the data) is not stale. */
		s->stale = !s->last_ts || now - s->last_ts > s->stale_after;
		s->failing = false;
		for (size_t k = 0; k < h->n; k++)
			if (!strcmp(h->rows[k].source, s->source) &&
			    (!strcmp(h->rows[k].zone, zone) || !strcmp(h->rows[k].zone, "*")))
				s->failing = h->rows[k].failing; /* "*": a feed polled for all its zones */
	}
	pthread_mutex_unlock(&h->lock);
}
