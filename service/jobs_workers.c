/*
 * jobs_workers.c - the background work of scheduling, as rows of the
 * worker table (workers.c):
 *
 *   scheduler inputs  the planner: its listener thread keeps the snapshot
 *                     and the booked capacity current (every replica);
 *   re-planning       on each new forecast version, one replica at a time
 *                     (advisory lock) re-plans the jobs not yet started;
 *                     when signals arrive (and every minute), fills the
 *                     realised emissions of jobs completed before their
 *                     signals had come;
 *   callbacks         POSTs to a job's callback_url when its start time
 *                     comes; replicas share the due jobs (SKIP LOCKED).
 *
 * One process runs one 'serve', so each worker keeps its thread in a
 * file-level struct; threads poll app->stopping and their own flag and
 * return within a fraction of a second.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "connectors/fetch.h"
#include "core/log.h"
#include "core/time.h"
#include "service/app.h"
#include "service/callback.h"
#include "service/jobs.h"
#include "service/jobs_workers.h"
#include "service/planner.h"

struct loop {
	pthread_t thread;
	bool running;
	atomic_bool stop;
	struct app *app;
};

static void nap_ms(int ms)
{
	nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

static bool stopping(struct loop *l)
{
	return atomic_load(&l->stop) || atomic_load(&l->app->stopping);
}

static int loop_start(struct loop *l, struct app *app, void *(*fn)(void *), struct err_detail *err)
{
	l->app = app;
	atomic_store(&l->stop, false);
	if (pthread_create(&l->thread, NULL, fn, l))
		return err_set(err, ERR_INTERNAL, NULL, "cannot start a thread");
	l->running = true;
	return ERR_OK;
}

static void loop_stop(struct loop *l)
{
	if (!l->running)
		return;
	atomic_store(&l->stop, true);
	pthread_join(l->thread, NULL);
	l->running = false;
}

static struct jobs_env env_of(struct app *app)
{
	return (struct jobs_env){app->cfg, &app->clock, app->planner, app->cache, NULL};
}

/* ---- scheduler inputs ------------------------------------------------------ */

int jobs_planner_start(struct app *app, struct err_detail *err)
{
	struct planner *p = planner_new(app->cfg, &app->clock, app->cache, app->pool);
	int rc = planner_start(p, err);

	if (rc) {
		planner_free(p);
		return rc;
	}
	app->planner = p;
	return ERR_OK;
}

/* The planner is freed by 'serve' after the HTTP server has stopped:
 * requests in flight still use it. */
void jobs_planner_stop(struct app *app)
{
	planner_stop(app->planner);
}

/* ---- re-planning ----------------------------------------------------------- */

static struct loop replan;

static void replan_round(struct app *app)
{
	struct jobs_env env = env_of(app);
	struct err_detail err = {{0}, {0}};
	struct planner_snap *s = NULL;
	struct db_res *r;
	struct db *db;
	size_t checked = 0, moved = 0;

	if (db_acquire(app->pool, 5000, &db, &err))
		return;
	/* One replica at a time: the others skip this round. */
	if (db_exec(db, DB_REPLAN_LOCK, NULL, 0, &r, &err)) {
		db_release(app->pool, db);
		return;
	}
	bool mine = db_res_bool(r, 0, 0);
	db_res_free(r);
	if (mine) {
		if (!planner_acquire(app->planner, &s, &err) &&
		    !jobs_replan_all(&env, db, s, &checked, &moved, &err)) {
			if (moved)
				log_info("re-planning: %zu of %zu scheduled jobs moved to a better plan",
					 moved, checked);
			else
				log_debug("re-planning: %zu scheduled jobs checked, none moved", checked);
		} else {
			log_warn("re-planning: %s", err.msg);
		}
		planner_release(app->planner, s);
		if (!db_exec(db, DB_REPLAN_UNLOCK, NULL, 0, &r, &err))
			db_res_free(r);
	}
	db_release(app->pool, db);
}

/* Realised emissions whose signals came after completion (live data
 * arrives late).  Every replica may do it: rows are locked one by one. */
static void realised_round(struct app *app)
{
	struct jobs_env env = env_of(app);
	struct err_detail err = {{0}, {0}};
	struct db *db;
	size_t filled = 0;

	if (db_acquire(app->pool, 5000, &db, &err))
		return;
	if (jobs_fill_realised(&env, db, &filled, &err))
		log_warn("realised emissions: %s", err.msg);
	else if (filled)
		log_info("realised emissions: %zu completed jobs now have theirs", filled);
	db_release(app->pool, db);
}

static void *replan_run(void *arg)
{
	struct loop *l = arg;
	uint64_t seen = planner_forecast_version(l->app->planner);
	int64_t last_fill = 0;
	uint64_t signals_seen = 0;

	while (!stopping(l)) {
		uint64_t v = planner_forecast_version(l->app->planner);

		if (v != seen) {
			seen = v;
			replan_round(l->app);
		}
		/* When signals arrive, and every minute. */
		uint64_t sv = sigcache_version(l->app->cache);
		if (sv != signals_seen || ts_mono_ms() - last_fill >= 60000) {
			signals_seen = sv;
			last_fill = ts_mono_ms();
			realised_round(l->app);
		}
		nap_ms(250);
	}
	return NULL;
}

int jobs_replan_start(struct app *app, struct err_detail *err)
{
	return loop_start(&replan, app, replan_run, err);
}

void jobs_replan_stop(struct app *app)
{
	(void)app;
	loop_stop(&replan);
}

/* ---- start callbacks ------------------------------------------------------- */

static struct loop callbacks;
static struct fetch *callback_fetch;

/* Check the URL again (its host may resolve elsewhere by now) and POST,
 * connecting to the addresses just checked. */
static int send_callback(void *ctx, const char *url, const char *body, size_t len, struct err_detail *err)
{
	struct app *app = ctx;
	struct callback_url cu;
	struct fetch_response resp;
	int rc;

	if ((rc = callback_check(app->cfg, url, "callback_url", &cu, err)))
		return -1;
	static const char *const headers[] = {"User-Agent: carbonsched", "X-Carbonsched-Event: job.start",
					      NULL};
	struct fetch_request rq = {.source = "callback",
				   .url = url,
				   .headers = headers,
				   .body = body,
				   .body_len = len,
				   .content_type = "application/json",
				   .resolve = cu.pins};
	if ((rc = fetch_post(callback_fetch, &rq, &resp, err))) {
		/* "callback: HTTP 500 ..." - keep the status when there was one. */
		const char *h = strstr(err->msg, "HTTP ");
		return h ? -atoi(h + 5) : -1;
	}
	long status = resp.status;
	fetch_response_release(&resp);
	return (int)status;
}

static void *callbacks_run(void *arg)
{
	struct loop *l = arg;
	struct jobs_env env = env_of(l->app);

	while (!stopping(l)) {
		struct err_detail err = {{0}, {0}};
		struct db *db;
		size_t sent = 0;

		if (!db_acquire(l->app->pool, 5000, &db, &err)) {
			if (jobs_callbacks_due(&env, db, send_callback, l->app, &sent, &err))
				log_warn("callbacks: %s", err.msg);
			db_release(l->app->pool, db);
		}
		if (sent)
			log_info("callbacks: %zu sent", sent);
		for (int i = 0; i < 4 && !stopping(l); i++)
			nap_ms(250);
	}
	return NULL;
}

int jobs_callbacks_start(struct app *app, struct err_detail *err)
{
	struct fetch_options o;

	fetch_options_default(&o);
	o.connect_timeout_ms = app->cfg->callback_timeout * 1000;
	o.timeout_ms = app->cfg->callback_timeout * 1000;
	o.max_attempts = 1; /* the worker retries, with back-off on the service clock */
	o.max_bytes = 64 * 1024;
	o.breaker_threshold = 1000000; /* one slow receiver must not stop the others */
	callback_fetch = fetch_new(&o);
	return loop_start(&callbacks, app, callbacks_run, err);
}

void jobs_callbacks_stop(struct app *app)
{
	(void)app;
	loop_stop(&callbacks);
	fetch_free(callback_fetch);
	callback_fetch = NULL;
}
