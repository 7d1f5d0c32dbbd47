/*
 * fcstore.h - forecasts in PostgreSQL: one run per (zone, kind, model,
 * issue time) with p10/p50/p90 per step.
 *
 * The forecasting worker writes runs; everything that decides on the
 * future (the scheduler, the forecast endpoints, the compatibility routes)
 * reads them through fcstore_latest.  Project types only.
 */
#ifndef CARBONSCHED_SERVICE_FCSTORE_H
#define CARBONSCHED_SERVICE_FCSTORE_H

#include <stdint.h>

#include "core/error.h"
#include "core/series.h"
#include "service/db.h"

/* A stored forecast: three series on the same grid (p10 and p90 may hold
 * gaps where a model gives no interval). */
struct fc_run {
	int64_t id;
	char model[48];
	int64_t issued_at;
	int64_t horizon;  /* seconds */
	struct series p10, p50, p90;
};

void fc_run_init(struct fc_run *r);
void fc_run_release(struct fc_run *r);

/* Store a run (in the caller's transaction if one is open): replaces the
 * points of an existing run with the same key.  p10, p50 and p90 share
 * p50's grid (p10/p90 may be NULL).  Errors: ERR_INVALID (mismatched grids),
 * ERR_DB. */
int fcstore_write(struct db *db, const char *zone, const char *kind, const char *model, int64_t issued_at,
		  const struct series *p10, const struct series *p50, const struct series *p90, struct err_detail *err);

/* The newest run issued at or before 'at' for (zone, kind), of 'model' or,
 * when model is NULL, of any model (the ensemble first among runs issued
 * at the same time).  *ret is initialised here; the caller releases it.
 * ERR_NOT_FOUND when there is none. */
int fcstore_latest(struct db *db, const char *zone, const char *kind, const char *model, int64_t at,
		   struct fc_run *ret, struct err_detail *err);

#endif
