/* service/sched: the placement engine on hand-checkable cases, and against
 * brute force on small random ones. */
#include <stdint.h>
#include <stdlib.h>

#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/sched.h"
#include "tests/lib/testlib.h"

#define H  3600
#define T0 INT64_C(1700006400) /* 2023-11-15T00:00:00Z, on every grid */

/* Series of n values at 'step' from T0 (NAN = gap). */
static struct series *mkseries(const double *v, size_t n, int32_t step)
{
	struct series *s = series_new(T0, step, n);

	for (size_t i = 0; i < n; i++)
		s->v[i] = v[i];
	return s;
}

static size_t add_region(struct sched_model *m, const char *id, const double *v, size_t n, int32_t step,
			 const char *tag)
{
	struct series *s = mkseries(v, n, step);
	const char *tags[1] = {tag};
	struct sched_region_spec spec = {
	    .id = id, .tags = tags, .n_tags = tag ? 1 : 0, .ci = {NULL, s, NULL}};
	struct err_detail err;
	size_t r = SIZE_MAX;

	TL_ASSERT_INT_EQ(sched_model_add_region(m, &spec, &r, &err), ERR_OK);
	series_free(s);
	return r;
}

/* A job of 'steps' hours at 1 kW over [T0 + a h, T0 + b h). */
static void hjob(struct sched_job *j, int a, int b, int steps)
{
	sched_job_init(j);
	j->submit = j->earliest_start = T0 + (int64_t)a * H;
	j->deadline = T0 + (int64_t)b * H;
	j->duration = (int64_t)steps * H;
	j->power_kw = 1;
	j->origin = 0;
}

/* ---- CATS fixture (evaluation.md §6.3) -------------------------------- */

static size_t read_cats(int64_t *ret_t0, double *v)
{
	FILE *f = fopen(tl_testdata("cats/carbon_intensity_24h.csv"), "r");
	char line[256], *fld[8];
	size_t n = 0;

	TL_ASSERT(f != NULL);
	if (!f)
		return 0;
	TL_ASSERT(fgets(line, sizeof(line), f) != NULL); /* header */
	while (fgets(line, sizeof(line), f) && n < 128) {
		int64_t t;

		csv_chomp(line, strlen(line));
		TL_ASSERT_INT_EQ(csv_split(line, fld, 8), 4);
		TL_ASSERT(ts_parse_loose(fld[0], strlen(fld[0]), &t));
		TL_ASSERT(csv_double(fld[3], &v[n]));
		if (n == 0)
			*ret_t0 = t;
		n++;
	}
	fclose(f);
	return n;
}

static void test_cats_fixture(void)
{
	double pt[128], iv[127];
	int64_t t0 = 0;
	size_t n = read_cats(&t0, pt);
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	char buf[TS_BUFSZ];
	size_t r;

	TL_ASSERT_INT_EQ(n, 96);
	/* CATS treats the values as point samples and integrates with the
	 * trapezoidal rule: the interval [p_i, p_i+1] then has the mean
	 * (p_i + p_i+1) / 2, which is the step value the engine sees. */
	for (size_t i = 0; i + 1 < n; i++)
		iv[i] = (pt[i] + pt[i + 1]) / 2;
	struct series *s = series_new(t0, 1800, n - 1);
	memcpy(s->v, iv, (n - 1) * sizeof(double));
	struct sched_model *m = sched_model_new(t0, 1800, n - 1);
	struct sched_region_spec spec = {.id = "GB", .ci = {NULL, s, NULL}};
	TL_ASSERT_INT_EQ(sched_model_add_region(m, &spec, &r, &err), ERR_OK);

	sched_result_init(&res);
	sched_job_init(&j);
	j.submit = j.earliest_start = t0;
	j.deadline = t0 + (int64_t)(n - 1) * 1800;
	j.duration = 3 * H;
	j.power_kw = 1;
	j.origin = 0;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_STR_EQ(ts_format(res.best.start, buf), "2023-05-05T12:00:00Z");
	TL_ASSERT_STR_EQ(ts_format(res.best.end, buf), "2023-05-05T15:00:00Z");
	/* 1 kW for 3 h: grams / 3 = mean intensity = 44/6 */
	TL_ASSERT_DBL_EQ(res.best.expected_g / 3, 44.0 / 6, 1e-9);
	TL_ASSERT_INT_EQ(res.best.n_seg, 1);

	j.duration = 2850 * 60; /* 95 steps: the whole forecast */
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_STR_EQ(ts_format(res.best.start, buf), "2023-05-04T12:30:00Z");
	TL_ASSERT_DBL_EQ(res.best.expected_g, res.baseline_g, 1e-9);

	j.duration = 2880 * 60; /* one step more than the forecast */
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "duration");
	sched_result_release(&res);
	sched_model_free(m);
	series_free(s);
}

/* ---- ties ------------------------------------------------------------- */

static void test_ties(void)
{
	double flat[24], other[24];
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;

	for (int i = 0; i < 24; i++) {
		flat[i] = 435.36; /* a constant zone, as HK in the 123-zone matrix */
		other[i] = 435.36;
	}
	struct sched_model *m = sched_model_new(T0, H, 24);
	add_region(m, "A", flat, 24, H, NULL);
	add_region(m, "B", other, 24, H, NULL);
	add_region(m, "C", other, 24, H, NULL);
	sched_result_init(&res);

	/* constant series: the earliest start, although prefix sums differ in
	 * the last bits from window to window */
	hjob(&j, 2, 24, 5);
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.start, T0 + 2 * H);
	TL_ASSERT_INT_EQ(res.best.region, 0);

	/* equal regions: the origin wins, then the lower index */
	j.origin = 2;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.region, 2);
	TL_ASSERT_INT_EQ(res.n_alternatives, 2);
	TL_ASSERT_INT_EQ(res.alternatives[0].region, 0);
	TL_ASSERT_INT_EQ(res.alternatives[1].region, 1);

	/* interruptible ties: the earliest steps */
	j.interruptible = true;
	j.origin = 1;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.region, 1);
	TL_ASSERT_INT_EQ(res.best.n_seg, 1);
	TL_ASSERT_INT_EQ(res.best.start, T0 + 2 * H);
	TL_ASSERT_INT_EQ(res.best.end, T0 + 7 * H);

	/* an earlier start beats the origin at equal cost */
	double dip[24];
	for (int i = 0; i < 24; i++)
		dip[i] = i == 10 ? 100 : 200;
	struct sched_model *m2 = sched_model_new(T0, H, 24);
	add_region(m2, "X", dip, 24, H, NULL);
	for (int i = 0; i < 24; i++)
		dip[i] = i == 5 ? 100 : 200;
	add_region(m2, "Y", dip, 24, H, NULL);
	hjob(&j, 0, 24, 1);
	j.origin = 0;
	TL_ASSERT_INT_EQ(sched_place(m2, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.region, 1);
	TL_ASSERT_INT_EQ(res.best.start, T0 + 5 * H);
	TL_ASSERT_DBL_EQ(res.baseline_g, 200, 1e-12);
	sched_model_free(m2);
	sched_result_release(&res);
	sched_model_free(m);
}

/* ---- capacity --------------------------------------------------------- */

static void test_capacity_exhaustion(void)
{
	double v[8] = {50, 10, 20, 30, 40, 60, 70, 80};
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	int64_t want[] = {1, 2, 3, 4, 0, 5};

	struct sched_model *m = sched_model_new(T0, H, 8);
	add_region(m, "A", v, 8, H, NULL);
	struct sched_capacity *cap = sched_capacity_new(m, 25); /* two 10-kW jobs per step */
	sched_result_init(&res);
	hjob(&j, 0, 6, 1);
	j.power_kw = 10;
	for (size_t i = 0; i < 12; i++) {
		TL_ASSERT_INT_EQ(sched_place(m, cap, &j, &res, &err), ERR_OK);
		TL_ASSERT_INT_EQ(res.best.start, T0 + want[i / 2] * H);
		TL_ASSERT_INT_EQ(sched_commit(m, cap, &j, &res, &res.best), ERR_OK);
	}
	for (int t = 0; t < 6; t++)
		TL_ASSERT_DBL_EQ(sched_capacity_row(cap, 0)[t], 5, 1e-9);
	TL_ASSERT_DBL_EQ(sched_capacity_row(cap, 0)[6], 25, 0);
	/* full: the error says so, and a smaller job still fits */
	TL_ASSERT_INT_EQ(sched_place(m, cap, &j, &res, &err), ERR_NO_CAPACITY);
	TL_ASSERT_CONTAINS(err.msg, "no capacity");
	j.power_kw = 5;
	TL_ASSERT_INT_EQ(sched_place(m, cap, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.start, T0 + 1 * H);

	/* a 2-step job needs two consecutive free steps */
	sched_capacity_set(cap, 0, 25);
	sched_capacity_row(cap, 0)[2] = 0;
	hjob(&j, 0, 8, 2);
	j.power_kw = 10;
	TL_ASSERT_INT_EQ(sched_place(m, cap, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.start, T0); /* 50+10, not 10+20: step 2 is full */
	j.interruptible = true;
	TL_ASSERT_INT_EQ(sched_place(m, cap, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.n_seg, 2); /* steps 1 and 3 */
	TL_ASSERT_INT_EQ(sched_segments(&res, &res.best)[0].start, T0 + 1 * H);
	TL_ASSERT_INT_EQ(sched_segments(&res, &res.best)[1].start, T0 + 3 * H);
	/* commit refuses when the capacity moved under the placement */
	sched_capacity_row(cap, 0)[3] = 1;
	TL_ASSERT_INT_EQ(sched_commit(m, cap, &j, &res, &res.best), ERR_NO_CAPACITY);
	TL_ASSERT_DBL_EQ(sched_capacity_row(cap, 0)[1], 25, 0); /* nothing debited */
	sched_capacity_free(cap);
	sched_result_release(&res);
	sched_model_free(m);
}

/* ---- risk ------------------------------------------------------------- */

static void test_p90_risk(void)
{
	double p50[6] = {100, 90, 95, 120, 130, 140};
	double p90[6] = {110, 160, 105, 130, 140, 150};
	double p10[6] = {90, 40, 85, 110, 120, 130};
	struct series *s10 = mkseries(p10, 6, H), *s50 = mkseries(p50, 6, H), *s90 = mkseries(p90, 6, H);
	struct sched_region_spec spec = {.id = "A", .ci = {s10, s50, s90}, .pue_const = 1.5};
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	size_t r;

	struct sched_model *m = sched_model_new(T0, H, 6);
	TL_ASSERT_INT_EQ(sched_model_add_region(m, &spec, &r, &err), ERR_OK);
	sched_result_init(&res);
	hjob(&j, 0, 6, 1);
	j.power_kw = 2;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.start, T0 + 1 * H); /* lowest median */
	TL_ASSERT_DBL_EQ(res.best.expected_g, 2 * 90 * 1.5, 1e-9);
	TL_ASSERT_DBL_EQ(res.best.low_g, 2 * 40 * 1.5, 1e-9);
	TL_ASSERT_DBL_EQ(res.best.high_g, 2 * 160 * 1.5, 1e-9);
	j.risk = SCHED_P90;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.start, T0 + 2 * H); /* lowest p90 */
	TL_ASSERT_DBL_EQ(res.best.decision_g, 2 * 105 * 1.5, 1e-9);
	TL_ASSERT_DBL_EQ(res.best.expected_g, 2 * 95 * 1.5, 1e-9);
	j.risk = SCHED_P10;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "risk");
	sched_result_release(&res);
	sched_model_free(m);
	series_free(s10);
	series_free(s50);
	series_free(s90);
}

/* ---- PUE and grids ---------------------------------------------------- */

static void test_pue_and_resampling(void)
{
	double ci[4] = {100, 200, 300, 400};			  /* hourly */
	double pue[8] = {1.1, 1.1, 1.2, 1.2, 1.0, 1.0, 1.5, 1.5}; /* half-hourly */
	struct series *sc = mkseries(ci, 4, H), *sp = mkseries(pue, 8, 1800);
	struct sched_region_spec spec = {.id = "A", .ci = {NULL, sc, NULL}, .pue = {NULL, sp, NULL}};
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	size_t r;

	struct sched_model *m = sched_model_new(T0, 1800, 8);
	TL_ASSERT_INT_EQ(sched_model_add_region(m, &spec, &r, &err), ERR_OK);
	const double *eff = sched_region_intensity(m, r, SCHED_P50);
	TL_ASSERT_DBL_EQ(eff[0], 110, 1e-9);
	TL_ASSERT_DBL_EQ(eff[3], 240, 1e-9);
	TL_ASSERT_DBL_EQ(eff[4], 300, 1e-9);
	TL_ASSERT_DBL_EQ(eff[7], 600, 1e-9);
	TL_ASSERT_INT_EQ(sched_region_horizon(m, r), T0 + 4 * H);
	sched_result_init(&res);
	hjob(&j, 0, 4, 1);
	j.duration = 45 * 60; /* 1.5 steps: the last one is charged for 15 min */
	j.power_kw = 4;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.start, T0);
	TL_ASSERT_INT_EQ(res.best.end, T0 + 45 * 60);
	TL_ASSERT_DBL_EQ(res.best.expected_g, 4 * (0.5 * 110 + 0.25 * 110), 1e-9);
	/* a step that is not a multiple of the grid is refused, naming it */
	struct series *bad = mkseries(ci, 4, 1000);
	spec.id = "B";
	spec.ci[SCHED_P50] = bad;
	TL_ASSERT_INT_EQ(sched_model_add_region(m, &spec, &r, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "ci.p50");
	spec.id = "A";
	spec.ci[SCHED_P50] = sc;
	TL_ASSERT_INT_EQ(sched_model_add_region(m, &spec, &r, &err), ERR_CONFLICT);
	series_free(bad);
	sched_result_release(&res);
	sched_model_free(m);
	series_free(sc);
	series_free(sp);
}

/* ---- gaps ------------------------------------------------------------- */

static void test_gaps(void)
{
	double v[10] = {90, 10, NAN, 10, 95, 90, 45, 50, NAN, NAN};
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	char buf[TS_BUFSZ];

	struct sched_model *m = sched_model_new(T0, H, 10);
	add_region(m, "A", v, 10, H, NULL);
	sched_result_init(&res);
	/* 2 steps: (10, gap, 10) must not be a window of cost 10 */
	hjob(&j, 0, 10, 2);
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.best.start, T0 + 6 * H);
	TL_ASSERT_DBL_EQ(res.best.expected_g, 95, 1e-9);
	/* interruptible: around the gap */
	j.interruptible = true;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(res.best.expected_g, 20, 1e-9);
	TL_ASSERT_INT_EQ(res.best.n_seg, 2);
	/* nothing gap-free: the error says how far the signal reaches */
	hjob(&j, 7, 12, 2);
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_UNPROCESSABLE);
	TL_ASSERT_CONTAINS(err.msg, ts_format(T0 + 8 * H, buf));
	/* the baseline over a gap is unknown, not zero */
	hjob(&j, 1, 10, 2);
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT(isnan(res.baseline_g));
	/* jobs beyond the grid */
	hjob(&j, 20, 30, 2);
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_UNPROCESSABLE);
	sched_result_release(&res);
	sched_model_free(m);
}

/* ---- residency -------------------------------------------------------- */

static void test_residency(void)
{
	double de[4] = {300, 300, 300, 300}, fr[4] = {50, 50, 50, 50}, us[4] = {5, 5, 5, 5};
	const char *eu[] = {"EU"}, *eude[] = {"EU", "DE"}, *mars[] = {"MARS"};
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;

	struct sched_model *m = sched_model_new(T0, H, 4);
	add_region(m, "de", de, 4, H, "EU");
	add_region(m, "fr", fr, 4, H, "EU");
	add_region(m, "us", us, 4, H, "US");
	sched_result_init(&res);
	hjob(&j, 0, 4, 2);
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_STR_EQ(sched_region_id(m, res.best.region), "us");
	j.residency = eu;
	j.n_residency = 1;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_STR_EQ(sched_region_id(m, res.best.region), "fr");
	for (size_t i = 0; i < res.n_alternatives; i++)
		TL_ASSERT(sched_region_has_tag(m, res.alternatives[i].region, "EU"));
	TL_ASSERT_INT_EQ(res.n_alternatives, 1);
	/* explicit list ∩ residency */
	size_t only[] = {0, 2};
	j.regions = only;
	j.n_regions = 2;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_STR_EQ(sched_region_id(m, res.best.region), "de");
	j.residency = eude; /* every tag must be carried */
	j.n_residency = 2;
	j.regions = NULL;
	j.n_regions = 0;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_UNPROCESSABLE);
	TL_ASSERT_STR_EQ(err.field, "residency");
	j.residency = mars;
	j.n_residency = 1;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_UNPROCESSABLE);
	TL_ASSERT_CONTAINS(err.msg, "residency excludes every");
	size_t bogus[] = {7};
	j.residency = NULL;
	j.n_residency = 0;
	j.regions = bogus;
	j.n_regions = 1;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "regions");
	sched_result_release(&res);
	sched_model_free(m);
}

/* ---- validation ------------------------------------------------------- */

static void test_validation(void)
{
	double v[4] = {1, 2, 3, 4};
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	static const struct {
		int field; /* which to break */
		const char *name;
	} cases[] = {{0, "deadline"},	 {1, "duration"},     {2, "power_kw"}, {3, "duration"},
		     {4, "min_segment"}, {5, "max_segments"}, {6, "origin"},   {7, "alternatives"}};

	struct sched_model *m = sched_model_new(T0, H, 4);
	add_region(m, "A", v, 4, H, NULL);
	sched_result_init(&res);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		hjob(&j, 0, 4, 2);
		switch (cases[i].field) {
		case 0: j.deadline = j.earliest_start - H; break;
		case 1: j.duration = 5 * H; break;
		case 2: j.power_kw = -1; break;
		case 3: j.duration = 0; break;
		case 4: j.min_segment = -1; break;
		case 5: j.max_segments = -2; break;
		case 6: j.origin = 3; break;
		case 7: j.max_alternatives = SCHED_MAX_ALTERNATIVES + 1; break;
		}
		TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_INVALID);
		TL_ASSERT_STR_EQ(err.field, cases[i].name);
	}
	double prof[2] = {1, 2};
	hjob(&j, 0, 4, 2);
	j.profile_kw = prof;
	j.interruptible = true;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "profile");
	sched_result_release(&res);
	sched_model_free(m);
}

/* ---- brute force on small random cases -------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* Best cost over every subset of n eligible steps of v[0..w) whose runs
 * are all ≥ ms long and number at most ks (0 = any). */
static double brute_interruptible(const double *v, size_t w, size_t n, size_t ms, size_t ks)
{
	double best = INFINITY;

	for (uint32_t mask = 0; mask < (1u << w); mask++) {
		if ((size_t)__builtin_popcount(mask) != n)
			continue;
		double c = 0;
		size_t runs = 0, len = 0;
		bool ok = true;
		for (size_t t = 0; t <= w && ok; t++) {
			bool on = t < w && (mask >> t & 1);
			if (on) {
				if (isnan(v[t]))
					ok = false;
				c += v[t];
				len++;
			} else if (len) {
				ok = len >= ms;
				runs++;
				len = 0;
			}
		}
		if (ok && ks && runs > ks)
			ok = false;
		if (ok && c < best)
			best = c;
	}
	return best;
}

static void test_interruptible_brute_force(void)
{
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	double v[12];
	int checked = 0, infeasible = 0;

	sched_result_init(&res);
	for (int it = 0; it < 600; it++) {
		size_t w = 4 + rnd() % 9, n = 1 + rnd() % w, ms = 1 + rnd() % 4, ks = rnd() % 4;

		for (size_t t = 0; t < w; t++)
			v[t] = rnd() % 7 == 0 ? NAN : (double)(rnd() % 50); /* many ties */
		struct sched_model *m = sched_model_new(T0, H, w);
		add_region(m, "A", v, w, H, NULL);
		hjob(&j, 0, (int)w, (int)n);
		j.interruptible = true;
		j.min_segment = (int64_t)ms * H;
		j.max_segments = (int)ks;
		size_t ms_eff = ms > n ? n : ms;
		double want = brute_interruptible(v, w, n, ms_eff, ks);
		int rc = sched_place(m, NULL, &j, &res, &err);
		if (want == INFINITY) {
			TL_ASSERT_INT_EQ(rc, ERR_UNPROCESSABLE);
			infeasible++;
		} else {
			TL_ASSERT_INT_EQ(rc, ERR_OK);
			TL_ASSERT_DBL_EQ(res.best.expected_g, want, 1e-9);
			/* the plan itself obeys the constraints */
			size_t steps = 0;
			for (size_t s = 0; s < res.best.n_seg; s++) {
				const struct sched_segment *sg = &sched_segments(&res, &res.best)[s];
				size_t len = (size_t)((sg->end - sg->start) / H);

				TL_ASSERT(len >= ms_eff);
				steps += len;
				if (s > 0)
					TL_ASSERT(sg->start > sched_segments(&res, &res.best)[s - 1].end);
			}
			TL_ASSERT_INT_EQ(steps, n);
			if (ks)
				TL_ASSERT(res.best.n_seg <= ks);
			checked++;
		}
		sched_model_free(m);
	}
	TL_ASSERT(checked > 300);
	TL_ASSERT(infeasible > 10);
	sched_result_release(&res);
}

static void test_block_and_profile_brute_force(void)
{
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;
	double v[40], prof[8];

	sched_result_init(&res);
	for (int it = 0; it < 300; it++) {
		size_t w = 8 + rnd() % 32, n = 1 + rnd() % 8;
		bool use_prof = it % 2;

		for (size_t t = 0; t < w; t++)
			v[t] = rnd() % 11 == 0 ? NAN : (double)(rnd() % 1000) / 7;
		for (size_t k = 0; k < n; k++)
			prof[k] = (double)(1 + rnd() % 5);
		struct sched_model *m = sched_model_new(T0, H, w);
		add_region(m, "A", v, w, H, NULL);
		hjob(&j, 0, (int)w, (int)n);
		j.power_kw = 3;
		j.profile_kw = use_prof ? prof : NULL;
		double best = INFINITY;
		size_t best_s = 0;
		for (size_t s = 0; s + n <= w; s++) {
			double c = 0;
			for (size_t k = 0; k < n; k++)
				c += (use_prof ? prof[k] : 3) * v[s + k];
			if (!isnan(c) && (best == INFINITY || c < best - 1e-9 * best)) {
				best = c;
				best_s = s;
			}
		}
		int rc = sched_place(m, NULL, &j, &res, &err);
		if (best == INFINITY) {
			TL_ASSERT_INT_EQ(rc, ERR_UNPROCESSABLE);
		} else {
			TL_ASSERT_INT_EQ(rc, ERR_OK);
			TL_ASSERT_INT_EQ(res.best.start, T0 + (int64_t)best_s * H);
			TL_ASSERT_DBL_EQ(res.best.expected_g, best, 1e-9 * best);
		}
		sched_model_free(m);
	}
	sched_result_release(&res);
}

/* Selection over a long window: the n smallest, in time order. */
static void test_selection_large(void)
{
	enum { W = 5000, N = 1234 };
	double *v = xmalloc(W * sizeof(double)), *sorted = xmalloc(W * sizeof(double));
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;

	for (size_t t = 0; t < W; t++)
		sorted[t] = v[t] = (double)(rnd() % 300);
	struct sched_model *m = sched_model_new(T0, H, W);
	add_region(m, "A", v, W, H, NULL);
	sched_result_init(&res);
	hjob(&j, 0, W, N);
	j.interruptible = true;
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	/* insertion-free check: count how many values are below the N-th */
	double sum = 0;
	for (size_t i = 0; i < N; i++) { /* partial selection sort of the first N */
		size_t mi = i;
		for (size_t k = i + 1; k < W; k++)
			if (sorted[k] < sorted[mi])
				mi = k;
		double x = sorted[i];
		sorted[i] = sorted[mi];
		sorted[mi] = x;
		sum += sorted[i];
	}
	TL_ASSERT_DBL_EQ(res.best.expected_g, sum, 1e-6);
	sched_result_release(&res);
	sched_model_free(m);
	free(v);
	free(sorted);
}

/* ---- job arrays ------------------------------------------------------- */

/* Best total cost of k copies of an n-step job over regions with unit
 * capacities u[r][t] (exhaustive: nondecreasing (region, start) lists). */
static double brute_batch(const double v[][8], const int u[][8], size_t nr, size_t w, size_t n, size_t k,
			  int load[][8], size_t from)
{
	if (k == 0)
		return 0;
	double best = INFINITY;
	for (size_t x = from; x < nr * w; x++) {
		size_t r = x / w, s = x % w;
		bool ok = s + n <= w;
		double c = 0;

		for (size_t t = s; ok && t < s + n; t++) {
			ok = load[r][t] < u[r][t] && !isnan(v[r][t]);
			c += v[r][t];
		}
		if (!ok)
			continue;
		for (size_t t = s; t < s + n; t++)
			load[r][t]++;
		double rest = brute_batch(v, u, nr, w, n, k - 1, load, x);
		for (size_t t = s; t < s + n; t++)
			load[r][t]--;
		if (c + rest < best)
			best = c + rest;
	}
	return best;
}

static void test_batch_brute_force(void)
{
	struct sched_batch b;
	struct sched_job j;
	struct err_detail err;
	int exact_uniform = 0, nonuniform = 0, nonuniform_exact = 0;

	sched_batch_init(&b);
	for (int it = 0; it < 400; it++) {
		size_t nr = 1 + rnd() % 2, w = 3 + rnd() % 6, n = 1 + rnd() % 3, k = 1 + rnd() % 6;
		bool uniform = it % 2 == 0;
		double v[2][8];
		int u[2][8], load[2][8] = {{0}};

		struct sched_model *m = sched_model_new(T0, H, w);
		for (size_t r = 0; r < nr; r++) {
			int base = 1 + (int)(rnd() % 3);
			for (size_t t = 0; t < w; t++) {
				v[r][t] = rnd() % 9 == 0 ? NAN : (double)(1 + rnd() % 20);
				u[r][t] = uniform ? base : (int)(rnd() % 4);
			}
			add_region(m, r ? "B" : "A", v[r], w, H, NULL);
		}
		struct sched_capacity *cap = sched_capacity_new(m, 0);
		for (size_t r = 0; r < nr; r++)
			for (size_t t = 0; t < w; t++)
				sched_capacity_row(cap, r)[t] = 2.0 * u[r][t]; /* 2-kW copies */
		hjob(&j, 0, (int)w, (int)n);
		j.power_kw = 2;
		double want = 2 * brute_batch(v, u, nr, w, n, k, load, 0);
		int rc = sched_place_batch(m, cap, &j, k, &b, &err);
		if (want == INFINITY) {
			TL_ASSERT(rc == ERR_NO_CAPACITY || rc == ERR_UNPROCESSABLE);
			TL_ASSERT(b.placed < k);
		} else {
			TL_ASSERT_INT_EQ(rc, ERR_OK);
			TL_ASSERT_INT_EQ(b.placed, k);
			/* feasible: the commit fits, and the cost adds up */
			TL_ASSERT_INT_EQ(sched_commit_batch(m, cap, &j, &b), ERR_OK);
			double sum = 0;
			size_t copies = 0;
			for (size_t i = 0; i < b.n_blocks; i++) {
				sum += b.blocks[i].expected_g * (double)b.blocks[i].count;
				copies += b.blocks[i].count;
			}
			TL_ASSERT_INT_EQ(copies, k);
			TL_ASSERT_DBL_EQ(sum, b.expected_g, 1e-9);
			TL_ASSERT(b.expected_g >= want - 1e-9);
			if (uniform) { /* exact when the free capacity is uniform */
				TL_ASSERT_DBL_EQ(b.expected_g, want, 1e-9);
				exact_uniform++;
			} else {
				nonuniform++;
				nonuniform_exact += fabs(b.expected_g - want) < 1e-9;
			}
		}
		sched_capacity_free(cap);
		sched_model_free(m);
	}
	printf("\n  job arrays: %d uniform cases exact; %d of %d non-uniform cases exact ", exact_uniform,
	       nonuniform_exact, nonuniform);
	TL_ASSERT(exact_uniform > 100);
	sched_batch_release(&b);
}

static void test_batch_cases(void)
{
	double v[6] = {50, 10, 20, 30, 40, 60};
	struct sched_batch b;
	struct sched_result res;
	struct sched_job j;
	struct err_detail err;

	struct sched_model *m = sched_model_new(T0, H, 6);
	add_region(m, "A", v, 6, H, NULL);
	sched_batch_init(&b);
	sched_result_init(&res);
	/* unlimited capacity: every copy where one job goes */
	hjob(&j, 0, 6, 2);
	TL_ASSERT_INT_EQ(sched_place(m, NULL, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(sched_place_batch(m, NULL, &j, 7, &b, &err), ERR_OK);
	TL_ASSERT_INT_EQ(b.n_blocks, 1);
	TL_ASSERT_INT_EQ(b.blocks[0].count, 7);
	TL_ASSERT_INT_EQ(b.blocks[0].start, res.best.start);
	/* one copy per step: three disjoint 2-step runs fit, 50+10, 20+30, 40+60 */
	struct sched_capacity *cap = sched_capacity_new(m, 1);
	TL_ASSERT_INT_EQ(sched_place_batch(m, cap, &j, 4, &b, &err), ERR_NO_CAPACITY);
	TL_ASSERT_INT_EQ(b.placed, 3);
	TL_ASSERT_DBL_EQ(b.expected_g, 210, 1e-9);
	TL_ASSERT_CONTAINS(err.msg, "3 of the 4");
	TL_ASSERT_INT_EQ(sched_commit_batch(m, cap, &j, &b), ERR_OK);
	TL_ASSERT_INT_EQ(sched_place_batch(m, cap, &j, 1, &b, &err), ERR_NO_CAPACITY);
	TL_ASSERT_INT_EQ(b.placed, 0);
	/* a region listed twice is one candidate, not twice the capacity */
	size_t twice[] = {0, 0};
	sched_capacity_set(cap, 0, 1);
	j.regions = twice;
	j.n_regions = 2;
	TL_ASSERT_INT_EQ(sched_place_batch(m, cap, &j, 4, &b, &err), ERR_NO_CAPACITY);
	TL_ASSERT_INT_EQ(b.placed, 3);
	TL_ASSERT_INT_EQ(sched_commit_batch(m, cap, &j, &b), ERR_OK);
	j.max_alternatives = 3;
	sched_capacity_set(cap, 0, 1);
	TL_ASSERT_INT_EQ(sched_place(m, cap, &j, &res, &err), ERR_OK);
	TL_ASSERT_INT_EQ(res.n_alternatives, 0);
	j.regions = NULL;
	j.n_regions = 0;
	j.interruptible = true;
	TL_ASSERT_INT_EQ(sched_place_batch(m, cap, &j, 1, &b, &err), ERR_INVALID);
	sched_capacity_free(cap);
	sched_result_release(&res);
	sched_batch_release(&b);
	sched_model_free(m);
}

static CU_TestInfo tests[] = {
    {"cats fixture golden values", test_cats_fixture},
    {"ties: earliest start, then origin", test_ties},
    {"capacity exhaustion", test_capacity_exhaustion},
    {"p90 risk", test_p90_risk},
    {"pue, resampling, partial step", test_pue_and_resampling},
    {"gaps are never eligible", test_gaps},
    {"residency filtering", test_residency},
    {"validation names the field", test_validation},
    {"interruptible vs brute force", test_interruptible_brute_force},
    {"contiguous and profile vs brute force", test_block_and_profile_brute_force},
    {"selection on a long window", test_selection_large},
    {"job arrays vs brute force", test_batch_brute_force},
    {"job arrays: unlimited, exhausted, refused", test_batch_cases},
    CU_TEST_INFO_NULL,
};

TL_SUITE("service/sched", NULL, NULL, tests)
