/* core/series and core/signal: grids, gaps, resampling, emission factors. */
#include "core/mem.h"
#include "core/series.h"
#include "core/signal.h"
#include "tests/lib/testlib.h"

static void test_set_extends_both_ways(void)
{
	struct series s;

	series_init(&s, 0, 3600);
	TL_ASSERT_INT_EQ(series_set(&s, 7200, 1.0, false), ERR_OK);
	TL_ASSERT_INT_EQ(s.start, 7200);
	TL_ASSERT_INT_EQ(series_set(&s, 3 * 7200, 3.0, true), ERR_OK);
	TL_ASSERT_INT_EQ(s.n, 3 * 2 - 1);
	TL_ASSERT(isnan(series_at(&s, 3 * 3600)));
	TL_ASSERT_INT_EQ(series_set(&s, 0, 0.5, false), ERR_OK); /* backwards */
	TL_ASSERT_INT_EQ(s.start, 0);
	TL_ASSERT_INT_EQ(s.n, 7);
	TL_ASSERT_DBL_EQ(series_at(&s, 0), 0.5, 0);
	TL_ASSERT_DBL_EQ(series_at(&s, 7200), 1.0, 0);
	TL_ASSERT_DBL_EQ(series_at(&s, 6 * 3600), 3.0, 0);
	TL_ASSERT(series_is_estimated(&s, 6));
	TL_ASSERT(!series_is_estimated(&s, 2));
	TL_ASSERT_INT_EQ(series_set(&s, 1800, 9, false), ERR_INVALID); /* off the grid */
	TL_ASSERT(isnan(series_at(&s, 1800)));
	TL_ASSERT(isnan(series_at(&s, -3600)));
	TL_ASSERT(isnan(series_at(&s, 7 * 3600)));
	TL_ASSERT_INT_EQ(series_count_valid(&s), 3);
	series_release(&s);
}

static void test_resample(void)
{
	struct series s, h, q;

	series_init(&s, 0, 900);
	for (int i = 0; i < 8; i++)
		series_push(&s, i);
	s.v[5] = NAN;
	TL_ASSERT_INT_EQ(series_resample(&s, 3600, &h), ERR_OK);
	TL_ASSERT_INT_EQ(h.n, 2);
	TL_ASSERT_DBL_EQ(h.v[0], 1.5, 1e-12);
	TL_ASSERT_DBL_EQ(h.v[1], (4 + 6 + 7) / 3.0, 1e-12); /* gap ignored */
	TL_ASSERT_INT_EQ(series_resample(&h, 1800, &q), ERR_OK);
	TL_ASSERT_INT_EQ(q.n, 4);
	TL_ASSERT_DBL_EQ(q.v[1], 1.5, 0);
	TL_ASSERT_DBL_EQ(q.v[2], h.v[1], 0);
	series_release(&q);
	TL_ASSERT_INT_EQ(series_resample(&s, 1000, &q), ERR_INVALID);
	series_release(&s);
	series_release(&h);
}

static void test_slice_and_fill(void)
{
	struct series s, sl;

	series_init(&s, 3600, 3600);
	for (int i = 0; i < 10; i++)
		series_push(&s, i);
	s.v[3] = s.v[4] = NAN;
	s.v[7] = s.v[8] = s.v[9] = NAN;
	series_slice(&s, 0, 5 * 3600 + 1, &sl); /* before the start: gaps */
	TL_ASSERT_INT_EQ(sl.start, 0);
	TL_ASSERT_INT_EQ(sl.n, 6);
	TL_ASSERT(isnan(sl.v[0]));
	TL_ASSERT_DBL_EQ(sl.v[1], 0, 0);
	series_release(&sl);
	series_fill_forward(&s, 2);
	TL_ASSERT_DBL_EQ(s.v[3], 2, 0);
	TL_ASSERT_DBL_EQ(s.v[4], 2, 0);
	TL_ASSERT(isnan(s.v[9])); /* run of 3 > 2 stays a gap */
	TL_ASSERT_DBL_EQ(series_mean(&s), (0 + 1 + 2 + 2 + 2 + 5 + 6) / 7.0, 1e-12);
	series_release(&s);
}

static void test_emission_factors(void)
{
	double mix[FUEL__COUNT];

	for (int f = 0; f < FUEL__COUNT; f++)
		mix[f] = NAN;
	TL_ASSERT(isnan(sig_intensity_from_mix(mix, FACTORS_LIFECYCLE)));
	/* First row of dacf/CISO_direct_emissions.csv: carbon_intensity 242.9. */
	mix[FUEL_COAL] = 12;
	mix[FUEL_GAS] = 7290;
	mix[FUEL_NUCLEAR] = 2273;
	mix[FUEL_OIL] = 91;
	mix[FUEL_HYDRO] = 0;
	mix[FUEL_SOLAR] = 1403;
	mix[FUEL_WIND] = 225;
	mix[FUEL_UNKNOWN] = 0;
	TL_ASSERT_DBL_EQ(sig_intensity_from_mix(mix, FACTORS_DIRECT), 242.9, 0.01);
	mix[FUEL_STORAGE] = 1000; /* excluded */
	TL_ASSERT_DBL_EQ(sig_intensity_from_mix(mix, FACTORS_DIRECT), 242.9, 0.01);
	mix[FUEL_HYDRO] = -50; /* pumping is not generation */
	TL_ASSERT_DBL_EQ(sig_intensity_from_mix(mix, FACTORS_DIRECT), 242.9, 0.01);
	TL_ASSERT_DBL_EQ(sig_share_from_mix(mix, false), 100.0 * (1403 + 225) / 11294, 1e-9);
	TL_ASSERT_INT_EQ(sig_fuel_parse("nat_gas"), FUEL_GAS);
	TL_ASSERT_INT_EQ(sig_fuel_parse("other"), FUEL_UNKNOWN);
	TL_ASSERT_INT_EQ(sig_fuel_parse("unobtainium"), -1);
}

static void test_kinds(void)
{
	enum sig_kind k;
	int fuel;
	struct err_detail err;

	TL_ASSERT_INT_EQ(sig_kind_parse("carbon_intensity", "kind", &k, &fuel, &err), ERR_OK);
	TL_ASSERT_INT_EQ(k, SIG_CARBON_INTENSITY);
	TL_ASSERT_INT_EQ(fuel, -1);
	TL_ASSERT_INT_EQ(sig_kind_parse("generation:wind", "kind", &k, &fuel, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fuel, FUEL_WIND);
	TL_ASSERT_INT_EQ(sig_kind_parse("generation", "kind", &k, &fuel, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "needs a fuel");
	TL_ASSERT_INT_EQ(sig_kind_parse("carbon_intensity:x", "kind", &k, &fuel, &err), ERR_INVALID);
	TL_ASSERT_INT_EQ(sig_kind_parse("carbon", "kind", &k, &fuel, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "kind");
	TL_ASSERT_STR_EQ(sig_kind_string_unit("generation:coal"), "MW");
	TL_ASSERT_STR_EQ(sig_kind_string_unit("carbon_intensity"), "gCO2eq/kWh");
}

static const char *mem_test_name(int i)
{
	static char names[20][16];

	snprintf(names[i], sizeof(names[i]), "s%d", i);
	return names[i];
}

static void test_set(void)
{
	struct sig_set set;

	sig_set_init(&set);
	struct series *a = sig_set_get(&set, "DE", "carbon_intensity", "file", 3600);
	series_set(a, 0, 1, false);
	for (int i = 0; i < 20; i++) /* forces the array to move */
		sig_set_get(&set, "DE", "k", mem_test_name(i), 3600);
	TL_ASSERT_INT_EQ(set.n, 21);
	TL_ASSERT(sig_set_get(&set, "DE", "carbon_intensity", "file", 3600)->n == 1);
	TL_ASSERT(sig_set_find(&set, "DE", "carbon_intensity") != NULL);
	TL_ASSERT(sig_set_find(&set, "FR", "carbon_intensity") == NULL);
	TL_ASSERT_INT_EQ(sig_set_points(&set), 1);
	sig_set_release(&set);
}

static CU_TestInfo tests[] = {
    {"set extends both ways", test_set_extends_both_ways},
    {"resample", test_resample},
    {"slice and fill forward", test_slice_and_fill},
    {"emission factors", test_emission_factors},
    {"kinds", test_kinds},
    {"sets", test_set},
    CU_TEST_INFO_NULL,
};
TL_SUITE("core/series", NULL, NULL, tests)
