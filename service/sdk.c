/*
 * sdk.c - the Carbon Aware SDK's arithmetic (see sdk.h).
 *
 * Why a module of its own: the compatibility routes must reproduce the
 * SDK's answers to the digit (golden tests compare them with the SDK's
 * documented examples), and that is easiest to get right - and to test -
 * on plain arrays, away from HTTP and the database.
 *
 * Where the SDK is wrong, this is not: a window never ends after the
 * caller's end (the SDK lets the first one overrun), and a window or a
 * period with a hole in the data is not averaged (the SDK throws from
 * AverageOverPeriod, a 500, or - for Electricity Maps - averages a -1
 * standing for a missing value).
 */
#include "service/sdk.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/time.h"

char *sdk_time_format(int64_t t, char out[SDK_TIME_BUFSZ])
{
	struct ts_civil c;

	ts_to_civil(t, &c);
	snprintf(out, SDK_TIME_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", c.year, c.month, c.day, c.hour,
		 c.minute, c.second);
	return out;
}

char *sdk_timespan_format(int64_t seconds, char out[32])
{
	int64_t s = seconds < 0 ? -seconds : seconds;
	long long d = (long long)(s / TS_DAY);
	int h = (int)(s % TS_DAY / TS_HOUR), m = (int)(s % TS_HOUR / TS_MINUTE), sec = (int)(s % TS_MINUTE);

	if (d)
		snprintf(out, 32, "%s%lld.%02d:%02d:%02d", seconds < 0 ? "-" : "", d, h, m, sec);
	else
		snprintf(out, 32, "%s%02d:%02d:%02d", seconds < 0 ? "-" : "", h, m, sec);
	return out;
}

/* --- parsing ------------------------------------------------------------------ */

/* Read between min and max digits at *p into *ret, advancing *p. */
static bool digits(const char **p, int min, int max, int *ret)
{
	int n = 0, v = 0;

	while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min)
		return false;
	*p += n;
	*ret = v;
	return true;
}

static int bad_time(const char *s, bool lenient, const char *field, struct err_detail *err, const char *why)
{
	return err_set(
	    err, ERR_INVALID, field,
	    "%s: '%.64s' is not a date-time%s%s (expected ISO 8601 such as 2022-07-19T14:00:00Z%s)", field, s,
	    why ? ": " : "", why ? why : "", lenient ? "" : ", every field zero-padded");
}

int sdk_time_parse(const char *s, bool lenient, const char *field, int64_t *ret, struct err_detail *err)
{
	const char *p = s;
	int lo = lenient ? 1 : 2, year, mon, day, hour = 0, min = 0, sec = 0, oh = 0, om = 0, sign = 0;

	if (!s || !*s)
		return err_set(err, ERR_INVALID, field, "%s is not set", field);
	if (!digits(&p, 4, 4, &year) || *p++ != '-' || !digits(&p, lo, 2, &mon) || *p++ != '-' ||
	    !digits(&p, lo, 2, &day))
		return bad_time(s, lenient, field, err, NULL);
	if (*p == 'T' || *p == 't' || (lenient && *p == ' ' && p[1] >= '0' && p[1] <= '9')) {
		p++;
		if (!digits(&p, lo, 2, &hour) || *p++ != ':' || !digits(&p, lo, 2, &min))
			return bad_time(s, lenient, field, err, NULL);
		if (*p == ':') {
			p++;
			if (!digits(&p, lo, 2, &sec))
				return bad_time(s, lenient, field, err, NULL);
			if (*p == '.' || (lenient && *p == ',')) {
				int frac;

				p++;
				if (!digits(&p, 1, 9, &frac))
					return bad_time(s, lenient, field, err, NULL);
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-' || (lenient && *p == ' ')) {
			/* A '+' that URL decoding made a space. */
			sign = *p == '-' ? -1 : 1;
			p++;
			if (!digits(&p, 2, 2, &oh))
				return bad_time(s, lenient, field, err, "bad offset");
			if (*p == ':') {
				p++;
				if (!digits(&p, 2, 2, &om))
					return bad_time(s, lenient, field, err, "bad offset");
			} else if (lenient && *p) {
				if (!digits(&p, 2, 2, &om))
					return bad_time(s, lenient, field, err, "bad offset");
			} else if (!lenient) {
				return bad_time(s, lenient, field, err, "bad offset");
			}
		}
	}
	if (*p)
		return bad_time(s, lenient, field, err, "unexpected characters at the end");
	if (year < 1900 || year > 2199 || mon < 1 || mon > 12 || day < 1 ||
	    day > ts_days_in_month(year, mon) || hour > 23 || min > 59 || sec > 59 || oh > 14 || om > 59)
		return bad_time(s, lenient, field, err, "a field is out of range");
	*ret = ts_from_civil(year, mon, day, hour, min, sec) - sign * (oh * TS_HOUR + om * TS_MINUTE);
	return ERR_OK;
}

/* --- points ------------------------------------------------------------------ */

size_t sdk_points_from_series(const struct series *s, struct sdk_point *p)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (isnan(s->v[i]))
			continue;
		p[k].t = series_ts(s, i);
		p[k].dur = s->step;
		p[k].v = s->v[i];
		k++;
	}
	return k;
}

size_t sdk_filter(struct sdk_point *p, size_t n, int64_t start, int64_t end)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (p[i].t + p[i].dur > start && p[i].t <= end)
			p[k++] = p[i];
	return k;
}

bool sdk_average(const struct sdk_point *p, size_t n, int64_t start, int64_t end, double *ret,
		 int64_t *ret_hole)
{
	double len = (double)(end - start), sum = 0;
	int64_t cur = start;

	for (size_t i = 0; i < n && cur < end; i++) {
		int64_t lo, hi;

		if (p[i].t + p[i].dur <= cur)
			continue;
		if (p[i].t > cur)
			break;
		lo = cur;
		hi = p[i].t + p[i].dur < end ? p[i].t + p[i].dur : end;
		/* Weights as fractions of the period: two halves of a window
		 * average exactly, as the SDK's do. */
		sum += p[i].v * ((double)(hi - lo) / len);
		cur = hi;
	}
	if (cur < end || end <= start) {
		if (ret_hole)
			*ret_hole = cur;
		return false;
	}
	*ret = sum;
	return true;
}

size_t sdk_rolling_average(const struct sdk_point *p, size_t n, int64_t window, int64_t start, int64_t end,
			   struct sdk_point *out, size_t max)
{
	size_t count = 0, j = 0;
	int64_t tick;

	if (!n || window <= 0 || p[0].dur <= 0)
		return 0;
	tick = p[0].dur;
	for (int64_t ws = start; ws + window <= end; ws += tick) {
		double v;

		while (j < n && p[j].t + p[j].dur <= ws)
			j++;
		if (j == n)
			break;
		if (!sdk_average(p + j, n - j, ws, ws + window, &v, NULL))
			continue;
		if (count < max)
			out[count] = (struct sdk_point){ws, window, v};
		count++;
	}
	return count;
}

size_t sdk_optimal(const struct sdk_point *p, size_t n, size_t *idx)
{
	size_t k = 0;
	double best = INFINITY;

	for (size_t i = 0; i < n; i++)
		if (p[i].v < best)
			best = p[i].v;
	for (size_t i = 0; i < n; i++)
		if (p[i].v == best)
			idx[k++] = i;
	return k;
}
