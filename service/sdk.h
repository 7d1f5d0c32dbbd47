/*
 * sdk.h - the arithmetic of the Green Software Foundation's Carbon Aware
 * SDK (v1.8), so that the compatibility routes (h_sdk.c) answer as its
 * WebAPI does: its time formats, its filter of points by their interval,
 * its rolling averages and its choice of the optimal windows.
 *
 * Pure functions on arrays of points; no I/O, no allocation except where
 * said.  docs/interfaces.md lists where carbonsched deliberately differs
 * from the SDK and why.
 */
#ifndef CARBONSCHED_SERVICE_SDK_H
#define CARBONSCHED_SERVICE_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/series.h"

/* One value over [t, t + dur): an observed or forecast point, or a window. */
struct sdk_point {
	int64_t t;
	int64_t dur; /* seconds, > 0 */
	double v;
};

/* Bytes of "2022-07-19T13:37:49+00:00" with the NUL. */
#define SDK_TIME_BUFSZ 26

/* An instant as the SDK serialises a DateTimeOffset normalised to UTC:
 * "YYYY-MM-DDTHH:MM:SS+00:00".  Returns out. */
char *sdk_time_format(int64_t t, char out[SDK_TIME_BUFSZ]);

/* A duration as a .NET TimeSpan string: "00:05:00", "01:00:00",
 * "1.02:03:04" from a day on.  out needs 32 bytes; returns out. */
char *sdk_timespan_format(int64_t seconds, char out[32]);

/* Parse a date-time as the SDK accepts it.
 *   strict (JSON bodies): ISO 8601 "YYYY-MM-DD", "YYYY-MM-DDTHH:MM",
 *     "YYYY-MM-DDTHH:MM:SS[.fraction]", each with an optional "Z" or
 *     "+hh:mm"/"-hh:mm" offset; every field zero-padded.
 *   lenient (query strings): also one-digit months, days, hours, minutes
 *     and seconds ("2022-1-1T4:05:06Z"), a space instead of 'T', offsets
 *     "+hhmm" and "+hh", and an offset whose '+' a URL decoder turned into
 *     a space ("14:00:00 02:00").
 * A time without an offset is UTC (the SDK takes the server's zone, UTC in
 * its container image).  Fractions of a second are dropped.  ERR_INVALID
 * naming 'field' on anything else; *ret set only on success. */
int sdk_time_parse(const char *s, bool lenient, const char *field, int64_t *ret, struct err_detail *err);

/* The valid steps of s as points (gaps left out) into p, which has room
 * for s->n; returns how many were written. */
size_t sdk_points_from_series(const struct series *s, struct sdk_point *p);

/* The SDK's IntervalHelper.FilterByDuration: keep, in place and in order,
 * the points with t + dur > start and t <= end.  Returns the new count. */
size_t sdk_filter(struct sdk_point *p, size_t n, int64_t start, int64_t end);

/* Time-weighted mean of the points over [start, end): each point counts
 * by the part of its interval inside the period.  True (and *ret) only
 * when the points cover the whole period without a hole; otherwise false
 * and, when ret_hole is not NULL, the start of the first uncovered
 * instant in *ret_hole.  Points are in order and do not overlap. */
bool sdk_average(const struct sdk_point *p, size_t n, int64_t start, int64_t end, double *ret,
		 int64_t *ret_hole);

/* The SDK's rolling average: windows of 'window' seconds starting at
 * 'start', 'start' + tick, ... (tick = the first point's duration), each
 * the time-weighted mean of the points under it.  A window is written
 * only when the points cover it completely and it ends by 'end' (the SDK
 * lets the first window overrun 'end'; this never does).  Writes at most
 * 'max' windows into out (dur = window) and returns how many there are
 * (which may exceed max: call again with more room). */
size_t sdk_rolling_average(const struct sdk_point *p, size_t n, int64_t window, int64_t start, int64_t end,
			   struct sdk_point *out, size_t max);

/* The SDK's optimal points: every point whose value equals the minimum,
 * in the order given (ties all kept, earliest first for a chronological
 * input).  Writes their indices into idx (room for n) and returns how many
 * (0 when n is 0). */
size_t sdk_optimal(const struct sdk_point *p, size_t n, size_t *idx);

#endif
