/*
 * renewable.h - wind, solar and total generation from weather forecasts
 * ("renewable availability"), and the renewable share they imply.
 *
 * Three regressions fitted on every past hour with observed generation:
 *   wind   on the wind-speed forecast through an aggregated power curve
 *          (hub-height extrapolation, hinge basis, ±3/±6/±12 h context);
 *   solar  on the irradiance forecast around the step (GFS radiation is an
 *          interval mean labelled at its end) and its season/time of day;
 *   total  (the load the mix serves) on calendar and temperature.
 * Rows are weighted by age (rho per day) and kept as sufficient
 * statistics, so a refit on a longer history only adds the new hours.
 * The CI ridge uses these predictions as features (the two-stage,
 * source-then-intensity idea of DACF, kept linear); a caller can also ask
 * for the renewable share directly.
 */
#ifndef CARBONSCHED_FORECASTERS_RENEWABLE_H
#define CARBONSCHED_FORECASTERS_RENEWABLE_H

#include <stdbool.h>

#include "forecasters/forecast.h"
#include "forecasters/lsq.h"

enum fc_gen { FC_GEN_WIND, FC_GEN_SOLAR, FC_GEN_TOTAL, FC_GEN__COUNT };

#define FC_RENEW_MAX_FEATURES 48

struct fc_renew_model {
	bool ok;
	size_t p;
	struct fc_ls ls;
	double beta[FC_RENEW_MAX_FEATURES], b0, mean[FC_RENEW_MAX_FEATURES];
};

struct fc_renew {
	struct fc_renew_model m[FC_GEN__COUNT];
	int64_t start;
	int32_t step;
	size_t fit_n;
	double rho;
};

/* The input series a model reads, looked up once per input. */
struct fc_renew_view {
	const struct fc_input *in;
	const struct fc_exo *wind, *solar, *temp, *gen[12];
	size_t ngen;
	const struct fc_exo *gwind, *gsolar, *gother[3];
};

/* Resolve the series of 'in' (borrowed; the view is valid while 'in' is). */
void fc_renew_view_init(struct fc_renew_view *v, const struct fc_input *in);

/* Initialise in caller storage; release frees the statistics. */
void fc_renew_init(struct fc_renew *r, double rho);
void fc_renew_release(struct fc_renew *r);

/* Fit on the hours of in below in->n that have the generation series
 * ("generation:wind", "generation:solar", all generation:* for the
 * total) and the weather forecasts each model needs.  Incremental when
 * 'in' extends the previous fit (same start and step).  A model without
 * its inputs stays unfitted; returns the number of fitted models. */
int fc_renew_fit(struct fc_renew *r, const struct fc_input *in);

/* Predicted generation of 'g' at step t (weather of step t as known at
 * issue time); NAN when the model is not fitted or an input is missing. */
double fc_renew_at(const struct fc_renew *r, const struct fc_renew_view *v, enum fc_gen g, size_t t);

/* Observed generation of 'g' at step t < in->n (the sum of every
 * generation series for FC_GEN_TOTAL); NAN when unknown. */
double fc_renew_observed(const struct fc_renew_view *v, enum fc_gen g, size_t t);

/* Renewable share forecast (%) at step t issued at in->n: predicted wind
 * and solar plus the other renewables (hydro, biomass, geothermal) as
 * last observed before v->in->n, over the predicted total.  NAN when not available. */
double fc_renew_share(const struct fc_renew *r, const struct fc_renew_view *v, size_t t);

#endif
