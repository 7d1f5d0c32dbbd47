/* service/config: every key's validation, defaults, environment overrides. */
#include <stdlib.h>

#include "service/config.h"
#include "tests/lib/testlib.h"

#define REGION "{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1}"
#define WITH(extra) "{\"database_url\":\"host=/x\"," extra "\"regions\":[" REGION "]}"

static const struct {
	const char *json;
	const char *fragment; /* NULL: must load */
} cases[] = {
	{WITH(""), NULL},
	{"{\"regions\":[" REGION "]}", "database_url: is required"},
	{WITH("\"listen\":\"0.0.0.0:9000\","), NULL},
	{WITH("\"listen\":\"localhost\","), "listen: 'localhost' is not host:port"},
	{WITH("\"listen\":\"a:70000\","), "listen: 'a:70000' is not host:port"},
	{WITH("\"listen\":8080,"), "listen: must be a string"},
	{WITH("\"threads\":0,"), "threads: must be between 1 and 256"},
	{WITH("\"threads\":2.5,"), "threads: must be a whole number"},
	{WITH("\"threads\":\"4\","), "threads: must be a number"},
	{WITH("\"log_level\":\"loud\","), "log_level: 'loud' must be"},
	{WITH("\"clock\":{\"mode\":\"replay\",\"start\":\"2021-11-01T00:00:00Z\"},"), NULL},
	{WITH("\"clock\":{\"mode\":\"replay\",\"start\":\"2021-11-01\"},"), "clock.start: '2021-11-01' is not a valid time"},
	{WITH("\"clock\":{\"mode\":\"replay\"},"), "clock.start: is required"},
	{WITH("\"clock\":{\"speed\":0},"), "clock.speed: must be between"},
	{WITH("\"clock\":{\"sped\":2},"), "clock.sped: unknown key"},
	{WITH("\"clock\":3,"), "clock: must be an object"},
	{WITH("\"limits\":{\"max_range\":\"P2000D\"},"), "limits.max_range: 'P2000D' must be between"},
	{WITH("\"limits\":{\"max_range\":\"forever\"},"), "limits.max_range:"},
	{WITH("\"limits\":{\"max_body_bytes\":10},"), "limits.max_body_bytes: must be between"},
	{"{\"database_url\":null,\"regions\":[" REGION "]}", "database_url: must be a string"},
	{WITH("\"sources\":[{\"name\":\"f\",\"type\":\"file\"}],"), "a file source needs 'path' and 'format'"},
	{WITH("\"sources\":[{\"name\":\"f\",\"type\":\"ukgrid\",\"interval\":\"P30D\"}],"), "sources[0].interval:"},
	{WITH("\"sources\":[{\"name\":\"f\",\"type\":\"ukgrid\"},{\"name\":\"f\",\"type\":\"ukgrid\"}],"),
	 "duplicate source name 'f'"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,\"sources\":[\"nope\"]}]}",
	 "names source 'nope', which is not in 'sources'"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A B\",\"latitude\":1,\"longitude\":2,\"pue\":1.1}]}",
	 "regions[].id: 'A B' must be"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2}]}", "regions[0].pue: is required"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":{\"base\":1.1,\"k\":0.01}}]}",
	 "regions[0].pue.t0"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":{\"base\":1.1,\"k\":0.01,\"t0\":20,\"x\":1}}]}",
	 "unknown field 'regions[0].pue.x'"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,\"capacity_kw\":-1}]}",
	 "regions[0].capacity_kw: must be between 0"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,\"jurisdictions\":[\"EU\",3]}]}",
	 "regions[0].jurisdictions: entry 1 must be a non-empty string"},
	{"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,\"colour\":\"red\"}]}",
	 "regions[0].colour: unknown key"},
	{"{\"database_url\":\"x\",\"regions\":{}}", "regions: must be a non-empty array"},
	{"[]", "(top level): must be an object"},
	{"{\"database_url\":\"x\",\"database_url\":\"y\",\"regions\":[" REGION "]}", "malformed JSON"},
	{"{\"database_url\":\"x\",\"regions\":[" REGION "", "test.json:1:"},
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *c = NULL;
		struct err_detail err = {{0}, {0}};
		int rc = config_parse("test.json", cases[i].json, strlen(cases[i].json), &c, &err);

		if (!cases[i].fragment) {
			if (rc)
				tl_fail(__LINE__, __FILE__, false, "case %zu rejected: %s", i, err.msg);
		} else {
			if (!rc)
				tl_fail(__LINE__, __FILE__, false, "case %zu accepted, wanted '%s'", i, cases[i].fragment);
			else
				TL_ASSERT_CONTAINS(err.msg, cases[i].fragment);
			if (rc)
				TL_ASSERT_CONTAINS(err.msg, "test.json");
		}
		config_free(c);
	}
}

static void test_defaults_and_values(void)
{
	const char *json = "{\"database_url\":\"host=/x\",\"regions\":[{\"id\":\"eu-1\",\"latitude\":50,"
			   "\"longitude\":8,\"pue\":{\"base\":1.1,\"k\":0.02,\"t0\":18},\"jurisdictions\":[\"EU\","
			   "\"DE\"],\"capacity_kw\":250}]}";
	struct config *c;
	struct err_detail err;

	TL_ASSERT_INT_EQ(config_parse("t.json", json, strlen(json), &c, &err), ERR_OK);
	TL_ASSERT_STR_EQ(c->listen_host, "127.0.0.1");
	TL_ASSERT_INT_EQ(c->listen_port, 8080);
	TL_ASSERT_INT_EQ(c->threads, 4);
	TL_ASSERT_INT_EQ(c->db_pool_size, 6);
	TL_ASSERT_INT_EQ(c->max_range, 93 * 86400);
	TL_ASSERT_INT_EQ(c->clock_mode, CLOCK_REAL);
	TL_ASSERT_INT_EQ(c->nregions, 1);
	const struct region_cfg *r = config_region(c, "eu-1");
	TL_ASSERT(r != NULL);
	TL_ASSERT_STR_EQ(r->name, "eu-1");
	TL_ASSERT_STR_EQ(r->zone, "eu-1");
	TL_ASSERT_INT_EQ(r->pue_kind, PUE_TEMPERATURE);
	TL_ASSERT_DBL_EQ(r->pue_k, 0.02, 0);
	TL_ASSERT_INT_EQ(r->njurisdictions, 2);
	TL_ASSERT_STR_EQ(r->jurisdictions[1], "DE");
	TL_ASSERT(r->jurisdictions[2] == NULL);
	TL_ASSERT_DBL_EQ(r->capacity_kw, 250, 0);
	TL_ASSERT(config_region(c, "eu-2") == NULL);
	config_free(c);
}

static void test_environment_overrides(void)
{
	const char *json = WITH("\"threads\":2,");
	struct config *c;
	struct err_detail err;

	setenv("CARBONSCHED_THREADS", "12", 1);
	setenv("CARBONSCHED_LISTEN", "127.0.0.1:0", 1);
	setenv("CARBONSCHED_LIMITS_MAX_RANGE", "P7D", 1);
	TL_ASSERT_INT_EQ(config_parse("t.json", json, strlen(json), &c, &err), ERR_OK);
	TL_ASSERT_INT_EQ(c->threads, 12);
	TL_ASSERT_INT_EQ(c->listen_port, 0);
	TL_ASSERT_INT_EQ(c->max_range, 7 * 86400);
	config_free(c);
	setenv("CARBONSCHED_THREADS", "many", 1);
	TL_ASSERT_INT_EQ(config_parse("t.json", json, strlen(json), &c, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "environment CARBONSCHED_THREADS: threads: 'many' is not a number");
	unsetenv("CARBONSCHED_THREADS");
	unsetenv("CARBONSCHED_LISTEN");
	unsetenv("CARBONSCHED_LIMITS_MAX_RANGE");
}

static CU_TestInfo tests[] = {
	{"validation table", test_table},
	{"defaults and values", test_defaults_and_values},
	{"environment overrides", test_environment_overrides},
	CU_TEST_INFO_NULL,
};
TL_SUITE("service/config", NULL, NULL, tests)
