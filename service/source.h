/*
 * source.h - a configured live source at run time: pulling it, storing
 * what it returns, recording how it went, and judging how fresh its data
 * is.
 *
 * 'carbonsched ingest --source' (one pull) and the pollers of 'serve'
 * (service/pollers.c) both go through here, so they write the same rows
 * the same way.  Series and forecasts are stored under the source's
 * configured NAME (regions[].sources refers to names, and two sources of
 * one type stay apart); forecasts get model = NAME.
 *
 * Freshness, one definition for the read path, the answers and
 * GET /v1/sources:
 *   age        = now (the service clock) - the time of the newest point at
 *                or before now;
 *   stale      = age > stale_after;
 *   stale_after = the source's 'stale_after' when configured, else
 *                3 x max(step of the series, the source's interval) (for a
 *                source not in the config, such as a loaded file,
 *                3 x step).
 * A source is failing for a zone when its most recent pull for that zone
 * (source_state) failed.
 */
#ifndef CARBONSCHED_SERVICE_SOURCE_H
#define CARBONSCHED_SERVICE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "core/error.h"
#include "service/clock.h"
#include "service/config.h"
#include "service/db.h"
#include "service/store.h"

/* A source made ready to pull. */
struct source {
	char name[24];
	const struct source_cfg *cfg; /* borrowed */
	const struct config *config;  /* borrowed: regions give coordinates; may be NULL */
	const struct connector *conn; /* NULL for file sources */
	struct conn_ctx ctx;	      /* connectors */
};

/* Open 'cfg' (borrowed, as is 'config', which may be NULL): load the
 * credentials it names (environment or files; never logged) and make the
 * connector context over the fetcher 'f' (borrowed; unused by file
 * sources).  'now' is the clock connectors plan "recent" with (NULL = the
 * real clock).  Errors: ERR_INVALID naming a missing or unreadable
 * variable or file.  On error nothing needs closing. */
int source_open(struct source *s, const struct config *config, const struct source_cfg *cfg, struct fetch *f,
		int64_t (*now)(void *arg), void *now_arg, struct err_detail *err);
/* Release the context and wipe the credentials; a zeroed struct is fine. */
void source_close(struct source *s);

/* Pull one zone ("*" or NULL: every region of a PUE feed or file) over
 * [from, to) (both 0: the recent past and the provider's forecasts) into
 * *ret (initialised here; release with conn_result_release, also after a
 * failure).  'zone' may carry coordinates ("NAME@LAT,LON"); otherwise they
 * come from the region named by the zone when the connector needs them.
 * Every series and forecast is relabelled with the source's name.  Errors:
 * those of conn_fetch and files_read, each message starting with the
 * source. */
int source_pull(struct source *s, const char *zone, int64_t from, int64_t to, struct conn_result *ret,
		struct err_detail *err);

/* Label every series and forecast of r with 'name' (forecasts also get
 * model = name), as source_pull does; for results pulled without a
 * configured source. */
void source_relabel(struct conn_result *r, const char *name);

struct source_write_stats {
	size_t series, points, written;		 /* signals: offered series and points, rows written */
	size_t forecasts, fc_written, fc_points; /* forecast runs offered, runs (re)written, their points */
};

/* Store a pull: its series through store_ingest (one transaction; rows
 * only where a value differs), then each forecast that differs from the
 * stored run of the same (zone, kind, model, issue time) through
 * fcstore_write, in a second transaction.  A second store of the same
 * result writes nothing.  Errors: those of store_ingest and
 * fcstore_write (ERR_DB, ERR_CONFLICT, ERR_INVALID). */
int source_store(struct db *db, const struct conn_result *r, struct source_write_stats *ret,
		 struct err_detail *err);

/* source_state: the outcome of one pull of (source, zone) at 'at' (real
 * time).  'next_run' 0 keeps the recorded one; 'rows' adds to
 * rows_written; 'breaker' is a fetch_breaker_state_name. */
int source_state_ok(struct db *db, const char *source, const char *zone, int64_t at, int64_t next_run,
		    int64_t rows, const char *breaker, struct err_detail *err);
int source_state_fail(struct db *db, const char *source, const char *zone, int64_t at, int64_t next_run,
		      const char *message, const char *breaker, struct err_detail *err);

/* The fetcher's options from the config's fetch.* keys (defaults for
 * the rest, e.g. the hooks). */
void source_fetch_options(const struct config *config, struct fetch_options *ret);

/* stale_after of 'source' for a series of 'step' seconds (see above). */
int64_t source_stale_after(const struct config *config, const char *source, int32_t step);

/* The read path's view of every source: freshness from the series rows,
 * 'failing' from a copy of source_state re-read at most once a second
 * (whichever replica polls, every replica sees its outcome).  Thread-safe.
 * Borrowed config and clock must outlive it. */
struct source_health;
struct source_health *source_health_new(const struct config *config, const struct clock *clock);
void source_health_free(struct source_health *h);
/* Fill stale_after, stale and failing of the n rows of 'zone' (a
 * sigcache judge: arg is the source_health).  Uses 'db' to refresh the
 * copy of source_state; a failed refresh keeps the previous copy. */
void source_health_judge(void *arg, struct db *db, const char *zone, struct store_series *rows, size_t n);

#endif
