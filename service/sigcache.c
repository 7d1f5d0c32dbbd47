/*
 * sigcache.c - see sigcache.h.
 *
 * Layout: a small open list of series entries (a service knows tens to a
 * few thousand series) under one rwlock.  Readers copy what they need
 * under the read lock; a miss releases it, loads from the database with no
 * lock held, then inserts under the write lock if the version did not
 * move meanwhile.  Trade-off: a global version is coarse (any ingest drops
 * every entry) but can never serve stale data, and ingests are rare
 * compared with reads.
 */
#include "service/sigcache.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#define BLOCK	      (30 * TS_DAY)
#define MEMO_SLOTS    64
#define MEMO_MAX_TEXT (256 * 1024)
#define MAX_LISTS     4096

struct list_entry { /* the series of one (zone, kind), as the db returned them */
	char zone[64], kind[48];
	uint64_t version;
	size_t n;
	struct store_series *rows; /* newest data first */
};

struct data_entry {
	int id;
	uint64_t version;
	struct series s;	      /* loaded range [s.start, series_end(&s)) */
	int64_t latest_at, latest_ts; /* memo of the last sigcache_latest */
	double latest_v;
};

struct memo {
	char key[160];
	uint64_t version;
	uint64_t used; /* tick of the last use, for replacement */
	char *text;
	size_t len;
};

struct sigcache {
	pthread_rwlock_t lock;
	pthread_mutex_t memo_lock;
	struct memo memo[MEMO_SLOTS];
	uint64_t memo_tick;
	atomic_uint_fast64_t version;
	size_t max_points, points;
	struct list_entry *lists;
	size_t nlists, caplists;
	struct data_entry *data;
	size_t ndata, capdata;
	sigcache_judge_fn judge; /* set before serving, then read-only */
	void *judge_arg;
	/* listener */
	pthread_t thread;
	bool listening;
	atomic_bool stop;
	char *conninfo;
};

struct sigcache *sigcache_new(size_t max_points)
{
	struct sigcache *c = xcalloc(1, sizeof(*c));

	pthread_rwlock_init(&c->lock, NULL);
	pthread_mutex_init(&c->memo_lock, NULL);
	atomic_init(&c->version, 1);
	atomic_init(&c->stop, false);
	c->max_points = max_points;
	return c;
}

static void drop_all(struct sigcache *c)
{
	for (size_t i = 0; i < c->nlists; i++)
		free(c->lists[i].rows);
	for (size_t i = 0; i < c->ndata; i++)
		series_release(&c->data[i].s);
	c->nlists = c->ndata = c->points = 0;
}

void sigcache_free(struct sigcache *c)
{
	if (!c)
		return;
	sigcache_unlisten(c);
	drop_all(c);
	free(c->lists);
	free(c->data);
	for (int i = 0; i < MEMO_SLOTS; i++)
		free(c->memo[i].text);
	pthread_mutex_destroy(&c->memo_lock);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

void sigcache_bump(struct sigcache *c)
{
	atomic_fetch_add(&c->version, 1);
}

static uint64_t version(struct sigcache *c)
{
	return atomic_load(&c->version);
}

uint64_t sigcache_version(struct sigcache *c)
{
	return version(c);
}

bool sigcache_memo_get(struct sigcache *c, const char *key, uint64_t v, struct buf *out)
{
	bool hit = false;

	if (v != version(c))
		return false;
	pthread_mutex_lock(&c->memo_lock);
	for (int i = 0; i < MEMO_SLOTS && !hit; i++) {
		struct memo *m = &c->memo[i];

		if (m->text && m->version == v && !strcmp(m->key, key)) {
			buf_add(out, m->text, m->len);
			m->used = ++c->memo_tick;
			hit = true;
		}
	}
	pthread_mutex_unlock(&c->memo_lock);
	return hit;
}

void sigcache_memo_put(struct sigcache *c, const char *key, uint64_t v, const char *text, size_t len)
{
	struct memo *victim = NULL;

	if (len > MEMO_MAX_TEXT || strlen(key) >= sizeof(victim->key) || v != version(c))
		return;
	pthread_mutex_lock(&c->memo_lock);
	for (int i = 0; i < MEMO_SLOTS; i++) {
		struct memo *m = &c->memo[i];

		if (!m->text || m->version != v || !strcmp(m->key, key)) {
			victim = m;
			break;
		}
		if (!victim || m->used < victim->used)
			victim = m;
	}
	free(victim->text);
	victim->text = xstrndup(text, len);
	victim->len = len;
	victim->version = v;
	victim->used = ++c->memo_tick;
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	pthread_mutex_unlock(&c->memo_lock);
}

void sigcache_set_judge(struct sigcache *c, sigcache_judge_fn fn, void *arg)
{
	c->judge = fn;
	c->judge_arg = arg;
}

/* Pick among rows (a copy the caller owns), judged first when a judge is
 * set: judging may query the database, so no lock may be held. */
static int pick(struct sigcache *c, struct db *db, struct store_series *rows, size_t n, const char *zone,
		const char *kind, const char *source, char *const *prefer, struct store_series *ret,
		struct err_detail *err)
{
	if (c->judge)
		c->judge(c->judge_arg, db, zone, rows, n);
	return store_pick_series(rows, n, zone, kind, source, prefer, ret, err);
}

int sigcache_find_series(struct sigcache *c, struct db *db, const char *zone, const char *kind,
			 const char *source, char *const *prefer, struct store_series *ret,
			 struct err_detail *err)
{
	uint64_t v = version(c);
	struct store_series local[16], *rows = NULL;
	size_t n = 0;
	bool hit = false;
	int rc;

	pthread_rwlock_rdlock(&c->lock);
	for (size_t i = 0; i < c->nlists && !hit; i++) {
		struct list_entry *e = &c->lists[i];

		if (e->version == v && !strcmp(e->zone, zone) && !strcmp(e->kind, kind)) {
			hit = true;
			n = e->n;
			rows = n <= 16 ? local : xcalloc(n, sizeof(*rows));
			memcpy(rows, e->rows, n * sizeof(*rows));
		}
	}
	pthread_rwlock_unlock(&c->lock);
	if (hit) {
		rc = pick(c, db, rows, n, zone, kind, source, prefer, ret, err);
		if (rows != local)
			free(rows);
		return rc;
	}

	if ((rc = store_list_series(db, zone, kind, &rows, &n, err)))
		return rc;
	struct list_entry fresh = {.version = v, .n = n, .rows = rows};
	snprintf(fresh.zone, sizeof(fresh.zone), "%s", zone);
	snprintf(fresh.kind, sizeof(fresh.kind), "%s", kind);
	struct store_series *judged = xcalloc(n ? n : 1, sizeof(*judged));
	memcpy(judged, rows, n * sizeof(*judged));
	rc = pick(c, db, judged, n, zone, kind, source, prefer, ret, err);
	free(judged);

	pthread_rwlock_wrlock(&c->lock);
	if (version(c) == v && strlen(zone) < sizeof(fresh.zone) && strlen(kind) < sizeof(fresh.kind)) {
		size_t slot = c->nlists;

		for (size_t i = 0; i < c->nlists; i++)
			if (c->lists[i].version != v ||
			    (!strcmp(c->lists[i].zone, zone) && !strcmp(c->lists[i].kind, kind))) {
				slot = i;
				break;
			}
		if (slot == c->nlists && c->nlists < MAX_LISTS) {
			c->lists = xgrow(c->lists, &c->caplists, c->nlists + 1, sizeof(*c->lists));
			c->nlists++;
		} else if (slot < c->nlists) {
			free(c->lists[slot].rows);
		}
		if (slot < c->nlists) {
			c->lists[slot] = fresh;
			fresh.rows = NULL;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	free(fresh.rows);
	return rc;
}

static struct data_entry *find_data(struct sigcache *c, int id, uint64_t v)
{
	for (size_t i = 0; i < c->ndata; i++)
		if (c->data[i].id == id && c->data[i].version == v)
			return &c->data[i];
	return NULL;
}

/* Copy [from, to) out of a cached entry when it covers the range. */
static bool copy_out(const struct data_entry *e, int64_t from, int64_t to, struct series *ret)
{
	int64_t start = ts_ceil(from, e->s.step);

	if (start < e->s.start || to > series_end(&e->s))
		return false;
	series_slice(&e->s, start, to, ret);
	return true;
}

int sigcache_read(struct sigcache *c, struct db *db, const struct store_series *ser, int64_t from, int64_t to,
		  struct series *ret, struct err_detail *err)
{
	uint64_t v = version(c);
	struct data_entry *e;
	bool hit = false;
	int64_t lo, hi;
	struct series loaded;
	int rc;

	pthread_rwlock_rdlock(&c->lock);
	if ((e = find_data(c, ser->id, v)))
		hit = copy_out(e, from, to, ret);
	pthread_rwlock_unlock(&c->lock);
	if (hit)
		return ERR_OK;

	/* Load whole blocks around the request, joined with what is cached. */
	lo = ts_floor(from, BLOCK);
	hi = ts_ceil(to, BLOCK);
	pthread_rwlock_rdlock(&c->lock);
	if ((e = find_data(c, ser->id, v)) && e->s.n) {
		if (e->s.start < lo && series_end(&e->s) >= lo)
			lo = e->s.start;
		if (series_end(&e->s) > hi && e->s.start <= hi)
			hi = series_end(&e->s);
	}
	pthread_rwlock_unlock(&c->lock);
	if ((size_t)((hi - lo) / ser->step) > c->max_points / 4)
		return store_read(db, ser, from, to, ret, err); /* too big to keep */
	if ((rc = store_read(db, ser, lo, hi, &loaded, err)))
		return rc;
	copy_out(&(struct data_entry){.s = loaded}, from, to, ret);

	pthread_rwlock_wrlock(&c->lock);
	if (version(c) == v) {
		if (c->points + loaded.n > c->max_points)
			drop_all(c);
		if (!(e = find_data(c, ser->id, v))) {
			/* Reuse a stale slot before growing. */
			for (size_t i = 0; i < c->ndata && !e; i++)
				if (c->data[i].version != v)
					e = &c->data[i];
			if (!e) {
				c->data = xgrow(c->data, &c->capdata, c->ndata + 1, sizeof(*c->data));
				e = &c->data[c->ndata++];
				memset(e, 0, sizeof(*e));
			}
			c->points -= e->s.n <= c->points ? e->s.n : c->points;
			series_release(&e->s);
			memset(e, 0, sizeof(*e));
			e->id = ser->id;
			e->version = v;
		} else {
			c->points -= e->s.n <= c->points ? e->s.n : c->points;
			series_release(&e->s);
		}
		e->s = loaded;
		e->latest_at = INT64_MIN;
		c->points += loaded.n;
		loaded.v = NULL;
		loaded.est = NULL;
	}
	pthread_rwlock_unlock(&c->lock);
	series_release(&loaded);
	return ERR_OK;
}

int sigcache_latest(struct sigcache *c, struct db *db, const struct store_series *ser, int64_t at,
		    int64_t *ret_ts, double *ret_value, struct err_detail *err)
{
	uint64_t v = version(c);
	struct data_entry *e;
	bool hit = false;
	int rc;

	/* The memo answers repeated questions within the same step. */
	pthread_rwlock_rdlock(&c->lock);
	if ((e = find_data(c, ser->id, v)) && e->latest_at != INT64_MIN &&
	    ts_floor(e->latest_at, ser->step) == ts_floor(at, ser->step) && e->latest_at <= at) {
		*ret_ts = e->latest_ts;
		*ret_value = e->latest_v;
		hit = true;
	}
	pthread_rwlock_unlock(&c->lock);
	if (hit)
		return ERR_OK;
	if ((rc = store_latest(db, ser->id, at, ret_ts, ret_value, err)))
		return rc;
	pthread_rwlock_wrlock(&c->lock);
	if ((e = find_data(c, ser->id, v))) {
		e->latest_at = at;
		e->latest_ts = *ret_ts;
		e->latest_v = *ret_value;
	}
	pthread_rwlock_unlock(&c->lock);
	return ERR_OK;
}

static void *listen_main(void *arg)
{
	struct sigcache *c = arg;
	struct db *db = NULL;
	char payload[8192];

	while (!atomic_load(&c->stop)) {
		if (!db_is_ok(db)) {
			struct err_detail err;

			db_close(db);
			db = NULL;
			if (db_connect_raw(c->conninfo, &db, &err) ||
			    db_listen(db, "carbonsched_signals", &err)) {
				log_debug("signal cache: cannot listen: %s", err.msg);
				db_close(db);
				db = NULL;
				struct timespec ts = {1, 0};
				nanosleep(&ts, NULL);
				continue;
			}
			/* Whatever happened while we were not listening. */
			sigcache_bump(c);
		}
		if (db_wait_notify(db, 500, payload, sizeof(payload))) {
			log_debug("signals changed in series '%.64s': cache dropped", payload);
			sigcache_bump(c);
		}
	}
	db_close(db);
	return NULL;
}

int sigcache_listen(struct sigcache *c, const char *conninfo, struct err_detail *err)
{
	c->conninfo = xstrdup(conninfo);
	atomic_store(&c->stop, false);
	if (pthread_create(&c->thread, NULL, listen_main, c)) {
		free(c->conninfo);
		c->conninfo = NULL;
		return err_set(err, ERR_INTERNAL, NULL, "cannot start the cache listener thread");
	}
	c->listening = true;
	return ERR_OK;
}

void sigcache_unlisten(struct sigcache *c)
{
	if (!c->listening)
		return;
	atomic_store(&c->stop, true);
	pthread_join(c->thread, NULL);
	c->listening = false;
	free(c->conninfo);
	c->conninfo = NULL;
}
