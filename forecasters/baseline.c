/*
 * baseline.c - the baselines every report shows: seasonal naive (same
 * step yesterday, same step last week) and an exponentially weighted
 * profile by time of day.
 *
 * They need no fitting beyond the EWMA's smoothing constant, survive gaps
 * (they look further back), and are the fallback when a better model
 * cannot be fitted.  Forecasting.md §4.1.
 */
#include <math.h>
#include <string.h>

#include "forecasters/models.h"

/* Same phase 'period' steps back from each target, looking up to 'tries'
 * periods further back over gaps; then the last valid value. */
static int naive_predict(const struct fc_input *in, size_t period, size_t tries, size_t horizon, double *out,
			 struct err_detail *err)
{
	double last = fc_last_valid(in->y, in->n, 14 * period);

	if (!isfinite(last))
		return err_set(err, ERR_UNPROCESSABLE, "history", "no value in the last %zu steps",
			       14 * period);
	for (size_t h = 0; h < horizon; h++) {
		size_t t = in->n + h;
		double v = NAN;

		for (size_t k = 0; k < tries && !isfinite(v); k++) {
			size_t back = ((t >= in->n ? (t - in->n) / period + 1 : 1) + k) * period;

			if (back <= t)
				v = in->y[t - back];
		}
		out[h] = isfinite(v) ? v : last;
	}
	return ERR_OK;
}

struct naive_state {
	int unused;
};

static int naive_fit(void *state, const struct fc_options *opt, const struct fc_input *in,
		     struct err_detail *err)
{
	(void)state;
	(void)opt;
	if (!isfinite(fc_last_valid(in->y, in->n, in->n)))
		return err_set(err, ERR_UNPROCESSABLE, "history", "the history has no valid value");
	return ERR_OK;
}

static int snaive24_predict(const void *state, const struct fc_input *in, size_t horizon, double *out,
			    struct err_detail *err)
{
	(void)state;
	return naive_predict(in, fc_steps_per_day(in->step), 7, horizon, out, err);
}

static int snaive168_predict(const void *state, const struct fc_input *in, size_t horizon, double *out,
			     struct err_detail *err)
{
	(void)state;
	return naive_predict(in, 7 * fc_steps_per_day(in->step), 2, horizon, out, err);
}

const struct fc_model_ops fc_snaive24_ops = {
    .name = "snaive24",
    .summary = "seasonal naive: the same hour yesterday",
    .state_size = sizeof(struct naive_state),
    .fit = naive_fit,
    .predict = snaive24_predict,
};

const struct fc_model_ops fc_snaive168_ops = {
    .name = "snaive168",
    .summary = "seasonal naive: the same hour last week",
    .state_size = sizeof(struct naive_state),
    .fit = naive_fit,
    .predict = snaive168_predict,
};

/* EWMA by time of day over the last EWMA_DAYS days: s <- a·y + (1-a)·s
 * from the oldest day to the newest, per step of the day; gaps skip. */
#define EWMA_DAYS 28

struct ewma_state {
	double a;
};

static int ewma_predict(const void *state, const struct fc_input *in, size_t horizon, double *out,
			struct err_detail *err)
{
	const struct ewma_state *st = state;
	size_t pd = fc_steps_per_day(in->step);
	int rc = naive_predict(in, pd, 7, horizon, out, err);

	if (rc)
		return rc;
	for (size_t h = 0; h < horizon && h < pd; h++) {
		size_t t = in->n + h;
		double s = NAN;

		for (size_t d = EWMA_DAYS; d >= 1; d--) {
			size_t back = d * pd;
			double v;

			if (back > t || t - back >= in->n)
				continue;
			v = in->y[t - back];
			if (!isfinite(v))
				continue;
			s = isfinite(s) ? st->a * v + (1 - st->a) * s : v;
		}
		if (isfinite(s))
			out[h] = s;
	}
	for (size_t h = pd; h < horizon; h++)
		out[h] = out[h % pd];
	return ERR_OK;
}

static int ewma_fit(void *state, const struct fc_options *opt, const struct fc_input *in,
		    struct err_detail *err)
{
	static const double grid[] = {0.15, 0.3, 0.5, 0.67};
	struct ewma_state *st = state;
	size_t pd = fc_steps_per_day(in->step);
	double best = INFINITY;
	int rc = naive_fit(state, opt, in, err);

	if (rc)
		return rc;
	st->a = 0.5;
	for (size_t i = 0; i < sizeof(grid) / sizeof(grid[0]); i++) {
		struct ewma_state trial = {grid[i]};
		double e = fc_backcast_mape(&fc_ewma_ops, &trial, in, 28, 0, pd);

		if (e < best) {
			best = e;
			st->a = grid[i];
		}
	}
	return ERR_OK;
}

const struct fc_model_ops fc_ewma_ops = {
    .name = "ewma",
    .summary = "exponentially weighted profile by hour of day (last 28 days)",
    .state_size = sizeof(struct ewma_state),
    .fit = ewma_fit,
    .predict = ewma_predict,
};
