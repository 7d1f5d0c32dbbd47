/*
 * series.h - fixed-step time series with explicit gaps.
 *
 * A series covers n consecutive steps of 'step' seconds from 'start'; the
 * timestamp of a step is the start of the interval it covers.  A gap is a
 * NAN value.  'est' is NULL (nothing estimated) or n flags.  Series are
 * plain arrays so that forecasters and the placement engine work on them
 * without copying.
 */
#ifndef CARBONSCHED_CORE_SERIES_H
#define CARBONSCHED_CORE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct series {
	int64_t start;	    /* start of step 0, UTC seconds */
	int32_t step;	    /* seconds per step, > 0 */
	size_t n;	    /* number of steps */
	size_t cap;	    /* allocated elements of v (and est) */
	double *v;	    /* n values, NAN = gap */
	unsigned char *est; /* NULL, or n flags: value is estimated */
};

/* Initialise an empty series in caller storage; release with
 * series_release.  Does not allocate. */
void series_init(struct series *s, int64_t start, int32_t step);
void series_release(struct series *s);

/* Heap series of n gap steps; free with series_free (NULL is a no-op). */
struct series *series_new(int64_t start, int32_t step, size_t n);
void series_free(struct series *s);

/* Make s hold exactly n steps; new steps are gaps. */
void series_resize(struct series *s, size_t n);

static inline int64_t series_ts(const struct series *s, size_t i)
{
	return s->start + (int64_t)i * s->step;
}

/* Instant just after the last step (start + n * step). */
static inline int64_t series_end(const struct series *s)
{
	return s->start + (int64_t)s->n * s->step;
}

/* Index of the step starting at t: false when t is outside or not aligned. */
bool series_index(const struct series *s, int64_t t, size_t *ret_i);

/* Value of the step that starts at t, or NAN. */
double series_at(const struct series *s, int64_t t);

/* Set the step starting at t, extending the series forwards or backwards
 * with gaps as needed.  An empty series (n == 0) adopts t as its start.
 * ERR_INVALID when t is not on the step grid.  'estimated' allocates the
 * flag array on first use. */
int series_set(struct series *s, int64_t t, double v, bool estimated);

/* Append one step at the end. */
void series_push(struct series *s, double v);

bool series_is_estimated(const struct series *s, size_t i);

/* Number of steps that are not gaps. */
size_t series_count_valid(const struct series *s);

/* Copy of the steps in [from, to) of 'in' (bounds rounded to the grid),
 * into *ret, which must be released by the caller.  Steps outside 'in' are
 * gaps. */
void series_slice(const struct series *in, int64_t from, int64_t to, struct series *ret);

/* Resample to another step into *ret (caller releases).  Coarser: the mean
 * of the valid sub-steps, a gap when there are none.  Finer: each fine step
 * takes the value of the coarse step it lies in (step-start semantics).
 * ERR_INVALID when one step is not a multiple of the other. */
int series_resample(const struct series *in, int32_t step, struct series *ret);

/* Replace runs of at most max_steps gaps by the previous value. */
void series_fill_forward(struct series *s, size_t max_steps);

/* Mean of the valid values, NAN when there are none. */
double series_mean(const struct series *s);

#endif
