/*
 * calib.h - prediction intervals from recent errors, recalibrated online.
 *
 * The calibrator keeps, per 6-hour block of the horizon, the residuals of
 * the last 'days' forecasts (log-ratio log(actual/p50) when the target is
 * positive, plain differences otherwise) and gives the interval
 * [p50·exp(q_lo), p50·exp(q_hi)] from their empirical quantiles
 * (split-conformal).  Adaptive Conformal Inference (Gibbs & Candès 2021)
 * moves the miscoverage level of each block after every observation,
 * a <- a + gamma·(nominal - miss), so that coverage tracks the nominal
 * level when the error distribution drifts.
 */
#ifndef CARBONSCHED_FORECASTERS_CALIB_H
#define CARBONSCHED_FORECASTERS_CALIB_H

#include <stdbool.h>
#include <stddef.h>

#define FC_CALIB_MAX_BLOCKS 32

struct fc_calib_block {
	double *r;    /* ring of residuals (cap values) */
	size_t cap;   /* days * steps per block */
	size_t len;   /* valid values in r */
	size_t pos;   /* next slot to write */
	double alpha; /* current miscoverage level (ACI) */
};

struct fc_calib {
	size_t steps_per_block;
	double nominal; /* nominal coverage, e.g. 0.8 */
	double gamma;	/* ACI step, 0 = off */
	bool log_ratio; /* residuals are log(actual/p50) */
	struct fc_calib_block b[FC_CALIB_MAX_BLOCKS];
};

/* Initialise in caller storage for steps of 'steps_per_day' (blocks of a
 * quarter day), keeping 'days' origins; release frees the rings. */
void fc_calib_init(struct fc_calib *c, size_t steps_per_day, int days, double nominal, double gamma,
		   bool log_ratio);
void fc_calib_release(struct fc_calib *c);
/* Forget every residual and reset the levels (keeps the settings). */
void fc_calib_clear(struct fc_calib *c);
bool fc_calib_is_empty(const struct fc_calib *c);

/* Add the residual of horizon step h.  'covered' tells whether the actual
 * fell inside the interval that was issued (drives ACI); pass -1 when no
 * interval was issued (seeding).  Non-finite or (in log mode) non-positive
 * values are skipped. */
void fc_calib_add(struct fc_calib *c, size_t h, double p50, double actual, int covered);

/* Interval around p50 for horizon step h into *ret_lo, *ret_hi.  With no
 * residual in the block (nor in any earlier block) the interval is p50. */
void fc_calib_interval(const struct fc_calib *c, size_t h, double p50, double *ret_lo, double *ret_hi);

/* The same in two halves, for callers that apply one block's residual
 * quantiles to many steps: the quantiles of the block of step h (false
 * when there is none), then the interval they give around p50. */
bool fc_calib_quantiles(const struct fc_calib *c, size_t h, double *ret_lo, double *ret_hi);
void fc_calib_apply(const struct fc_calib *c, double p50, double lo, double hi, double *ret_lo,
		    double *ret_hi);

#endif
