/* forecasters/: every model on synthetic series with known answers. */
#include <stdlib.h>

#include "core/mem.h"
#include "core/time.h"
#include "forecasters/forecast.h"
#include "forecasters/lsq.h"
#include "tests/lib/testlib.h"

#define DAY   24
#define START INT64_C(1577836800) /* 2020-01-01T00:00:00Z, a Wednesday */

/* Deterministic noise: xorshift64* and Box-Muller. */
static uint64_t rng_state = 88172645463325252ULL;

static double uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
	double u = uniform(), v = uniform();

	return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static double daily_sine(size_t i)
{
	return 300 + 100 * sin(2 * M_PI * (double)(i % DAY) / DAY);
}

/* Fit 'name' on y[0..n) and predict 'horizon' steps; returns the largest
 * relative error against truth[n..n+horizon), or INFINITY on failure. */
static double fit_predict(const char *name, const struct fc_input *in, size_t horizon, const double *truth,
			  struct fc_forecast *ret)
{
	struct fc_model *m;
	struct fc_forecast f;
	struct err_detail err = {0};
	double worst = 0;

	TL_ASSERT_INT_EQ(fc_model_new(name, NULL, &m, &err), ERR_OK);
	if (fc_fit(m, in, &err) != ERR_OK) {
		tl_fail(__LINE__, __FILE__, false, "fit %s: %s", name, err.msg);
		fc_model_free(m);
		return INFINITY;
	}
	if (fc_predict(m, in, horizon, &f, &err) != ERR_OK) {
		tl_fail(__LINE__, __FILE__, false, "predict %s: %s", name, err.msg);
		fc_model_free(m);
		return INFINITY;
	}
	for (size_t h = 0; h < horizon; h++) {
		double e = fabs(f.p50[h] - truth[in->n + h]) / fabs(truth[in->n + h]);

		if (!(e <= worst))
			worst = isnan(e) ? INFINITY : e;
		if (!(f.p10[h] <= f.p50[h] && f.p50[h] <= f.p90[h]))
			tl_fail(__LINE__, __FILE__, false, "%s: interval not ordered at %zu: %g %g %g", name,
				h, f.p10[h], f.p50[h], f.p90[h]);
	}
	if (ret)
		*ret = f;
	else
		fc_forecast_release(&f);
	fc_model_free(m);
	return worst;
}

static const char *const all_models[] = {"snaive24", "ewma", "dshw", "ridge", "ridge_log", "ensemble"};

static void test_daily_sine_is_forecast_almost_exactly(void)
{
	size_t n = 60 * DAY, H = 4 * DAY;
	double *y = xmalloc((n + H) * sizeof(double));
	struct fc_input in = {.start = START, .step = 3600, .n = n, .y = y};

	for (size_t i = 0; i < n + H; i++)
		y[i] = daily_sine(i);
	for (size_t k = 0; k < ARRAY_SIZE(all_models); k++) {
		double e = fit_predict(all_models[k], &in, H, y, NULL);

		if (!(e < 0.005))
			tl_fail(__LINE__, __FILE__, false, "%s: worst relative error %g on a pure daily sine",
				all_models[k], e);
		else
			CU_PASS(all_models[k]);
	}
	free(y);
}

static void test_constant_stays_constant(void)
{
	size_t n = 40 * DAY, H = 4 * DAY;
	double *y = xmalloc((n + H) * sizeof(double));
	struct fc_input in = {.start = START, .step = 3600, .n = n, .y = y};
	struct fc_forecast f;

	for (size_t i = 0; i < n + H; i++)
		y[i] = 250;
	for (size_t k = 0; k < ARRAY_SIZE(all_models); k++) {
		double e = fit_predict(all_models[k], &in, H, y, &f);

		if (!(e < 1e-6))
			tl_fail(__LINE__, __FILE__, false, "%s: constant 250 forecast off by %g",
				all_models[k], e);
		/* no error ever seen: the interval is the point */
		TL_ASSERT_DBL_EQ(f.p90[H - 1] - f.p10[H - 1], 0, 1e-6);
		fc_forecast_release(&f);
	}
	free(y);
}

static void test_gaps_do_not_poison_the_fit(void)
{
	size_t n = 60 * DAY, H = 4 * DAY;
	double *y = xmalloc((n + H) * sizeof(double)), *truth = xmalloc((n + H) * sizeof(double));
	struct fc_input in = {.start = START, .step = 3600, .n = n, .y = y};

	for (size_t i = 0; i < n + H; i++) {
		truth[i] = daily_sine(i);
		y[i] = uniform() < 0.1 ? NAN : truth[i];
	}
	for (size_t i = 30 * DAY; i < 32 * DAY; i++) /* two days missing */
		y[i] = NAN;
	y[n - 1] = y[n - 2] = NAN; /* and the last hours before the issue time */
	for (size_t k = 0; k < ARRAY_SIZE(all_models); k++) {
		double e = fit_predict(all_models[k], &in, H, truth, NULL);

		if (!(e < 0.01))
			tl_fail(__LINE__, __FILE__, false, "%s: worst relative error %g with 10 %% gaps",
				all_models[k], e);
		else
			CU_PASS(all_models[k]);
	}
	free(y);
	free(truth);
}

/* Weekdays 400 with a daily shape, weekends 250: a model that only knows
 * yesterday gets the first weekend day wrong; the weekly ones must not. */
static double weekly(size_t i)
{
	struct ts_civil cv;

	ts_to_civil(START + (int64_t)i * 3600, &cv);
	return (cv.weekday >= 5 ? 250 : 400) + 30 * sin(2 * M_PI * (double)(i % DAY) / DAY);
}

static void test_weekly_pattern_recovered(void)
{
	/* 2020-01-01 is a Wednesday: issue on a Friday 00:00 after 9 weeks */
	size_t n = (63 + 2) * DAY, H = 4 * DAY;
	double *y = xmalloc((n + H) * sizeof(double));
	struct fc_input in = {.start = START, .step = 3600, .n = n, .y = y};
	struct ts_civil cv;
	static const char *const weekly_models[] = {"snaive168", "dshw", "ridge", "ridge_log", "ensemble"};

	for (size_t i = 0; i < n + H; i++)
		y[i] = weekly(i);
	ts_to_civil(START + (int64_t)n * 3600, &cv);
	TL_ASSERT_INT_EQ(cv.weekday, 4); /* Friday */
	for (size_t k = 0; k < ARRAY_SIZE(weekly_models); k++) {
		double e = fit_predict(weekly_models[k], &in, H, y, NULL);

		if (!(e < 0.02))
			tl_fail(__LINE__, __FILE__, false, "%s: worst relative error %g over a weekend",
				weekly_models[k], e);
		else
			CU_PASS(weekly_models[k]);
	}
	/* same hour yesterday misses the weekend by 150/250 = 60 % */
	TL_ASSERT(fit_predict("snaive24", &in, H, y, NULL) > 0.5);
	free(y);
}

static void test_ls_recovers_coefficients(void)
{
	struct fc_ls ls;
	double beta[3], b0, mean[3];

	fc_ls_init(&ls, 3);
	for (int i = 0; i < 500; i++) {
		double x[3] = {uniform() * 10, gauss() * 3, uniform() - 0.5};

		fc_ls_add(&ls, x, 3 + 2 * x[0] - 0.5 * x[1] + 7 * x[2], 1);
	}
	TL_ASSERT_INT_EQ(fc_ls_solve(&ls, 0, beta, &b0, mean), 0);
	TL_ASSERT_DBL_EQ(b0, 3, 1e-8);
	TL_ASSERT_DBL_EQ(beta[0], 2, 1e-8);
	TL_ASSERT_DBL_EQ(beta[1], -0.5, 1e-8);
	TL_ASSERT_DBL_EQ(beta[2], 7, 1e-8);
	/* a penalty shrinks every slope towards 0, never past it */
	TL_ASSERT_INT_EQ(fc_ls_solve(&ls, 1.0, beta, &b0, NULL), 0);
	TL_ASSERT(beta[0] > 0.5 && beta[0] < 2);
	TL_ASSERT(beta[2] > 0 && beta[2] < 7);
	/* forgetting scales every sum alike: same solution */
	fc_ls_scale(&ls, 0.5);
	TL_ASSERT_INT_EQ(fc_ls_solve(&ls, 0, beta, &b0, NULL), 0);
	TL_ASSERT_DBL_EQ(beta[1], -0.5, 1e-8);
	fc_ls_clear(&ls);
	TL_ASSERT_INT_EQ(fc_ls_solve(&ls, 0, beta, &b0, NULL), -1);
	fc_ls_release(&ls);
}

static void test_cholesky_known_system(void)
{
	double a[9] = {4, 12, -16, 12, 37, -43, -16, -43, 98}, b[3] = {1, 2, 3};
	double not_pd[4] = {1, 2, 2, 1}, b2[2] = {1, 1};

	/* A x = b with x = (28.5833.., -7.6666.., 1.3333..) */
	TL_ASSERT_INT_EQ(fc_cholesky_solve(a, b, 3), 0);
	TL_ASSERT_DBL_EQ(b[0], 343.0 / 12, 1e-9);
	TL_ASSERT_DBL_EQ(b[1], -23.0 / 3, 1e-9);
	TL_ASSERT_DBL_EQ(b[2], 4.0 / 3, 1e-9);
	TL_ASSERT_INT_EQ(fc_cholesky_solve(not_pd, b2, 2), -1);
}

/* The target is driven by a known weather input: the ridge must learn the
 * coefficient and forecast it; seasonal naive cannot. */
static void test_ridge_learns_weather_driver(void)
{
	size_t n = 90 * DAY, H = 2 * DAY;
	double *y = xmalloc((n + H) * sizeof(double)), *temp = xmalloc((n + H) * sizeof(double));
	struct fc_exo exo = {"temperature", true, n + H, temp};
	struct fc_input in = {.start = START, .step = 3600, .n = n, .y = y, .n_exo = 1, .exo = &exo};
	double e_ridge, e_naive;

	for (size_t i = 0; i < n + H; i++) {
		temp[i] = 15 + 8 * sin(2 * M_PI * (double)i / (5.3 * DAY)) + 2 * gauss();
		y[i] = 200 + 4 * temp[i];
	}
	e_ridge = fit_predict("ridge", &in, H, y, NULL);
	e_naive = fit_predict("snaive24", &in, H, y, NULL);
	if (!(e_ridge < 0.01))
		tl_fail(__LINE__, __FILE__, false, "ridge: worst relative error %g on y = 200 + 4 T",
			e_ridge);
	TL_ASSERT(e_naive > 5 * e_ridge);
	free(y);
	free(temp);
}

static void test_errors(void)
{
	struct fc_model *m = NULL;
	struct err_detail err = {0};
	double y[48];
	struct fc_input in = {.start = START, .step = 7 * 3600, .n = 48, .y = y};
	struct fc_forecast f;

	for (int i = 0; i < 48; i++)
		y[i] = 100;
	TL_ASSERT_INT_EQ(fc_model_new("prophet", NULL, &m, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "unknown model 'prophet'");
	TL_ASSERT_INT_EQ(fc_model_new("ridge", NULL, &m, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_predict(m, &in, 24, &f, &err), ERR_INVALID); /* not fitted */
	TL_ASSERT_CONTAINS(err.msg, "not fitted");
	TL_ASSERT_INT_EQ(fc_fit(m, &in, &err), ERR_INVALID); /* 7 h does not divide a day */
	TL_ASSERT_STR_EQ(err.field, "step");
	in.step = 3600;
	TL_ASSERT_INT_EQ(fc_fit(m, &in, &err), ERR_UNPROCESSABLE); /* two days are too few */
	TL_ASSERT_CONTAINS(err.msg, "days of history");
	fc_model_free(m);
	fc_model_free(NULL);
	TL_ASSERT_INT_EQ(fc_model_new("snaive24", NULL, &m, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_fit(m, &in, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_predict(m, &in, 0, &f, &err), ERR_INVALID);
	TL_ASSERT_INT_EQ(fc_predict(m, &in, 5 * 24, &f, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "horizon");
	fc_model_free(m);
	TL_ASSERT(fc_model_summary("dshw") != NULL);
	TL_ASSERT(fc_model_summary("nope") == NULL);
}

static CU_TestInfo tests[] = {
    {"daily sine is forecast almost exactly", test_daily_sine_is_forecast_almost_exactly},
    {"constant stays constant", test_constant_stays_constant},
    {"gaps do not poison the fit", test_gaps_do_not_poison_the_fit},
    {"weekly pattern recovered", test_weekly_pattern_recovered},
    {"least squares recovers coefficients", test_ls_recovers_coefficients},
    {"cholesky on a known system", test_cholesky_known_system},
    {"ridge learns a weather driver", test_ridge_learns_weather_driver},
    {"errors", test_errors},
    CU_TEST_INFO_NULL,
};

TL_SUITE("forecast", NULL, NULL, tests)
