/* 'carbonsched simulate --protocol temporal' on the 123-zone matrix of
 * Sukprasert et al. (evaluation.md §5.1): the arrival counts of the
 * protocol for every job length, and the per-zone values against a direct
 * implementation (every window sorted) for the configurations the authors'
 * outputs were checked on.  Tests-only data: skipped without it. */
#include <stdlib.h>

#include "connectors/files.h"
#include "core/mem.h"
#include "tests/integration/simrun.h"
#include "tests/lib/testlib.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The protocol written out directly for one zone. */
static void direct(const double *c, size_t n, size_t len, size_t slack, double *ret_def, double *ret_int,
		   double *ret_now)
{
	size_t arrivals = slack >= n ? n - len + 1 : n - len;
	double *w = xmalloc(n * sizeof(double)), now = 0, def = 0, in = 0;

	for (size_t i = 0; i < arrivals; i++) {
		size_t end = slack >= n || i + slack + len > n ? n : i + slack + len;
		double best = INFINITY, sum = 0;

		for (size_t k = 0; k < len; k++)
			now += c[i + k];
		for (size_t s = i; s + len <= end; s++) {
			double b = 0;
			for (size_t k = 0; k < len; k++)
				b += c[s + k];
			best = b < best ? b : best;
		}
		def += round(best * 100) / 100;
		memcpy(w, c + i, (end - i) * sizeof(double));
		qsort(w, end - i, sizeof(double), cmp_double);
		for (size_t k = 0; k < len; k++)
			sum += w[k];
		in += round(sum * 100) / 100;
	}
	*ret_now = now / arrivals;
	*ret_def = def / arrivals;
	*ret_int = in / arrivals;
	free(w);
}

static void test_temporal_protocol(void)
{
	static const size_t lens[] = {1, 6, 12, 24, 48, 96, 168};
	static const long long arrivals[] = {8759, 8754, 8748, 8736, 8712, 8664, 8592};
	static const struct {
		const char *zone;
		size_t len, slack;
	} checks[] = {{"DE", 24, 24}, {"US-CAL-CISO", 6, 168}, {"GB", 48, 720}};
	const char *d = tl_shared_data();
	char path[4096];

	if (!d) {
		printf("\n  skipped: ../shared/data not found (set CARBONSCHED_SHARED_DATA) ");
		return;
	}
	snprintf(path, sizeof(path), "%s/sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv", d);
	const char *args[] = {"--protocol",	     "temporal", "--signals",	    path, "--lengths",
			      "1,6,12,24,48,96,168", "--slacks", "24,168,720,8760", NULL};
	json_t *j = simrun_json(args);
	if (!j)
		return;
	json_t *configs = json_object_get(j, "configs");
	TL_ASSERT_INT_EQ(json_array_size(configs), 28);
	for (size_t i = 0; i < json_array_size(configs); i++) {
		json_t *cf = json_array_get(configs, i), *zones = json_object_get(cf, "zones");
		size_t li = i / 4;
		double slack = simrun_num(cf, "slack_h");
		const char *z;
		json_t *v;

		TL_ASSERT_DBL_EQ(simrun_num(cf, "length_h"), (double)lens[li], 0);
		TL_ASSERT_INT_EQ(json_object_size(zones), 123);
		json_object_foreach (zones, z, v) {
			long long a = json_integer_value(json_object_get(v, "arrivals"));

			if (a != arrivals[li] + (slack == 8760))
				tl_fail(__LINE__, __FILE__, false, "%s L=%zu S=%g: %lld arrivals", z,
					lens[li], slack, a);
			if (simrun_num(v, "interruptible") > simrun_num(v, "deferrable") + 1e-9)
				tl_fail(__LINE__, __FILE__, false, "%s: interruptible above deferrable", z);
		}
		CU_PASS("arrivals");
	}

	/* the same numbers, computed directly from the matrix */
	struct sig_set set;
	struct err_detail err;
	TL_ASSERT_INT_EQ(files_read(path, "wide", NULL, &set, &err), ERR_OK);
	for (size_t k = 0; k < ARRAY_SIZE(checks); k++) {
		const struct sig_series *ss = sig_set_find(&set, checks[k].zone, "carbon_intensity");
		size_t ci = 0;

		TL_ASSERT(ss != NULL);
		if (!ss)
			continue;
		while (ci < ARRAY_SIZE(lens) && lens[ci] != checks[k].len)
			ci++;
		size_t si = checks[k].slack == 24 ? 0 : checks[k].slack == 168 ? 1 : 2;
		json_t *v = json_object_get(json_object_get(json_array_get(configs, ci * 4 + si), "zones"),
					    checks[k].zone);
		double def, in, now;
		direct(ss->s.v, ss->s.n, checks[k].len, checks[k].slack, &def, &in, &now);
		printf("\n  %-12s %3zu h job, %3zu h slack: run-now %.3f, deferrable -%.3f %%, interruptible "
		       "-%.3f %%",
		       checks[k].zone, checks[k].len, checks[k].slack, now, 100 * (1 - def / now),
		       100 * (1 - in / now));
		TL_ASSERT_DBL_EQ(simrun_num(v, "run_now"), now, 1e-9 * now);
		TL_ASSERT_DBL_EQ(simrun_num(v, "deferrable"), def, 1e-9 * now);
		TL_ASSERT_DBL_EQ(simrun_num(v, "interruptible"), in, 1e-9 * now);
	}
	sig_set_release(&set);
	json_decref(j);
}

static CU_TestInfo tests[] = {
    {"123-zone temporal protocol", test_temporal_protocol},
    CU_TEST_INFO_NULL,
};

TL_SUITE("simulate/temporal", NULL, NULL, tests)
