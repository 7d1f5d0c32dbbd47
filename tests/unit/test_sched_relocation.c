/* Relocation on the 123-zone matrix of Sukprasert et al. (2022, hourly):
 * random jobs (fixed seed) allowed in any EU zone land in the greenest
 * zone-hours that still have capacity; jobs with residency limits or an
 * explicit region list never leave them.  Every answer is checked against
 * brute force over the allowed zones under the capacity left by the jobs
 * before it.  The matrix is tests-only data: read from ../shared/data, the
 * test skips without it. */
#include <stdint.h>
#include <stdlib.h>

#include "connectors/files.h"
#include "core/mem.h"
#include "service/sched.h"
#include "tests/lib/testlib.h"

static const char *const eu_members[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI",
					 "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
					 "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};

static uint64_t state = 20240601;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Best cost of the job in region r under capacity row cap (1 kW, whole hours). */
static double brute(const double *v, const double *cap, size_t lo, size_t hi, size_t n, bool interruptible,
		    double *tmp)
{
	double best = INFINITY;

	if (interruptible) {
		size_t k = 0;

		for (size_t t = lo; t < hi; t++)
			if (cap[t] >= 1 - 1e-9)
				tmp[k++] = v[t];
		if (k < n)
			return INFINITY;
		qsort(tmp, k, sizeof(double), cmp_double);
		best = 0;
		for (size_t i = 0; i < n; i++)
			best += tmp[i];
		return best;
	}
	for (size_t s = lo; s + n <= hi; s++) {
		double c = 0;
		bool ok = true;

		for (size_t t = s; t < s + n && ok; t++) {
			ok = cap[t] >= 1 - 1e-9;
			c += v[t];
		}
		if (ok && c < best)
			best = c;
	}
	return best;
}

static void test_relocation_property(void)
{
	const char *d = tl_shared_data();
	char path[4096];
	struct sig_set set;
	struct err_detail err;
	size_t eu[128], neu = 0, nz;

	if (!d) {
		printf("\n  skipped: ../shared/data not found (set CARBONSCHED_SHARED_DATA) ");
		return;
	}
	snprintf(path, sizeof(path), "%s/sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv", d);
	if (files_read(path, "wide", NULL, &set, &err)) {
		printf("\n  skipped: %s: %s ", path, err.msg);
		sig_set_release(&set);
		return;
	}
	nz = set.n;
	TL_ASSERT_INT_EQ(nz, 123);
	const struct series *s0 = &set.items[0].s;
	struct sched_model *m = sched_model_new(s0->start, s0->step, s0->n);
	for (size_t i = 0; i < nz; i++) {
		char country[8];
		const char *tags[2];
		size_t r, nt = 0;

		snprintf(country, sizeof(country), "%.*s", (int)strcspn(set.items[i].zone, "-"),
			 set.items[i].zone);
		bool member = false;
		for (size_t k = 0; k < ARRAY_SIZE(eu_members); k++)
			member |= !strcmp(country, eu_members[k]);
		if (member)
			tags[nt++] = "EU";
		tags[nt++] = country;
		struct sched_region_spec spec = {
		    .id = set.items[i].zone, .tags = tags, .n_tags = nt, .ci = {NULL, &set.items[i].s, NULL}};
		TL_ASSERT_INT_EQ(sched_model_add_region(m, &spec, &r, &err), ERR_OK);
		if (member)
			eu[neu++] = r;
	}
	TL_ASSERT_INT_EQ(neu, 36); /* 26 members in the matrix (no MT), DK, IT and SE split into zones */
	struct sched_capacity *cap = sched_capacity_new(m, 2); /* two 1-kW jobs per zone-hour */
	struct sched_result res;
	struct sched_job j;
	double *tmp = xmalloc(128 * sizeof(double));
	int constrained = 0, moved = 0, kinds[3] = {0};
	const char *res_tags[1];
	size_t list[4];

	sched_result_init(&res);
	for (int it = 0; it < 600; it++) {
		int kind = (int)(rnd() % 10);
		size_t a = 150 * 24 + rnd() % 240, win = 6 + rnd() % 67, n = 1 + rnd() % 8;

		kind = kind < 5 ? 0 : kind < 8 ? 1 : 2;
		kinds[kind]++;
		if (n > win)
			n = win;
		sched_job_init(&j);
		j.submit = j.earliest_start = sched_model_start(m) + (int64_t)a * 3600;
		j.deadline = j.earliest_start + (int64_t)win * 3600;
		j.duration = (int64_t)n * 3600;
		j.power_kw = 1;
		j.interruptible = rnd() % 5 < 2;
		size_t pick = eu[rnd() % neu];
		j.origin = (int)pick;
		char country[8];
		snprintf(country, sizeof(country), "%.*s", (int)strcspn(sched_region_id(m, pick), "-"),
			 sched_region_id(m, pick));
		if (kind == 0) {
			res_tags[0] = "EU";
			j.residency = res_tags;
			j.n_residency = 1;
		} else if (kind == 1) {
			res_tags[0] = country;
			j.residency = res_tags;
			j.n_residency = 1;
		} else {
			size_t k = 1 + rnd() % 4;
			for (size_t i = 0; i < k; i++)
				list[i] = eu[rnd() % neu];
			j.regions = list;
			j.n_regions = k;
		}
		/* brute force over the allowed zones */
		double best = INFINITY, free_best = INFINITY;
		for (size_t r = 0; r < nz; r++) {
			bool allowed = kind == 0   ? sched_region_has_tag(m, r, "EU")
				       : kind == 1 ? sched_region_has_tag(m, r, country)
						   : false;
			for (size_t i = 0; kind == 2 && i < j.n_regions; i++)
				allowed |= list[i] == r;
			if (!allowed)
				continue;
			double c = brute(sched_region_intensity(m, r, SCHED_P50), sched_capacity_row(cap, r),
					 a, a + win, n, j.interruptible, tmp);
			best = c < best ? c : best;
		}
		int rc = sched_place(m, cap, &j, &res, &err);
		if (best == INFINITY) {
			TL_ASSERT_INT_EQ(rc, ERR_NO_CAPACITY);
			continue;
		}
		TL_ASSERT_INT_EQ(rc, ERR_OK);
		if (rc)
			continue;
		/* never outside the limits */
		size_t r = res.best.region;
		if (kind == 0)
			TL_ASSERT(sched_region_has_tag(m, r, "EU"));
		else if (kind == 1)
			TL_ASSERT(sched_region_has_tag(m, r, country));
		else {
			bool in = false;
			for (size_t i = 0; i < j.n_regions; i++)
				in |= list[i] == r;
			TL_ASSERT(in);
		}
		for (size_t i = 0; i < res.n_alternatives; i++)
			TL_ASSERT(kind != 0 || sched_region_has_tag(m, res.alternatives[i].region, "EU"));
		/* the greenest feasible zone-hours */
		TL_ASSERT_DBL_EQ(res.best.expected_g, best, 1e-9 * best);
		/* and what it would have been with nothing booked */
		if (sched_place(m, NULL, &j, &res, &err) == ERR_OK)
			free_best = res.best.expected_g;
		constrained += best > free_best + 1e-9 * best;
		TL_ASSERT_INT_EQ(sched_place(m, cap, &j, &res, &err), ERR_OK);
		moved += (int)res.best.region != j.origin;
		TL_ASSERT_INT_EQ(sched_commit(m, cap, &j, &res, &res.best), ERR_OK);
	}
	printf(
	    "\n  600 jobs (%d EU-wide, %d one country, %d region lists): %d relocated, %d pushed off their "
	    "unconstrained optimum by capacity ",
	    kinds[0], kinds[1], kinds[2], moved, constrained);
	TL_ASSERT(constrained > 20); /* capacity really binds */
	TL_ASSERT(moved > 100);
	sched_result_release(&res);
	sched_capacity_free(cap);
	sched_model_free(m);
	sig_set_release(&set);
	free(tmp);
}

static CU_TestInfo tests[] = {
    {"EU jobs land in the greenest feasible zone-hours", test_relocation_property},
    CU_TEST_INFO_NULL,
};

TL_SUITE("service/sched_relocation", NULL, NULL, tests)
