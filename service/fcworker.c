/*
 * fcworker.c - the forecasting worker: see fcworker.h.
 *
 * Two threads.  The listener (every replica) holds its own connection
 * with LISTEN carbonsched_forecasts and moves a version number on every
 * notification.  The forecaster (forecast.enabled replicas) holds a
 * session advisory lock on a dedicated connection: only the holder
 * forecasts; the others retry every two seconds, so when the holder dies
 * (its connection, hence its lock, goes with it) another one takes over.
 *
 * Data.  Per zone the forecaster keeps hourly copies of the series the
 * models read - the targets, the weather forecasts (read up to the horizon
 * ahead of the issue time: they are forecasts known at issue time) and
 * the generation mix - from forecast.history before the issue time, and
 * re-reads only the last two days of them each round (late and revised
 * values) plus what the clock has made "the past" since.  Values at or
 * after the issue time of past series are never read: in a replay the
 * database holds the future too.
 *
 * Rounds.  A round runs when the clock enters a new hour (the issue time
 * is the clock's now floored to the hour) or the signal cache's version
 * moved (new data somewhere); a target is refitted only when its issue
 * time moved or its zone's data changed.  The decision signal
 * (carbon_intensity) of every zone comes first, so the demo shows a
 * forecast for each region within seconds of start-up; the other kinds,
 * PUE, scoring and pruning follow.
 *
 * Models.  One ensemble per (zone, kind), reused across rounds: its
 * calibrators (the recent errors behind the intervals) persist and are fed
 * the actuals of the runs issued at 00:00 UTC once their 96 hours have
 * passed - the cadence the backtest validated.  The fit itself is redone
 * from the sufficient statistics each round: the ridge keeps one
 * regression per step of the horizon for one time of day, so an issue
 * time an hour later is a different problem (docs/forecasting.md);
 * fc_model_compact gives the memory back between rounds.  For the decision
 * signal the ensemble's members and seasonal naive are stored too, so the
 * skill table compares them; provider runs of the last day are blended
 * with ours by skill ("blend").
 *
 * Write volume: per zone and hour one run of 96 points per kind, five
 * for carbon_intensity (ensemble, dshw, ridge, ridge_log, snaive24), six
 * with a blend, one per region for PUE; runs older than forecast.keep are
 * deleted, their skill stays in forecast_skill.
 */
#include "service/fcworker.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/signal.h"
#include "core/time.h"
#include "forecasters/blend.h"
#include "forecasters/forecast.h"
#include "forecasters/pue_model.h"
#include "forecasters/skill.h"
#include "service/app.h"
#include "service/fcstore.h"
#include "service/store.h"

#define STEP	      TS_HOUR
#define LOCK_KEY      "7248115002" /* arbitrary, fixed: "carbonsched forecasts" */
#define LOCK_RETRY_MS 2000
#define LOOKBACK      (2 * TS_DAY)  /* re-read each round: late and revised values */
#define STALE	      (2 * TS_DAY)  /* no forecast from actuals older than this */
#define WEATHER_PAD   TS_DAY	    /* weather read past the horizon (features look ±12 h) */
#define SCORE_SPAN    (15 * TS_DAY) /* runs issued this long before the cutoff are scored */
#define REBASE	      (30 * TS_DAY) /* reload from scratch when the history grew this much */
#define MAX_BUFS      32
#define MAX_TARGETS   8
#define MAX_PENDING   5
#define MAX_RUNS      8 /* forecasts stored per target and round */
#define DECISION_KIND "carbon_intensity"

static const char *const default_kinds[] = {"carbon_intensity", "carbon_intensity_direct", "renewable_share",
					    "generation:wind",	"generation:solar",	   NULL};
static const char *const weather_kinds[] = {"wind_speed", "solar_irradiance", "temperature", "dewpoint",
					    "precipitation"};
static const char *const pue_models[] = {"constant", "temperature", "feed"};

/* One stored series of a zone on the hourly grid from the zone's start. */
struct zbuf {
	char kind[48];
	bool future;  /* a weather forecast: read ahead of the issue time */
	bool exo;     /* given to the models as an exogenous series */
	bool present; /* a stored series exists */
	struct store_series ser;
	struct series s;
};

/* Forecasts of one issue time kept until their actuals are in (calibration). */
struct pending {
	int64_t issued_at;
	size_t n;
	struct fc_forecast f[MAX_RUNS];
	int member[MAX_RUNS]; /* -1 the ensemble, -2 seasonal naive, else the member */
};

struct target {
	char kind[48];
	struct fc_model *ens, *naive;
	int64_t last_issue; /* of the last run written */
	struct pending pend[MAX_PENDING];
	size_t npend;
};

struct zone {
	char name[64];
	const struct region_cfg *region; /* the first region of the zone: its source preference */
	int64_t start;			 /* buffers start here; 0 = not loaded */
	int64_t loaded_to;		 /* past series are loaded up to here */
	bool changed;			 /* data changed since the last round */
	struct zbuf buf[MAX_BUFS];
	size_t nbuf;
	struct target t[MAX_TARGETS];
	size_t nt;
};

struct status {
	char zone[64], kind[48], msg[256];
};

static struct {
	struct app *app;
	pthread_t work, listen;
	bool working, listening_started;
	atomic_bool stop;
	/* listener */
	atomic_bool listening;
	atomic_uint_fast64_t version;
	/* forecaster (its thread only) */
	struct db *db;
	bool holder;
	struct zone *zones;
	size_t nzones;
	char producer[96];
	int64_t started_ms;
	bool first_written, first_pass_done;
	/* status, read by handlers */
	pthread_mutex_t lock;
	struct status *st;
	size_t nst, capst;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* --- status and small helpers ---------------------------------------------- */

static void set_status(const char *zone, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_status(const char *zone, const char *kind, const char *fmt, ...)
{
	struct status *s = NULL;
	va_list ap;

	pthread_mutex_lock(&w.lock);
	for (size_t i = 0; i < w.nst && !s; i++)
		if (!strcmp(w.st[i].zone, zone) && !strcmp(w.st[i].kind, kind))
			s = &w.st[i];
	if (!s) {
		w.st = xgrow(w.st, &w.capst, w.nst + 1, sizeof(*w.st));
		s = &w.st[w.nst++];
		snprintf(s->zone, sizeof(s->zone), "%s", zone);
		snprintf(s->kind, sizeof(s->kind), "%s", kind);
	}
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&w.lock);
}

bool fcworker_status(const char *zone, const char *kind, char *out, size_t size)
{
	bool found = false;

	pthread_mutex_lock(&w.lock);
	for (size_t i = 0; i < w.nst && !found; i++)
		if (!strcmp(w.st[i].zone, zone) && !strcmp(w.st[i].kind, kind)) {
			snprintf(out, size, "%s", w.st[i].msg);
			found = true;
		}
	pthread_mutex_unlock(&w.lock);
	return found;
}

uint64_t fcworker_version(void)
{
	return atomic_load(&w.listening) ? atomic_load(&w.version) : 0;
}

bool fcworker_is_own_model(const char *model)
{
	for (size_t i = 0; fc_model_names[i]; i++)
		if (!strcmp(fc_model_names[i], model))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(pue_models); i++)
		if (!strcmp(pue_models[i], model))
			return true;
	return !strcmp(model, "blend");
}

const char *const *fcworker_kinds(const struct app *app)
{
	return app->cfg->forecast_kinds ? (const char *const *)app->cfg->forecast_kinds : default_kinds;
}

/* CPU time of the calling thread, ms. */
static int64_t thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stopping(void)
{
	return atomic_load(&w.stop) || atomic_load(&w.app->stopping);
}

/* Sleep up to ms, waking early when stopping. */
static void nap(int ms)
{
	for (int slept = 0; slept < ms && !stopping(); slept += 50) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

static size_t horizon_steps(void)
{
	int64_t h = w.app->cfg->forecast_horizon;

	if (h > FC_MAX_HORIZON_DAYS * TS_DAY)
		h = FC_MAX_HORIZON_DAYS * TS_DAY;
	return (size_t)(h / STEP);
}

/* A series view of a forecast's arrays (borrowed, not to be released). */
static struct series view(int64_t start, size_t n, double *v)
{
	return (struct series){.start = start, .step = STEP, .n = n, .cap = n, .v = v};
}

/* --- the listener ------------------------------------------------------------ */

static void *listen_main(void *arg)
{
	struct db *db = NULL;
	char payload[256];

	(void)arg;
	while (!atomic_load(&w.stop)) {
		if (!db_is_ok(db)) {
			struct err_detail err;

			atomic_store(&w.listening, false);
			db_close(db);
			db = NULL;
			if (db_connect_raw(w.app->cfg->database_url, &db, &err) ||
			    db_listen(db, "carbonsched_forecasts", &err)) {
				log_debug("forecasts: cannot listen: %s", err.msg);
				db_close(db);
				db = NULL;
				for (int i = 0; i < 20 && !atomic_load(&w.stop); i++) {
					struct timespec ts = {0, 50 * 1000 * 1000};
					nanosleep(&ts, NULL);
				}
				continue;
			}
			/* whatever was written while we were not listening */
			atomic_fetch_add(&w.version, 1);
			atomic_store(&w.listening, true);
		}
		if (db_wait_notify(db, 250, payload, sizeof(payload))) {
			log_debug("forecasts changed ('%.64s')", payload);
			atomic_fetch_add(&w.version, 1);
		}
	}
	atomic_store(&w.listening, false);
	db_close(db);
	return NULL;
}

/* --- zones and their data ------------------------------------------------------ */

static struct zone *zone_find(const char *name)
{
	for (size_t i = 0; i < w.nzones; i++)
		if (!strcmp(w.zones[i].name, name))
			return &w.zones[i];
	return NULL;
}

static struct zbuf *buf_find(struct zone *z, const char *kind)
{
	for (size_t i = 0; i < z->nbuf; i++)
		if (!strcmp(z->buf[i].kind, kind))
			return &z->buf[i];
	return NULL;
}

static void zbuf_add(struct zone *z, const char *kind, bool future, bool exo)
{
	struct zbuf *b = buf_find(z, kind);

	if (!b && z->nbuf < MAX_BUFS) {
		b = &z->buf[z->nbuf++];
		memset(b, 0, sizeof(*b));
		snprintf(b->kind, sizeof(b->kind), "%s", kind);
		series_init(&b->s, 0, STEP);
	}
	if (b) {
		b->future |= future;
		b->exo |= exo;
	}
}

static void zones_init(struct app *app)
{
	const struct config *cfg = app->cfg;
	const char *const *kinds = fcworker_kinds(app);

	w.zones = xcalloc(cfg->nregions ? cfg->nregions : 1, sizeof(*w.zones));
	for (size_t i = 0; i < cfg->nregions; i++) {
		const struct region_cfg *r = &cfg->regions[i];
		struct zone *z;

		if (zone_find(r->zone))
			continue;
		z = &w.zones[w.nzones++];
		snprintf(z->name, sizeof(z->name), "%s", r->zone);
		z->region = r;
		for (size_t k = 0; kinds[k] && z->nt < MAX_TARGETS; k++) {
			snprintf(z->t[z->nt].kind, sizeof(z->t[z->nt].kind), "%s", kinds[k]);
			z->nt++;
			zbuf_add(z, kinds[k], false, !strncmp(kinds[k], "generation:", 11));
		}
		for (size_t k = 0; k < ARRAY_SIZE(weather_kinds); k++)
			zbuf_add(z, weather_kinds[k], true, true);
		for (int f = 0; f < FUEL__COUNT; f++) {
			char kind[48];

			snprintf(kind, sizeof(kind), "generation:%s", sig_fuel_name((enum sig_fuel)f));
			zbuf_add(z, kind, false, true);
		}
	}
}

static void pending_release(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		fc_forecast_release(&p->f[i]);
	p->n = 0;
}

static void zones_free(void)
{
	for (size_t i = 0; i < w.nzones; i++) {
		struct zone *z = &w.zones[i];

		for (size_t k = 0; k < z->nbuf; k++)
			series_release(&z->buf[k].s);
		for (size_t k = 0; k < z->nt; k++) {
			fc_model_free(z->t[k].ens);
			fc_model_free(z->t[k].naive);
			for (size_t p = 0; p < z->t[k].npend; p++)
				pending_release(&z->t[k].pend[p]);
		}
	}
	free(w.zones);
	w.zones = NULL;
	w.nzones = 0;
}

/* Read [from, to) of b's stored series onto its hourly buffer; sets
 * *changed when a value differs from what the buffer held. */
static int load_range(struct zbuf *b, int64_t from, int64_t to, bool *changed, struct err_detail *err)
{
	struct series raw, hourly, *src = &raw;
	int rc;

	if (from >= to)
		return ERR_OK;
	if ((rc = store_read(w.db, &b->ser, from, to, &raw, err)))
		return rc;
	if (raw.step != STEP) {
		if (series_resample(&raw, STEP, &hourly)) {
			series_release(&raw);
			return ERR_OK; /* a step that does not fit an hour: not usable */
		}
		src = &hourly;
	}
	if ((size_t)((to - b->s.start) / STEP) > b->s.n)
		series_resize(&b->s, (size_t)((to - b->s.start) / STEP));
	for (size_t i = 0; i < src->n; i++) {
		int64_t t = series_ts(src, i);
		double v = src->v[i], old;

		if (t < b->s.start || t >= to || t % STEP || isnan(v))
			continue;
		old = series_at(&b->s, t);
		if (old != v) {
			series_set(&b->s, t, v, false);
			*changed = true;
		}
	}
	if (src == &hourly)
		series_release(&hourly);
	series_release(&raw);
	return ERR_OK;
}

/* Bring the zone's buffers up to the issue time. */
static int refresh(struct zone *z, int64_t issue, struct err_detail *err)
{
	const struct config *cfg = w.app->cfg;
	int64_t ahead = issue + (int64_t)horizon_steps() * STEP + WEATHER_PAD;
	int rc;

	if (!z->start || issue - z->start > cfg->forecast_history + REBASE || issue < z->loaded_to) {
		z->start = ts_floor(issue - cfg->forecast_history, TS_DAY);
		z->loaded_to = z->start;
		for (size_t i = 0; i < z->nbuf; i++) {
			series_release(&z->buf[i].s);
			series_init(&z->buf[i].s, z->start, STEP);
			z->buf[i].present = false;
			z->buf[i].ser.id = 0;
		}
		z->changed = true;
	}
	for (size_t i = 0; i < z->nbuf; i++) {
		struct zbuf *b = &z->buf[i];
		struct store_series ser;
		int64_t from;

		rc = store_find_series(w.db, z->name, b->kind, NULL, z->region->sources, &ser, err);
		if (rc == ERR_NOT_FOUND) {
			if (b->present) {
				series_resize(&b->s, 0);
				z->changed = true;
			}
			b->present = false;
			continue;
		}
		if (rc)
			return rc;
		if (!b->present || b->ser.id != ser.id) {
			/* a new series, or another source is preferred now: from scratch */
			series_resize(&b->s, 0);
			from = z->start;
		} else {
			from = z->loaded_to - LOOKBACK > z->start ? z->loaded_to - LOOKBACK : z->start;
		}
		b->ser = ser;
		b->present = true;
		if ((rc = load_range(b, from, b->future ? ahead : issue, &z->changed, err)))
			return rc;
		if (b->s.n < (size_t)((issue - z->start) / STEP))
			series_resize(&b->s, (size_t)((issue - z->start) / STEP));
	}
	z->loaded_to = issue;
	return ERR_OK;
}

/* --- one target ----------------------------------------------------------------- */

struct built {
	struct fc_input in;
	struct fc_exo exo[MAX_BUFS];
	size_t first; /* index of in.y[0] in the zone's buffers */
};

/* The model input of target t at 'issue'; false (with the status set)
 * when there is nothing to forecast from. */
static bool build_input(struct zone *z, struct target *t, int64_t issue, struct built *b)
{
	struct zbuf *yb = buf_find(z, t->kind);
	size_t n_all = (size_t)((issue - z->start) / STEP), first = 0, last;
	char ts[TS_BUFSZ];

	memset(b, 0, sizeof(*b));
	if (!yb || !yb->present) {
		set_status(z->name, t->kind, "no '%s' data for zone '%s': nothing to forecast from", t->kind,
			   z->name);
		return false;
	}
	while (first < n_all && isnan(yb->s.v[first]))
		first++;
	if (first == n_all) {
		set_status(z->name, t->kind, "no '%s' data for zone '%s' in the %lld days before %s", t->kind,
			   z->name, (long long)(w.app->cfg->forecast_history / TS_DAY), ts_format(issue, ts));
		return false;
	}
	for (last = n_all - 1; isnan(yb->s.v[last]); last--)
		;
	if (issue - (z->start + (int64_t)(last + 1) * STEP) > STALE) {
		set_status(z->name, t->kind, "no '%s' data since %s: a forecast needs recent actuals",
			   t->kind, ts_format(z->start + (int64_t)(last + 1) * STEP, ts));
		return false;
	}
	b->first = first;
	b->in.start = z->start + (int64_t)first * STEP;
	b->in.step = STEP;
	b->in.n = n_all - first;
	b->in.y = yb->s.v + first;
	for (size_t i = 0; i < z->nbuf; i++) {
		struct zbuf *x = &z->buf[i];

		if (!x->present || !x->exo || x->s.n <= first)
			continue;
		b->exo[b->in.n_exo++] = (struct fc_exo){x->kind, x->future, x->s.n - first, x->s.v + first};
	}
	b->in.exo = b->in.n_exo ? b->exo : NULL;
	return true;
}

/* Feed the calibrators the forecasts whose actuals are all in. */
static void observe_matured(struct zone *z, struct target *t, int64_t issue, const struct built *b)
{
	size_t H = horizon_steps(), k = 0;
	double *act = xmalloc(H * sizeof(double));

	for (size_t p = 0; p < t->npend; p++) {
		struct pending *pd = &t->pend[p];

		if (pd->issued_at + (int64_t)H * STEP > issue) {
			t->pend[k++] = *pd;
			continue;
		}
		for (size_t h = 0; h < H; h++) {
			int64_t ts = pd->issued_at + (int64_t)h * STEP;
			size_t i = (size_t)((ts - z->start) / STEP);

			act[h] = ts >= z->start && i >= b->first && i < b->first + b->in.n
				     ? b->in.y[i - b->first]
				     : NAN;
		}
		for (size_t i = 0; i < pd->n; i++) {
			if (pd->member[i] == -1)
				fc_observe(t->ens, &pd->f[i], act);
			else if (pd->member[i] == -2)
				fc_observe(t->naive, &pd->f[i], act);
			else
				fc_observe_member(t->ens, (size_t)pd->member[i], &pd->f[i], act);
		}
		pending_release(pd);
	}
	t->npend = k;
	free(act);
}

/* Provider runs of the last day blended with our ensemble; *ret is set
 * (and true returned) when a provider took part. */
static bool blend_providers(struct zone *z, struct target *t, int64_t issue, const struct fc_forecast *ens,
			    struct fc_forecast *ret)
{
	struct fc_choice recent[FCSTORE_MAX_CHOICES];
	struct fc_run runs[FCSTORE_MAX_CHOICES];
	struct fc_blend_part parts[FCSTORE_MAX_CHOICES + 1];
	struct fcstore_skill_row *rows = NULL;
	size_t nrecent = 0, nruns = 0, nrows = 0, used[FCSTORE_MAX_CHOICES + 1];
	struct err_detail err;
	bool any = false;

	if (fcstore_recent_models(w.db, z->name, t->kind, issue - TS_DAY, issue, recent, ARRAY_SIZE(recent),
				  &nrecent, &err))
		return false;
	for (size_t i = 0; i < nrecent; i++) {
		struct fc_run *r = &runs[nruns];

		if (fcworker_is_own_model(recent[i].model))
			continue;
		if (fcstore_latest(w.db, z->name, t->kind, recent[i].model, issue, r, &err) ||
		    r->p50.step != STEP || (r->p50.start - issue) % STEP || series_end(&r->p50) <= issue) {
			fc_run_release(r);
			continue;
		}
		nruns++;
	}
	if (!nruns)
		return false;
	fcstore_skill_read(w.db, z->name, t->kind, &rows, &nrows, &err);
	for (size_t k = 0; k <= nruns; k++) {
		struct fc_blend_part *p = &parts[k];

		memset(p, 0, sizeof(*p));
		if (!k) {
			*p = (struct fc_blend_part){.name = "ensemble",
						    .issued_at = ens->issued_at,
						    .start = ens->issued_at,
						    .step = STEP,
						    .n = ens->n,
						    .p10 = ens->p10,
						    .p50 = ens->p50,
						    .p90 = ens->p90};
		} else {
			struct fc_run *r = &runs[k - 1];
			*p = (struct fc_blend_part){.name = r->model,
						    .issued_at = r->issued_at,
						    .start = r->p50.start,
						    .step = STEP,
						    .n = r->p50.n,
						    .p10 = r->p10.v,
						    .p50 = r->p50.v,
						    .p90 = r->p90.v};
		}
		for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
			p->err[b] = NAN;
		for (size_t i = 0; i < nrows; i++)
			if (!strcmp(rows[i].model, p->name) && rows[i].s.w >= FCSTORE_MIN_SKILL_W)
				p->err[rows[i].bucket] = fc_skill_mae(&rows[i].s);
	}
	if (!fc_blend(parts, nruns + 1, issue, STEP, ens->n, ret, used, &err)) {
		for (size_t k = 1; k <= nruns; k++)
			any |= used[k] > 0;
		if (!any)
			fc_forecast_release(ret);
	}
	free(rows);
	for (size_t k = 0; k < nruns; k++)
		fc_run_release(&runs[k]);
	return any;
}

struct score_acc {
	struct zone *z;
	const struct zbuf *yb;
	size_t n;
	struct {
		char model[48];
		int bucket;
		struct fc_skill s;
	} e[128]; /* (model, lead bucket) pairs of one round: ~10 models x 6 buckets */
};

static void score_cb(void *ctx, const struct fcstore_point *p)
{
	struct score_acc *a = ctx;
	int b = fc_skill_bucket(p->ts + p->step - p->issued_at);
	double actual = series_at(&a->yb->s, ts_floor(p->ts, STEP));
	size_t i;

	if (b < 0 || isnan(actual))
		return;
	for (i = 0; i < a->n; i++)
		if (a->e[i].bucket == b && !strcmp(a->e[i].model, p->model))
			break;
	if (i == a->n) {
		if (a->n == ARRAY_SIZE(a->e))
			return;
		memset(&a->e[i], 0, sizeof(a->e[i]));
		snprintf(a->e[i].model, sizeof(a->e[i].model), "%s", p->model);
		a->e[i].bucket = b;
		a->n++;
	}
	fc_skill_add(&a->e[i].s, p->p10, p->p50, p->p90, actual);
}

/* Score the stored runs of (zone, kind) - ours and the providers' - on the
 * actuals that arrived since the last time. */
static int score(struct zone *z, struct target *t, int64_t issue, struct err_detail *err)
{
	struct zbuf *yb = buf_find(z, t->kind);
	struct score_acc *a;
	int64_t cutoff = issue;
	size_t last;
	int rc;

	if (!yb || !yb->present || !yb->s.n)
		return ERR_OK;
	for (last = yb->s.n; last > 0 && isnan(yb->s.v[last - 1]); last--)
		;
	if (!last)
		return ERR_OK;
	if (series_ts(&yb->s, last) < cutoff)
		cutoff = series_ts(&yb->s, last); /* actuals lag: score only what they cover */
	a = xcalloc(1, sizeof(*a));
	a->z = z;
	a->yb = yb;
	if ((rc = db_begin(w.db, err)))
		goto out;
	rc = fcstore_score_pending(w.db, z->name, t->kind, cutoff - SCORE_SPAN, cutoff, score_cb, a, err);
	for (size_t i = 0; i < a->n && !rc; i++)
		rc = fcstore_skill_add(w.db, z->name, t->kind, a->e[i].model, a->e[i].bucket, &a->e[i].s,
				       cutoff, (double)w.app->cfg->forecast_skill_half_life, err);
	if (!rc)
		rc = db_commit(w.db, err);
	else
		db_rollback(w.db);
	if (!rc && a->n)
		log_debug("forecasts: scored %zu model/lead buckets of '%s' '%s' up to %lld", a->n, z->name,
			  t->kind, (long long)cutoff);
out:
	free(a);
	return rc;
}

static int write_runs(const char *zone, const char *kind, const struct fc_forecast *f, size_t n,
		      struct err_detail *err)
{
	char payload[128];
	int rc;

	if ((rc = db_begin(w.db, err)))
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		struct series p10 = view(f[i].issued_at, f[i].n, f[i].p10),
			      p50 = view(f[i].issued_at, f[i].n, f[i].p50),
			      p90 = view(f[i].issued_at, f[i].n, f[i].p90);

		rc = fcstore_write_by(w.db, w.producer, zone, kind, f[i].model, f[i].issued_at, &p10, &p50,
				      &p90, err);
	}
	snprintf(payload, sizeof(payload), "%s/%s", zone, kind);
	const char *p[1] = {payload};
	if (!rc)
		rc = db_exec(w.db, DB_NOTIFY_FORECASTS, p, 1, NULL, err);
	if (!rc)
		rc = db_commit(w.db, err);
	if (rc) {
		db_rollback(w.db);
		return rc;
	}
	atomic_fetch_add(&w.version, 1);
	return ERR_OK;
}

static int forecast_target(struct zone *z, struct target *t, int64_t issue, struct err_detail *err)
{
	bool decision = !strcmp(t->kind, DECISION_KIND);
	size_t H = horizon_steps(), nf = 0;
	struct fc_forecast f[MAX_RUNS];
	int member[MAX_RUNS];
	struct built b;
	struct err_detail e;
	char ts[TS_BUFSZ];
	int64_t t0 = ts_mono_ms();
	int rc = ERR_OK;

	if (!build_input(z, t, issue, &b))
		return ERR_OK;
	if (!t->ens && fc_model_new("ensemble", NULL, &t->ens, err))
		return ERR_INTERNAL;
	if (decision && !t->naive && fc_model_new("snaive24", NULL, &t->naive, err))
		return ERR_INTERNAL;
	memset(&e, 0, sizeof(e));
	if (fc_fit(t->ens, &b.in, &e) || fc_predict(t->ens, &b.in, H, &f[nf], &e)) {
		set_status(z->name, t->kind, "cannot forecast '%s' for zone '%s' at %s: %s", t->kind, z->name,
			   ts_format(issue, ts), e.msg);
		fc_model_compact(t->ens);
		return ERR_OK;
	}
	member[nf++] = -1;
	for (size_t i = 0; decision && i < fc_model_members(t->ens) && nf < MAX_RUNS - 2; i++)
		if (!fc_predict_member(t->ens, i, &b.in, H, &f[nf], NULL))
			member[nf++] = (int)i;
	if (decision && !fc_fit(t->naive, &b.in, NULL) && !fc_predict(t->naive, &b.in, H, &f[nf], NULL))
		member[nf++] = -2;
	if (nf < MAX_RUNS && blend_providers(z, t, issue, &f[0], &f[nf]))
		member[nf++] = -3;
	fc_model_compact(t->ens);
	if (t->naive)
		fc_model_compact(t->naive);

	rc = write_runs(z->name, t->kind, f, nf, err);
	if (!rc) {
		t->last_issue = issue;
		set_status(z->name, t->kind, "issued %s (%zu runs, %lld ms)", ts_format(issue, ts), nf,
			   (long long)(ts_mono_ms() - t0));
		if (!w.first_written) {
			w.first_written = true;
			log_info("forecasts: first forecast stored %lld ms after the worker started ('%s' "
				 "'%s' issued %s)",
				 (long long)(ts_mono_ms() - w.started_ms), z->name, t->kind,
				 ts_format(issue, ts));
		}
	}
	/* the runs of 00:00 UTC calibrate the intervals once their actuals are in */
	if (!rc && issue % TS_DAY == 0 && t->npend < MAX_PENDING) {
		struct pending *pd = &t->pend[t->npend++];

		memset(pd, 0, sizeof(*pd));
		pd->issued_at = issue;
		for (size_t i = 0; i < nf; i++) {
			if (member[i] == -3) {
				fc_forecast_release(&f[i]);
				continue;
			}
			pd->f[pd->n] = f[i];
			pd->member[pd->n++] = member[i];
		}
	} else {
		for (size_t i = 0; i < nf; i++)
			fc_forecast_release(&f[i]);
	}
	observe_matured(z, t, issue, &b);
	if (!rc)
		rc = score(z, t, issue, err);
	return rc;
}

/* --- PUE per region -------------------------------------------------------------- */

static int forecast_pue(const struct region_cfg *r, int64_t issue, struct err_detail *err)
{
	size_t H = horizon_steps(), feed_n = 0, temp_n = 0;
	struct zone *z = zone_find(r->zone);
	struct zbuf *tb = z ? buf_find(z, "temperature") : NULL;
	double *temp = xmalloc(H * sizeof(double)), *feed = NULL, *v = xmalloc(H * sizeof(double));
	enum fc_pue_mode *mode = xmalloc(H * sizeof(*mode));
	struct fc_pue p = {r->pue_kind == PUE_CONSTANT ? FC_PUE_CONSTANT : FC_PUE_MODEL, r->pue, r->pue_k,
			   r->pue_t0};
	struct store_series ser;
	struct fc_forecast f;
	char ts[TS_BUFSZ];
	int rc = ERR_OK;

	for (size_t h = 0; h < H; h++)
		temp[h] = tb && tb->present ? series_at(&tb->s, issue + (int64_t)h * STEP) : NAN;
	/* a PUE feed: signals of kind 'pue' stored under the region's id */
	if (!store_find_series(w.db, r->id, "pue", NULL, NULL, &ser, NULL)) {
		struct series s, hs, *src = &s;

		rc = store_read(w.db, &ser, issue, issue + (int64_t)H * STEP, &s, err);
		if (!rc) {
			if (s.step != STEP && !series_resample(&s, STEP, &hs))
				src = &hs;
			feed = xmalloc(H * sizeof(double));
			for (size_t h = 0; h < H; h++)
				feed[h] = series_at(src, issue + (int64_t)h * STEP);
			if (src == &hs)
				series_release(&hs);
			series_release(&s);
			p.mode = FC_PUE_FEED;
		}
	}
	if (!rc) {
		fc_pue_series(&p, temp, feed, H, v, mode);
		for (size_t h = 0; h < H; h++) {
			feed_n += mode[h] == FC_PUE_FEED;
			temp_n += mode[h] == FC_PUE_MODEL;
		}
		fc_forecast_init(&f);
		f.issued_at = issue;
		f.n = H;
		f.step = STEP;
		snprintf(f.model, sizeof(f.model), "%s",
			 feed_n	  ? "feed"
			 : temp_n ? "temperature"
				  : "constant");
		f.p10 = f.p50 = f.p90 = v; /* deterministic given its inputs: no interval */
		rc = write_runs(r->id, "pue", &f, 1, err);
	}
	if (!rc)
		set_status(
		    r->id, "pue",
		    "issued %s: %s (%zu of %zu steps from the feed, %zu from the temperature forecast)",
		    ts_format(issue, ts), f.model, feed_n, H, temp_n);
	free(temp);
	free(feed);
	free(v);
	free(mode);
	return rc;
}

/* --- rounds ----------------------------------------------------------------------- */

static void round_run(int64_t issue)
{
	const struct config *cfg = w.app->cfg;
	struct err_detail err;
	bool moved = false;
	int64_t t0 = ts_mono_ms(), c0 = thread_cpu_ms();
	size_t runs = 0;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !w.first_pass_done && runs) {
			w.first_pass_done = true;
			log_info("forecasts: '%s' of %zu zone%s stored %lld ms after the worker started "
				 "(%lld ms of "
				 "CPU in this round)",
				 DECISION_KIND, runs, runs == 1 ? "" : "s",
				 (long long)(ts_mono_ms() - w.started_ms), (long long)(thread_cpu_ms() - c0));
		}
		for (size_t i = 0; i < w.nzones && !stopping(); i++) {
			struct zone *z = &w.zones[i];

			memset(&err, 0, sizeof(err));
			int64_t r0 = ts_mono_ms();
			if (!pass && refresh(z, issue, &err)) {
				log_warn("forecasts: cannot read the data of zone '%s': %s", z->name,
					 err.msg);
				z->changed = false;
				if (!db_is_ok(w.db))
					return;
				continue;
			}
			if (!pass)
				log_debug("forecasts: data of zone '%s' read in %lld ms", z->name,
					  (long long)(ts_mono_ms() - r0));
			for (size_t k = 0; k < z->nt && !stopping(); k++) {
				struct target *t = &z->t[k];

				if ((!strcmp(t->kind, DECISION_KIND)) != !pass)
					continue;
				if (t->last_issue == issue && !z->changed)
					continue;
				moved |= t->last_issue != issue;
				if (forecast_target(z, t, issue, &err)) {
					log_warn("forecasts: zone '%s' '%s': %s", z->name, t->kind, err.msg);
					if (!db_is_ok(w.db))
						return;
				} else if (t->last_issue == issue) {
					runs++;
				}
			}
		}
	}
	for (size_t i = 0; i < cfg->nregions && !stopping(); i++) {
		struct zone *z = zone_find(cfg->regions[i].zone);

		if (!moved && !(z && z->changed))
			continue;
		if (forecast_pue(&cfg->regions[i], issue, &err))
			log_warn("forecasts: PUE of region '%s': %s", cfg->regions[i].id, err.msg);
	}
	for (size_t i = 0; i < w.nzones; i++)
		w.zones[i].changed = false;
	if (moved && !stopping()) {
		int64_t deleted = 0;

		if (fcstore_prune(w.db, issue - cfg->forecast_keep, &deleted, &err))
			log_warn("forecasts: cannot delete old runs: %s", err.msg);
		else if (deleted)
			log_debug("forecasts: deleted %lld runs issued before %lld", (long long)deleted,
				  (long long)(issue - cfg->forecast_keep));
	}
	if (runs) {
		char ts[TS_BUFSZ];

		log_info("forecasts: round at %s: %zu zone/kind forecasts in %lld ms (%lld ms CPU)",
			 ts_format(issue, ts), runs, (long long)(ts_mono_ms() - t0),
			 (long long)(thread_cpu_ms() - c0));
	}
}

/* Connect and take the lock; true when this replica forecasts now. */
static bool hold_lock(void)
{
	static const char *const p[1] = {LOCK_KEY};
	struct err_detail err;
	struct db_res *r;
	bool got;

	if (w.holder && db_is_ok(w.db))
		return true;
	if (w.holder)
		log_warn("forecasts: lost the database connection: no longer the forecasting replica");
	w.holder = false;
	if (!db_is_ok(w.db)) {
		db_close(w.db);
		w.db = NULL;
		if (db_connect(w.app->cfg->database_url, &w.db, &err)) {
			log_debug("forecasts: cannot connect: %s", err.msg);
			return false;
		}
	}
	if (db_exec(w.db, DB_FORECAST_TRY_LOCK, p, 1, &r, &err))
		return false;
	got = db_res_bool(r, 0, 0);
	db_res_free(r);
	if (got) {
		log_info("forecasts: this replica forecasts ('%s' holds the lock)", w.producer);
		w.holder = true;
		/* another replica may have written meanwhile: refit everything */
		for (size_t i = 0; i < w.nzones; i++) {
			w.zones[i].start = 0;
			for (size_t k = 0; k < w.zones[i].nt; k++)
				w.zones[i].t[k].last_issue = 0;
		}
	}
	return got;
}

static void *work_main(void *arg)
{
	uint64_t seen = 0;
	int64_t last_issue = 0;
	bool announced = false;

	(void)arg;
	while (!stopping()) {
		if (!hold_lock()) {
			if (!announced)
				log_info(
				    "forecasts: another replica holds the forecasting lock: standing by");
			announced = true;
			last_issue = 0;
			nap(LOCK_RETRY_MS);
			continue;
		}
		announced = false;
		int64_t issue = ts_floor(clock_now(&w.app->clock), STEP);
		uint64_t v = sigcache_version(w.app->cache);

		if (issue != last_issue || v != seen) {
			seen = v;
			round_run(issue);
			last_issue = issue;
		}
		nap(200);
	}
	zones_free();
	db_close(w.db);
	w.db = NULL;
	w.holder = false;
	return NULL;
}

int fcworker_start(struct app *app, struct err_detail *err)
{
	char host[64] = "localhost";

	w.app = app;
	atomic_store(&w.stop, false);
	atomic_store(&w.version, 1);
	gethostname(host, sizeof(host) - 1);
	snprintf(w.producer, sizeof(w.producer), "%s:%d", host, (int)getpid());
	if (pthread_create(&w.listen, NULL, listen_main, NULL))
		return err_set(err, ERR_INTERNAL, NULL, "cannot start the forecast listener thread");
	w.listening_started = true;
	if (!app->cfg->forecast_enabled) {
		log_info("forecasts: forecast.enabled is false: this replica serves forecasts but never "
			 "makes them");
		return ERR_OK;
	}
	w.started_ms = ts_mono_ms();
	w.first_written = w.first_pass_done = false;
	zones_init(app);
	if (pthread_create(&w.work, NULL, work_main, NULL)) {
		zones_free();
		return err_set(err, ERR_INTERNAL, NULL, "cannot start the forecasting thread");
	}
	w.working = true;
	return ERR_OK;
}

void fcworker_stop(struct app *app)
{
	(void)app;
	atomic_store(&w.stop, true);
	if (w.working)
		pthread_join(w.work, NULL);
	if (w.listening_started)
		pthread_join(w.listen, NULL);
	w.working = w.listening_started = false;
	pthread_mutex_lock(&w.lock);
	free(w.st);
	w.st = NULL;
	w.nst = w.capst = 0;
	pthread_mutex_unlock(&w.lock);
}
