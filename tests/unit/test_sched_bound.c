/* service/sched_bound: the 123-zone temporal protocol (evaluation.md §5.1)
 * on a hand-computed case, its arrival counts, and against a direct
 * implementation that sorts every window. */
#include <stdint.h>
#include <stdlib.h>

#include "core/mem.h"
#include "service/sched.h"
#include "tests/lib/testlib.h"

static void test_hand_computed(void)
{
	/* windows and sums written out in the comments */
	const double c[6] = {5, 1, 4, 2, 3, 6};
	struct sched_bound b;
	struct err_detail err;

	/* L = 2, S = 1: arrivals 0..3, windows [i, i + 3):
	 *   {5,1,4} now 6 best block 5 two smallest 5
	 *   {1,4,2} now 5 block 5 smallest 3
	 *   {4,2,3} now 6 block 5 smallest 5
	 *   {2,3,6} now 5 block 5 smallest 5 */
	TL_ASSERT_INT_EQ(sched_temporal_bound(c, 6, 2, 1, &b, &err), ERR_OK);
	TL_ASSERT_INT_EQ(b.arrivals, 4);
	TL_ASSERT_DBL_EQ(b.run_now, 22.0 / 4, 1e-12);
	TL_ASSERT_DBL_EQ(b.deferrable, 5, 1e-12);
	TL_ASSERT_DBL_EQ(b.interruptible, 18.0 / 4, 1e-12);

	/* rest of the series (S >= n): arrivals 0..4, windows [i, 6):
	 *   now 6,5,6,5,9  blocks 5,5,5,5,9  smallest 3,3,5,5,9 */
	TL_ASSERT_INT_EQ(sched_temporal_bound(c, 6, 2, 6, &b, &err), ERR_OK);
	TL_ASSERT_INT_EQ(b.arrivals, 5);
	TL_ASSERT_DBL_EQ(b.run_now, 31.0 / 5, 1e-12);
	TL_ASSERT_DBL_EQ(b.deferrable, 29.0 / 5, 1e-12);
	TL_ASSERT_DBL_EQ(b.interruptible, 25.0 / 5, 1e-12);

	TL_ASSERT_INT_EQ(sched_temporal_bound(c, 6, 0, 1, &b, &err), ERR_INVALID);
	TL_ASSERT_INT_EQ(sched_temporal_bound(c, 6, 6, 1, &b, &err), ERR_INVALID);
	const double gap[3] = {1, NAN, 2};
	TL_ASSERT_INT_EQ(sched_temporal_bound(gap, 3, 1, 1, &b, &err), ERR_INVALID);
}

static uint64_t state = 42;

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

static double round2(double x)
{
	return round(x * 100) / 100;
}

/* The protocol written directly: every window sorted. */
static void naive(const double *c, size_t n, size_t len, size_t slack, struct sched_bound *ret)
{
	size_t arrivals = slack >= n ? n - len + 1 : n - len;
	double *w = xmalloc(n * sizeof(double)), now = 0, def = 0, intr = 0;

	for (size_t i = 0; i < arrivals; i++) {
		size_t end = slack >= n || i + slack + len > n ? n : i + slack + len;
		double best = INFINITY, s = 0;

		for (size_t k = 0; k < len; k++)
			now += c[i + k];
		for (size_t st = i; st + len <= end; st++) {
			double b = 0;
			for (size_t k = 0; k < len; k++)
				b += c[st + k];
			if (b < best)
				best = b;
		}
		def += round2(best);
		memcpy(w, c + i, (end - i) * sizeof(double));
		qsort(w, end - i, sizeof(double), cmp_double);
		for (size_t k = 0; k < len; k++)
			s += w[k];
		intr += round2(s);
	}
	ret->arrivals = arrivals;
	ret->run_now = now / arrivals;
	ret->deferrable = def / arrivals;
	ret->interruptible = intr / arrivals;
	free(w);
}

static void test_against_sorting_every_window(void)
{
	enum { N = 600 };
	double c[N];
	static const size_t lens[] = {1, 3, 6, 24, 48}, slacks[] = {1, 5, 24, 100, N};
	struct sched_bound fast, slow;
	struct err_detail err;

	for (int trial = 0; trial < 3; trial++) {
		for (size_t i = 0; i < N; i++) /* two decimals, long constant runs, ties */
			c[i] = trial == 2 && i % 50 < 30 ? 435.36 : (double)(rnd() % 60000) / 100;
		for (size_t a = 0; a < ARRAY_SIZE(lens); a++)
			for (size_t b = 0; b < ARRAY_SIZE(slacks); b++) {
				TL_ASSERT_INT_EQ(sched_temporal_bound(c, N, lens[a], slacks[b], &fast, &err),
						 ERR_OK);
				naive(c, N, lens[a], slacks[b], &slow);
				TL_ASSERT_INT_EQ(fast.arrivals, slow.arrivals);
				TL_ASSERT_DBL_EQ(fast.run_now, slow.run_now, 1e-9);
				TL_ASSERT_DBL_EQ(fast.deferrable, slow.deferrable, 1e-9);
				TL_ASSERT_DBL_EQ(fast.interruptible, slow.interruptible, 1e-9);
			}
	}
}

/* The arrival counts of evaluation.md §5.1 on a year of hours. */
static void test_arrival_counts(void)
{
	enum { N = 8760 };
	static const size_t lens[] = {1, 6, 12, 24, 48, 96, 168};
	static const size_t want[] = {8759, 8754, 8748, 8736, 8712, 8664, 8592};
	double *c = xmalloc(N * sizeof(double));
	struct sched_bound b;
	struct err_detail err;

	for (size_t i = 0; i < N; i++)
		c[i] = 100 + (double)(rnd() % 30000) / 100;
	for (size_t k = 0; k < ARRAY_SIZE(lens); k++) {
		TL_ASSERT_INT_EQ(sched_temporal_bound(c, N, lens[k], 24, &b, &err), ERR_OK);
		TL_ASSERT_INT_EQ(b.arrivals, want[k]);
		TL_ASSERT(b.interruptible <= b.deferrable + 1e-9);
		TL_ASSERT(b.deferrable <= b.run_now + 0.01);
		TL_ASSERT_INT_EQ(sched_temporal_bound(c, N, lens[k], 8760, &b, &err), ERR_OK);
		TL_ASSERT_INT_EQ(b.arrivals, want[k] + 1);
	}
	free(c);
}

static CU_TestInfo tests[] = {
    {"hand-computed case", test_hand_computed},
    {"against sorting every window", test_against_sorting_every_window},
    {"arrival counts of the protocol", test_arrival_counts},
    CU_TEST_INFO_NULL,
};

TL_SUITE("service/sched_bound", NULL, NULL, tests)
