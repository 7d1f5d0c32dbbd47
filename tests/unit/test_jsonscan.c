/* core/jsonscan: depth and item caps on raw JSON text, table-driven; each
 * refusal names the place and the limit. */
#include <string.h>

#include "core/jsonscan.h"
#include "tests/lib/testlib.h"

static size_t cap_regions(void *ctx, const char *path, const char **ret_key)
{
	(void)ctx;
	if (!strcmp(path, "regions") || !strcmp(path, "jobs[1].regions")) {
		*ret_key = "limits.max_list_items";
		return 2;
	}
	return 0;
}

static const struct scan_case {
	const char *text;
	int code;
	const char *field, *says; /* when refused */
} cases[] = {
    /* within the caps: depth 4, arrays and objects of 4 */
    {"{\"a\":[[[1,2,3,4]]]}", ERR_OK, NULL, NULL},
    {"[{\"a\":1,\"b\":2,\"c\":3,\"d\":4}]", ERR_OK, NULL, NULL},
    {"\"[[[[[[[[[[\"", ERR_OK, NULL, NULL},			/* brackets in strings do not count */
    {"{\"k\\\"[[[[[\":\"]]]]\\\"{{{{{\"}", ERR_OK, NULL, NULL}, /* nor escaped quotes */
    {"{\"regions\":[\"a\",\"b\"]}", ERR_OK, NULL, NULL},
    {"[]", ERR_OK, NULL, NULL},
    {"", ERR_OK, NULL, NULL},
    {"[[[[", ERR_OK, NULL, NULL}, /* not JSON: left to the parser */
    {"]]]]}}}[", ERR_OK, NULL, NULL},
    /* too deep */
    {"[[[[[1]]]]]", ERR_LIMIT, "[0][0][0][0]", "deeper than 4 levels"},
    {"{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", ERR_LIMIT, "a.b.c.d", "limits.max_json_depth"},
    {"{\"a\":[1,{\"b\":[[[2]]]}]}", ERR_LIMIT, "a[1].b[0]", "deeper than 4"},
    /* too many items */
    {"[1,2,3,4,5]", ERR_LIMIT, "body", "more than 4 items (limits.max_array_items)"},
    {"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}", ERR_LIMIT, "body", "more than 4 members"},
    {"{\"x\":{\"y\":[true,false,null,1.5e3,\"s\"]}}", ERR_LIMIT, "x.y", "'x.y' has more than 4 items"},
    /* a tighter cap on one list */
    {"{\"regions\":[\"a\",\"b\",\"c\"]}", ERR_LIMIT, "regions", "more than 2 items (limits.max_list_items)"},
    {"{\"other\":[\"a\",\"b\",\"c\"]}", ERR_OK, NULL, NULL},
    {"{\"jobs\":[{},{\"regions\":[\"a\",\"b\",\"c\"]}]}", ERR_LIMIT, "jobs[1].regions", "max_list_items"},
};

static void test_cases(void)
{
	struct jscan_limits lim = {4,		4,   "limits.max_json_depth", "limits.max_array_items",
				   cap_regions, NULL};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err_detail err = {{0}, {0}};
		int rc = jscan_check(cases[i].text, strlen(cases[i].text), &lim, &err);

		if (rc != cases[i].code)
			tl_fail(__LINE__, __FILE__, false, "'%s': %d, expected %d (%s)", cases[i].text, rc,
				cases[i].code, err.msg);
		if (cases[i].code) {
			TL_ASSERT_STR_EQ(err.field, cases[i].field);
			TL_ASSERT_CONTAINS(err.msg, cases[i].says);
		}
	}
}

/* A megabyte of '[' stops at the cap, whatever the cap's stack can hold. */
static void test_deep_input(void)
{
	static char text[1 << 20];
	struct jscan_limits lim = {JSCAN_MAX_DEPTH + 10, 1000, "d", "i", NULL, NULL};
	struct err_detail err;

	memset(text, '[', sizeof(text));
	TL_ASSERT_INT_EQ(jscan_check(text, sizeof(text), &lim, &err), ERR_LIMIT);
	TL_ASSERT_CONTAINS(err.msg, "deeper than");
	lim.max_depth = 32;
	TL_ASSERT_INT_EQ(jscan_check(text, sizeof(text), &lim, &err), ERR_LIMIT);
	TL_ASSERT_CONTAINS(err.msg, "deeper than 32 levels");
}

static CU_TestInfo tests[] = {
    {"depth and item caps", test_cases},
    {"a megabyte of brackets", test_deep_input},
    CU_TEST_INFO_NULL,
};
TL_SUITE("jsonscan", NULL, NULL, tests)
