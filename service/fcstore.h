/*
 * fcstore.h - forecasts in PostgreSQL: one run per (zone, kind, model,
 * issue time) with p10/p50/p90 per step.
 *
 * The forecasting worker (fcworker.c) and the pollers write runs;
 * everything that decides on the future (the scheduler, the forecast
 * endpoints, the compatibility routes) reads them through fcstore_latest,
 * whose default choice follows the recent skill of each model
 * (forecast_skill, written as actuals arrive).  Project types only.
 */
#ifndef CARBONSCHED_SERVICE_FCSTORE_H
#define CARBONSCHED_SERVICE_FCSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/series.h"
#include "forecasters/skill.h"
#include "service/db.h"

/* Skill needed before a model's score counts (effective points per lead
 * bucket, see forecasters/skill.h): a day of hourly runs scored at 1-6 h. */
#define FCSTORE_MIN_SKILL_W 24
/* Runs issued at most this many seconds before the newest are one round:
 * they compete for the default choice (so a provider's run published just
 * before our hourly run still meets the previous one). */
#define FCSTORE_ROUND_S	    3600
#define FCSTORE_MAX_CHOICES 16

/* A model that competed for the default choice. */
struct fc_choice {
	char model[48];
	int64_t issued_at;
	int64_t horizon; /* seconds */
	double score;	 /* mean bucket MAE over the common buckets; NAN = not scored */
	double mape;	 /* % over the same buckets, pooled; NAN = not scored */
};

/* A stored forecast: three series on the same grid (p10 and p90 may hold
 * gaps where a model gives no interval). */
struct fc_run {
	int64_t id;
	char model[48];
	int64_t issued_at;
	int64_t horizon; /* seconds */
	struct series p10, p50, p90;
	/* How the run was chosen (fcstore_latest): "model" (asked for by
	 * name), "skill" (lowest recent error among the runs of the newest
	 * round), or "default" (no skill yet: the ensemble, else the newest). */
	char chosen_by[8];
	struct fc_choice choices[FCSTORE_MAX_CHOICES]; /* the competitors, when chosen by fcstore_latest */
	size_t nchoices;
	unsigned skill_buckets; /* mask of the lead buckets the scores compare (bit b = bucket b) */
	/* A run shorter than the round's longest is extended by the ensemble
	 * of the round (or the longest run): from extended_from on, the
	 * values are extended_by's.  extended_from is 0 when not extended. */
	char extended_by[48];
	int64_t extended_from;
};

void fc_run_init(struct fc_run *r);
void fc_run_release(struct fc_run *r);

/* Store a run (in the caller's transaction if one is open): replaces the
 * points of an existing run with the same key and restarts its scoring.
 * p10, p50 and p90 share p50's grid (p10/p90 may be NULL).  'producer'
 * (may be NULL) names the writer (the worker's "host:pid").  Errors:
 * ERR_INVALID (mismatched grids), ERR_DB. */
int fcstore_write(struct db *db, const char *zone, const char *kind, const char *model, int64_t issued_at,
		  const struct series *p10, const struct series *p50, const struct series *p90,
		  struct err_detail *err);
int fcstore_write_by(struct db *db, const char *producer, const char *zone, const char *kind,
		     const char *model, int64_t issued_at, const struct series *p10, const struct series *p50,
		     const struct series *p90, struct err_detail *err);

/* The forecast of (zone, kind) to use at 'at'.
 *
 * With 'model': its newest run issued at or before 'at'.
 * Without (NULL): the runs of the newest round at or before 'at' (each
 * model's newest run issued at most FCSTORE_ROUND_S before the newest)
 * compete; the one with the lowest recent error (forecast_skill, ranked by
 * fc_skill_rank on the lead buckets all scored competitors share, at
 * least FCSTORE_MIN_SKILL_W points each) wins; without skill, the
 * ensemble, else the newest, else by name.  A winner shorter than the
 * longest competitor is extended past its end (and through its gaps) by
 * the ensemble of the round, else the longest competitor.
 *
 * *ret is initialised here; the caller releases it (also on error).
 * ERR_NOT_FOUND when there is no run. */
int fcstore_latest(struct db *db, const char *zone, const char *kind, const char *model, int64_t at,
		   struct fc_run *ret, struct err_detail *err);

/* --- skill ------------------------------------------------------------------ */

struct fcstore_skill_row {
	char kind[48];
	char model[48];
	int bucket;			    /* index into fc_skill_bucket_hours */
	struct fc_skill s;		    /* the sums (w = 0 in rows not written by fcstore_skill_add) */
	double mae, mape, rmse, coverage80; /* the stored scores (NAN when NULL) */
};

/* Every skill row of 'zone' (of 'kind', or of every kind when NULL) into
 * a new array *ret (free() it) of *ret_n rows, ordered by kind, model and
 * bucket.  Rows whose horizon_h is not a bucket bound are skipped. */
int fcstore_skill_read(struct db *db, const char *zone, const char *kind, struct fcstore_skill_row **ret,
		       size_t *ret_n, struct err_detail *err);

/* Merge a batch of newly scored points into the row of (zone, kind,
 * model, bucket): the stored sums decay to 'at' with 'half_life_s', the
 * scores are recomputed.  Run it inside a transaction (the row is locked
 * while merged).  ERR_DB. */
int fcstore_skill_add(struct db *db, const char *zone, const char *kind, const char *model, int bucket,
		      const struct fc_skill *batch, int64_t at, double half_life_s, struct err_detail *err);

/* One stored point of a run not scored yet. */
struct fcstore_point {
	int64_t run_id;
	const char *model; /* borrowed for the callback */
	int64_t issued_at;
	int32_t step;
	int64_t ts;
	double p10, p50, p90; /* NAN where NULL */
};

/* Call cb for each point of the runs of (zone, kind) issued in [since,
 * until) that is at or after its run's scored_until and before 'until',
 * ordered by run and time; then mark those runs scored up to 'until'
 * (so run it in the transaction that stores the skill).  ERR_DB. */
int fcstore_score_pending(struct db *db, const char *zone, const char *kind, int64_t since, int64_t until,
			  void (*cb)(void *ctx, const struct fcstore_point *p), void *ctx,
			  struct err_detail *err);

/* The models with a run of (zone, kind) issued in (from, to], each with
 * its newest such issue time, into ret[0..*ret_n) (at most max). */
int fcstore_recent_models(struct db *db, const char *zone, const char *kind, int64_t from, int64_t to,
			  struct fc_choice *ret, size_t max, size_t *ret_n, struct err_detail *err);

/* Delete the runs issued before 'before' (their points go with them). */
int fcstore_prune(struct db *db, int64_t before, int64_t *ret_deleted, struct err_detail *err);

/* Models that have runs of (zone, kind), as "a, b, c" into out (empty
 * when none); and the kinds forecast for a zone the same way. */
int fcstore_models(struct db *db, const char *zone, const char *kind, char *out, size_t size,
		   struct err_detail *err);
int fcstore_kinds(struct db *db, const char *zone, char *out, size_t size, struct err_detail *err);

#endif
