/* core/time: strict RFC 3339, loose data-file times, durations, calendar. */
#include "core/time.h"
#include "tests/lib/testlib.h"

static const struct {
	const char *in;
	long long want; /* -1: must be rejected */
} rfc3339[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"2021-07-01T00:00:00Z", 1625097600},
    {"2021-07-01t00:00:00z", 1625097600},
    {"2021-07-01T02:00:00+02:00", 1625097600},
    {"2021-06-30T19:30:00-04:30", 1625097600},
    {"2021-07-01T00:00:00.999Z", 1625097600},
    {"2020-02-29T12:00:00Z", 1582977600},
    {"2000-02-29T00:00:00Z", 951782400},
    {"2021-12-31T23:59:59Z", 1640995199},
    {"2021-02-29T00:00:00Z", -1}, /* not a leap year */
    {"1900-02-29T00:00:00Z", -1}, /* century, not a leap year */
    {"2021-07-01T24:00:00Z", -1},
    {"2021-07-01T23:60:00Z", -1},
    {"2021-07-01T23:59:60Z", -1}, /* leap seconds are not supported */
    {"2021-13-01T00:00:00Z", -1},
    {"2021-00-10T00:00:00Z", -1},
    {"2021-04-31T00:00:00Z", -1},
    {"2021-07-01T00:00:00", -1},  /* no offset */
    {"2021-07-01 00:00:00Z", -1}, /* space instead of T */
    {"2021-07-01T00:00Z", -1},	  /* no seconds */
    {"2021-07-01", -1},
    {"2021-7-01T00:00:00Z", -1},
    {"2021-07-01T00:00:00Zjunk", -1},
    {"2021-07-01T00:00:00+2:00", -1},
    {"2021-07-01T00:00:00+24:00", -1},
    {"2021-07-01T00:00:00.Z", -1},
    {"", -1},
    {"now", -1},
    {"1625097600", -1},
};

static void test_parse_rfc3339(void)
{
	for (size_t i = 0; i < sizeof(rfc3339) / sizeof(rfc3339[0]); i++) {
		struct err_detail err = {0};
		int64_t t = -42;
		int rc = ts_parse(rfc3339[i].in, "from", &t, &err);

		if (rfc3339[i].want < 0) {
			TL_ASSERT_INT_EQ(rc, ERR_INVALID);
			TL_ASSERT_INT_EQ(t, -42); /* untouched on failure */
			TL_ASSERT_STR_EQ(err.field, "from");
		} else {
			if (rc)
				tl_fail(__LINE__, __FILE__, false, "'%s' rejected: %s", rfc3339[i].in,
					err.msg);
			TL_ASSERT_INT_EQ(t, rfc3339[i].want);
		}
	}
}

static void test_error_message_says_what_was_expected(void)
{
	struct err_detail err;
	int64_t t;

	ts_parse("2021-07-01T00:00:00", "deadline", &t, &err);
	TL_ASSERT_CONTAINS(err.msg, "'2021-07-01T00:00:00'");
	TL_ASSERT_CONTAINS(err.msg, "time zone");
	ts_parse(NULL, "deadline", &t, &err);
	TL_ASSERT_CONTAINS(err.msg, "missing");
}

static void test_format_roundtrip(void)
{
	char buf[TS_BUFSZ];
	int64_t t;

	TL_ASSERT_STR_EQ(ts_format(0, buf), "1970-01-01T00:00:00Z");
	TL_ASSERT_STR_EQ(ts_format(1625097600, buf), "2021-07-01T00:00:00Z");
	TL_ASSERT_STR_EQ(ts_format(-1, buf), "1969-12-31T23:59:59Z");
	/* The cached formatter agrees with the plain one, also backwards. */
	struct ts_fmt_cache cache = {0};
	char a[TS_BUFSZ];
	for (int64_t x = 1609459200 - 86400 * 3; x < 1609459200 + 86400 * 3; x += 1799)
		TL_ASSERT_STR_EQ(ts_format_cached(&cache, x, a), ts_format(x, buf));
	for (int64_t x = 100000; x > -100000; x -= 3601)
		TL_ASSERT_STR_EQ(ts_format_cached(&cache, x, a), ts_format(x, buf));
	/* Every hour of 2019-2021 survives format -> parse. */
	for (int64_t x = 1546300800; x < 1640995200; x += 3600 * 7 + 13) {
		ts_format(x, buf);
		TL_ASSERT_INT_EQ(ts_parse(buf, NULL, &t, NULL), ERR_OK);
		TL_ASSERT_INT_EQ(t, x);
	}
}

static void test_loose(void)
{
	int64_t t;
	static const char *ok[] = {"2021-07-01 00:00:00",	  "2021-07-01 00:00:00+00:00",
				   "2021-07-01T00:00Z",		  "2021-07-01 00:00",
				   "2021-07-01T00:00:00.000000Z", "2021-07-01T01:00+01:00"};
	static const char *bad[] = {"2021-07-01", "01/07/2021 00:00", "2021-07-01 25:00:00", "x"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = 0;
		TL_ASSERT(ts_parse_loose(ok[i], strlen(ok[i]), &t));
		TL_ASSERT_INT_EQ(t, 1625097600);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TL_ASSERT(!ts_parse_loose(bad[i], strlen(bad[i]), &t));
	/* Length-bounded: the rest of a CSV line is not read. */
	TL_ASSERT(ts_parse_loose("2021-07-01 00:00:00,242.9", 19, &t));
}

static void test_durations(void)
{
	static const struct {
		const char *in;
		long long want;
	} cases[] = {
	    {"PT4H", 14400}, {"PT30M", 1800}, {"P1D", 86400}, {"P1DT2H30M", 95400},
	    {"PT90S", 90},   {"P1W", 604800}, {"4h", 14400},  {"96h", 345600},
	    {"1h30m", 5400}, {"2d", 172800},  {"PT0S", -1},   {"P", -1},
	    {"PT", -1},	     {"P4H", -1},     {"PT4D", -1},   {"4", -1},
	    {"-4h", -1},     {"4x", -1},      {"", -1},	      {"PT4H5", -1},
	    {"P1DT", -1},
	};
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t s = 0;
		int rc = ts_parse_duration(cases[i].in, "duration", &s, NULL);

		if (cases[i].want < 0) {
			if (rc == ERR_OK)
				tl_fail(__LINE__, __FILE__, false, "'%s' accepted as %lld", cases[i].in,
					(long long)s);
		} else {
			TL_ASSERT_INT_EQ(rc, ERR_OK);
			TL_ASSERT_INT_EQ(s, cases[i].want);
		}
	}
	TL_ASSERT_STR_EQ(ts_format_duration(14400, out), "PT4H");
	TL_ASSERT_STR_EQ(ts_format_duration(95400, out), "P1DT2H30M");
	TL_ASSERT_STR_EQ(ts_format_duration(86400, out), "P1D");
	TL_ASSERT_STR_EQ(ts_format_duration(0, out), "PT0S");
}

static void test_calendar(void)
{
	struct ts_civil c;

	ts_to_civil(1625097600, &c); /* Thursday 2021-07-01 */
	TL_ASSERT_INT_EQ(c.weekday, 3);
	TL_ASSERT_INT_EQ(c.yday, 181);
	ts_to_civil(ts_from_civil(2020, 12, 31, 23, 0, 0), &c);
	TL_ASSERT_INT_EQ(c.yday, 365);
	TL_ASSERT_INT_EQ(c.hour, 23);
	ts_to_civil(-86400, &c); /* Wednesday 1969-12-31 */
	TL_ASSERT_INT_EQ(c.weekday, 2);
	TL_ASSERT_INT_EQ(ts_floor(3599, 3600), 0);
	TL_ASSERT_INT_EQ(ts_floor(-1, 3600), -3600);
	TL_ASSERT_INT_EQ(ts_ceil(1, 3600), 3600);
	TL_ASSERT_INT_EQ(ts_ceil(3600, 3600), 3600);
}

static CU_TestInfo tests[] = {
    {"rfc3339 table", test_parse_rfc3339},
    {"error messages", test_error_message_says_what_was_expected},
    {"format roundtrip", test_format_roundtrip},
    {"loose data-file times", test_loose},
    {"durations", test_durations},
    {"calendar", test_calendar},
    CU_TEST_INFO_NULL,
};
TL_SUITE("core/time", NULL, NULL, tests)
