/*
 * time.h - UTC instants, RFC 3339 and ISO 8601 durations.
 *
 * An instant is an int64_t count of seconds since 1970-01-01T00:00:00Z.
 * There is no local time anywhere in the project: parsing accepts explicit
 * offsets and converts them, formatting always writes 'Z'.  Sub-second
 * precision is not kept (fractions are truncated towards the past).
 */
#ifndef CARBONSCHED_CORE_TIME_H
#define CARBONSCHED_CORE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Bytes needed by ts_format, with the terminating NUL. */
#define TS_BUFSZ 21

#define TS_MINUTE INT64_C(60)
#define TS_HOUR	  INT64_C(3600)
#define TS_DAY	  INT64_C(86400)

/* Strict RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)".
 * Rejects missing offsets, out-of-range fields (Feb 30, 24:00, leap second
 * 60) and trailing bytes.  Years 1900-2199.  Errors: ERR_INVALID with a
 * message saying what was expected; 'field' names the parameter when given.
 * Sets *ret_t only on success. */
int ts_parse(const char *s, const char *field, int64_t *ret_t, struct err_detail *err);

/* The forms found in data files: "YYYY-MM-DD HH:MM[:SS]" or with 'T',
 * optionally followed by fractional seconds, 'Z' or a numeric offset.
 * Without an offset the time is taken as UTC.  'len' bytes of 's' are
 * read (s need not be NUL-terminated).  Returns false when malformed. */
bool ts_parse_loose(const char *s, size_t len, int64_t *ret_t);

/* Write t as "YYYY-MM-DDTHH:MM:SSZ" into out (TS_BUFSZ bytes); returns out. */
char *ts_format(int64_t t, char out[TS_BUFSZ]);

/* Formatting many instants in order: the date part is computed once per
 * day.  Zero-initialise the cache before first use. */
struct ts_fmt_cache {
	int64_t day;   /* day number + 1 of 'date'; 0 = empty */
	char date[12]; /* "YYYY-MM-DDT" */
};
char *ts_format_cached(struct ts_fmt_cache *c, int64_t t, char out[TS_BUFSZ]);

/* Durations: ISO 8601 "PnDTnHnMnS" (e.g. "PT4H", "P1DT30M") or the short
 * forms "90s", "30m", "4h", "2d" (also combined, "1h30m").  Must be > 0.
 * Sets *ret_s only on success; ERR_INVALID otherwise. */
int ts_parse_duration(const char *s, const char *field, int64_t *ret_s, struct err_detail *err);

/* Format a duration of whole seconds as ISO 8601, e.g. "PT4H", "P1DT2H30M";
 * out needs 32 bytes. */
char *ts_format_duration(int64_t s, char out[32]);

/* Largest multiple of step (relative to the epoch) <= t.  step > 0. */
int64_t ts_floor(int64_t t, int64_t step);
/* Smallest multiple of step >= t. */
int64_t ts_ceil(int64_t t, int64_t step);

/* Broken-down UTC fields. weekday: 0 = Monday .. 6 = Sunday. */
struct ts_civil {
	int year, month, day, hour, minute, second, weekday, yday;
};
void ts_to_civil(int64_t t, struct ts_civil *ret);
/* Seconds since the epoch of a UTC civil date; fields are not range-checked
 * beyond what the arithmetic needs. */
int64_t ts_from_civil(int year, int month, int day, int hour, int minute, int second);
bool ts_is_leap_year(int year);
int ts_days_in_month(int year, int month);

/* Wall-clock now (CLOCK_REALTIME), seconds and milliseconds. */
int64_t ts_now(void);
int64_t ts_now_ms(void);
/* Monotonic milliseconds, for measuring durations. */
int64_t ts_mono_ms(void);

#endif
