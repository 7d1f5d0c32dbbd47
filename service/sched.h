/*
 * sched.h - the placement engine: in which region and at which steps a job
 * emits the least (DESIGN.md §4).
 *
 * Pure computation, no I/O, no globals, no logging.  Three objects:
 *
 *   struct sched_model     the regions and their effective intensity
 *                          (carbon intensity × PUE, p10/p50/p90) on one
 *                          fixed-step grid.  Built once per forecast
 *                          refresh (or per simulation), then read-only:
 *                          several threads may place jobs on one model.
 *   struct sched_capacity  the remaining capacity (kW) per region per step,
 *                          separate from the model so that each booking
 *                          can bring its own (from PostgreSQL reservations
 *                          in the service, in memory in the simulator).
 *   struct sched_result    the answer to one job: best placement, baseline,
 *                          alternatives.  Reusable across calls.
 *
 * Units: power kW, time seconds (UTC), intensity gCO2eq/kWh, emissions g.
 * Gaps (NAN) in a signal make the step ineligible - never zero.
 */
#ifndef CARBONSCHED_SERVICE_SCHED_H
#define CARBONSCHED_SERVICE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/series.h"

/* Quantiles of a forecast.  Decisions use P50 (default) or P90. */
enum sched_quantile { SCHED_P10, SCHED_P50, SCHED_P90, SCHED__NQ };

#define SCHED_MAX_ALTERNATIVES 8
/* Interruptible jobs with segment constraints are solved by dynamic
 * programming over (window steps × job steps × segments); larger problems
 * are refused with ERR_RANGE_TOO_LARGE. */
#define SCHED_MAX_DP_STATES (64u * 1024 * 1024)

/* ---- model ------------------------------------------------------------ */

struct sched_model;

/* Empty model over the grid [start, start + n·step); step > 0, start on
 * the step grid.  Free with sched_model_free (NULL is a no-op). */
struct sched_model *sched_model_new(int64_t start, int32_t step, size_t n);
void sched_model_free(struct sched_model *m);

/* A region as the caller describes it; everything is copied. */
struct sched_region_spec {
	const char *id;		 /* unique, e.g. "eu-central-1" or "DE" */
	const char *zone;	 /* grid zone (informational), NULL = id */
	const char *const *tags; /* jurisdiction tags ("EU", "GDPR") */
	size_t n_tags;
	/* Carbon intensity; [SCHED_P50] required, p10/p90 NULL = p50.  Any step
	 * that is a multiple or a divisor of the model step; steps the series
	 * does not cover are gaps. */
	const struct series *ci[SCHED__NQ];
	/* PUE series (same rules), or NULL for pue_const (0 means 1.0). */
	const struct series *pue[SCHED__NQ];
	double pue_const;
};

/* Add a region; its effective intensity is ci_q × pue_q on the model grid
 * (the quantiles are combined as if comonotone, so p90 is conservative).
 * Sets *ret_index.  Errors: ERR_INVALID (no p50 series, a step that does
 * not fit the grid, pue ≤ 0), ERR_CONFLICT (duplicate id).  Allocates. */
int sched_model_add_region(struct sched_model *m, const struct sched_region_spec *spec, size_t *ret_index,
			   struct err_detail *err);

size_t sched_model_regions(const struct sched_model *m);
int64_t sched_model_start(const struct sched_model *m);
int32_t sched_model_step(const struct sched_model *m);
size_t sched_model_steps(const struct sched_model *m);
/* Index of the region with this id, -1 when absent. */
int sched_model_find(const struct sched_model *m, const char *id);
/* Borrowed strings, valid while the model lives. */
const char *sched_region_id(const struct sched_model *m, size_t r);
const char *sched_region_zone(const struct sched_model *m, size_t r);
bool sched_region_has_tag(const struct sched_model *m, size_t r, const char *tag);
/* The region's effective intensity (model->n values, NAN = gap); borrowed. */
const double *sched_region_intensity(const struct sched_model *m, size_t r, enum sched_quantile q);
/* End of the last valid step of the region's p50 intensity: how far its
 * forecast reaches.  The model start when it has no valid step. */
int64_t sched_region_horizon(const struct sched_model *m, size_t r);

/* ---- capacity --------------------------------------------------------- */

/* Remaining capacity in kW, one row of n_steps values per region, in the
 * model's grid.  INFINITY = unlimited.  Plain data: the service fills it
 * from its reservations, the simulator debits it with sched_commit. */
struct sched_capacity {
	size_t n_regions, n_steps;
	double *kw; /* kw[r * n_steps + t] */
};

/* Capacity for every region of m, each step set to kw (INFINITY allowed).
 * Free with sched_capacity_free (NULL is a no-op). */
struct sched_capacity *sched_capacity_new(const struct sched_model *m, double kw);
void sched_capacity_free(struct sched_capacity *c);
/* Set every step of region r to kw. */
void sched_capacity_set(struct sched_capacity *c, size_t r, double kw);
static inline double *sched_capacity_row(struct sched_capacity *c, size_t r)
{
	return c->kw + r * c->n_steps;
}

/* ---- jobs and answers ------------------------------------------------- */

struct sched_job {
	int64_t submit;		/* "now": the baseline runs from here in 'origin' */
	int64_t earliest_start; /* first allowed start (may precede submit) */
	int64_t deadline;	/* latest completion */
	int64_t duration;	/* seconds of run time, > 0 */
	double power_kw;	/* constant power, > 0 (ignored with a profile) */
	/* Energy profile: power (kW) for each model step of the run, in order,
	 * ceil(duration / step) values; NULL = constant power_kw.  Only for
	 * non-interruptible jobs. */
	const double *profile_kw;
	bool interruptible;
	int64_t min_segment;	  /* seconds, interruptible only; 0 = no minimum */
	int max_segments;	  /* interruptible only; 0 = unlimited */
	enum sched_quantile risk; /* SCHED_P50 or SCHED_P90 */
	int origin;		  /* region index of the baseline, -1 = none */
	/* Candidate region indices; n_regions 0 = every region of the model. */
	const size_t *regions;
	size_t n_regions;
	/* Every tag listed must be carried by a candidate region. */
	const char *const *residency;
	size_t n_residency;
	size_t max_alternatives; /* ≤ SCHED_MAX_ALTERNATIVES */
};

/* Field defaults: risk P50, origin -1, max_alternatives 3. */
void sched_job_init(struct sched_job *job);

struct sched_segment {
	int64_t start, end; /* [start, end) */
};

struct sched_placement {
	size_t region;
	int64_t start, end;    /* first step start, end of the run */
	size_t seg_off, n_seg; /* its segments: result->segments[seg_off ..] */
	double expected_g;     /* on the p50 intensity */
	double low_g, high_g;  /* on p10 and p90 */
	double decision_g;     /* what was minimised (the job's risk quantile) */
};

struct sched_result {
	struct sched_placement best;
	/* Running at submit in the origin region, on p50; baseline_g is NAN
	 * (and 'baseline' meaningless) when there is no origin or the signal
	 * has a gap there. */
	struct sched_placement baseline;
	double baseline_g;
	size_t n_alternatives;
	struct sched_placement alternatives[SCHED_MAX_ALTERNATIVES];
	struct sched_segment *segments; /* of best, baseline and alternatives */
	size_t n_segments;
	/* private: storage and scratch reused by the next sched_place */
	size_t seg_cap, scratch_cap, dp_cap;
	void *scratch;
	unsigned char *dp;
};

/* A result in caller storage: init allocates nothing; release frees what
 * the calls allocated (segments, scratch) and leaves it initialised. */
void sched_result_init(struct sched_result *res);
void sched_result_release(struct sched_result *res);
/* The segments of placement p of res (borrowed; valid until the next call). */
static inline const struct sched_segment *sched_segments(const struct sched_result *res,
							 const struct sched_placement *p)
{
	return res->segments + p->seg_off;
}

/* Place 'job' on model m within the remaining capacity 'cap' (NULL =
 * unlimited): the candidate region and steps that minimise the emissions on
 * the job's risk quantile.  Ties go to the earliest start, then to the
 * origin region, then to the lower region index.  Non-interruptible search
 * is linear in the window per region; interruptible search is a selection
 * (or, with segment constraints, a dynamic programme).  Does not book.
 * Errors (field and message in err):
 *   ERR_INVALID        a field is out of range (deadline before the
 *                      earliest start, duration longer than the window,
 *                      unknown region index, bad segment constraints ...)
 *   ERR_UNPROCESSABLE  no candidate region (residency excludes all), or no
 *                      gap-free window before the deadline (the message
 *                      says how far the forecast reaches)
 *   ERR_NO_CAPACITY    placements exist but none fits the capacity left
 *   ERR_RANGE_TOO_LARGE segment constraints over a too large problem
 * 'res' is overwritten and meaningful on success; with ERR_NO_CAPACITY its
 * baseline is still filled (what running at submit would emit). */
int sched_place(const struct sched_model *m, const struct sched_capacity *cap, const struct sched_job *job,
		struct sched_result *res, struct err_detail *err);

/* Debit the capacity used by placement p (of res, for job) from cap.
 * ERR_NO_CAPACITY (and nothing debited) when a step no longer fits. */
int sched_commit(const struct sched_model *m, struct sched_capacity *cap, const struct sched_job *job,
		 const struct sched_result *res, const struct sched_placement *p);

/* Emissions (g) of running 'job' as placement p on the true intensity
 * 'truth' (model->n values for p's region): what a simulation charges
 * when the decision was made on a forecast.  NAN when a step is a gap. */
double sched_charge(const struct sched_model *m, const struct sched_job *job, const struct sched_result *res,
		    const struct sched_placement *p, const double *truth);
/* Same for a run given as segments (time order). */
double sched_charge_segments(const struct sched_model *m, const struct sched_job *job,
			     const struct sched_segment *seg, size_t n_seg, const double *truth);

/* ---- job arrays -------------------------------------------------------- */

/* 'count' copies of one job booked together (a Slurm job array, a
 * Kubernetes Job with parallelism): the engine places them jointly, which
 * packs capacity without the holes that one-by-one booking leaves when
 * many identical contiguous jobs chase the same green hours.  Each block
 * is 'count' copies run in 'region' over [start, end). */
struct sched_block {
	size_t region;
	int64_t start, end;
	size_t count;
	double expected_g; /* per copy, p50 */
	double decision_g; /* per copy, on the job's risk quantile */
};

struct sched_batch {
	size_t placed;	   /* copies placed, <= count asked */
	double expected_g; /* total over the copies placed, p50 */
	size_t n_blocks;
	struct sched_block *blocks; /* ordered by region, then start */
	/* private */
	size_t cap;
};

/* Caller storage, as sched_result. */
void sched_batch_init(struct sched_batch *b);
void sched_batch_release(struct sched_batch *b);

/* Place 'count' copies of a non-interruptible, constant-power job within
 * the remaining capacity: the least total emissions on the job's risk
 * quantile.  Method: each region's capacity (in copies) is split into
 * layers (layer i = the steps with at least i copies free); a layer holds
 * disjoint runs, whose best cost for m runs, g(m), is a convex dynamic
 * programme; copies go to the smallest marginal costs across all layers
 * and regions.  Exact when each region's free capacity is uniform over the
 * window (as for a fresh booking horizon); always feasible.  Ties go to
 * earlier starts and the origin region.  Returns ERR_OK when every copy
 * was placed, ERR_NO_CAPACITY when only b->placed were (b holds them), or
 * the errors of sched_place (ERR_INVALID also for interruptible jobs and
 * energy profiles).  Unlimited capacity places every copy where
 * sched_place would place one.  Allocates scratch for the call only. */
int sched_place_batch(const struct sched_model *m, const struct sched_capacity *cap,
		      const struct sched_job *job, size_t count, struct sched_batch *b,
		      struct err_detail *err);

/* Debit the capacity used by every block of b.  ERR_NO_CAPACITY (and
 * nothing debited) when a step no longer fits. */
int sched_commit_batch(const struct sched_model *m, struct sched_capacity *cap, const struct sched_job *job,
		       const struct sched_batch *b);

/* ---- upper bounds of temporal shifting (evaluation.md §5.1) ----------- */

/* Sukprasert et al.'s oracle on one gap-free hourly series c[0..n):
 * arrivals i = 0 .. n−len−1 (i = 0 .. n−len when slack ≥ n, "rest of the
 * year"), window [i, min(i+slack+len, n)); per arrival the run-now sum,
 * the best contiguous block of 'len' steps and the sum of the 'len'
 * smallest values of the window (both best values rounded to 0.01).
 * Results are means over arrivals.  Runs in O(n log n). */
struct sched_bound {
	size_t arrivals;
	double run_now;	      /* mean Σ of the run-now steps */
	double deferrable;    /* mean best contiguous Σ */
	double interruptible; /* mean Σ of the len smallest */
};

/* ERR_INVALID when len is 0 or ≥ n, or c has a gap. */
int sched_temporal_bound(const double *c, size_t n, size_t len, size_t slack, struct sched_bound *ret,
			 struct err_detail *err);
/* Every (lens[a], slacks[s]) into ret[a * n_slacks + s], ranking the series
 * once: what the full protocol grid of one zone needs. */
int sched_temporal_bounds(const double *c, size_t n, const size_t *lens, size_t n_lens, const size_t *slacks,
			  size_t n_slacks, struct sched_bound *ret, struct err_detail *err);

#endif
