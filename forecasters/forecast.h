/*
 * forecast.h - the one interface of every forecasting model.
 *
 * A model is fitted on a history (the target series plus optional
 * exogenous series on the same grid) and then predicts a horizon from the
 * end of a history with a central value (p50) and an 80 % interval
 * (p10/p90).  Models are pure computation on arrays: no I/O, no globals,
 * no logging; everything they keep lives in the struct fc_model.
 *
 * Time: the history y[0..n) covers steps start, start+step, ...; the issue
 * time of a forecast is start + n*step (the first step forecast); a model
 * reads y only below n, so truncating n is how a backtest hides the
 * future.  Gaps are NAN.  The step must divide a day (hourly in practice).
 *
 * Exogenous series (struct fc_exo) are named by signal kind as in
 * core/signal.h ("wind_speed", "solar_irradiance", "temperature",
 * "dewpoint", "precipitation", "generation:wind", ...).  A 'future' series
 * is known ahead of the issue time (a weather forecast: its values at
 * steps >= n are the forecast available at issue time); a past series
 * (observed generation mix) is read only below n.  Models use the kinds
 * they know and ignore the rest.
 *
 * Intervals: every model carries a calibrator (forecasters/calib.h) of
 * its recent errors.  fc_fit seeds it from the model's own errors on the
 * last weeks of the history when it is empty; fc_observe feeds it the
 * realised actuals of a past forecast (the backtest does this each day,
 * the service as actuals arrive), and adaptive conformal inference keeps
 * the 80 % interval near 80 % coverage.
 *
 * Typical use:
 *     struct fc_model *m;
 *     if (fc_model_new("ensemble", &m, &err)) ...;
 *     fc_fit(m, &in, &err);              // in.n = steps known at issue time
 *     fc_predict(m, &in, 96, &f, &err);  // f: 96 steps from the issue time
 *     ... later: fc_observe(m, &f, actuals);
 *     fc_forecast_release(&f); fc_model_free(m);
 */
#ifndef CARBONSCHED_FORECASTERS_FORECAST_H
#define CARBONSCHED_FORECASTERS_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Longest horizon any model predicts, in days (96 h at hourly steps). */
#define FC_MAX_HORIZON_DAYS 4

/* One exogenous series on the grid of the history (borrowed: the caller
 * keeps 'kind' and 'v' alive during the call). */
struct fc_exo {
	const char *kind; /* signal kind, e.g. "wind_speed" */
	bool future;	  /* values at steps >= n are forecasts known at issue time */
	size_t n;	  /* number of values in v (from step 0) */
	const double *v;  /* NAN = gap */
};

/* The history a model is fitted on or predicts from (all borrowed). */
struct fc_input {
	int64_t start;	    /* UTC seconds of step 0 */
	int32_t step;	    /* seconds per step; must divide 86400 */
	int32_t utc_offset; /* seconds east of UTC for calendar features (0 = UTC) */
	size_t n;	    /* steps known: y[0..n); the issue time is start + n*step */
	const double *y;    /* the target, NAN = gap */
	size_t n_exo;
	const struct fc_exo *exo; /* n_exo series, or NULL */
};

/* A forecast of 'n' steps from 'issued_at' (the time of its first step).
 * Initialised and owned by the callee of fc_predict; the caller releases
 * it with fc_forecast_release. */
struct fc_forecast {
	int64_t issued_at;
	int32_t step;
	size_t n;
	double *p10, *p50, *p90;
	char model[32];
};

void fc_forecast_init(struct fc_forecast *f);
void fc_forecast_release(struct fc_forecast *f);

/* Options common to every model; zero means the default. */
struct fc_options {
	double interval;  /* nominal central interval, 0.8 by default */
	double aci_gamma; /* ACI step, 0.005 by default; negative disables ACI */
	int calib_days;	  /* origins kept by the calibrator, 60 by default */
};

struct fc_model;

/* The registry: NULL-terminated names of the models fc_model_new knows, in
 * the order reports list them, and a one-line summary of each. */
extern const char *const fc_model_names[];
const char *fc_model_summary(const char *name);

/* Create the model called 'name' (see fc_model_names) with options 'opt'
 * (NULL = defaults).  *ret_model is new; free it with fc_model_free.
 * ERR_INVALID naming the model when unknown. */
int fc_model_new(const char *name, const struct fc_options *opt, struct fc_model **ret_model,
		 struct err_detail *err);
/* NULL is a no-op. */
void fc_model_free(struct fc_model *m);
/* Name of the model (borrowed, static). */
const char *fc_model_name(const struct fc_model *m);

/* Fit on in->y[0..in->n) (and the exogenous series).  A model whose
 * history extends the one of its previous fit (same start and step,
 * longer n) updates incrementally where it can.  Seeds the calibrator from
 * the history when it holds no errors yet.  Errors: ERR_INVALID (step does
 * not divide a day), ERR_UNPROCESSABLE (too little data: the message says
 * how much is needed).  Allocates inside the model. */
int fc_fit(struct fc_model *m, const struct fc_input *in, struct err_detail *err);

/* Predict 'horizon' steps from the issue time start + in->n*step, using
 * the fitted state and the history in 'in' (which may be longer than at
 * fit time: anchors and filters catch up).  *ret is initialised here and
 * owned by the caller (fc_forecast_release), set only on success.
 * p50 is finite wherever the model can forecast; p10 <= p50 <= p90.
 * Errors: ERR_INVALID (not fitted, horizon 0 or longer than
 * FC_MAX_HORIZON_DAYS days), ERR_UNPROCESSABLE (history too short). */
int fc_predict(struct fc_model *m, const struct fc_input *in, size_t horizon, struct fc_forecast *ret,
	       struct err_detail *err);

/* Drop what the last fit built, keeping the options and the calibrators
 * with their recent errors: the next fc_fit starts from scratch.  For
 * callers that refit anyway (a new time of day changes every per-step
 * regression) and want the memory back between fits. */
void fc_model_compact(struct fc_model *m);

/* Feed the calibrator the actuals of a forecast made by this model:
 * actual[i] is the value at f->issued_at + i*step (NAN = not known, then
 * skipped).  Call once per forecast, when its actuals are known. */
void fc_observe(struct fc_model *m, const struct fc_forecast *f, const double *actual);

/*
 * Composite models (the ensemble) expose their members, so that a caller
 * can store and score each member's forecast next to the blend without
 * fitting the members a second time.  Each member has its own calibrator,
 * seeded from the member's backcasts at its first fc_predict_member (as a
 * model's is at its first fit) and fed by fc_observe_member.
 */

/* Number of members (0 for a plain model) and the name of member i
 * (borrowed, static). */
size_t fc_model_members(const struct fc_model *m);
const char *fc_model_member_name(const struct fc_model *m, size_t i);

/* As fc_predict, for member i of a fitted composite model: the member's
 * central values as fitted inside the model, with intervals from the
 * member's calibrator.  *ret is initialised here (its 'model' is the
 * member's name); set only on success.  Errors: as fc_predict, and
 * ERR_INVALID when i is not a member, ERR_UNPROCESSABLE when the member
 * could not be fitted on this history. */
int fc_predict_member(struct fc_model *m, size_t i, const struct fc_input *in, size_t horizon,
		      struct fc_forecast *ret, struct err_detail *err);

/* As fc_observe, for a forecast made by fc_predict_member(m, i, ...). */
void fc_observe_member(struct fc_model *m, size_t i, const struct fc_forecast *f, const double *actual);

/*
 * Writing a model: one table row of struct fc_model_ops in forecast.c.
 * 'state_size' bytes are zeroed by fc_model_new and owned by the model;
 * 'release' frees what fit allocated inside it (the state itself is freed
 * by the caller).  'fit' may be called again on a longer history.
 * 'predict' must not change the state (the calibrator and the ensemble
 * call it at past issue times) and writes 'horizon' central values;
 * intervals are added around them by the calibrator.  A composite model
 * also sets 'members' and 'member_state'.
 */
struct fc_model_ops {
	const char *name;
	const char *summary;
	size_t state_size;
	void (*release)(void *state);
	int (*fit)(void *state, const struct fc_options *opt, const struct fc_input *in,
		   struct err_detail *err);
	int (*predict)(const void *state, const struct fc_input *in, size_t horizon, double *ret_p50,
		       struct err_detail *err);
	/* Composite models only (NULL otherwise): the members' ops,
	 * NULL-terminated, and the fitted state of member i (NULL when that
	 * member could not be fitted). */
	const struct fc_model_ops *const *members;
	const void *(*member_state)(const void *state, size_t i);
	/* Optional: replay the backcasts the last fit computed anyway (the
	 * ensemble scores its members on them), so that seeding a calibrator
	 * costs no prediction.  member is -1 for the model itself, else a
	 * member.  Calls cb exactly as fc_backcast(ops, state, in, k,
	 * horizon, cb, ctx) would and returns true, or returns false when it
	 * kept no such backcasts (another history, k or horizon). */
	bool (*backcasts)(const void *state, int member, const struct fc_input *in, size_t k, size_t horizon,
			  void (*cb)(void *ctx, size_t origin, const double *p50, const double *actual,
				     size_t horizon),
			  void *ctx);
};

/* The ops of a model by name, NULL when unknown (for composite models). */
const struct fc_model_ops *fc_model_ops_find(const char *name);

/* Find an exogenous series by kind (NULL when absent); and its value at
 * step i, NAN when absent, a gap, or (for a past series) i >= in->n. */
const struct fc_exo *fc_input_exo(const struct fc_input *in, const char *kind);
double fc_exo_at(const struct fc_input *in, const struct fc_exo *x, size_t i);

/* Steps per day of in->step, or 0 when the step does not divide a day. */
size_t fc_steps_per_day(int32_t step);

#endif
