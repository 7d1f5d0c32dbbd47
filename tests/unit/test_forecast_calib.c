/* forecasters/: intervals, decision quality, renewable generation, PUE. */
#include <stdlib.h>

#include "core/mem.h"
#include "forecasters/backtest.h"
#include "forecasters/calib.h"
#include "forecasters/pue_model.h"
#include "forecasters/renewable.h"
#include "tests/lib/testlib.h"

#define START INT64_C(1577836800)

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

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

/* Issue 'days' forecasts of 24 steps at p50 = 100 with log-normal noise
 * of sd sigma(day); returns the coverage (%) over the last 'tail' days. */
static double run_calib(struct fc_calib *c, int days, int tail, double (*sigma)(int day))
{
	size_t in = 0, total = 0;

	for (int d = 0; d < days; d++) {
		for (size_t h = 0; h < 24; h++) {
			double lo, hi, a = 100 * exp(sigma(d) * gauss());
			int covered;

			fc_calib_interval(c, h, 100, &lo, &hi);
			covered = a >= lo && a <= hi;
			if (d >= days - tail) {
				in += (size_t)covered;
				total++;
			}
			fc_calib_add(c, h, 100, a, fc_calib_is_empty(c) ? -1 : covered);
		}
	}
	return 100.0 * (double)in / (double)total;
}

static double sigma_const(int day)
{
	(void)day;
	return 0.1;
}

/* Noise that triples after day 100: a static pool would under-cover for
 * weeks; ACI must bring coverage back to nominal. */
static double sigma_shift(int day)
{
	return day < 100 ? 0.05 : 0.15;
}

static void test_calibration_converges_to_nominal(void)
{
	struct fc_calib c;
	double cov;

	fc_calib_init(&c, 24, 60, 0.8, 0.005, true);
	cov = run_calib(&c, 400, 300, sigma_const);
	if (!(cov > 77 && cov < 83))
		tl_fail(__LINE__, __FILE__, false, "coverage %.1f %% on stationary noise, nominal 80 %%",
			cov);
	fc_calib_release(&c);

	fc_calib_init(&c, 24, 60, 0.8, 0.005, true);
	cov = run_calib(&c, 400, 280, sigma_shift);
	if (!(cov > 75 && cov < 85))
		tl_fail(__LINE__, __FILE__, false, "coverage %.1f %% after the noise tripled", cov);
	fc_calib_release(&c);

	/* the interval is wider where errors are larger: block 0 vs block 3 */
	fc_calib_init(&c, 24, 60, 0.8, 0, false);
	for (int d = 0; d < 60; d++)
		for (size_t h = 0; h < 24; h++)
			fc_calib_add(&c, h, 100, 100 + (h < 6 ? 1.0 : 10.0) * gauss(), -1);
	{
		double lo0, hi0, lo3, hi3;

		fc_calib_interval(&c, 0, 100, &lo0, &hi0);
		fc_calib_interval(&c, 23, 100, &lo3, &hi3);
		TL_ASSERT(hi3 - lo3 > 5 * (hi0 - lo0));
		TL_ASSERT(lo0 <= 100 && hi0 >= 100);
	}
	fc_calib_release(&c);
}

static void test_calibration_empty_and_skips(void)
{
	struct fc_calib c;
	double lo, hi;

	fc_calib_init(&c, 24, 10, 0.8, 0.005, true);
	TL_ASSERT(fc_calib_is_empty(&c));
	fc_calib_interval(&c, 3, 42, &lo, &hi);
	TL_ASSERT_DBL_EQ(lo, 42, 0);
	TL_ASSERT_DBL_EQ(hi, 42, 0);
	fc_calib_add(&c, 0, 100, NAN, -1);
	fc_calib_add(&c, 0, 100, -5, -1); /* log mode: non-positive is skipped */
	TL_ASSERT(fc_calib_is_empty(&c));
	fc_calib_add(&c, 0, 100, 110, -1);
	TL_ASSERT(!fc_calib_is_empty(&c));
	/* a later block borrows the nearest earlier block with data */
	fc_calib_interval(&c, 20, 100, &lo, &hi);
	TL_ASSERT_DBL_EQ(hi, 110, 1e-9);
	fc_calib_clear(&c);
	TL_ASSERT(fc_calib_is_empty(&c));
	fc_calib_release(&c);
}

static void test_decision_quality(void)
{
	/* 8 steps, job of 2: now = 10+10, oracle = 1+2 at step 4 */
	double a[8] = {10, 10, 8, 6, 1, 2, 9, 9};
	double good[8] = {9, 9, 9, 9, 0, 0, 9, 9}, bad[8] = {0, 0, 5, 5, 5, 5, 5, 5};
	double late[8] = {9, 9, 9, 9, 9, 9, 1, 1};
	double now, orc, fc;

	TL_ASSERT_INT_EQ(fc_decision(a, good, 8, 2, &now, &orc, &fc), 0);
	TL_ASSERT_DBL_EQ(now, 20, 0);
	TL_ASSERT_DBL_EQ(orc, 3, 0);
	TL_ASSERT_DBL_EQ(fc, 3, 0);
	TL_ASSERT_INT_EQ(fc_decision(a, bad, 8, 2, &now, &orc, &fc), 0);
	TL_ASSERT_DBL_EQ(fc, 20, 0); /* runs at once: nothing captured */
	TL_ASSERT_INT_EQ(fc_decision(a, late, 8, 2, &now, &orc, &fc), 0);
	TL_ASSERT_DBL_EQ(fc, 18, 0); /* steps 6-7: 9+9, captured (20-18)/(20-3) */
	a[3] = NAN;
	TL_ASSERT_INT_EQ(fc_decision(a, good, 8, 2, &now, &orc, &fc), -1);
	TL_ASSERT_INT_EQ(fc_decision(good, good, 8, 9, &now, &orc, &fc), -1);
}

static double curve(double v)
{
	double vh = v * 1.39;

	return vh < 3 ? 0 : vh > 12 ? 1 : (vh * vh * vh - 27) / (1728 - 27);
}

static void test_renewable_from_weather(void)
{
	size_t n = 120 * 24, H = 48;
	double *wind = xmalloc((n + H) * sizeof(double)), *gw = xmalloc(n * sizeof(double));
	double *solar = xmalloc((n + H) * sizeof(double)), *gs = xmalloc(n * sizeof(double));
	double *gas = xmalloc(n * sizeof(double)), *temp = xmalloc((n + H) * sizeof(double));
	struct fc_exo exo[] = {
	    {"wind_speed", true, n + H, wind},	{"solar_irradiance", true, n + H, solar},
	    {"temperature", true, n + H, temp}, {"generation:wind", false, n, gw},
	    {"generation:solar", false, n, gs}, {"generation:gas", false, n, gas},
	};
	struct fc_input in = {.start = START, .step = 3600, .n = n, .y = gas, .n_exo = 6, .exo = exo};
	struct fc_renew r;
	struct fc_renew_view v;
	double err_w = 0, err_s = 0, share;

	for (size_t i = 0; i < n + H; i++) {
		double hod = (double)(i % 24);

		wind[i] = 6 + 4 * sin(2 * M_PI * (double)i / 77.0) + uniform();
		solar[i] =
		    hod >= 6 && hod <= 18 ? 700 * sin(M_PI * (hod - 6) / 12) * (0.6 + 0.4 * uniform()) : 0;
		temp[i] = 15;
	}
	for (size_t i = 0; i < n; i++) {
		gw[i] = 5000 * curve(wind[i]) + 50 * gauss();
		/* irradiance is labelled at the end of its hour: output follows the next label */
		gs[i] = 3 * solar[i + 1] + 20 * gauss();
		if (gs[i] < 0)
			gs[i] = 0;
		gas[i] = 12000 - gw[i] - gs[i]; /* renewables displace gas */
	}
	fc_renew_init(&r, 1.0);
	TL_ASSERT_INT_EQ(fc_renew_fit(&r, &in), 3);
	fc_renew_view_init(&v, &in);
	for (size_t t = n; t < n + H - 1; t++) { /* the last steps lack the t+3 context: imputed */
		err_w += fabs(fc_renew_at(&r, &v, FC_GEN_WIND, t) - 5000 * curve(wind[t]));
		err_s += fabs(fc_renew_at(&r, &v, FC_GEN_SOLAR, t) - 3 * solar[t + 1]);
	}
	err_w /= (double)(H - 1);
	err_s /= (double)(H - 1);
	if (!(err_w < 250)) /* 5 % of capacity */
		tl_fail(__LINE__, __FILE__, false, "wind MAE %.1f MW of 5000", err_w);
	if (!(err_s < 100))
		tl_fail(__LINE__, __FILE__, false, "solar MAE %.1f MW of ~2100", err_s);
	/* the total stays 12000: share = renewables / 12000 */
	share = fc_renew_share(&r, &v, n + 12);
	{
		double w = 5000 * curve(wind[n + 12]), s = 3 * solar[n + 13];
		double expect = 100 * (w + s) / 12000;

		TL_ASSERT_DBL_EQ(share, expect, 5);
	}
	TL_ASSERT(isnan(fc_renew_observed(&v, FC_GEN_WIND, n))); /* the future is not observed */
	fc_renew_release(&r);
	free(wind);
	free(gw);
	free(solar);
	free(gs);
	free(gas);
	free(temp);
}

static void test_pue(void)
{
	struct fc_pue p = {FC_PUE_MODEL, 1.2, 0.01, 20};
	struct err_detail err = {0};
	double temp[6] = {10, 20, 25, 30, NAN, 35}, feed[6] = {NAN, 1.5, NAN, NAN, NAN, NAN}, out[6], obs[6];
	enum fc_pue_mode mode[6];
	struct fc_pue fit;

	TL_ASSERT_INT_EQ(fc_pue_validate(&p, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(fc_pue_at(&p, 10), 1.2, 1e-12);
	TL_ASSERT_DBL_EQ(fc_pue_at(&p, 30), 1.3, 1e-12);
	TL_ASSERT_DBL_EQ(fc_pue_at(&p, NAN), 1.2, 1e-12);
	fc_pue_series(&p, temp, NULL, 6, out, mode);
	TL_ASSERT_DBL_EQ(out[2], 1.25, 1e-12);
	TL_ASSERT_INT_EQ(mode[2], FC_PUE_MODEL);
	TL_ASSERT_INT_EQ(mode[4], FC_PUE_CONSTANT); /* no temperature: base */
	p.mode = FC_PUE_FEED;
	fc_pue_series(&p, temp, feed, 6, out, mode);
	TL_ASSERT_DBL_EQ(out[1], 1.5, 0);
	TL_ASSERT_INT_EQ(mode[1], FC_PUE_FEED);
	TL_ASSERT_INT_EQ(mode[3], FC_PUE_MODEL);
	TL_ASSERT_STR_EQ(fc_pue_mode_name(mode[1]), "feed");
	p.mode = FC_PUE_CONSTANT;
	TL_ASSERT_DBL_EQ(fc_pue_at(&p, 40), 1.2, 0);
	/* fit recovers base 1.1, k 0.02, t0 18 from exact observations */
	{
		double t[40], y[40];

		for (int i = 0; i < 40; i++) {
			t[i] = i;
			y[i] = 1.1 + 0.02 * (i > 18 ? i - 18 : 0);
		}
		TL_ASSERT_INT_EQ(fc_pue_fit(t, y, 40, &fit, &err), ERR_OK);
		TL_ASSERT_DBL_EQ(fit.base, 1.1, 1e-9);
		TL_ASSERT_DBL_EQ(fit.k, 0.02, 1e-9);
		TL_ASSERT_DBL_EQ(fit.t0, 18, 1e-9);
		TL_ASSERT_INT_EQ(fit.mode, FC_PUE_MODEL);
	}
	for (int i = 0; i < 6; i++)
		obs[i] = NAN;
	TL_ASSERT_INT_EQ(fc_pue_fit(temp, obs, 6, &fit, &err), ERR_UNPROCESSABLE);
	p = (struct fc_pue){FC_PUE_MODEL, 0.9, 0.01, 20};
	TL_ASSERT_INT_EQ(fc_pue_validate(&p, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "pue.base");
	p = (struct fc_pue){FC_PUE_MODEL, 1.2, -1, 20};
	TL_ASSERT_INT_EQ(fc_pue_validate(&p, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "pue.k");
}

static CU_TestInfo tests[] = {
    {"calibration converges to nominal coverage", test_calibration_converges_to_nominal},
    {"calibration empty and skipped values", test_calibration_empty_and_skips},
    {"decision quality", test_decision_quality},
    {"renewable generation from weather", test_renewable_from_weather},
    {"pue", test_pue},
    CU_TEST_INFO_NULL,
};

TL_SUITE("forecast_calib", NULL, NULL, tests)
