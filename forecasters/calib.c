/*
 * calib.c - split-conformal intervals with Adaptive Conformal Inference.
 *
 * Residuals are pooled per quarter-day block of the horizon: errors grow
 * with lead time, and within a block they are similar enough to pool
 * (Tables of forecasting.md §3.4).  Quantiles are taken on a sorted copy
 * at each call: a block holds a few hundred values, so this costs
 * microseconds and keeps the ring simple.  An empty block borrows the
 * nearest earlier block with data, so a short seed still gives intervals.
 */
#include "forecasters/calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void fc_calib_init(struct fc_calib *c, size_t steps_per_day, int days, double nominal, double gamma,
		   bool log_ratio)
{
	memset(c, 0, sizeof(*c));
	c->steps_per_block = steps_per_day >= 4 ? steps_per_day / 4 : 1;
	c->nominal = nominal;
	c->gamma = gamma > 0 ? gamma : 0;
	c->log_ratio = log_ratio;
	for (size_t i = 0; i < FC_CALIB_MAX_BLOCKS; i++) {
		c->b[i].cap = (size_t)(days > 0 ? days : 1) * c->steps_per_block;
		c->b[i].alpha = 1 - nominal;
	}
}

void fc_calib_release(struct fc_calib *c)
{
	for (size_t i = 0; i < FC_CALIB_MAX_BLOCKS; i++) {
		free(c->b[i].r);
		c->b[i].r = NULL;
		c->b[i].len = c->b[i].pos = 0;
	}
}

void fc_calib_clear(struct fc_calib *c)
{
	for (size_t i = 0; i < FC_CALIB_MAX_BLOCKS; i++) {
		c->b[i].len = c->b[i].pos = 0;
		c->b[i].alpha = 1 - c->nominal;
	}
}

bool fc_calib_is_empty(const struct fc_calib *c)
{
	for (size_t i = 0; i < FC_CALIB_MAX_BLOCKS; i++)
		if (c->b[i].len)
			return false;
	return true;
}

static size_t block_of(const struct fc_calib *c, size_t h)
{
	size_t b = h / c->steps_per_block;

	return b < FC_CALIB_MAX_BLOCKS ? b : FC_CALIB_MAX_BLOCKS - 1;
}

void fc_calib_add(struct fc_calib *c, size_t h, double p50, double actual, int covered)
{
	struct fc_calib_block *b = &c->b[block_of(c, h)];
	double r;

	if (!isfinite(p50) || !isfinite(actual))
		return;
	if (c->log_ratio) {
		if (p50 <= 0 || actual <= 0)
			return;
		r = log(actual / p50);
	} else {
		r = actual - p50;
	}
	if (!b->r)
		b->r = xmalloc(b->cap * sizeof(double));
	b->r[b->pos] = r;
	b->pos = (b->pos + 1) % b->cap;
	if (b->len < b->cap)
		b->len++;
	if (covered >= 0 && c->gamma > 0) {
		b->alpha += c->gamma * ((1 - c->nominal) - (covered ? 0 : 1));
		if (b->alpha < 0.001)
			b->alpha = 0.001;
		if (b->alpha > 0.999)
			b->alpha = 0.999;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Empirical quantile with linear interpolation of sorted v[0..n). */
static double quantile(const double *v, size_t n, double q)
{
	double pos;
	size_t i;

	if (q <= 0)
		return v[0];
	if (q >= 1)
		return v[n - 1];
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

bool fc_calib_quantiles(const struct fc_calib *c, size_t h, double *ret_lo, double *ret_hi)
{
	size_t bi = block_of(c, h);
	const struct fc_calib_block *b = &c->b[bi];
	double *tmp;

	while (!b->len && bi > 0)
		b = &c->b[--bi];
	if (!b->len)
		return false;
	tmp = xmalloc(b->len * sizeof(double));
	memcpy(tmp, b->r, b->len * sizeof(double));
	qsort(tmp, b->len, sizeof(double), cmp_double);
	*ret_lo = quantile(tmp, b->len, b->alpha / 2);
	*ret_hi = quantile(tmp, b->len, 1 - b->alpha / 2);
	free(tmp);
	return true;
}

void fc_calib_apply(const struct fc_calib *c, double p50, double lo, double hi, double *ret_lo,
		    double *ret_hi)
{
	if (!isfinite(p50)) {
		*ret_lo = *ret_hi = p50;
		return;
	}
	if (c->log_ratio) {
		*ret_lo = p50 * exp(lo < 0 ? lo : 0);
		*ret_hi = p50 * exp(hi > 0 ? hi : 0);
	} else {
		*ret_lo = p50 + (lo < 0 ? lo : 0);
		*ret_hi = p50 + (hi > 0 ? hi : 0);
	}
}

void fc_calib_interval(const struct fc_calib *c, size_t h, double p50, double *ret_lo, double *ret_hi)
{
	double lo, hi;

	if (!isfinite(p50) || !fc_calib_quantiles(c, h, &lo, &hi)) {
		*ret_lo = *ret_hi = p50;
		return;
	}
	fc_calib_apply(c, p50, lo, hi, ret_lo, ret_hi);
}
