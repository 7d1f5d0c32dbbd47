/*
 * sigcache.h - signals held in memory, so that reads do not go to
 * PostgreSQL on every request.
 *
 * Two things are cached: which series serve a (zone, kind), and the points
 * of each series over the range loaded so far (extended on demand in
 * whole 30-day blocks).  Any change to stored signals bumps a version - our
 * own writes directly, other processes' through LISTEN carbonsched_signals -
 * and entries of an older version are reloaded on next use.  Thread-safe.
 */
#ifndef CARBONSCHED_SERVICE_SIGCACHE_H
#define CARBONSCHED_SERVICE_SIGCACHE_H

#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/series.h"
#include "service/db.h"
#include "service/store.h"

struct sigcache;

/* New cache holding at most max_points points in all; free with
 * sigcache_free (NULL is a no-op). */
struct sigcache *sigcache_new(size_t max_points);
void sigcache_free(struct sigcache *c);

/* The current data version: anything derived from cached signals may be
 * kept as long as the version has not changed. */
uint64_t sigcache_version(struct sigcache *c);

/* Memo of rendered text (e.g. the points of a signals answer) under a key,
 * valid for one data version.  sigcache_memo_get appends the text to 'out'
 * and returns true on a hit. */
bool sigcache_memo_get(struct sigcache *c, const char *key, uint64_t version, struct buf *out);
void sigcache_memo_put(struct sigcache *c, const char *key, uint64_t version, const char *text, size_t len);

/* Forget everything (stored signals changed). */
void sigcache_bump(struct sigcache *c);

/* How the read path judges the series of a zone before choosing one
 * (service/source.h: freshness and failing sources): fill stale_after,
 * stale and failing of the n rows.  Called with no lock held, with the
 * caller's connection. */
typedef void (*sigcache_judge_fn)(void *arg, struct db *db, const char *zone, struct store_series *rows,
				  size_t n);

/* Install the judge (NULL: rows are not judged) before serving. */
void sigcache_set_judge(struct sigcache *c, sigcache_judge_fn fn, void *arg);

/* As store_find_series, cached; the rows are judged first when a judge
 * is set, so a stale or failing source gives way to the next. */
int sigcache_find_series(struct sigcache *c, struct db *db, const char *zone, const char *kind,
			 const char *source, char *const *prefer, struct store_series *ret,
			 struct err_detail *err);

/* As store_read, cached: *ret (caller releases) holds [from, to). */
int sigcache_read(struct sigcache *c, struct db *db, const struct store_series *ser, int64_t from, int64_t to,
		  struct series *ret, struct err_detail *err);

/* As store_latest, cached. */
int sigcache_latest(struct sigcache *c, struct db *db, const struct store_series *ser, int64_t at,
		    int64_t *ret_ts, double *ret_value, struct err_detail *err);

/* Listen for changes made by other processes: a thread with its own
 * connection that bumps the cache on each notification (and after a
 * reconnect, when notifications may have been missed).  Stop with
 * sigcache_unlisten before freeing. */
int sigcache_listen(struct sigcache *c, const char *conninfo, struct err_detail *err);
void sigcache_unlisten(struct sigcache *c);

#endif
