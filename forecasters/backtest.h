/*
 * backtest.h - rolling-origin evaluation of forecasting models.
 *
 * Protocol (the DACF paper's, forecasting.md §3.1): one forecast issued
 * each day at the same time of day, from 'from' to 'to'; before each
 * issue every model is refitted on the history strictly before the issue
 * time (and exogenous 'future' series, i.e. weather forecasts, as known at
 * issue time); the forecast is then scored against the actuals.
 *
 * Scores per model, per forecast day (steps [d·day, (d+1)·day) of the
 * horizon) and over the whole horizon:
 *   mape       mean over issue times of the daily MAPE (mean of
 *              |f-a|/|a|·100 over the day's steps), as the DACF paper's
 *              Table 4; over the horizon, the mean of all daily MAPEs;
 *   mae, rmse  over all scored steps, in the unit of the series;
 *   coverage80 share of actuals inside [p10, p90] (%);
 *   captured_saving  decision quality: each issue time, a job of
 *              job_steps (4 h) may start at any step such that it ends
 *              within window_steps (24 h) of the issue time.  E_now = the
 *              actual emissions when it starts at once, E_oracle = at the
 *              start that is best under the actuals, E_fc = the actual
 *              emissions at the start that is best under the forecast
 *              (p50; ties to the earliest).  captured = 100·Σ(E_now -
 *              E_fc) / Σ(E_now - E_oracle) over the issue times whose
 *              window is fully observed.  100 = perfect foresight, 0 = no
 *              better than running at once, negative = worse.
 * A forecast is fed to its model's calibrator only when all its actuals
 * are in the past of the next issue time, so intervals never see the
 * future either.
 */
#ifndef CARBONSCHED_FORECASTERS_BACKTEST_H
#define CARBONSCHED_FORECASTERS_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "forecasters/forecast.h"

/* A provider's published forecast scored alongside the models: value of
 * the forecast for each step of the input grid, as issued up to
 * 'horizon' steps ahead (e.g. DACF's day-ahead forecasts, 24 steps). */
struct fc_bt_external {
	const char *name;
	const double *v; /* on the grid of the input, n of the input + horizon values */
	size_t n;
	size_t horizon;
};

struct fc_bt_options {
	int64_t from, to;	   /* issue times from, from + 1 day, ... while < to */
	size_t horizon;		   /* steps per forecast */
	size_t job_steps;	   /* decision quality: job length (0 = 4 h) */
	size_t window_steps;	   /* and window from the issue time (0 = 24 h) */
	const char *const *models; /* model names */
	size_t n_models;
	const struct fc_options *opt; /* NULL = defaults */
	const struct fc_bt_external *ext;
	size_t n_ext;
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

struct fc_bt_day {
	double mape, mae, rmse, coverage80;
	double mape_median, mape_p90; /* of the daily MAPEs */
	size_t days;		      /* issue times scored */
};

struct fc_bt_model {
	char name[32];
	double mape, mae, rmse, coverage80, captured_saving;
	size_t days;	 /* daily MAPEs averaged in 'mape' */
	size_t n_by_day; /* forecast days scored */
	struct fc_bt_day by_day[FC_MAX_HORIZON_DAYS];
	double seconds;	 /* fitting and predicting, wall clock */
	size_t failures; /* issue times where fit or predict failed */
};

struct fc_bt_result {
	size_t n_models;
	struct fc_bt_model *models; /* opt->models in order, then the externals */
	size_t issues;		    /* issue times */
	double oracle_saving;	    /* % of E_now the oracle saves (decision windows) */
};

/* Run the backtest on 'in' (the whole series: in->n covers every actual
 * to score; exogenous series likewise).  *ret is owned by the caller
 * (fc_bt_result_release), set on success.  Errors: ERR_INVALID (unknown
 * model, bad range or horizon), ERR_UNPROCESSABLE (no issue time has
 * enough history before it). */
int fc_backtest(const struct fc_input *in, const struct fc_bt_options *opt, struct fc_bt_result *ret,
		struct err_detail *err);
void fc_bt_result_release(struct fc_bt_result *r);

/* Decision quality of one window: given actuals a[0..w) and forecast
 * f[0..w), the start chosen by the forecast for a job of L steps, and
 * the emissions (sums of actuals) when starting now, at the oracle's best
 * and at the forecast's choice.  Returns -1 when a value is missing. */
int fc_decision(const double *a, const double *f, size_t w, size_t L, double *ret_now, double *ret_oracle,
		double *ret_fc);

#endif
