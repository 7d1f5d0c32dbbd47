/*
 * planner.c - the scheduler's inputs, cached (see planner.h).
 *
 * Why a snapshot: /v1/schedule must answer from memory.  Everything it
 * needs - a few thousand values per region - is derived from stored
 * signals and forecast runs, which change a few times an hour.  So the
 * inputs are built once per (signal version, forecast version, grid step
 * of the clock), published as an immutable, reference-counted snapshot,
 * and replaced when one of the three moves.  Readers take a reference
 * under a mutex and never wait for a build unless the snapshot they would
 * get is out of date; one builder at a time.
 *
 * Invariants: a snapshot's grid starts at the clock's step (never in the
 * past by more than one step) and spans forecast.horizon; every region of
 * the config is in it, in config order (a region without data has gaps,
 * which the engine never chooses).  Seasonal naive uses only values
 * before the grid start: in replay, later stored values are the future.
 *
 * Trade-off: the background thread reloads the booked capacity for advice
 * after bookings (coalesced), so advice may lag a booking by a fraction of
 * a second; bookings themselves read reservations under row locks.
 */
#include "service/planner.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/fcstore.h"

#define HISTORY_DAYS		 7
#define RESERVED_MIN_INTERVAL_MS 100

struct planner {
	const struct config *cfg;
	const struct clock *clock;
	struct sigcache *cache;
	struct db_pool *pool;
	pthread_mutex_t lock;  /* cur and the reference counts */
	pthread_mutex_t build; /* one build at a time */
	struct planner_snap *cur;
	atomic_uint_fast64_t fc_version;
	atomic_bool jobs_dirty;
	/* booked capacity as last loaded, for advice */
	pthread_mutex_t res_lock;
	double *reserved; /* nregions × res_n, kW */
	int64_t res_start;
	size_t res_n;
	uint64_t res_gen;	       /* loads so far */
	struct planner_advice *advice; /* built from the last load for one snapshot */
	/* background thread */
	int64_t fp[2];	   /* forecast_runs fingerprint last seen */
	int64_t jobs_seen; /* jobs_version last seen */
	pthread_t thread;
	bool running;
	atomic_bool stop;
};

struct planner *planner_new(const struct config *cfg, const struct clock *clock, struct sigcache *cache,
			    struct db_pool *pool)
{
	struct planner *p = xcalloc(1, sizeof(*p));

	p->cfg = cfg;
	p->clock = clock;
	p->cache = cache;
	p->pool = pool;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->build, NULL);
	pthread_mutex_init(&p->res_lock, NULL);
	atomic_init(&p->fc_version, 1);
	atomic_init(&p->jobs_dirty, true);
	atomic_init(&p->stop, false);
	return p;
}

static void snap_free(struct planner_snap *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nregions; i++) {
		free(s->regions[i].forecast_json);
		free(s->regions[i].inputs_json);
	}
	sched_model_free(s->model);
	free(s->regions);
	free(s);
}

struct planner_advice {
	struct sched_capacity *cap;
	int64_t start;
	uint64_t gen;
	int refs;
};

static void advice_free(struct planner_advice *a)
{
	if (!a)
		return;
	sched_capacity_free(a->cap);
	free(a);
}

void planner_free(struct planner *p)
{
	if (!p)
		return;
	if (p->cur && --p->cur->refs == 0)
		snap_free(p->cur);
	if (p->advice && --p->advice->refs == 0)
		advice_free(p->advice);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->build);
	pthread_mutex_destroy(&p->res_lock);
	free(p->reserved);
	free(p);
}

/* ---- building one region's inputs -------------------------------------- */

struct grid {
	int64_t now, start;
	int32_t step;
	size_t n;
};

/* Values of stored signal (zone, kind) on the grid's step over [from, to)
 * into out ((to - from) / step values; gaps NAN).  false when the zone has
 * no such signal or its step does not fit the grid. */
static bool read_actuals(struct planner *p, struct db *db, const struct region_cfg *r, const char *kind,
			 int32_t step, int64_t from, int64_t to, double *out)
{
	struct store_series ser;
	struct series s, g;
	size_t n = (size_t)((to - from) / step);
	bool ok = false;

	for (size_t i = 0; i < n; i++)
		out[i] = NAN;
	if (sigcache_find_series(p->cache, db, r->zone, kind, NULL, r->sources, &ser, NULL))
		return false;
	if (sigcache_read(p->cache, db, &ser, from, to, &s, NULL))
		return false;
	if (!series_resample(&s, step, &g)) {
		for (size_t i = 0; i < n; i++) {
			out[i] = series_at(&g, from + (int64_t)i * step);
			ok |= !isnan(out[i]);
		}
		series_release(&g);
	}
	series_release(&s);
	return ok;
}

/* Fill the gaps of the future values f[q][0..n) from the same time of day
 * 1..7 days earlier (of the filled future itself, or of the history h of
 * HISTORY_DAYS before the grid): p50 the most recent such value, p10/p90
 * the lowest and highest of them.  Returns the steps filled and their
 * first index in *ret_first. */
static size_t seasonal_fill(double *f[SCHED__NQ], const double *h, size_t hn, size_t n, size_t per_day,
			    size_t *ret_first)
{
	size_t filled = 0;

	for (size_t i = 0; i < n; i++) {
		double p50 = NAN, lo = INFINITY, hi = -INFINITY;

		if (!isnan(f[SCHED_P50][i]))
			continue;
		for (size_t d = 1; d <= HISTORY_DAYS; d++) {
			size_t lag = d * per_day;
			double v = lag <= i ? f[SCHED_P50][i - lag] : lag - i <= hn ? h[hn - (lag - i)] : NAN;

			if (isnan(v))
				continue;
			if (isnan(p50))
				p50 = v;
			lo = fmin(lo, v);
			hi = fmax(hi, v);
		}
		if (isnan(p50))
			continue;
		f[SCHED_P50][i] = p50;
		f[SCHED_P10][i] = lo;
		f[SCHED_P90][i] = hi;
		if (!filled++)
			*ret_first = i;
	}
	return filled;
}

/* One input series of a region (carbon intensity or temperature) on the
 * grid: a run, extended; or perfect (replay); or seasonal naive. */
static int load_input(struct planner *p, struct db *db, const struct region_cfg *r, const char *kind,
		      const struct grid *g, double *f[SCHED__NQ], struct planner_source *src,
		      struct err_detail *err)
{
	size_t per_day = (size_t)(TS_DAY / g->step), hn = HISTORY_DAYS * per_day;
	double *hist = xmalloc(hn * sizeof(double));
	bool found, have_hist;
	int rc;

	memset(src, 0, sizeof(*src));
	for (int q = 0; q < SCHED__NQ; q++)
		for (size_t i = 0; i < g->n; i++)
			f[q][i] = NAN;
	/* The run the forecast endpoints show: fcstore_latest's default choice
	 * (lowest recent error in the newest round, else the ensemble, else the
	 * newest), unless it ends before the grid. */
	struct fc_run run;
	rc = fcstore_latest(db, r->zone, kind, NULL, g->now, &run, err);
	found = !rc && run.issued_at + run.horizon > g->start;
	if (rc == ERR_NOT_FOUND)
		rc = ERR_OK;
	if (rc) {
		fc_run_release(&run);
		goto out;
	}
	if (!found)
		fc_run_release(&run);
	if (found) {
		snprintf(src->model, sizeof(src->model), "%s", run.model);
		snprintf(src->chosen_by, sizeof(src->chosen_by), "%s", run.chosen_by);
		snprintf(src->run_extended_by, sizeof(src->run_extended_by), "%s", run.extended_by);
		src->run_extended_from = run.extended_from;
		src->issued_at = run.issued_at;
		struct series *qs[SCHED__NQ] = {&run.p10, &run.p50, &run.p90};
		for (int q = 0; q < SCHED__NQ; q++) {
			struct series rs;

			if (series_resample(qs[q], g->step, &rs))
				continue; /* a step that does not fit: the run is unusable */
			for (size_t i = 0; i < g->n; i++)
				f[q][i] = series_at(&rs, g->start + (int64_t)i * g->step);
			series_release(&rs);
		}
		fc_run_release(&run);
		/* No interval from the model: the central value. */
		for (size_t i = 0; i < g->n; i++) {
			if (isnan(f[SCHED_P50][i]))
				f[SCHED_P10][i] = f[SCHED_P90][i] = NAN;
			if (isnan(f[SCHED_P10][i]))
				f[SCHED_P10][i] = f[SCHED_P50][i];
			if (isnan(f[SCHED_P90][i]))
				f[SCHED_P90][i] = f[SCHED_P50][i];
		}
	} else if (clock_is_replay(p->clock)) {
		if (read_actuals(p, db, r, kind, g->step, g->start, g->start + (int64_t)g->n * g->step,
				 f[SCHED_P50])) {
			snprintf(src->model, sizeof(src->model), "perfect (replay)");
			memcpy(f[SCHED_P10], f[SCHED_P50], g->n * sizeof(double));
			memcpy(f[SCHED_P90], f[SCHED_P50], g->n * sizeof(double));
		} else {
			snprintf(src->model, sizeof(src->model), "none");
		}
		goto out; /* a perfect forecast keeps the data's gaps */
	}
	have_hist = read_actuals(p, db, r, kind, g->step, g->start - (int64_t)hn * g->step, g->start, hist);
	if (!found && !have_hist) {
		snprintf(src->model, sizeof(src->model), "none");
		goto out;
	}
	size_t first = 0, filled = seasonal_fill(f, hist, have_hist ? hn : 0, g->n, per_day, &first);
	if (!found) {
		snprintf(src->model, sizeof(src->model), "seasonal naive (stored signals)");
	} else if (filled) {
		src->extended_from = g->start + (int64_t)first * g->step;
		src->extended_steps = filled;
	}
out:
	free(hist);
	return rc;
}

static void pue_series(const struct region_cfg *r, const double *temp, size_t n, double *out,
		       size_t *ret_missing)
{
	*ret_missing = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(temp[i])) {
			out[i] = r->pue;
			(*ret_missing)++;
		} else {
			out[i] = r->pue + r->pue_k * fmax(0, temp[i] - r->pue_t0);
		}
	}
}

static void render_region(const struct region_cfg *r, const struct grid *g, struct planner_region *in)
{
	struct buf b;
	char t[TS_BUFSZ];

	buf_init(&b, 0);
	planner_source_json(&in->ci, &b);
	in->forecast_json = buf_detach(&b, NULL);
	buf_init(&b, 0);
	buf_adds(&b, "{\"region\":");
	buf_add_json_string(&b, r->id);
	buf_adds(&b, ",\"zone\":");
	buf_add_json_string(&b, r->zone);
	buf_addf(&b, ",\"forecast\":%s,\"pue\":{\"source\":", in->forecast_json);
	buf_add_json_string(&b, in->pue_source);
	buf_adds(&b, ",\"min\":");
	buf_add_double(&b, round(in->pue_min * 1000) / 1000);
	buf_adds(&b, ",\"max\":");
	buf_add_double(&b, round(in->pue_max * 1000) / 1000);
	if (in->temperature.model[0]) {
		buf_adds(&b, ",\"temperature\":");
		planner_source_json(&in->temperature, &b);
	}
	buf_adds(&b, "},\"horizon\":");
	if (in->horizon > g->start)
		buf_addf(&b, "\"%s\"", ts_format(in->horizon, t));
	else
		buf_adds(&b, "null");
	buf_addc(&b, '}');
	in->inputs_json = buf_detach(&b, NULL);
}

static int build_region(struct planner *p, struct db *db, const struct region_cfg *r, const struct grid *g,
			struct sched_model *m, struct planner_region *info, struct err_detail *err)
{
	double *buf = xmalloc(7 * g->n * sizeof(double));
	double *ci[SCHED__NQ] = {buf, buf + g->n, buf + 2 * g->n};
	double *tq[SCHED__NQ] = {buf + 3 * g->n, buf + 4 * g->n, buf + 5 * g->n};
	double *pue = buf + 6 * g->n;
	struct series cs[SCHED__NQ], ps;
	struct sched_region_spec spec = {.id = r->id,
					 .zone = r->zone,
					 .tags = (const char *const *)r->jurisdictions,
					 .n_tags = r->njurisdictions};
	size_t idx;
	int rc;

	if ((rc = load_input(p, db, r, "carbon_intensity", g, ci, &info->ci, err)))
		goto out;
	for (int q = 0; q < SCHED__NQ; q++) {
		cs[q] =
		    (struct series){.start = g->start, .step = g->step, .n = g->n, .cap = g->n, .v = ci[q]};
		spec.ci[q] = &cs[q];
	}
	if (r->pue_kind == PUE_CONSTANT) {
		snprintf(info->pue_source, sizeof(info->pue_source), "constant");
		info->pue_min = info->pue_max = r->pue;
		spec.pue_const = r->pue;
	} else {
		size_t missing;
		char t[TS_BUFSZ];

		if ((rc = load_input(p, db, r, "temperature", g, tq, &info->temperature, err)))
			goto out;
		pue_series(r, tq[SCHED_P50], g->n, pue, &missing);
		if (!strcmp(info->temperature.model, "none"))
			snprintf(info->pue_source, sizeof(info->pue_source),
				 "temperature model, no temperature data: base value %g", r->pue);
		else if (info->temperature.issued_at)
			snprintf(info->pue_source, sizeof(info->pue_source),
				 "temperature model on the '%s' temperature forecast issued %s%s",
				 info->temperature.model, ts_format(info->temperature.issued_at, t),
				 missing ? " (base value where it has no value)" : "");
		else
			snprintf(info->pue_source, sizeof(info->pue_source),
				 "temperature model on %s temperatures%s", info->temperature.model,
				 missing ? " (base value where there is none)" : "");
		info->pue_min = INFINITY;
		info->pue_max = -INFINITY;
		for (size_t i = 0; i < g->n; i++) {
			info->pue_min = fmin(info->pue_min, pue[i]);
			info->pue_max = fmax(info->pue_max, pue[i]);
		}
		ps = (struct series){.start = g->start, .step = g->step, .n = g->n, .cap = g->n, .v = pue};
		spec.pue[SCHED_P50] = &ps;
	}
	if ((rc = sched_model_add_region(m, &spec, &idx, err)))
		goto out;
	info->horizon = sched_region_horizon(m, idx);
	render_region(r, g, info);
out:
	free(buf);
	return rc;
}

static int build(struct planner *p, int64_t now, uint64_t sv, uint64_t fv, struct planner_snap **ret,
		 struct err_detail *err)
{
	const struct config *cfg = p->cfg;
	struct grid g = {.now = now, .step = (int32_t)cfg->sched_step};
	struct planner_snap *s;
	struct db *db;
	int64_t t0 = ts_mono_ms();
	int rc;

	g.start = ts_floor(now, g.step);
	g.n = (size_t)(cfg->forecast_horizon / g.step);
	if ((rc = db_acquire(p->pool, 10000, &db, err)))
		return rc;
	s = xcalloc(1, sizeof(*s));
	s->model = sched_model_new(g.start, g.step, g.n);
	s->regions = xcalloc(cfg->nregions ? cfg->nregions : 1, sizeof(*s->regions));
	s->nregions = cfg->nregions;
	s->built_at = now;
	s->start = g.start;
	s->step = g.step;
	s->end = g.start + (int64_t)g.n * g.step;
	s->sig_version = sv;
	s->fc_version = fv;
	for (size_t i = 0; i < cfg->nregions && !rc; i++)
		rc = build_region(p, db, &cfg->regions[i], &g, s->model, &s->regions[i], err);
	db_release(p->pool, db);
	if (rc) {
		err_prefix(err, "scheduler inputs: ");
		snap_free(s);
		return rc;
	}
	log_debug("scheduler inputs built for %zu regions from %lld in %lld ms", cfg->nregions,
		  (long long)g.start, (long long)(ts_mono_ms() - t0));
	*ret = s;
	return ERR_OK;
}

static bool is_current(const struct planner_snap *s, uint64_t sv, uint64_t fv, int64_t start)
{
	return s && s->sig_version == sv && s->fc_version == fv && s->start == start;
}

int planner_acquire(struct planner *p, struct planner_snap **ret, struct err_detail *err)
{
	int64_t now = clock_now(p->clock), start = ts_floor(now, p->cfg->sched_step);
	uint64_t sv = sigcache_version(p->cache), fv = atomic_load(&p->fc_version);
	struct planner_snap *s = NULL, *old = NULL;
	int rc;

	pthread_mutex_lock(&p->lock);
	if (is_current(p->cur, sv, fv, start)) {
		s = p->cur;
		s->refs++;
	}
	pthread_mutex_unlock(&p->lock);
	if (s) {
		*ret = s;
		return ERR_OK;
	}
	pthread_mutex_lock(&p->build);
	pthread_mutex_lock(&p->lock);
	if (is_current(p->cur, sv, fv, start)) { /* built while we waited */
		s = p->cur;
		s->refs++;
	}
	pthread_mutex_unlock(&p->lock);
	if (!s) {
		if ((rc = build(p, now, sv, fv, &s, err))) {
			pthread_mutex_unlock(&p->build);
			return rc;
		}
		s->refs = 2; /* the planner's and the caller's */
		pthread_mutex_lock(&p->lock);
		old = p->cur;
		p->cur = s;
		if (old && --old->refs > 0)
			old = NULL;
		pthread_mutex_unlock(&p->lock);
		snap_free(old);
	}
	pthread_mutex_unlock(&p->build);
	*ret = s;
	return ERR_OK;
}

void planner_release(struct planner *p, struct planner_snap *s)
{
	bool last;

	if (!s)
		return;
	pthread_mutex_lock(&p->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (last)
		snap_free(s);
}

void planner_forecasts_changed(struct planner *p)
{
	atomic_fetch_add(&p->fc_version, 1);
}

void planner_jobs_changed(struct planner *p)
{
	atomic_store(&p->jobs_dirty, true);
}

uint64_t planner_forecast_version(struct planner *p)
{
	return atomic_load(&p->fc_version);
}

/* ---- booked capacity for advice ----------------------------------------- */

static int region_index(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nregions; i++)
		if (!strcmp(cfg->regions[i].id, id))
			return (int)i;
	return -1;
}

static int load_reserved(struct planner *p, struct db *db, struct err_detail *err)
{
	const struct config *cfg = p->cfg;
	int64_t step = cfg->sched_step, start = ts_floor(clock_now(p->clock), step);
	size_t n = (size_t)(cfg->forecast_horizon / step) + 1;
	char a[24], b[24];
	const char *params[2] = {db_param_time(start, a), db_param_time(start + (int64_t)n * step, b)};
	struct db_res *r;
	double *v;
	int rc;

	if ((rc = db_exec(db, DB_RESERVED_ALL, params, 2, &r, err)))
		return rc;
	v = xcalloc((cfg->nregions ? cfg->nregions : 1) * n, sizeof(double));
	for (size_t i = 0, rows = db_res_rows(r); i < rows; i++) {
		int ri = region_index(cfg, db_res_get(r, i, 0));
		int64_t t = (ts_floor(db_res_int64(r, i, 1), step) - start) / step;

		if (ri >= 0 && t >= 0 && (size_t)t < n)
			v[(size_t)ri * n + (size_t)t] += db_res_double(r, i, 2);
	}
	db_res_free(r);
	pthread_mutex_lock(&p->res_lock);
	free(p->reserved);
	p->reserved = v;
	p->res_start = start;
	p->res_n = n;
	p->res_gen++;
	pthread_mutex_unlock(&p->res_lock);
	return ERR_OK;
}

const struct sched_capacity *planner_advice_acquire(struct planner *p, const struct planner_snap *s,
						    struct planner_advice **ret_handle)
{
	const struct config *cfg = p->cfg;
	struct planner_advice *a, *old = NULL;

	pthread_mutex_lock(&p->res_lock);
	a = p->advice;
	if (!a || a->start != s->start || a->gen != p->res_gen ||
	    a->cap->n_steps != sched_model_steps(s->model) ||
	    a->cap->n_regions != sched_model_regions(s->model)) {
		a = xcalloc(1, sizeof(*a));
		a->cap = sched_capacity_new(s->model, INFINITY);
		a->start = s->start;
		a->gen = p->res_gen;
		for (size_t r = 0; r < a->cap->n_regions && r < cfg->nregions; r++) {
			double kw = cfg->regions[r].capacity_kw, *row = sched_capacity_row(a->cap, r);

			if (!(kw > 0))
				continue; /* unlimited */
			for (size_t t = 0; t < a->cap->n_steps; t++) {
				int64_t k = (s->start + (int64_t)t * s->step - p->res_start) / s->step;
				double used = p->reserved && k >= 0 && (size_t)k < p->res_n
						  ? p->reserved[r * p->res_n + (size_t)k]
						  : 0;

				row[t] = kw > used ? kw - used : 0;
			}
		}
		old = p->advice;
		p->advice = a;
		a->refs = 1; /* the planner's */
		if (old && --old->refs > 0)
			old = NULL;
	}
	a->refs++;
	pthread_mutex_unlock(&p->res_lock);
	advice_free(old);
	*ret_handle = a;
	return a->cap;
}

void planner_advice_release(struct planner *p, struct planner_advice *h)
{
	bool last;

	if (!h)
		return;
	pthread_mutex_lock(&p->res_lock);
	last = --h->refs == 0;
	pthread_mutex_unlock(&p->res_lock);
	if (last)
		advice_free(h);
}

/* ---- the background thread ----------------------------------------------- */

static int fingerprint(struct db *db, int64_t ret[2], struct err_detail *err)
{
	struct db_res *r;
	int rc = db_exec(db, DB_FC_FINGERPRINT, NULL, 0, &r, err);

	if (rc)
		return rc;
	ret[0] = db_res_int64(r, 0, 0);
	ret[1] = db_res_int64(r, 0, 1);
	db_res_free(r);
	return ERR_OK;
}

static int listen_all(struct db *db, struct err_detail *err)
{
	return db_listen(db, "carbonsched_forecasts", err);
}

static int jobs_version(struct db *db, int64_t *ret, struct err_detail *err)
{
	struct db_res *r;
	int rc = db_exec(db, DB_JOBS_VERSION, NULL, 0, &r, err);

	if (rc)
		return rc;
	*ret = db_res_int64(r, 0, 0);
	db_res_free(r);
	return ERR_OK;
}

static void *run(void *arg)
{
	struct planner *p = arg;
	struct err_detail err;
	struct db *db = NULL;
	int64_t last_poll = 0, last_res = 0, res_grid = 0;
	bool warned = false, connected_before = false;

	while (!atomic_load(&p->stop)) {
		char chan[64], payload[256];
		int64_t now_ms = ts_mono_ms();

		if (!db || !db_is_ok(db)) {
			db_close(db);
			db = NULL;
			if (db_connect(p->cfg->database_url, &db, &err) || listen_all(db, &err)) {
				if (!warned)
					log_warn("scheduler inputs: cannot listen for changes: %s", err.msg);
				warned = true;
				db_close(db);
				db = NULL;
				for (int i = 0; i < 10 && !atomic_load(&p->stop); i++)
					nanosleep(&(struct timespec){0, 100000000L}, NULL);
				continue;
			}
			/* Changes may have been missed while disconnected. */
			if (connected_before) {
				planner_forecasts_changed(p);
				planner_jobs_changed(p);
			}
			connected_before = true;
			warned = false;
		}
		while (db_wait_notification(db, 200, chan, sizeof(chan), payload, sizeof(payload))) {
			if (!strcmp(chan, "carbonsched_forecasts"))
				planner_forecasts_changed(p);
			if (atomic_load(&p->stop))
				break;
		}
		int64_t jv;
		if (!jobs_version(db, &jv, &err) && jv != p->jobs_seen) {
			p->jobs_seen = jv;
			planner_jobs_changed(p);
		}
		now_ms = ts_mono_ms();
		if (now_ms - last_poll >= p->cfg->forecast_poll * 1000) {
			int64_t cur[2];

			last_poll = now_ms;
			if (!fingerprint(db, cur, &err) && (cur[0] != p->fp[0] || cur[1] != p->fp[1])) {
				planner_forecasts_changed(p);
				p->fp[0] = cur[0];
				p->fp[1] = cur[1];
			}
		}
		int64_t grid = ts_floor(clock_now(p->clock), p->cfg->sched_step);
		if ((atomic_load(&p->jobs_dirty) || grid != res_grid) &&
		    now_ms - last_res >= RESERVED_MIN_INTERVAL_MS) {
			atomic_store(&p->jobs_dirty, false);
			last_res = now_ms;
			if (load_reserved(p, db, &err)) {
				atomic_store(&p->jobs_dirty, true);
				log_warn("scheduler inputs: cannot read booked capacity: %s", err.msg);
			} else {
				res_grid = grid;
			}
		}
		/* Keep the snapshot warm, so that requests rarely build it. */
		struct planner_snap *s;
		if (!planner_acquire(p, &s, &err))
			planner_release(p, s);
	}
	db_close(db);
	return NULL;
}

int planner_start(struct planner *p, struct err_detail *err)
{
	struct db *db;
	int rc;

	/* Load once now, so that the first answers have the booked capacity,
	 * and note which forecast runs exist: later ones are changes. */
	if ((rc = db_acquire(p->pool, 10000, &db, err)))
		return rc;
	rc = load_reserved(p, db, err);
	if (!rc)
		rc = fingerprint(db, p->fp, err);
	if (!rc)
		rc = jobs_version(db, &p->jobs_seen, err);
	db_release(p->pool, db);
	if (rc)
		return rc;
	atomic_store(&p->stop, false);
	if (pthread_create(&p->thread, NULL, run, p))
		return err_set(err, ERR_INTERNAL, NULL, "cannot start the scheduler inputs thread");
	p->running = true;
	return ERR_OK;
}

void planner_stop(struct planner *p)
{
	if (!p || !p->running)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	p->running = false;
}

void planner_source_json(const struct planner_source *s, struct buf *b)
{
	char t[TS_BUFSZ];

	buf_adds(b, "{\"model\":");
	buf_add_json_string(b, s->model);
	if (s->issued_at)
		buf_addf(b, ",\"issued_at\":\"%s\"", ts_format(s->issued_at, t));
	else
		buf_adds(b, ",\"issued_at\":null");
	if (s->chosen_by[0])
		buf_addf(b, ",\"chosen_by\":\"%s\"", s->chosen_by);
	if (s->run_extended_from) {
		buf_addf(b, ",\"run_extended\":{\"from\":\"%s\",\"by\":", ts_format(s->run_extended_from, t));
		buf_add_json_string(b, s->run_extended_by);
		buf_addc(b, '}');
	}
	if (s->extended_steps)
		buf_addf(b, ",\"extended\":{\"from\":\"%s\",\"steps\":%zu,\"method\":\"seasonal naive\"}",
			 ts_format(s->extended_from, t), s->extended_steps);
	buf_addc(b, '}');
}
