/* core/buf: growth, caps, JSON strings and exact double formatting. */
#include <stdlib.h>

#include "core/buf.h"
#include "core/error.h"
#include "tests/lib/testlib.h"

static void test_cap(void)
{
	struct buf b;

	buf_init(&b, 10);
	TL_ASSERT_INT_EQ(buf_adds(&b, "0123456789"), ERR_OK);
	TL_ASSERT_INT_EQ(buf_addc(&b, 'x'), ERR_TOO_LARGE);
	TL_ASSERT_INT_EQ(b.len, 10); /* unchanged by the refused append */
	buf_reset(&b);
	TL_ASSERT_INT_EQ(buf_addf(&b, "%s", "01234567890"), ERR_TOO_LARGE);
	TL_ASSERT_INT_EQ(b.len, 0);
	TL_ASSERT_STR_EQ(b.data, "");
	buf_release(&b);
	buf_init(&b, 0);
	for (int i = 0; i < 10000; i++)
		buf_addf(&b, "%d,", i);
	TL_ASSERT_INT_EQ(b.len, 48890);
	buf_release(&b);
}

static void test_json_string(void)
{
	struct buf b;

	buf_init(&b, 0);
	buf_add_json_string(&b, "a\"b\\c\nd\x01");
	TL_ASSERT_STR_EQ(b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
	buf_release(&b);
}

static void test_doubles_roundtrip(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
	    {0, "0"},	      {-0.5, "-0.5"},
	    {242.9, "242.9"}, {100.25, "100.25"},
	    {1e-7, "1e-07"},  {0.1 + 0.2, "0.30000000000000004"},
	    {-7, "-7"},	      {1234567.125, "1234567.125"},
	    {1e20, "1e+20"},  {0.000001, "0.000001"},
	};
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		buf_add_double(&b, cases[i].v);
		TL_ASSERT_STR_EQ(b.data, cases[i].want);
	}
	/* Every value reads back exactly. */
	unsigned x = 12345;
	for (int i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		double v = (double)(x % 2000000) / (i % 3 ? 100.0 : 7.0) - 3000;
		buf_reset(&b);
		buf_add_double(&b, v);
		if (strtod(b.data, NULL) != v) {
			tl_fail(__LINE__, __FILE__, false, "%.17g printed as %s", v, b.data);
			break;
		}
	}
	buf_reset(&b);
	buf_add_double(&b, 0.0 / 0.0);
	TL_ASSERT_STR_EQ(b.data, "null");
	buf_release(&b);
}

static CU_TestInfo tests[] = {
    {"caps", test_cap},
    {"json strings", test_json_string},
    {"doubles round-trip", test_doubles_roundtrip},
    CU_TEST_INFO_NULL,
};
TL_SUITE("core/buf", NULL, NULL, tests)
