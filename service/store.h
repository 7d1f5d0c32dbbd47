/*
 * store.h - signals in PostgreSQL: writing sets of series, reading ranges.
 *
 * Built on db.h; no SQL text here other than through the statement
 * table, no libpq types.
 */
#ifndef CARBONSCHED_SERVICE_STORE_H
#define CARBONSCHED_SERVICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/series.h"
#include "core/signal.h"
#include "service/config.h"
#include "service/db.h"

struct store_ingest_stats {
	size_t series;	/* series in the set */
	size_t points;	/* valid points offered */
	size_t written; /* rows inserted or changed */
	bool merged;	/* true when existing rows forced the upsert path */
};

/* Write every series of 'set' in one transaction: new series are created,
 * points are upserted (a re-ingest of the same data changes nothing).
 * Either everything is stored or nothing is.  Errors: ERR_CONFLICT when a
 * series exists with another step, ERR_INVALID for an unknown kind,
 * ERR_DB.  Notifies 'carbonsched_signals' on commit. */
int store_ingest(struct db *db, const struct sig_set *set, struct store_ingest_stats *ret,
		 struct err_detail *err);

struct store_series {
	int id;
	char source[24];
	char unit[24];
	int32_t step;
	int64_t last_ts; /* 0 when empty */
	/* The read path's judgement (service/source.h), all zero when not judged. */
	int64_t stale_after; /* seconds; 0 = not judged */
	bool stale;	     /* newest point older than stale_after */
	bool failing;	     /* the source's last pull for this zone failed */
};

/* The series holding (zone, kind): from 'source' when given, else the
 * first of 'prefer' (NULL-terminated source names, may be NULL) that
 * exists, else the one with the newest data.  With rows judged (stale,
 * failing), healthy ones come first: the first healthy preferred source,
 * else any healthy one (newest data first), else the first preferred one
 * that is not stale, else any that is not stale, else the newest data.
 * ERR_NOT_FOUND when none. */
int store_find_series(struct db *db, const char *zone, const char *kind, const char *source,
		      char *const *prefer, struct store_series *ret, struct err_detail *err);

/* Every series holding (zone, kind), newest data first, into a new array
 * *ret (free with free()) of *ret_n entries. */
int store_list_series(struct db *db, const char *zone, const char *kind, struct store_series **ret,
		      size_t *ret_n, struct err_detail *err);

/* The choice store_find_series makes, among rows already listed. */
int store_pick_series(const struct store_series *rows, size_t n, const char *zone, const char *kind,
		      const char *source, char *const *prefer, struct store_series *ret,
		      struct err_detail *err);

/* Points of series 'id' in [from, to) into *ret (initialised here with the
 * series' step and 'from' rounded up to the grid; the caller releases). */
int store_read(struct db *db, const struct store_series *ser, int64_t from, int64_t to, struct series *ret,
	       struct err_detail *err);

/* Newest point at or before 'at'; ERR_NOT_FOUND when none. */
int store_latest(struct db *db, int series_id, int64_t at, int64_t *ret_ts, double *ret_value,
		 struct err_detail *err);

/* Mirror the configured regions into the regions table (others are marked
 * inactive, never deleted: jobs refer to them). */
int store_sync_regions(struct db *db, const struct config *cfg, struct err_detail *err);

/* True when any series holds points. */
int store_has_data(struct db *db, bool *ret, struct err_detail *err);

#endif
