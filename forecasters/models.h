/*
 * models.h - internal: the model implementations behind forecast.h and
 * the helpers they share.  Not for use outside forecasters/.
 */
#ifndef CARBONSCHED_FORECASTERS_MODELS_H
#define CARBONSCHED_FORECASTERS_MODELS_H

#include <math.h>

#include "forecasters/forecast.h"

extern const struct fc_model_ops fc_snaive24_ops;
extern const struct fc_model_ops fc_snaive168_ops;
extern const struct fc_model_ops fc_ewma_ops;
extern const struct fc_model_ops fc_dshw_ops;
extern const struct fc_model_ops fc_ridge_ops;
extern const struct fc_model_ops fc_ridge_log_ops;
extern const struct fc_model_ops fc_ensemble_ops;

/* Smallest value a log transform sees (gCO2/kWh and % alike): keeps
 * log() finite on zero-emission hours. */
#define FC_LOG_FLOOR 1.0

static inline double fc_log(double v)
{
	if (isnan(v))
		return v;
	return log(v > FC_LOG_FLOOR ? v : FC_LOG_FLOOR);
}

/* Last valid y before index i, looking back at most 'max' steps; NAN when
 * none. */
double fc_last_valid(const double *y, size_t i, size_t max);

/* Value of y at the most recent step before 'limit' that has the same
 * phase (mod 'period') as t; NAN when that step is a gap or before 0. */
double fc_same_phase(const double *y, size_t limit, size_t t, size_t period);

/* Run predict at up to 'k' past issue times (every day back from
 * in->n) and call 'cb' with each forecast and its actuals.  The issue
 * times with no actual at all are skipped.  Returns the number of issue
 * times used. */
typedef void (*fc_backcast_cb)(void *ctx, size_t origin, const double *p50, const double *actual,
			       size_t horizon);
size_t fc_backcast(const struct fc_model_ops *ops, const void *state, const struct fc_input *in, size_t k,
		   size_t horizon, fc_backcast_cb cb, void *ctx);

/* Mean absolute percentage error of the model's backcasts at the last k
 * issue times (fc_backcast), over steps [h0, h1); INFINITY when none. */
double fc_backcast_mape(const struct fc_model_ops *ops, const void *state, const struct fc_input *in,
			size_t k, size_t h0, size_t h1);

#endif
