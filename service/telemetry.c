/*
 * telemetry.c - the service's metric families and the collectors run at
 * each scrape of GET /metrics.
 *
 * Collectors read the truth where it lives rather than mirroring it in
 * counters: current intensity from the signal cache, jobs and savings,
 * forecasts and source state from PostgreSQL.  A scrape therefore costs
 * a handful of indexed queries - fine at Prometheus' pace (15-60 s), and
 * it means every replica reports the same figures.  A collector that
 * fails (the database is down) reports carbonsched_scrape_collector_success
 * 0 and drops its gauges; the HTTP and process series are still served,
 * which is when an operator needs them most.
 */
#include "service/telemetry.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/app.h"
#include "service/store.h"
#include "service/version.h"

const double tm_buckets_http[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const double tm_buckets_fetch[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120};

static const struct family_def {
	enum metric_type type;
	const char *name, *help;
	const char *const *labels;
	const double *buckets;
	size_t nbuckets;
} family_defs[] = {
#define TM_DEF(id, type, name, help, labels, ...) {METRIC_##type, name, help, labels, __VA_ARGS__},
    TELEMETRY_FAMILIES(TM_DEF)
#undef TM_DEF
};

static pthread_mutex_t scrape_lock = PTHREAD_MUTEX_INITIALIZER;

struct telemetry *telemetry_new(void)
{
	struct telemetry *t = xcalloc(1, sizeof(*t));

	t->reg = metrics_new();
	for (size_t i = 0; i < TM__COUNT; i++) {
		const struct family_def *d = &family_defs[i];

		t->fam[i] =
		    metrics_family(t->reg, d->type, d->name, d->help, d->labels, d->buckets, d->nbuckets);
	}
	return t;
}

void telemetry_free(struct telemetry *t)
{
	if (!t)
		return;
	metrics_free(t->reg);
	free(t);
}

void telemetry_start(struct app *app)
{
	metric_set(TM_GET(app, BUILD_INFO, CARBONSCHED_VERSION, clock_mode_name(&app->clock)), 1);
	metric_set(TM_GET0(app, START_TIME), (double)app->started_at);
}

/* --- collectors ------------------------------------------------------------ */

static int collect_clock(struct app *app, struct db *db, struct err_detail *err)
{
	(void)db;
	(void)err;
	metric_set(TM_GET0(app, CLOCK_TIME), (double)clock_now(&app->clock));
	return ERR_OK;
}

/* Latest value of (zone, kind) at 'now': ERR_NOT_FOUND when none. */
static int latest(struct app *app, struct db *db, const struct region_cfg *r, const char *kind, int64_t now,
		  struct store_series *ret_ser, int64_t *ret_ts, double *ret_v, struct err_detail *err)
{
	int rc = sigcache_find_series(app->cache, db, r->zone, kind, NULL, r->sources, ret_ser, err);

	if (!rc)
		rc = sigcache_latest(app->cache, db, ret_ser, now, ret_ts, ret_v, err);
	return rc;
}

static int collect_signals(struct app *app, struct db *db, struct err_detail *err)
{
	int64_t now = clock_now(&app->clock), ts;
	struct store_series ser;
	const char *pue_source;
	double v;
	int rc;

	for (size_t i = 0; i < app->cfg->nregions; i++) {
		const struct region_cfg *r = &app->cfg->regions[i];
		double pue = region_pue_now(app->cache, db, r, now, &pue_source);

		metric_set(TM_GET(app, REGION_PUE, r->id), pue);
		rc = latest(app, db, r, "carbon_intensity", now, &ser, &ts, &v, err);
		if (rc == ERR_OK) {
			metric_set(TM_GET(app, REGION_CI, r->id, r->zone, ser.source), v);
			metric_set(TM_GET(app, REGION_CI_AGE, r->id), (double)(now - ts));
			metric_set(TM_GET(app, REGION_EFFECTIVE, r->id), v * pue);
		} else if (rc != ERR_NOT_FOUND) {
			return rc;
		}
		rc = latest(app, db, r, "renewable_share", now, &ser, &ts, &v, err);
		if (rc == ERR_OK)
			metric_set(TM_GET(app, REGION_RENEWABLE, r->id, r->zone, ser.source), v / 100);
		else if (rc != ERR_NOT_FOUND)
			return rc;
	}
	return ERR_OK;
}

static int collect_forecasts(struct app *app, struct db *db, struct err_detail *err)
{
	int64_t now = clock_now(&app->clock);
	char pnow[24], hz[16];
	const char *p[2] = {NULL, db_param_time(now, pnow)};
	struct db_res *r;
	int rc;

	if ((rc = db_exec(db, DB_TM_FORECAST_LATEST, p + 1, 1, &r, err)))
		return rc;
	for (size_t i = 0; i < db_res_rows(r); i++)
		metric_set(
		    TM_GET(app, FORECAST_AGE, db_res_get(r, i, 0), db_res_get(r, i, 1), db_res_get(r, i, 2)),
		    (double)(now - db_res_int64(r, i, 3)));
	db_res_free(r);

	for (size_t i = 0; i < app->cfg->nregions; i++) {
		const struct region_cfg *reg = &app->cfg->regions[i];

		p[0] = reg->zone;
		if ((rc = db_exec(db, DB_TM_FORECAST_AHEAD, p, 2, &r, err)))
			return rc;
		for (size_t j = 0; j < db_res_rows(r); j++) {
			if (db_res_is_null(r, j, 2))
				continue;
			snprintf(hz, sizeof(hz), "%lldh", (long long)db_res_int64(r, j, 1));
			metric_set(TM_GET(app, FORECAST_CI, reg->id, db_res_get(r, j, 0), hz),
				   db_res_double(r, j, 2));
		}
		db_res_free(r);
	}

	if ((rc = db_exec(db, DB_TM_FORECAST_SKILL, NULL, 0, &r, err)))
		return rc;
	for (size_t i = 0; i < db_res_rows(r); i++) {
		const char *z = db_res_get(r, i, 0), *k = db_res_get(r, i, 1), *m = db_res_get(r, i, 2),
			   *h = db_res_get(r, i, 3);

		if (!db_res_is_null(r, i, 4))
			metric_set(TM_GET(app, FORECAST_MAE, z, k, m, h), db_res_double(r, i, 4));
		if (!db_res_is_null(r, i, 5))
			metric_set(TM_GET(app, FORECAST_COVERAGE, z, k, m, h), db_res_double(r, i, 5));
	}
	db_res_free(r);
	return ERR_OK;
}

static int collect_sources(struct app *app, struct db *db, struct err_detail *err)
{
	struct db_res *r;
	int rc;

	if ((rc = db_exec(db, DB_TM_SOURCE_STATE, NULL, 0, &r, err)))
		return rc;
	for (size_t i = 0; i < db_res_rows(r); i++) {
		const char *s = db_res_get(r, i, 0), *z = db_res_get(r, i, 1);

		metric_set(TM_GET(app, SOURCE_ROWS, s, z), (double)db_res_int64(r, i, 2));
		if (!db_res_is_null(r, i, 3))
			metric_set(TM_GET(app, SOURCE_SUCCESS_AGE, s, z), db_res_double(r, i, 3));
		metric_set(TM_GET(app, SOURCE_UP, s, z), db_res_bool(r, i, 4));
		metric_set(TM_GET(app, SOURCE_BREAKER_OPEN, s, z), db_res_bool(r, i, 5));
	}
	db_res_free(r);
	return ERR_OK;
}

static int collect_jobs(struct app *app, struct db *db, struct err_detail *err)
{
	static const char *const states[] = {"scheduled", "running", "completed", "cancelled", "failed"};
	struct db_res *r;
	int rc;

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		metric_set(TM_GET(app, JOBS, states[i]), 0);
	if ((rc = db_exec(db, DB_TM_JOBS_BY_STATE, NULL, 0, &r, err)))
		return rc;
	for (size_t i = 0; i < db_res_rows(r); i++)
		metric_set(TM_GET(app, JOBS, db_res_get(r, i, 0)), (double)db_res_int64(r, i, 1));
	db_res_free(r);
	if ((rc = db_exec(db, DB_TM_JOBS_SAVINGS, NULL, 0, &r, err)))
		return rc;
	/* Kept in the database, so the counters are monotonic as long as
	 * completed jobs are kept: jobs that emitted more than their
	 * baseline add to the excess counter, never subtract from this one. */
	metric_set(TM_GET0(app, CO2_AVOIDED), db_res_double(r, 0, 0));
	metric_set(TM_GET0(app, CO2_EXCESS), db_res_double(r, 0, 1));
	metric_set(TM_GET0(app, CO2_PLANNED_AVOIDED), db_res_double(r, 0, 2));
	db_res_free(r);
	return ERR_OK;
}

/* The families each collector sets: cleared before it runs (a label set
 * that has no value any more disappears) and after it fails. */
#define N(a) (sizeof(a) / sizeof((a)[0]))
static const enum telemetry_family f_clock[] = {TM_CLOCK_TIME},
				   f_signals[] = {TM_REGION_CI, TM_REGION_CI_AGE, TM_REGION_RENEWABLE,
						  TM_REGION_PUE, TM_REGION_EFFECTIVE},
				   f_forecasts[] = {TM_FORECAST_AGE, TM_FORECAST_CI, TM_FORECAST_MAE,
						    TM_FORECAST_COVERAGE},
				   f_sources[] = {TM_SOURCE_ROWS, TM_SOURCE_SUCCESS_AGE, TM_SOURCE_UP,
						  TM_SOURCE_BREAKER_OPEN},
				   f_jobs[] = {TM_JOBS, TM_CO2_AVOIDED, TM_CO2_EXCESS,
					       TM_CO2_PLANNED_AVOIDED};

static const struct collector {
	const char *name;
	int (*fn)(struct app *app, struct db *db, struct err_detail *err);
	bool needs_db;
	const enum telemetry_family *families;
	size_t nfamilies;
} collectors[] = {
    {"clock", collect_clock, false, f_clock, N(f_clock)},
    {"signals", collect_signals, true, f_signals, N(f_signals)},
    {"forecasts", collect_forecasts, true, f_forecasts, N(f_forecasts)},
    {"sources", collect_sources, true, f_sources, N(f_sources)},
    {"jobs", collect_jobs, true, f_jobs, N(f_jobs)},
};

static void clear(struct app *app, const struct collector *c)
{
	for (size_t i = 0; i < c->nfamilies; i++)
		metrics_family_clear(app->telemetry->fam[c->families[i]]);
}

static double mono_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void telemetry_scrape(struct app *app, struct buf *out)
{
	struct err_detail dberr = {{0}, {0}};
	struct db *db = NULL;
	int dbrc;

	pthread_mutex_lock(&scrape_lock);
	dbrc = app->pool ? db_acquire(app->pool, 2000, &db, &dberr) : ERR_UNAVAILABLE;
	for (size_t i = 0; i < sizeof(collectors) / sizeof(collectors[0]); i++) {
		const struct collector *c = &collectors[i];
		struct err_detail err = {{0}, {0}};
		double t0 = mono_seconds();
		int rc;

		clear(app, c);
		rc = c->needs_db && dbrc ? dbrc : c->fn(app, db, &err);
		if (rc) {
			clear(app, c);
			log_warn("metrics: collector '%s' failed: %s", c->name,
				 c->needs_db && dbrc ? dberr.msg : err.msg);
		}
		metric_set(TM_GET(app, COLLECTOR_SUCCESS, c->name), rc == ERR_OK);
		metric_set(TM_GET(app, COLLECTOR_DURATION, c->name), mono_seconds() - t0);
	}
	if (db)
		db_release(app->pool, db);
	metrics_render(app->telemetry->reg, out);
	pthread_mutex_unlock(&scrape_lock);
}
