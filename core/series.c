/*
 * series.c - fixed-step series.
 *
 * Invariant: v (and est when non-NULL) hold at least n elements; gaps are
 * NAN, never a sentinel such as 0 or -1 (the Carbon Aware SDK's -1 "missing
 * value" wins "best" windows - we refuse to repeat that).
 */
#include "core/series.h"

#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"

void series_init(struct series *s, int64_t start, int32_t step)
{
	memset(s, 0, sizeof(*s));
	s->start = start;
	s->step = step;
}

void series_release(struct series *s)
{
	free(s->v);
	free(s->est);
	s->v = NULL;
	s->est = NULL;
	s->n = s->cap = 0;
}

struct series *series_new(int64_t start, int32_t step, size_t n)
{
	struct series *s = xmalloc(sizeof(*s));

	series_init(s, start, step);
	series_resize(s, n);
	return s;
}

void series_free(struct series *s)
{
	if (!s)
		return;
	series_release(s);
	free(s);
}

static void reserve(struct series *s, size_t n)
{
	size_t cap = s->cap;

	if (n <= s->cap)
		return;
	s->v = xgrow(s->v, &cap, n, sizeof(double));
	if (s->est) {
		s->est = xrealloc(s->est, cap);
		memset(s->est + s->cap, 0, cap - s->cap);
	}
	s->cap = cap;
}

void series_resize(struct series *s, size_t n)
{
	reserve(s, n);
	for (size_t i = s->n; i < n; i++) {
		s->v[i] = NAN;
		if (s->est)
			s->est[i] = 0;
	}
	s->n = n;
}

bool series_index(const struct series *s, int64_t t, size_t *ret_i)
{
	int64_t d = t - s->start;

	if (d < 0 || d % s->step)
		return false;
	if ((uint64_t)(d / s->step) >= s->n)
		return false;
	*ret_i = (size_t)(d / s->step);
	return true;
}

double series_at(const struct series *s, int64_t t)
{
	size_t i;

	return series_index(s, t, &i) ? s->v[i] : NAN;
}

static void ensure_est(struct series *s)
{
	if (!s->est)
		s->est = xcalloc(s->cap ? s->cap : 1, 1);
}

int series_set(struct series *s, int64_t t, double v, bool estimated)
{
	if (s->n == 0) {
		s->start = t;
	} else if ((t - s->start) % s->step) {
		return ERR_INVALID;
	} else if (t < s->start) {
		size_t shift = (size_t)((s->start - t) / s->step);
		size_t old = s->n;

		reserve(s, old + shift);
		memmove(s->v + shift, s->v, old * sizeof(double));
		for (size_t i = 0; i < shift; i++)
			s->v[i] = NAN;
		if (s->est) {
			memmove(s->est + shift, s->est, old);
			memset(s->est, 0, shift);
		}
		s->n = old + shift;
		s->start = t;
	}
	size_t i = (size_t)((t - s->start) / s->step);
	if (i >= s->n)
		series_resize(s, i + 1);
	s->v[i] = v;
	if (estimated) {
		ensure_est(s);
		s->est[i] = 1;
	} else if (s->est) {
		s->est[i] = 0;
	}
	return ERR_OK;
}

void series_push(struct series *s, double v)
{
	series_resize(s, s->n + 1);
	s->v[s->n - 1] = v;
}

bool series_is_estimated(const struct series *s, size_t i)
{
	return s->est && i < s->n && s->est[i];
}

size_t series_count_valid(const struct series *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		k += !isnan(s->v[i]);
	return k;
}

void series_slice(const struct series *in, int64_t from, int64_t to, struct series *ret)
{
	int64_t step = in->step;
	/* Align bounds to the grid of 'in'. */
	int64_t a = in->start + ((from - in->start) / step) * step;

	if (a < from)
		a += step;
	series_init(ret, a, in->step);
	if (to <= a)
		return;
	size_t n = (size_t)((to - a + step - 1) / step);
	series_resize(ret, n);
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (series_index(in, a + (int64_t)i * step, &j)) {
			ret->v[i] = in->v[j];
			if (series_is_estimated(in, j)) {
				ensure_est(ret);
				ret->est[i] = 1;
			}
		}
	}
}

int series_resample(const struct series *in, int32_t step, struct series *ret)
{
	if (step <= 0)
		return ERR_INVALID;
	if (step == in->step) {
		series_slice(in, in->start, series_end(in), ret);
		return ERR_OK;
	}
	if (step > in->step) {
		if (step % in->step)
			return ERR_INVALID;
		int64_t a = ts_floor(in->start, step);
		size_t n = in->n ? (size_t)((series_end(in) - a + step - 1) / step) : 0;

		series_init(ret, a, step);
		series_resize(ret, n);
		for (size_t i = 0; i < n; i++) {
			double sum = 0;
			int k = 0;
			int64_t t0 = a + (int64_t)i * step;

			for (int64_t t = t0; t < t0 + step; t += in->step) {
				double v = series_at(in, t);

				if (!isnan(v)) {
					sum += v;
					k++;
				}
			}
			ret->v[i] = k ? sum / k : NAN;
		}
		return ERR_OK;
	}
	if (in->step % step)
		return ERR_INVALID;
	size_t f = (size_t)(in->step / step);
	series_init(ret, in->start, step);
	series_resize(ret, in->n * f);
	for (size_t i = 0; i < in->n * f; i++)
		ret->v[i] = in->v[i / f];
	return ERR_OK;
}

void series_fill_forward(struct series *s, size_t max_steps)
{
	size_t run = 0;

	for (size_t i = 1; i < s->n; i++) {
		if (!isnan(s->v[i])) {
			run = 0;
			continue;
		}
		/* Length of this gap run. */
		size_t j = i;
		while (j < s->n && isnan(s->v[j]))
			j++;
		run = j - i;
		if (run <= max_steps && !isnan(s->v[i - 1]))
			for (size_t k = i; k < j; k++)
				s->v[k] = s->v[i - 1];
		i = j;
	}
}

double series_mean(const struct series *s)
{
	double sum = 0;
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		if (!isnan(s->v[i])) {
			sum += s->v[i];
			k++;
		}
	return k ? sum / (double)k : NAN;
}
