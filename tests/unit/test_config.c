/* service/config: every key's validation, defaults, environment overrides. */
#include <stdlib.h>

#include "service/config.h"
#include "tests/lib/testlib.h"

#define REGION	    "{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1}"
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
    {WITH("\"clock\":{\"mode\":\"replay\",\"start\":\"2021-11-01\"},"),
     "clock.start: '2021-11-01' is not a valid time"},
    {WITH("\"clock\":{\"mode\":\"replay\"},"), "clock.start: is required"},
    {WITH("\"clock\":{\"speed\":0},"), "clock.speed: must be between"},
    {WITH("\"clock\":{\"sped\":2},"), "clock.sped: unknown key"},
    {WITH("\"clock\":3,"), "clock: must be an object"},
    {WITH("\"limits\":{\"max_range\":\"P2000D\"},"), "limits.max_range: 'P2000D' must be between"},
    {WITH("\"limits\":{\"max_range\":\"forever\"},"), "limits.max_range:"},
    {WITH("\"limits\":{\"max_body_bytes\":10},"), "limits.max_body_bytes: must be between"},
    {WITH("\"limits\":{\"max_json_depth\":1},"), "limits.max_json_depth: must be between 2 and 256"},
    {WITH("\"limits\":{\"max_list_items\":257},"), "limits.max_list_items: must be between 1 and 256"},
    {WITH("\"limits\":{\"max_connections_per_ip\":-1},"), "limits.max_connections_per_ip: must be between"},
    {WITH("\"limits\":{\"request_timeout\":\"PT0S\"},"),
     "limits.request_timeout: duration 'PT0S' must be longer than zero"},
    {WITH("\"limits\":{\"max_conections\":5},"), "limits.max_conections: unknown key"},
    {WITH("\"threads\":8,\"limits\":{\"max_connections\":4},"),
     "limits.max_connections: 4 is fewer than threads (8)"},
    {WITH("\"tls\":{\"cert_file\":\"/x.pem\"},"), "tls.key_file: is required with tls.cert_file"},
    {WITH("\"tls\":{\"key_file\":\"/x.pem\"},"), "tls.cert_file: is required with tls.key_file"},
    {WITH("\"tls\":{\"cert_file\":\"/nonexistent.pem\",\"key_file\":\"/x.pem\"},"),
     "tls.cert_file: cannot read '/nonexistent.pem'"},
    {WITH("\"tls\":{\"cert_file\":\"\",\"key_file\":\"/x.pem\"},"), "tls.cert_file: must not be empty"},
    {"{\"database_url\":null,\"regions\":[" REGION "]}", "database_url: must be a string"},
    {WITH("\"sources\":[{\"name\":\"f\",\"type\":\"file\"}],"), "a file source needs 'path' and 'format'"},
    {WITH("\"sources\":[{\"name\":\"f\",\"type\":\"ukgrid\",\"interval\":\"P30D\"}],"),
     "sources[0].interval:"},
    {WITH("\"sources\":[{\"name\":\"f\",\"type\":\"ukgrid\"},{\"name\":\"f\",\"type\":\"ukgrid\"}],"),
     "duplicate source name 'f'"},
    /* Source keys: one table, each refused where it does not fit. */
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"colour\":\"red\"}],"),
     "sources[0].colour: unknown key"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"co2signal\",\"zones\":[\"A\"]}],"),
     "sources[0].type: 'co2signal' is not a source type (electricitymaps, watttime, ukgrid, entsoe, eia, "
     "openmeteo, "
     "pue, file)"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"signal_type\":\"co2_moer\"}]"
	  ","),
     "sources[0].signal_type: applies to watttime sources only, not ukgrid"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"token_file\":\"/x\"}],"),
     "sources[0].token_file: applies to electricitymaps entsoe eia sources only, not ukgrid"},
    {WITH("\"sources\":[{\"name\":\"w\",\"type\":\"watttime\",\"zones\":[\"A\"],\"signal_type\":\"co2\"}],"),
     "sources[0].signal_type: 'co2' must be one of co2_moer|co2_aoer"},
    {WITH("\"sources\":[{\"name\":\"e\",\"type\":\"electricitymaps\",\"zones\":[\"A\"],\"emission_factors\":"
	  "\"x\"}],"),
     "sources[0].emission_factors: 'x' must be one of lifecycle|direct"},
    {WITH(
	 "\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"endpoints\":[\"history\"]}],"),
     "sources[0].endpoints: ukgrid has no endpoint 'history' (it has intensity, fw48h, generation"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"keys\":{\"GB-NW\":\"3\"}}],"),
     "sources[0].keys: 'GB-NW' is not one of this source's zones"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"keys\":{\"A\":3}}],"),
     "sources[0].keys: 'A' must map to a non-empty string"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"keys\":[\"A\"]}],"),
     "sources[0].keys: must be an object of strings"},
    {WITH("\"sources\":[{\"name\":\"a-name-longer-than-23-chars\",\"type\":\"ukgrid\",\"zones\":[\"A\"]}],"),
     "sources[0].name: 'a-name-longer-than-23-chars' must be 1-23 letters"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\"}],"),
     "sources[0].zones: ukgrid source 'g' needs at least one zone"},
    {WITH("\"sources\":[{\"name\":\"p\",\"type\":\"pue\"}],"),
     "pue source 'p' needs 'path' (a file) or 'base_url'"},
    {WITH("\"sources\":[{\"name\":\"p\",\"type\":\"pue\",\"format\":\"dacf\",\"path\":\"/x\"}],"),
     "sources[0].format: applies to file sources only, not pue"},
    {WITH("\"sources\":[{\"name\":\"o\",\"type\":\"openmeteo\",\"zones\":[\"B\"]}],"),
     "'B' is neither a region id nor a region's zone: openmeteo needs its coordinates"},
    {WITH("\"sources\":[{\"name\":\"w\",\"type\":\"watttime\",\"zones\":[\"B\"]}],"),
     "'B' is neither a region id nor a region's zone: watttime needs its coordinates"},
    {WITH("\"sources\":[{\"name\":\"w\",\"type\":\"watttime\",\"zones\":[\"B\"],\"keys\":{\"B\":\"CAISO_"
	  "NORTH\"}}],"),
     NULL},
    {WITH("\"sources\":[{\"name\":\"o\",\"type\":\"openmeteo\",\"zones\":[\"A\"],\"horizon\":\"P20D\"}],"),
     "sources[0].horizon: 'P20D' must be between"},
    {WITH("\"sources\":[{\"name\":\"g\",\"type\":\"ukgrid\",\"zones\":[\"A\"],\"stale_after\":\"soon\"}],"),
     "sources[0].stale_after:"},
    {WITH("\"fetch\":{\"attempts\":0},"), "fetch.attempts: must be between 1 and 20"},
    {WITH("\"fetch\":{\"retries\":3},"), "fetch.retries: unknown key"},
    {WITH("\"fetch\":{\"timeout\":\"PT0.5S\"},"), "fetch.timeout:"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,"
     "\"sources\":[\"nope\"]}]}",
     "names source 'nope', which is not in 'sources'"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A B\",\"latitude\":1,\"longitude\":2,\"pue\":1.1}]}",
     "regions[].id: 'A B' must be"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2}]}",
     "regions[0].pue: is required"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":{\"base\":1."
     "1,\"k\":0.01}}]}",
     "regions[0].pue.t0"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":{\"base\":1."
     "1,\"k\":0.01,\"t0\":20,\"x\":1}}]}",
     "unknown field 'regions[0].pue.x'"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,"
     "\"capacity_kw\":-1}]}",
     "regions[0].capacity_kw: must be between 0"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,"
     "\"jurisdictions\":[\"EU\",3]}]}",
     "regions[0].jurisdictions: entry 1 must be a non-empty string"},
    {"{\"database_url\":\"x\",\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1,"
     "\"colour\":\"red\"}]}",
     "regions[0].colour: unknown key"},
    {"{\"database_url\":\"x\",\"regions\":{}}", "regions: must be a non-empty array"},
    {"[]", "(top level): must be an object"},
    {"{\"database_url\":\"x\",\"database_url\":\"y\",\"regions\":[" REGION "]}", "malformed JSON"},
    {"{\"database_url\":\"x\",\"regions\":[" REGION "", "test.json:1:"},
    {WITH("\"forecast\":{\"enabled\":false,\"kinds\":[\"carbon_intensity\",\"generation:wind\"],"
	  "\"history\":\"P90D\",\"keep\":\"P5D\",\"skill_half_life\":\"P3D\"},"),
     NULL},
    {WITH("\"forecast\":{\"enabled\":\"yes\"},"), "forecast.enabled: must be true or false"},
    {WITH("\"forecast\":{\"kinds\":[\"watts\"]},"), "forecast.kinds: unknown kind 'watts'"},
    {WITH("\"forecast\":{\"kinds\":[\"pue\"]},"), "forecast.kinds: 'pue' is forecast per region"},
    {WITH("\"forecast\":{\"kinds\":\"carbon_intensity\"},"), "forecast.kinds: must be an array"},
    {WITH("\"forecast\":{\"keep\":\"P2D\"},"), "forecast.keep: must be at least forecast.horizon plus a day"},
    {WITH("\"forecast\":{\"history\":\"P7D\"},"), "forecast.history: 'P7D' must be between"},
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
				tl_fail(__LINE__, __FILE__, false, "case %zu accepted, wanted '%s'", i,
					cases[i].fragment);
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
	const char *json =
	    "{\"database_url\":\"host=/x\",\"regions\":[{\"id\":\"eu-1\",\"latitude\":50,"
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
	TL_ASSERT_INT_EQ(c->max_body, 1048576);
	TL_ASSERT_INT_EQ(c->max_url, 8192);
	TL_ASSERT_INT_EQ(c->max_header, 16384);
	TL_ASSERT_INT_EQ(c->max_json_depth, 32);
	TL_ASSERT_INT_EQ(c->max_array_items, 1000);
	TL_ASSERT_INT_EQ(c->max_list_items, 64);
	TL_ASSERT_INT_EQ(c->max_batch_items, 100);
	TL_ASSERT_INT_EQ(c->max_jobs_range, 366 * 86400);
	TL_ASSERT_INT_EQ(c->max_connections, 512);
	TL_ASSERT_INT_EQ(c->max_connections_per_ip, 256);
	TL_ASSERT_INT_EQ(c->idle_timeout, 30);
	TL_ASSERT_INT_EQ(c->request_timeout, 30);
	TL_ASSERT(c->tls_cert_pem == NULL && c->tls_key_pem == NULL);
	TL_ASSERT_INT_EQ(c->clock_mode, CLOCK_REAL);
	TL_ASSERT(c->forecast_enabled);
	TL_ASSERT(c->forecast_kinds == NULL);
	TL_ASSERT_INT_EQ(c->forecast_history, 730 * 86400);
	TL_ASSERT_INT_EQ(c->forecast_keep, 7 * 86400);
	TL_ASSERT_INT_EQ(c->forecast_skill_half_life, 7 * 86400);
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

static void test_source_keys(void)
{
	const char *json =
	    "{\"database_url\":\"x\",\"fetch\":{\"attempts\":2,\"timeout\":\"PT3S\",\"user_agent\":\"me\"},"
	    "\"regions\":[{\"id\":\"uk\",\"zone\":\"GB\",\"latitude\":51,\"longitude\":0,\"pue\":1.1},"
	    "{\"id\":\"de\",\"zone\":\"DE\",\"latitude\":50,\"longitude\":8,\"pue\":1.1,\"sources\":[\"em\"]}"
	    ","
	    "{\"id\":\"fr\",\"zone\":\"FR\",\"latitude\":48,\"longitude\":2,\"pue\":1.1}],"
	    "\"sources\":[{\"name\":\"em\",\"type\":\"electricitymaps\",\"zones\":[\"GB\",\"DE\"],"
	    "\"interval\":\"PT1H\","
	    "\"token_file\":\"/run/secrets/em\",\"emission_factors\":\"direct\",\"horizon\":\"PT72H\","
	    "\"endpoints\":[\"history\",\"forecast\"],\"stale_after\":\"PT5H\"},"
	    "{\"name\":\"gb\",\"type\":\"ukgrid\",\"zones\":[\"GB\",\"GB-NW\"],\"keys\":{\"GB-NW\":\"3\"}},"
	    "{\"name\":\"wx\",\"type\":\"openmeteo\",\"zones\":[\"uk\"]}]}";
	struct config *c;
	struct err_detail err;

	TL_ASSERT_INT_EQ(config_parse("t.json", json, strlen(json), &c, &err), ERR_OK);
	if (!c)
		return;
	TL_ASSERT_INT_EQ(c->fetch_attempts, 2);
	TL_ASSERT_INT_EQ(c->fetch_timeout, 3);
	TL_ASSERT_INT_EQ(c->fetch_backoff_ms, 500);
	TL_ASSERT_INT_EQ(c->fetch_breaker_failures, 5);
	TL_ASSERT_STR_EQ(c->fetch_user_agent, "me");
	const struct source_cfg *em = config_source(c, "em"), *gb = config_source(c, "gb");
	TL_ASSERT(em && gb && !config_source(c, "nope"));
	TL_ASSERT_STR_EQ(em->token_file, "/run/secrets/em");
	TL_ASSERT(em->token_env == NULL);
	TL_ASSERT_STR_EQ(em->emission_factors, "direct");
	TL_ASSERT_INT_EQ(em->horizon, 72 * 3600);
	TL_ASSERT_INT_EQ(em->stale_after, 5 * 3600);
	TL_ASSERT_INT_EQ(em->nendpoints, 2);
	TL_ASSERT_STR_EQ(em->endpoints[1], "forecast");
	TL_ASSERT(em->endpoints[2] == NULL);
	TL_ASSERT_INT_EQ(gb->interval, 15 * 60);
	TL_ASSERT_INT_EQ(gb->stale_after, 0);
	TL_ASSERT_STR_EQ(cfg_map_get(&gb->keys, "GB-NW"), "3");
	TL_ASSERT(cfg_map_get(&gb->keys, "GB") == NULL);
	/* Regions without a list prefer the sources of their zone (or id), in
	 * the order of 'sources'; a configured list is kept. */
	const struct region_cfg *uk = config_region(c, "uk"), *de = config_region(c, "de"),
				*fr = config_region(c, "fr");
	TL_ASSERT_INT_EQ(uk->nsources, 3);
	TL_ASSERT_STR_EQ(uk->sources[0], "em");
	TL_ASSERT_STR_EQ(uk->sources[1], "gb");
	TL_ASSERT_STR_EQ(uk->sources[2], "wx");
	TL_ASSERT(uk->sources[3] == NULL);
	TL_ASSERT_INT_EQ(de->nsources, 1);
	TL_ASSERT_INT_EQ(fr->nsources, 0);
	TL_ASSERT(fr->sources[0] == NULL);
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
    {"source keys, fetch keys, preference order", test_source_keys},
    {"environment overrides", test_environment_overrides},
    CU_TEST_INFO_NULL,
};
TL_SUITE("service/config", NULL, NULL, tests)
