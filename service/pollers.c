/*
 * pollers.c - one thread per configured source, one replica per source
 * (see pollers.h).
 *
 * Locks: all pollers of a replica share one "lock session" (a connection
 * opened for nothing else, so a pool never lends it and no transaction
 * ever ends it).  Each round a poller pings that session; when the ping
 * fails, the session is reopened and every lock counts as lost, because
 * the server dropped them with the old session - another replica may hold
 * them by now.  Session keepalives are set so that the server also drops
 * the session of a replica whose host vanished without closing it.
 *
 * Schedule: fixed rate - a round starts 'interval' after the previous one
 * started, or at once when a round overran.  A replica that does not hold
 * a source's lock tries it on the same schedule, so it takes over at most
 * one interval after the holder dies.
 *
 * Writes go through a small pool of their own, so pollers never wait for
 * (or hold up) connections of HTTP requests.  Shutdown: the stop flag
 * wakes every wait, and the fetch layer's 'cancelled' hook abandons a
 * transfer in flight, so stopping never waits for a provider's timeout.
 */
#include "service/pollers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/app.h"
#include "service/source.h"

struct pollers;

struct poller {
	struct pollers *ps;
	const struct source_cfg *cfg;
	struct source src;
	bool opened;	   /* credentials loaded: polled here */
	char error[512];   /* why not */
	int32_t key;	   /* advisory lock key */
	bool held;	   /* under ps->lock_mu */
	uint64_t held_gen; /* lock session generation it was taken in */
	bool *zone_ok;	   /* last outcome per zone, for log transitions */
	pthread_t thread;
	bool started;
	/* Shown by pollers_info, under ps->info_mu. */
	bool held_now;
	int64_t next_run;
	uint64_t polls, failures;
};

struct pollers {
	struct app *app;
	struct fetch *fetch;
	struct db_pool *pool;
	pthread_mutex_t lock_mu; /* the lock session */
	struct db *lockdb;
	uint64_t gen;
	pthread_mutex_t info_mu;
	pthread_mutex_t wait_mu;
	pthread_cond_t wake;
	atomic_bool stop;
	struct poller *p;
	size_t n;
};

/* The running instance, for pollers_info (handlers run while we stop). */
static pthread_mutex_t current_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pollers *current;

int32_t pollers_lock_key(const char *source)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)source; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (int32_t)h;
}

static char ident[96];
static pthread_once_t ident_once = PTHREAD_ONCE_INIT;

static void init_ident(void)
{
	char host[64] = "localhost";

	if (gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(ident, sizeof(ident), "%s:%d", host, (int)getpid());
}

const char *pollers_identity(void)
{
	pthread_once(&ident_once, init_ident);
	return ident;
}

static bool stopping(struct pollers *ps)
{
	return atomic_load(&ps->stop) || atomic_load(&ps->app->stopping);
}

/* Wait until the monotonic time 'until_ms'; false when stopping. */
static bool wait_until(struct pollers *ps, int64_t until_ms)
{
	pthread_mutex_lock(&ps->wait_mu);
	while (!stopping(ps)) {
		int64_t left = until_ms - ts_mono_ms();
		struct timespec ts;

		if (left <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ps->wake, &ps->wait_mu, &ts);
	}
	pthread_mutex_unlock(&ps->wait_mu);
	return !stopping(ps);
}

/* Fetch hooks: backoff sleeps end at shutdown, transfers are abandoned. */
static void hook_sleep(void *arg, int64_t ms)
{
	wait_until(arg, ts_mono_ms() + ms);
}

static bool hook_cancelled(void *arg)
{
	return stopping(arg);
}

static int64_t service_now(void *arg)
{
	return clock_now(arg);
}

/* ------------------------------------------------------------------ */
/* The lock session                                                    */

static int open_lock_session(struct pollers *ps, struct err_detail *err)
{
	char name[128];
	const char *p[1] = {name};
	struct db *db;
	int rc;

	if ((rc = db_connect(ps->app->cfg->database_url, &db, err)))
		return rc;
	snprintf(name, sizeof(name), "carbonsched poller %s", pollers_identity());
	if ((rc = db_exec(db, DB_SOURCE_SET_APPNAME, p, 1, NULL, err)) ||
	    (rc = db_exec(db, DB_SOURCE_KEEPALIVES, NULL, 0, NULL, err))) {
		db_close(db);
		return rc;
	}
	ps->lockdb = db;
	ps->gen++;
	return ERR_OK;
}

/* Does this replica hold the source's lock now?  Takes it when free. */
static bool take_lock(struct poller *p)
{
	struct pollers *ps = p->ps;
	struct err_detail err = {{0}, {0}};
	bool held = false;

	pthread_mutex_lock(&ps->lock_mu);
	if (ps->lockdb && db_exec(ps->lockdb, DB_PING, NULL, 0, NULL, &err)) {
		log_warn("pollers: the lock session was lost (%s): every source lock must be taken again",
			 err.msg);
		db_close(ps->lockdb);
		ps->lockdb = NULL;
	}
	if (!ps->lockdb && open_lock_session(ps, &err)) {
		log_warn("pollers: cannot open the lock session: %s", err.msg);
		goto out;
	}
	if (p->held && p->held_gen == ps->gen) {
		held = true;
		goto out;
	}
	char cls[16], key[16];
	const char *params[2] = {cls, key};
	struct db_res *r;

	snprintf(cls, sizeof(cls), "%d", POLLERS_LOCK_CLASS);
	snprintf(key, sizeof(key), "%d", (int)p->key);
	if (db_exec(ps->lockdb, DB_SOURCE_LOCK_TRY, params, 2, &r, &err)) {
		log_warn("pollers: source '%s': cannot try its lock: %s", p->cfg->name, err.msg);
		goto out;
	}
	held = db_res_bool(r, 0, 0);
	db_res_free(r);
	if (held != p->held)
		log_info("pollers: source '%s' is %s", p->cfg->name,
			 held ? "polled by this replica now" : "polled by another replica");
	p->held = held;
	p->held_gen = ps->gen;
out:
	if (!held)
		p->held = false;
	pthread_mutex_unlock(&ps->lock_mu);
	pthread_mutex_lock(&ps->info_mu);
	p->held_now = held;
	pthread_mutex_unlock(&ps->info_mu);
	return held;
}

/* ------------------------------------------------------------------ */
/* One round                                                           */

/* Prometheus (service/telemetry.h): fetches by outcome, and their duration. */
static void record_fetch(struct app *app, const char *source, const char *outcome, double seconds)
{
	if (!app->telemetry)
		return;
	metric_inc(TM_GET(app, SOURCE_FETCHES, source, outcome));
	if (strcmp(outcome, "skipped"))
		metric_observe(TM_GET(app, SOURCE_FETCH_DURATION, source), seconds);
}

static void poll_zone(struct poller *p, size_t z, const char *zone)
{
	struct pollers *ps = p->ps;
	struct err_detail err = {{0}, {0}}, serr = {{0}, {0}};
	struct source_write_stats st = {0};
	struct fetch_breaker_info bi;
	struct conn_result r;
	struct db *db = NULL;
	int64_t t0 = ts_mono_ms();

	fetch_breaker(ps->fetch, p->cfg->name, &bi);
	bool refused = bi.state == FETCH_BREAKER_OPEN; /* the fetch will not even be tried */
	int rc = source_pull(&p->src, zone, 0, 0, &r, &err), pulled = rc;
	double took = (double)(ts_mono_ms() - t0) / 1000;

	if (!rc && !(rc = db_acquire(ps->pool, 10000, &db, &err)))
		rc = source_store(db, &r, &st, &err);
	conn_result_release(&r);
	if (rc && stopping(ps)) { /* cancelled: not the provider's fault */
		db_release(ps->pool, db);
		return;
	}
	record_fetch(ps->app, p->cfg->name, pulled ? (refused ? "skipped" : "error") : "ok", took);
	int64_t now = ts_now(), next = now + p->cfg->interval;
	fetch_breaker(ps->fetch, p->cfg->name, &bi);
	const char *breaker = fetch_breaker_state_name(bi.state);
	if (!db && db_acquire(ps->pool, 10000, &db, &serr))
		log_warn("pollers: source '%s' zone '%s': cannot record the outcome: %s", p->cfg->name, zone,
			 serr.msg);
	else if (rc ? source_state_fail(db, p->cfg->name, zone, now, next, err.msg, breaker, &serr)
		    : source_state_ok(db, p->cfg->name, zone, now, next, (int64_t)(st.written + st.fc_points),
				      breaker, &serr))
		log_warn("pollers: source '%s' zone '%s': cannot record the outcome: %s", p->cfg->name, zone,
			 serr.msg);
	db_release(ps->pool, db);

	if (rc && p->zone_ok[z])
		log_warn("pollers: %s (zone '%s'; breaker %s)", err.msg, zone, breaker);
	else if (rc)
		log_debug("pollers: still failing: %s", err.msg);
	else if (!p->zone_ok[z] || st.written || st.fc_written)
		log_info("pollers: source '%s' zone '%s': %zu rows written, %zu forecast runs (%zu points) "
			 "in %lld ms",
			 p->cfg->name, zone, st.written, st.fc_written, st.fc_points,
			 (long long)(ts_mono_ms() - t0));
	else
		log_debug("pollers: source '%s' zone '%s': nothing new", p->cfg->name, zone);
	p->zone_ok[z] = !rc;
	pthread_mutex_lock(&ps->info_mu);
	p->polls++;
	p->failures += rc != 0;
	p->next_run = next;
	pthread_mutex_unlock(&ps->info_mu);
}

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	struct pollers *ps = p->ps;
	int64_t interval_ms = p->cfg->interval * 1000, next = ts_mono_ms();

	while (wait_until(ps, next)) {
		int64_t start = ts_mono_ms();

		pthread_mutex_lock(&ps->info_mu);
		p->next_run = ts_now() + p->cfg->interval;
		pthread_mutex_unlock(&ps->info_mu);
		if (take_lock(p)) {
			size_t nz = p->cfg->nzones ? p->cfg->nzones : 1;
			for (size_t z = 0; z < nz && !stopping(ps); z++)
				poll_zone(p, z, p->cfg->nzones ? p->cfg->zones[z] : "*");
		}
		next = start + interval_ms;
		if (next < ts_mono_ms())
			next = ts_mono_ms();
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */

static void pollers_free(struct pollers *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		source_close(&ps->p[i].src);
		free(ps->p[i].zone_ok);
	}
	free(ps->p);
	db_close(ps->lockdb); /* releases every lock of this replica */
	db_pool_free(ps->pool);
	fetch_free(ps->fetch);
	pthread_mutex_destroy(&ps->lock_mu);
	pthread_mutex_destroy(&ps->info_mu);
	pthread_mutex_destroy(&ps->wait_mu);
	pthread_cond_destroy(&ps->wake);
	free(ps);
}

int pollers_start(struct app *app, struct err_detail *err)
{
	const struct config *cfg = app->cfg;
	struct fetch_options fo;
	pthread_condattr_t ca;
	struct pollers *ps;
	int rc;

	if (!cfg->nsources)
		return ERR_OK;
	ps = xcalloc(1, sizeof(*ps));
	ps->app = app;
	atomic_init(&ps->stop, false);
	pthread_mutex_init(&ps->lock_mu, NULL);
	pthread_mutex_init(&ps->info_mu, NULL);
	pthread_mutex_init(&ps->wait_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ps->wake, &ca);
	pthread_condattr_destroy(&ca);
	source_fetch_options(cfg, &fo);
	fo.sleep_ms = hook_sleep;
	fo.cancelled = hook_cancelled;
	fo.hook_arg = ps;
	ps->fetch = fetch_new(&fo);
	if ((rc = db_pool_new(cfg->database_url, cfg->nsources < 2 ? 1 : 2, &ps->pool, err))) {
		pollers_free(ps);
		return rc;
	}
	ps->p = xcalloc(cfg->nsources, sizeof(*ps->p));
	ps->n = cfg->nsources;
	for (size_t i = 0; i < ps->n; i++) {
		struct poller *p = &ps->p[i];
		struct err_detail e = {{0}, {0}};

		p->ps = ps;
		p->cfg = &cfg->sources[i];
		p->key = pollers_lock_key(p->cfg->name);
		p->zone_ok = xcalloc(p->cfg->nzones + 1, sizeof(bool));
		for (size_t z = 0; z <= p->cfg->nzones; z++)
			p->zone_ok[z] = true;
		if (source_open(&p->src, cfg, p->cfg, ps->fetch, service_now, &app->clock, &e)) {
			snprintf(p->error, sizeof(p->error), "%s", e.msg);
			log_error("pollers: source '%s' is not polled by this replica: %s", p->cfg->name,
				  e.msg);
			continue;
		}
		p->opened = true;
	}
	for (size_t i = 0; i < ps->n; i++) {
		struct poller *p = &ps->p[i];

		if (!p->opened)
			continue;
		if (pthread_create(&p->thread, NULL, poller_main, p)) {
			rc = err_set(err, ERR_INTERNAL, NULL, "cannot start the poller of source '%s'",
				     p->cfg->name);
			break;
		}
		p->started = true;
	}
	pthread_mutex_lock(&current_mu);
	current = ps;
	pthread_mutex_unlock(&current_mu);
	if (rc)
		pollers_stop(app);
	return rc;
}

void pollers_stop(struct app *app)
{
	struct pollers *ps;

	(void)app;
	pthread_mutex_lock(&current_mu);
	ps = current;
	current = NULL;
	pthread_mutex_unlock(&current_mu);
	if (!ps)
		return;
	atomic_store(&ps->stop, true);
	pthread_mutex_lock(&ps->wait_mu);
	pthread_cond_broadcast(&ps->wake);
	pthread_mutex_unlock(&ps->wait_mu);
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].started)
			pthread_join(ps->p[i].thread, NULL);
	pollers_free(ps);
}

bool pollers_info(const char *source, struct pollers_info *ret)
{
	bool found = false;

	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&current_mu);
	for (size_t i = 0; current && i < current->n && !found; i++) {
		struct poller *p = &current->p[i];

		if (strcmp(p->cfg->name, source))
			continue;
		found = true;
		ret->polled_here = p->opened;
		snprintf(ret->error, sizeof(ret->error), "%s", p->error);
		fetch_breaker(current->fetch, source, &ret->breaker);
		pthread_mutex_lock(&current->info_mu);
		ret->held = p->held_now;
		ret->next_run = p->next_run;
		ret->polls = p->polls;
		ret->failures = p->failures;
		pthread_mutex_unlock(&current->info_mu);
	}
	pthread_mutex_unlock(&current_mu);
	return found;
}
