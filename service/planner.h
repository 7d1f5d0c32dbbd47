/*
 * planner.h - what the scheduler decides on, ready in memory: for every
 * configured region, carbon intensity (p10/p50/p90) × PUE over the booking
 * horizon as one struct sched_model, with where each input came from.
 *
 * Per region, the carbon intensity is the stored forecast run that the
 * forecast endpoints show (fcstore_latest's default choice: the lowest
 * recent error among the newest round of our models' and the providers'
 * runs, else the ensemble, else the newest), extended by a seasonal-naive
 * forecast where it stops short or has gaps; without any run, the
 * stored actuals in replay mode ("perfect (replay)": the demo's future is
 * known) or a seasonal-naive forecast from the stored signals otherwise.
 * PUE is the region's constant, or base + k·max(0, T − t0) on the zone's
 * temperature chosen the same way.  The answer always says which.
 *
 * A snapshot is built once per (signal version, forecast version, grid
 * step of the clock) and shared read-only by every request until one of
 * them moves: a request that finds the current snapshot does no SQL.
 * Forecast changes are learnt from NOTIFY carbonsched_forecasts and a
 * cheap poll of forecast_runs; booked capacity (for advice) is reloaded by
 * a background thread when the jobs_version sequence moves (every replica
 * bumps it after a booking commits).  Thread-safe.
 */
#ifndef CARBONSCHED_SERVICE_PLANNER_H
#define CARBONSCHED_SERVICE_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "service/clock.h"
#include "service/config.h"
#include "service/db.h"
#include "service/sched.h"
#include "service/sigcache.h"

/* Where one input series came from. */
struct planner_source {
	char model[64];		   /* a model or provider name, "perfect (replay)", "seasonal naive
				      (stored signals)", or "none" */
	int64_t issued_at;	   /* of a stored run; 0 otherwise */
	char chosen_by[8];	   /* a stored run: how fcstore_latest chose it ("skill", "default") */
	char run_extended_by[48];  /* a stored run extended by another run of its round ... */
	int64_t run_extended_from; /* ... from here (0 = not) */
	int64_t extended_from;	   /* first step filled by seasonal naive; 0 when none */
	size_t extended_steps;
};

/* The inputs of one region (same index as the config's regions and the
 * model's). */
struct planner_region {
	struct planner_source ci;
	struct planner_source temperature; /* PUE_TEMPERATURE regions only */
	char pue_source[160];		   /* "constant", "temperature model on ..." */
	double pue_min, pue_max;	   /* over the horizon */
	int64_t horizon;		   /* end of the last step with carbon intensity */
	/* Rendered once per snapshot (answers repeat them): */
	char *forecast_json; /* planner_source_json of ci */
	char *inputs_json;   /* {"region","zone","forecast","pue":{...},"horizon"} */
};

struct planner_snap {
	struct sched_model *model; /* regions in config order */
	struct planner_region *regions;
	size_t nregions;
	int64_t built_at; /* service clock at build time */
	int64_t start;	  /* grid: [start, end) in steps of 'step' */
	int64_t end;
	int32_t step;
	/* private */
	uint64_t sig_version, fc_version;
	int refs;
};

struct planner;

/* A planner for the service's config, clock, signal cache and pool (all
 * borrowed, must outlive it).  Free with planner_free (NULL is a no-op)
 * after planner_stop. */
struct planner *planner_new(const struct config *cfg, const struct clock *clock, struct sigcache *cache,
			    struct db_pool *pool);
void planner_free(struct planner *p);

/* The current snapshot, built first when the signals, the forecasts or the
 * clock's grid step have moved on since the last one (that build reads
 * PostgreSQL through the pool; a request that finds a current snapshot
 * does not).  Release with planner_release.  Errors: ERR_DB,
 * ERR_UNAVAILABLE. */
int planner_acquire(struct planner *p, struct planner_snap **ret, struct err_detail *err);
void planner_release(struct planner *p, struct planner_snap *s);

/* Tell the planner that forecast runs / bookings changed (this process
 * wrote them; other processes' changes arrive by NOTIFY). */
void planner_forecasts_changed(struct planner *p);
void planner_jobs_changed(struct planner *p);
/* Incremented on every forecast change seen (re-planning watches it). */
uint64_t planner_forecast_version(struct planner *p);

/* Remaining capacity for advice on s: configured capacity minus the
 * reservations as last loaded (INFINITY where a region's capacity_kw is
 * 0).  Shared and read-only, rebuilt only when bookings or the grid
 * change; release the handle with planner_advice_release.  Bookings never
 * use this: they read reservations under row locks. */
struct planner_advice;
const struct sched_capacity *planner_advice_acquire(struct planner *p, const struct planner_snap *s,
						    struct planner_advice **ret_handle);
void planner_advice_release(struct planner *p, struct planner_advice *h);

/* The background thread: LISTEN for forecasts on its own connection,
 * poll forecast_runs every cfg->forecast_poll and jobs_version five times
 * a second, keep the snapshot and the reserved capacity warm.  ERR_DB when it cannot
 * connect. */
int planner_start(struct planner *p, struct err_detail *err);
void planner_stop(struct planner *p);

/* JSON of a source: {"model","issued_at","chosen_by"?,"run_extended"?:
 * {"from","by"},"extended"?:{"from","steps","method"}} into b (appends). */
struct buf;
void planner_source_json(const struct planner_source *s, struct buf *b);

#endif
