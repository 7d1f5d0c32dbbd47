/*
 * service/sdk: the Carbon Aware SDK's arithmetic, with the cases of the
 * SDK's own unit tests (sdk:src/CarbonAware/test/extensions/
 * EmissionsDataExtensionsTests.cs, the remarks of RollingAverage) and its
 * date parsing rules.
 */
#include <math.h>

#include "core/time.h"
#include "service/sdk.h"
#include "tests/lib/testlib.h"

#define T0  INT64_C(1577836800) /* 2020-01-01T00:00:00Z, the SDK tests' start */
#define MIN 60

static size_t five_minute(const double *v, size_t n, struct sdk_point *p)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (struct sdk_point){T0 + (int64_t)i * 5 * MIN, 5 * MIN, v[i]};
	return n;
}

static void check_windows(const double *data, size_t n, int window_min, int64_t start, int64_t end,
			  const double *want, size_t nwant, int64_t first_start)
{
	struct sdk_point p[16], out[16];
	size_t k;

	five_minute(data, n, p);
	k = sdk_rolling_average(p, n, window_min * MIN, start, end, out, 16);
	TL_ASSERT_INT_EQ(k, nwant);
	for (size_t i = 0; i < k && i < nwant; i++) {
		TL_ASSERT_DBL_EQ(out[i].v, want[i], 1e-12);
		TL_ASSERT_INT_EQ(out[i].t, first_start + (int64_t)i * 5 * MIN);
		TL_ASSERT_INT_EQ(out[i].dur, window_min * MIN);
	}
}

static void test_rolling_average_sdk_cases(void)
{
	static const double data[] = {10, 20, 30, 40};
	static const double w5[] = {10, 20, 30, 40}, w10[] = {15, 25, 35}, w2[] = {10, 20, 30, 40};
	int64_t end = T0 + 20 * MIN;

	/* "window == / > / < data granularity, tick == data granularity" */
	check_windows(data, 4, 5, T0, end, w5, 4, T0);
	check_windows(data, 4, 10, T0, end, w10, 3, T0);
	check_windows(data, 4, 2, T0, end, w2, 4, T0);
	/* window 0: no averaging (the caller uses the raw points) */
	check_windows(data, 4, 0, T0, end, NULL, 0, T0);
	/* The remarks of RollingAverage: why windows, not single points. */
	static const double a[] = {10, 20, 30, 40, 5}, wa[] = {15, 25, 35, 22.5};
	static const double b[] = {5, 55, 10, 10, 10}, wb[] = {30, 32.5, 10, 10};
	static const double c[] = {12, 11, 10, 12, 13}, wc[] = {11.5, 10.5, 11, 12.5};
	check_windows(a, 5, 10, T0, T0 + 25 * MIN, wa, 4, T0);
	check_windows(b, 5, 10, T0, T0 + 25 * MIN, wb, 4, T0);
	check_windows(c, 5, 10, T0, T0 + 25 * MIN, wc, 4, T0);
}

static void test_rolling_average_bounds(void)
{
	static const double data[] = {10, 20, 30, 40};
	/* Windows start at dataStartAt itself, weighted by overlap:
	 * [00:02, 00:12) = 10*3/10 + 20*5/10 + 30*2/10 = 19, then 29. */
	static const double off[] = {19, 29};
	check_windows(data, 4, 10, T0 + 2 * MIN, T0 + 18 * MIN, off, 2, T0 + 2 * MIN);
	/* A window must end by dataEndAt; the SDK lets the first one overrun
	 * (it would answer 15 here). */
	check_windows(data, 4, 10, T0, T0 + 8 * MIN, NULL, 0, T0);
	/* A window longer than the data: none (the SDK's empty 200). */
	check_windows(data, 4, 60, T0, T0 + 20 * MIN, NULL, 0, T0);

	/* A hole (the 00:10 point missing): no window over it. */
	struct sdk_point p[3] = {{T0, 300, 10}, {T0 + 300, 300, 20}, {T0 + 900, 300, 40}}, out[8];
	size_t k = sdk_rolling_average(p, 3, 600, T0, T0 + 1200, out, 8);
	TL_ASSERT_INT_EQ(k, 1);
	TL_ASSERT_INT_EQ(out[0].t, T0);
	TL_ASSERT_DBL_EQ(out[0].v, 15, 0);
	/* More windows than room: the count is still told. */
	struct sdk_point q[4];
	five_minute(data, 4, q);
	TL_ASSERT_INT_EQ(sdk_rolling_average(q, 4, 300, T0, T0 + 1200, out, 2), 4);
}

static void test_filter_average_optimal(void)
{
	struct sdk_point p[4];
	static const double data[] = {10, 20, 30, 40};
	double v;
	int64_t hole = 0;
	size_t idx[4];

	/* FilterByDuration keeps t + dur > start and t <= end. */
	five_minute(data, 4, p);
	TL_ASSERT_INT_EQ(sdk_filter(p, 4, T0 + 5 * MIN, T0 + 10 * MIN), 2);
	TL_ASSERT_DBL_EQ(p[0].v, 20, 0);
	TL_ASSERT_DBL_EQ(p[1].v, 30, 0);
	five_minute(data, 4, p);
	TL_ASSERT_INT_EQ(sdk_filter(p, 4, T0 + 4 * MIN, T0 + 4 * MIN), 1); /* the point holding an instant */

	/* Time-weighted mean; partial points count by their overlap. */
	five_minute(data, 4, p);
	TL_ASSERT(sdk_average(p, 4, T0, T0 + 20 * MIN, &v, NULL));
	TL_ASSERT_DBL_EQ(v, 25, 1e-12);
	TL_ASSERT(sdk_average(p, 4, T0 + 3 * MIN, T0 + 8 * MIN, &v, NULL));
	TL_ASSERT_DBL_EQ(v, (10 * 2 + 20 * 3) / 5.0, 1e-12);
	/* Not covered: where the first hole starts. */
	TL_ASSERT(!sdk_average(p, 4, T0 - MIN, T0 + 5 * MIN, &v, &hole));
	TL_ASSERT_INT_EQ(hole, T0 - MIN);
	TL_ASSERT(!sdk_average(p, 4, T0, T0 + 25 * MIN, &v, &hole));
	TL_ASSERT_INT_EQ(hole, T0 + 20 * MIN);
	struct sdk_point gap[2] = {{T0, 300, 1}, {T0 + 600, 300, 1}};
	TL_ASSERT(!sdk_average(gap, 2, T0, T0 + 900, &v, &hole));
	TL_ASSERT_INT_EQ(hole, T0 + 300);
	TL_ASSERT(!sdk_average(p, 4, T0 + 60, T0 + 60, &v, NULL));

	/* Every tied minimum, in order; exact equality as the SDK. */
	struct sdk_point t[5] = {{0, 1, 3}, {1, 1, 1}, {2, 1, 2}, {3, 1, 1}, {4, 1, 1.0000000001}};
	TL_ASSERT_INT_EQ(sdk_optimal(t, 5, idx), 2);
	TL_ASSERT_INT_EQ(idx[0], 1);
	TL_ASSERT_INT_EQ(idx[1], 3);
	TL_ASSERT_INT_EQ(sdk_optimal(t, 0, idx), 0);
}

static void test_formats(void)
{
	char b[32], tb[SDK_TIME_BUFSZ];

	TL_ASSERT_STR_EQ(sdk_time_format(1658237869, tb), "2022-07-19T13:37:49+00:00");
	TL_ASSERT_STR_EQ(sdk_timespan_format(300, b), "00:05:00");
	TL_ASSERT_STR_EQ(sdk_timespan_format(3600, b), "01:00:00");
	TL_ASSERT_STR_EQ(sdk_timespan_format(86400, b), "1.00:00:00");
	TL_ASSERT_STR_EQ(sdk_timespan_format(2 * 86400 + 3 * 3600 + 4 * 60 + 5, b), "2.03:04:05");
}

static void test_time_parse(void)
{
	static const struct {
		const char *s;
		bool lenient;
		const char *want; /* NULL: refused */
	} cases[] = {
	    {"2022-07-19T14:00:00Z", false, "2022-07-19T14:00:00Z"},
	    {"2022-07-19T14:00:00+02:00", false, "2022-07-19T12:00:00Z"},
	    {"2022-07-19T14:00:00.8644078+00:00", false, "2022-07-19T14:00:00Z"},
	    {"2022-05-01T14:00:00", false, "2022-05-01T14:00:00Z"}, /* no offset: UTC */
	    {"2022-05-01T14:00", false, "2022-05-01T14:00:00Z"},
	    {"2022-05-01", false, "2022-05-01T00:00:00Z"},
	    {"2021-9-1T08:30:00Z", false, NULL}, /* the SDK's test: bodies are strict */
	    {"2022-06-13T6:05:00Z", false, NULL},
	    {"2022-06-13 06:05:00Z", false, NULL},
	    {"2022-06-13T06:05:00+0200", false, NULL},
	    {"2022-1-1T04:05:06Z", true, "2022-01-01T04:05:06Z"}, /* the SDK's test: queries are lenient */
	    {"2022-08-23T14:00", true, "2022-08-23T14:00:00Z"},
	    {"2022-08-23 4:5:6", true, "2022-08-23T04:05:06Z"},
	    {"2022-08-23T14:00:00 02:00", true, "2022-08-23T12:00:00Z"}, /* '+' decoded as a space */
	    {"2022-08-23T14:00:00-0530", true, "2022-08-23T19:30:00Z"},
	    {"2022-08-23T14:00:00+01", true, "2022-08-23T13:00:00Z"},
	    {"2022-08-23T14:00:00z", true, "2022-08-23T14:00:00Z"},
	    {"2022-02-29T00:00:00Z", true, NULL},
	    {"2024-02-29T00:00:00Z", true, "2024-02-29T00:00:00Z"},
	    {"2022-08-23T24:00:00Z", true, NULL},
	    {"2022-08-23T14:00:60Z", true, NULL},
	    {"2022-08-23T14:00:00+15:00", true, NULL},
	    {"2022-08-23T14:00:00Zjunk", true, NULL},
	    {"22-08-23", true, NULL},
	    {"yesterday", true, NULL},
	    {"", true, NULL},
	    {"2022-08-23T", true, NULL},
	    {"2022-08-23T14", true, NULL},
	    {"1899-12-31T00:00:00Z", true, NULL},
	};
	char out[TS_BUFSZ];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err_detail err = {{0}, {0}};
		int64_t t = -1;
		int rc = sdk_time_parse(cases[i].s, cases[i].lenient, "time", &t, &err);

		if (cases[i].want) {
			if (rc)
				tl_fail(__LINE__, __FILE__, false, "'%s' refused: %s", cases[i].s, err.msg);
			else
				TL_ASSERT_STR_EQ(ts_format(t, out), cases[i].want);
		} else {
			if (!rc)
				tl_fail(__LINE__, __FILE__, false, "'%s' accepted as %s", cases[i].s,
					ts_format(t, out));
			TL_ASSERT_INT_EQ(rc, ERR_INVALID);
			TL_ASSERT_INT_EQ(t, -1);
			TL_ASSERT_STR_EQ(err.field, "time");
		}
	}
}

static CU_TestInfo tests[] = {
    {"rolling average: the SDK's cases", test_rolling_average_sdk_cases},
    {"rolling average: bounds and holes", test_rolling_average_bounds},
    {"filter, average, optimal", test_filter_average_optimal},
    {"time and duration formats", test_formats},
    {"time parsing, strict and lenient", test_time_parse},
    CU_TEST_INFO_NULL,
};
TL_SUITE("sdk", NULL, NULL, tests)
