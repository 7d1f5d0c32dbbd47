/*
 * time.c - calendar arithmetic without the C library's time zone state.
 *
 * timegm/gmtime_r depend on TZ and locale machinery and are not strict;
 * the civil-from-days algorithms below (H. Hinnant) are exact for the
 * proleptic Gregorian calendar and need no global state, so they are safe
 * in every thread.
 */
#include "core/time.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool ts_is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int ts_days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && ts_is_leap_year(y) ? 29 : days[m - 1];
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int64_t ts_from_civil(int year, int month, int day, int hour, int minute, int second)
{
	return days_from_civil(year, month, day) * TS_DAY + hour * TS_HOUR + minute * TS_MINUTE + second;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void ts_to_civil(int64_t t, struct ts_civil *c)
{
	int64_t z = floor_div(t, TS_DAY);
	int64_t secs = t - z * TS_DAY;
	int64_t days = z;

	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	c->year = (int)(y + (m <= 2));
	c->month = m;
	c->day = d;
	c->hour = (int)(secs / TS_HOUR);
	c->minute = (int)(secs % TS_HOUR / TS_MINUTE);
	c->second = (int)(secs % TS_MINUTE);
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	c->weekday = (int)((floor_div(days, 7) * -7 + days + 3) % 7);
	c->yday = (int)(days - days_from_civil(c->year, 1, 1));
}

/* Two digits, then 'sep' unless it is 0.  Formatting by hand: ts_format
 * runs once per point when signals are written as CSV or COPY rows. */
static void put2(char **p, int v, char sep)
{
	*(*p)++ = (char)('0' + v / 10);
	*(*p)++ = (char)('0' + v % 10);
	if (sep)
		*(*p)++ = sep;
}

char *ts_format(int64_t t, char out[TS_BUFSZ])
{
	struct ts_civil c;
	char *p = out;

	ts_to_civil(t, &c);
	put2(&p, c.year / 100 % 100, 0);
	put2(&p, c.year % 100, '-');
	put2(&p, c.month, '-');
	put2(&p, c.day, 'T');
	put2(&p, c.hour, ':');
	put2(&p, c.minute, ':');
	put2(&p, c.second, 'Z');
	*p = '\0';
	return out;
}

char *ts_format_cached(struct ts_fmt_cache *c, int64_t t, char out[TS_BUFSZ])
{
	int64_t day = floor_div(t, TS_DAY), secs = t - day * TS_DAY;
	char *p = out + 11;

	if (c->day != day + 1) {
		ts_format(day * TS_DAY, out);
		memcpy(c->date, out, 11);
		c->day = day + 1;
	}
	memcpy(out, c->date, 11);
	put2(&p, (int)(secs / TS_HOUR), ':');
	put2(&p, (int)(secs % TS_HOUR / TS_MINUTE), ':');
	put2(&p, (int)(secs % TS_MINUTE), 'Z');
	*p = '\0';
	return out;
}

int64_t ts_floor(int64_t t, int64_t step)
{
	return floor_div(t, step) * step;
}

int64_t ts_ceil(int64_t t, int64_t step)
{
	int64_t f = ts_floor(t, step);

	return f == t ? t : f + step;
}

/* Read exactly n digits at *p; advances *p. */
static bool digits(const char **p, const char *end, int n, int *ret)
{
	int v = 0;

	if (end - *p < n)
		return false;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/* Shared by the strict and the loose parser.  'strict' requires 'T',
 * seconds and an offset. */
static bool parse(const char *s, size_t len, bool strict, int64_t *ret_t, const char **why)
{
	const char *p = s, *end = s + len;
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 0;

	*why = "expected an RFC 3339 time such as 2024-03-01T12:00:00Z";
	if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') || !digits(&p, end, 2, &mo) ||
	    !expect(&p, end, '-') || !digits(&p, end, 2, &d))
		return false;
	if (p >= end || (*p != 'T' && *p != 't' && (strict || *p != ' ')))
		return false;
	p++;
	if (!digits(&p, end, 2, &h) || !expect(&p, end, ':') || !digits(&p, end, 2, &mi))
		return false;
	if (p < end && *p == ':') {
		p++;
		if (!digits(&p, end, 2, &sec))
			return false;
		if (p < end && *p == '.') {
			p++;
			if (p >= end || !isdigit((unsigned char)*p))
				return false;
			while (p < end && isdigit((unsigned char)*p))
				p++;
		}
	} else if (strict) {
		*why = "expected seconds (HH:MM:SS) in the time";
		return false;
	}
	if (p < end && (*p == 'Z' || *p == 'z')) {
		p++;
		sign = 1;
	} else if (p < end && (*p == '+' || *p == '-')) {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (!digits(&p, end, 2, &oh) || !expect(&p, end, ':') || !digits(&p, end, 2, &om))
			return false;
		if (oh > 23 || om > 59) {
			*why = "the UTC offset is out of range";
			return false;
		}
	} else if (strict) {
		*why = "expected a time zone: 'Z' or an offset such as +01:00";
		return false;
	}
	if (p != end) {
		*why = "unexpected characters after the time";
		return false;
	}
	if (y < 1900 || y > 2199 || mo < 1 || mo > 12 || d < 1 || d > ts_days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 59) {
		*why = "a date or time field is out of range";
		return false;
	}
	int64_t off = (int64_t)(oh * 60 + om) * 60 * (sign ? sign : 1);
	*ret_t = ts_from_civil(y, mo, d, h, mi, sec) - off;
	return true;
}

int ts_parse(const char *s, const char *field, int64_t *ret_t, struct err_detail *err)
{
	const char *why;
	int64_t t;

	if (!s || !*s)
		return err_set(err, ERR_INVALID, field, "'%s' is missing: expected an RFC 3339 time",
			       field ? field : "time");
	if (!parse(s, strlen(s), true, &t, &why))
		return err_set(err, ERR_INVALID, field, "'%.64s' is not a valid time: %s", s, why);
	*ret_t = t;
	return ERR_OK;
}

bool ts_parse_loose(const char *s, size_t len, int64_t *ret_t)
{
	const char *why;

	return parse(s, len, false, ret_t, &why);
}

/* One or more digits at *p (at most 2^40, far beyond any duration we
 * take); advances *p. */
static bool read_count(const char **p, int64_t *ret)
{
	int64_t v = 0;
	const char *start = *p;

	while (isdigit((unsigned char)**p)) {
		if (v > INT64_C(1) << 40)
			return false;
		v = v * 10 + (*(*p)++ - '0');
	}
	*ret = v;
	return *p != start;
}

static bool short_duration(const char *s, int64_t *ret)
{
	int64_t total = 0;
	const char *p = s;

	if (!*p)
		return false;
	while (*p) {
		int64_t v;

		if (!read_count(&p, &v))
			return false;
		switch (*p++) {
		case 's': total += v; break;
		case 'm': total += v * TS_MINUTE; break;
		case 'h': total += v * TS_HOUR; break;
		case 'd': total += v * TS_DAY; break;
		default: return false;
		}
	}
	*ret = total;
	return true;
}

static bool iso_duration(const char *s, int64_t *ret)
{
	const char *p = s;
	int64_t total = 0;
	bool in_time = false, any = false;

	if (*p++ != 'P')
		return false;
	while (*p) {
		int64_t v;

		if (*p == 'T') {
			if (in_time)
				return false;
			in_time = true;
			p++;
			if (!*p)
				return false;
			continue;
		}
		if (!read_count(&p, &v))
			return false;
		char u = *p++;
		if (!in_time && u == 'D')
			total += v * TS_DAY;
		else if (!in_time && u == 'W')
			total += v * 7 * TS_DAY;
		else if (in_time && u == 'H')
			total += v * TS_HOUR;
		else if (in_time && u == 'M')
			total += v * TS_MINUTE;
		else if (in_time && u == 'S')
			total += v;
		else
			return false;
		any = true;
	}
	if (!any)
		return false;
	*ret = total;
	return true;
}

int ts_parse_duration(const char *s, const char *field, int64_t *ret_s, struct err_detail *err)
{
	int64_t v = 0;

	if (!s || !*s)
		return err_set(err, ERR_INVALID, field, "'%s' is missing: expected a duration such as PT4H",
			       field ? field : "duration");
	if (!(s[0] == 'P' ? iso_duration(s, &v) : short_duration(s, &v)))
		return err_set(err, ERR_INVALID, field,
			       "'%.64s' is not a valid duration: expected ISO 8601 such as PT4H or P1DT30M, "
			       "or 4h, 30m, 2d",
			       s);
	if (v <= 0)
		return err_set(err, ERR_INVALID, field, "duration '%.64s' must be longer than zero", s);
	*ret_s = v;
	return ERR_OK;
}

char *ts_format_duration(int64_t s, char out[32])
{
	int64_t d = s / TS_DAY, h = s % TS_DAY / TS_HOUR, m = s % TS_HOUR / TS_MINUTE, sec = s % TS_MINUTE;
	int n = snprintf(out, 32, "P");

	if (d)
		n += snprintf(out + n, 32 - n, "%" PRId64 "D", d);
	if (h || m || sec || !d) {
		n += snprintf(out + n, 32 - n, "T");
		if (h)
			n += snprintf(out + n, 32 - n, "%" PRId64 "H", h);
		if (m)
			n += snprintf(out + n, 32 - n, "%" PRId64 "M", m);
		if (sec || (!h && !m))
			snprintf(out + n, 32 - n, "%" PRId64 "S", sec);
	}
	return out;
}

int64_t ts_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

int64_t ts_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ts_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
