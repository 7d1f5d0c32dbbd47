/*
 * sched_bound.c - oracle upper bounds of temporal shifting, after
 * Sukprasert et al. (EuroSys 2024), evaluation.md §5.1.
 *
 * For every arrival hour the window moves right by one step at both ends
 * (only the left end once it meets the end of the year), so:
 *  - the best contiguous block is a sliding-window minimum of block sums
 *    (monotone deque over prefix sums): O(n);
 *  - the sum of the 'len' smallest values of the window is kept in a
 *    Fenwick tree over the ranks of the values (count and sum per node):
 *    insert and remove one value per arrival, then descend the tree to the
 *    len-th smallest.  O(n log n) per (zone, len, slack), where sorting each
 *    window would be O(n · W log W).
 * Sums are accumulated in long double so that the rounding of each best
 * value to 0.01 (as in the authors' script) sees the exact two-decimal sum.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "service/sched.h"

struct rank {
	double v;
	size_t i;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

struct fenwick {
	size_t n, top; /* top = highest power of two <= n */
	size_t *cnt;
	long double *sum;
};

static void fw_add(struct fenwick *f, size_t pos, int dc, long double dv)
{
	for (size_t i = pos + 1; i <= f->n; i += i & -i) {
		f->cnt[i] += (size_t)dc;
		f->sum[i] += dv;
	}
}

/* Sum of the k smallest values present (k <= number present): descend to
 * the longest rank prefix holding at most k values.  Ranks are distinct,
 * so that prefix holds exactly k of them. */
static long double fw_sum_smallest(const struct fenwick *f, size_t k)
{
	size_t pos = 0, room = k + 1;
	long double s = 0;

	for (size_t step = f->top; step; step >>= 1) {
		size_t nx = pos + step;

		if (nx <= f->n && f->cnt[nx] < room) {
			pos = nx;
			room -= f->cnt[nx];
			s += f->sum[nx];
		}
	}
	return s;
}

/* To 0.01.  x·100 of a sum of two-decimal values is an integer up to the
 * last bits, far from a .5 tie, so double rounding is exact enough and
 * much cheaper than roundl. */
static double round2(long double x)
{
	return round((double)(x * 100.0L)) / 100;
}

/* One (len, slack) on a series whose step i has rank pos[i]. */
static void bound_one(const double *c, const long double *pre, const size_t *pos, size_t n, size_t len,
		      size_t slack, struct fenwick *fw, size_t *dq, struct sched_bound *ret)
{
	bool rest = slack >= n; /* "rest of the year" */
	size_t arrivals = rest ? n - len + 1 : n - len;
	long double now_sum = 0, def_sum = 0, int_sum = 0;
	size_t in_end = 0;     /* steps [i, in_end) are in the tree */
	size_t next_block = 0; /* next block start to push on the deque */
	size_t qh = 0, qt = 0; /* deque dq[qh..qt) of block starts, sums increasing */

	memset(fw->cnt, 0, (n + 1) * sizeof(*fw->cnt));
	memset(fw->sum, 0, (n + 1) * sizeof(*fw->sum));
	for (size_t i = 0; i < arrivals; i++) {
		size_t end = rest || i + slack + len > n ? n : i + slack + len; /* window [i, end) */

		while (in_end < end) {
			fw_add(fw, pos[in_end], 1, c[in_end]);
			in_end++;
		}
		if (i > 0)
			fw_add(fw, pos[i - 1], -1, -(long double)c[i - 1]);
		/* block starts [i, end - len] */
		while (next_block + len <= end) {
			long double b = pre[next_block + len] - pre[next_block];

			while (qt > qh && pre[dq[qt - 1] + len] - pre[dq[qt - 1]] >= b)
				qt--;
			dq[qt++] = next_block++;
		}
		while (dq[qh] < i)
			qh++;
		now_sum += pre[i + len] - pre[i];
		def_sum += round2(pre[dq[qh] + len] - pre[dq[qh]]);
		int_sum += round2(fw_sum_smallest(fw, len));
	}
	ret->arrivals = arrivals;
	ret->run_now = (double)(now_sum / arrivals);
	ret->deferrable = (double)(def_sum / arrivals);
	ret->interruptible = (double)(int_sum / arrivals);
}

int sched_temporal_bounds(const double *c, size_t n, const size_t *lens, size_t n_lens, const size_t *slacks,
			  size_t n_slacks, struct sched_bound *ret, struct err_detail *err)
{
	for (size_t a = 0; a < n_lens; a++)
		if (lens[a] == 0 || lens[a] >= n)
			return err_set(err, ERR_INVALID, "len", "job length must be between 1 and %zu steps",
				       n ? n - 1 : 0);
	for (size_t i = 0; i < n; i++)
		if (!isfinite(c[i]))
			return err_set(err, ERR_INVALID, "series", "value %zu is a gap", i);

	long double *pre = xmalloc((n + 1) * sizeof(*pre));
	struct rank *rk = xmalloc(n * sizeof(*rk));
	size_t *pos = xmalloc(n * sizeof(*pos));
	size_t *dq = xmalloc((n + 1) * sizeof(*dq));
	struct fenwick fw = {.n = n};

	pre[0] = 0;
	for (size_t i = 0; i < n; i++) {
		pre[i + 1] = pre[i] + c[i];
		rk[i] = (struct rank){c[i], i};
	}
	qsort(rk, n, sizeof(*rk), rank_cmp);
	for (size_t r = 0; r < n; r++)
		pos[rk[r].i] = r;
	fw.cnt = xmalloc((n + 1) * sizeof(*fw.cnt));
	fw.sum = xmalloc((n + 1) * sizeof(*fw.sum));
	for (fw.top = 1; fw.top * 2 <= n; fw.top *= 2)
		;
	for (size_t a = 0; a < n_lens; a++)
		for (size_t s = 0; s < n_slacks; s++)
			bound_one(c, pre, pos, n, lens[a], slacks[s], &fw, dq, &ret[a * n_slacks + s]);
	free(pre);
	free(rk);
	free(pos);
	free(dq);
	free(fw.cnt);
	free(fw.sum);
	return ERR_OK;
}

int sched_temporal_bound(const double *c, size_t n, size_t len, size_t slack, struct sched_bound *ret,
			 struct err_detail *err)
{
	return sched_temporal_bounds(c, n, &len, 1, &slack, 1, ret, err);
}
