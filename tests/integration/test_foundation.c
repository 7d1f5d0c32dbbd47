/*
 * The foundation end to end: migrate, ingest a file, serve it, and check
 * the answers against the file - values, errors, clock, readiness.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/time.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

static const char *config_two_regions =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2022-01-03T12:00:00Z\"},"
    "\"regions\":[{\"id\":\"AA\",\"name\":\"Region A\",\"latitude\":50,\"longitude\":8,\"pue\":1.2,"
    "\"jurisdictions\":[\"EU\",\"DE\"],\"capacity_kw\":100},"
    "{\"id\":\"BB\",\"zone\":\"ZB\",\"latitude\":40,\"longitude\":-3,\"pue\":1.1}]}";

/* A wide file: 7 days hourly from 2022-01-01 for zones AA and ZB, with
 * values that identify their row and column; row 'bad' (1-based data row)
 * gets a malformed value when > 0. */
static const char *write_wide(const char *name, int bad)
{
	struct buf b;
	char ts[TS_BUFSZ];
	const char *path;

	buf_init(&b, 0);
	buf_adds(&b, "datetime_utc,AA,ZB\n");
	for (int i = 0; i < 7 * 24; i++) {
		ts_format(ts_from_civil(2022, 1, 1, 0, 0, 0) + i * 3600, ts);
		ts[10] = ' ';
		ts[19] = '\0';
		if (i + 1 == bad)
			buf_addf(&b, "%s,12x.5,1\n", ts);
		else
			buf_addf(&b, "%s,%.2f,%.2f\n", ts, 100 + i + 0.25, 500 - i * 0.5);
	}
	path = itest_write_file(name, b.data);
	buf_release(&b);
	return path;
}

static char *db_env(const char *conninfo)
{
	static char env[600];

	snprintf(env, sizeof(env), "CARBONSCHED_DATABASE_URL=%s", conninfo);
	return env;
}

static void test_migrate_is_idempotent(void)
{
	char db[512];
	char *out = NULL, *err = NULL;
	const char *args[] = {"migrate", NULL};
	const char *env[] = {NULL, NULL};

	itest_db_new("migrate", db, sizeof(db));
	env[0] = db_env(db);
	TL_ASSERT_INT_EQ(itest_run(args, env, &out, &err), 0);
	TL_ASSERT_CONTAINS(out, "migration");
	free(out);
	free(err);
	TL_ASSERT_INT_EQ(itest_run(args, env, &out, &err), 0);
	TL_ASSERT_CONTAINS(out, "(0 migrations applied)");
	TL_ASSERT(itest_sql_int(db, "SELECT count(*) FROM schema_migrations") >= 1);
	free(out);
	free(err);
}

static void migrate(const char *db)
{
	const char *args[] = {"migrate", NULL};
	const char *env[] = {db_env(db), NULL};

	TL_ASSERT_INT_EQ(itest_run(args, env, NULL, NULL), 0);
}

static void test_bad_file_stores_nothing(void)
{
	char db[512];
	char *out = NULL, *err = NULL;
	const char *path = write_wide("bad.csv", 100);
	const char *args[] = {"ingest", "--format", "wide", "--file", path, NULL};
	const char *env[] = {NULL, NULL};

	itest_db_new("badfile", db, sizeof(db));
	migrate(db);
	env[0] = db_env(db);
	TL_ASSERT_INT_EQ(itest_run(args, env, &out, &err), 1);
	/* Row 100 of data is line 101 of the file. */
	TL_ASSERT_CONTAINS(err, "bad.csv:101:");
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), 0);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM series"), 0);
	free(out);
	free(err);
}

static void test_ingest_without_migration_is_refused(void)
{
	char db[512];
	char *err = NULL;
	const char *path = write_wide("nomig.csv", 0);
	const char *args[] = {"ingest", "--format", "wide", "--file", path, NULL};
	const char *env[] = {NULL, NULL};

	itest_db_new("nomig", db, sizeof(db));
	env[0] = db_env(db);
	TL_ASSERT_INT_EQ(itest_run(args, env, NULL, &err), 1);
	TL_ASSERT_CONTAINS(err, "carbonsched migrate");
	free(err);
}

/* Ingest, re-ingest (nothing changes), then serve and compare every value. */
static void test_ingest_serve_roundtrip(void)
{
	char db[512], path_buf[1024];
	char *out = NULL;
	const char *args[] = {"ingest", "--format", "wide", "--file", path_buf, NULL};
	const char *env[] = {NULL, NULL};
	struct itest_server s;
	long status;
	json_t *j, *pts;

	snprintf(path_buf, sizeof(path_buf), "%s", write_wide("good.csv", 0));
	itest_db_new("roundtrip", db, sizeof(db));
	migrate(db);
	env[0] = db_env(db);
	TL_ASSERT_INT_EQ(itest_run(args, env, &out, NULL), 0);
	TL_ASSERT_CONTAINS(out, "336 points, 336 rows written");
	free(out);
	TL_ASSERT_INT_EQ(itest_run(args, env, &out, NULL), 0);
	TL_ASSERT_CONTAINS(out, "0 rows written");
	free(out);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), 336);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT points FROM series WHERE zone = 'AA'"), 168);

	itest_serve(config_two_regions, db, NULL, &s);

	/* Every stored value of AA before the replay clock's now (Jan 3 12:00). */
	j = itest_get_json(&s, "/v1/regions/AA/signals?from=2022-01-01T00:00:00Z&to=2022-01-08T00:00:00Z",
			   &status);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "unit")), "gCO2eq/kWh");
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(j, "step_s")), 3600);
	pts = json_object_get(j, "points");
	/* 2.5 days known at the replay clock: 60 points, the future cut off. */
	TL_ASSERT_INT_EQ(json_array_size(pts), 61);
	for (size_t i = 0; i < json_array_size(pts); i++) {
		json_t *p = json_array_get(pts, i);
		int64_t t;

		TL_ASSERT_INT_EQ(ts_parse(json_string_value(json_object_get(p, "ts")), NULL, &t, NULL),
				 ERR_OK);
		TL_ASSERT_INT_EQ(t, ts_from_civil(2022, 1, 1, 0, 0, 0) + (int64_t)i * 3600);
		TL_ASSERT_DBL_EQ(json_number_value(json_object_get(p, "value")), 100 + (double)i + 0.25,
				 1e-9);
	}
	json_decref(j);

	/* A region whose zone differs from its id. */
	j = itest_get_json(&s, "/v1/regions/BB/signals?from=2022-01-02T00:00:00Z&to=2022-01-02T03:00:00Z",
			   &status);
	pts = json_object_get(j, "points");
	TL_ASSERT_INT_EQ(json_array_size(pts), 3);
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(json_array_get(pts, 2), "value")), 500 - 26 * 0.5,
			 1e-9);
	json_decref(j);

	/* The region list carries the latest value at the replay clock. */
	j = itest_get_json(&s, "/v1/regions", &status);
	TL_ASSERT_INT_EQ(status, 200);
	json_t *a = json_array_get(json_object_get(j, "regions"), 0);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(a, "id")), "AA");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(a, "latest"), "ts")),
			 "2022-01-03T12:00:00Z");
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(json_object_get(a, "latest"), "carbon_intensity")),
			 100 + 60 + 0.25, 1e-9);
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(a, "pue")), 1.2, 1e-12);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(a, "jurisdictions")), 2);
	json_decref(j);

	/* CSV */
	struct itest_response r;
	char url[256];
	const char *accept[] = {"Accept: text/csv", NULL};
	snprintf(url, sizeof(url),
		 "%s/v1/regions/AA/signals?from=2022-01-01T00:00:00Z&to=2022-01-01T02:00:00Z", s.base);
	TL_ASSERT(itest_http("GET", url, accept, NULL, &r));
	TL_ASSERT_INT_EQ(r.status, 200);
	TL_ASSERT_CONTAINS(r.content_type, "text/csv");
	TL_ASSERT_STR_EQ(r.body, "ts,value\n2022-01-01T00:00:00Z,100.25\n2022-01-01T01:00:00Z,101.25\n");
	itest_response_free(&r);

	/* healthz says which clock; readyz is ready. */
	j = itest_get_json(&s, "/healthz", &status);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "clock"), "mode")), "replay");
	json_decref(j);
	j = itest_get_json(&s, "/readyz", &status);
	TL_ASSERT_INT_EQ(status, 200);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

struct bad_request {
	const char *method, *path;
	long status;
	const char *code, *field, *fragment;
};

static const struct bad_request bad_requests[] = {
    {"GET", "/v1/regions/XX", 404, "not_found", "id", "unknown region 'XX'"},
    {"GET", "/v1/regions/XX/signals", 404, "not_found", "id", "unknown region"},
    {"GET", "/v1/regions/AA/signals?kind=co2", 400, "invalid_parameter", "kind", "unknown kind 'co2'"},
    {"GET", "/v1/regions/AA/signals?kind=generation", 400, "invalid_parameter", "kind", "needs a fuel"},
    {"GET", "/v1/regions/AA/signals?from=yesterday", 400, "invalid_parameter", "from", "not a valid time"},
    {"GET", "/v1/regions/AA/signals?to=2022-01-02T00:00:00", 400, "invalid_parameter", "to", "time zone"},
    {"GET", "/v1/regions/AA/signals?from=2022-01-02T00:00:00Z&to=2022-01-01T00:00:00Z", 400,
     "invalid_parameter", "from", "must be before"},
    {"GET", "/v1/regions/AA/signals?from=2021-01-01T00:00:00Z&to=2022-01-01T00:00:00Z", 422,
     "range_too_large", "to", "at most P93D"},
    {"GET", "/v1/regions/AA/signals?frm=2021-01-01T00:00:00Z", 400, "invalid_parameter", "frm",
     "unknown parameter 'frm'"},
    {"GET", "/v1/regions/AA/signals?format=xml", 400, "invalid_parameter", "format", "'json' or 'csv'"},
    {"GET", "/v1/regions/AA/signals?kind=wind_speed", 404, "not_found", "kind", "no 'wind_speed' data"},
    {"GET", "/v1/regions/AA/signals?source=nope", 404, "not_found", "source", "source 'nope'"},
    {"POST", "/v1/regions", 405, "method_not_allowed", NULL, "allowed: GET"},
    {"GET", "/v2/regions", 404, "not_found", NULL, "no route"},
    {"GET", "/v1/regions?limit=3", 400, "invalid_parameter", "limit", "unknown parameter"},
};

static void test_bad_requests(void)
{
	char db[512], url[512];
	struct itest_server s;
	const char *path = write_wide("errs.csv", 0);
	const char *args[] = {"ingest", "--format", "wide", "--file", path, NULL};
	const char *env[] = {NULL, NULL};

	itest_db_new("errors", db, sizeof(db));
	migrate(db);
	env[0] = db_env(db);
	TL_ASSERT_INT_EQ(itest_run(args, env, NULL, NULL), 0);
	itest_serve(config_two_regions, db, NULL, &s);
	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		const struct bad_request *b = &bad_requests[i];
		struct itest_response r;
		json_t *j;

		snprintf(url, sizeof(url), "%s%s", s.base, b->path);
		TL_ASSERT(itest_http(b->method, url, NULL, NULL, &r));
		if (r.status != b->status)
			tl_fail(__LINE__, __FILE__, false, "%s %s: status %ld, want %ld: %s", b->method,
				b->path, r.status, b->status, r.body);
		TL_ASSERT_STR_EQ(r.content_type, "application/problem+json");
		j = json_loads(r.body, 0, NULL);
		TL_ASSERT(j != NULL);
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "code")), b->code);
		TL_ASSERT_INT_EQ(json_integer_value(json_object_get(j, "status")), b->status);
		TL_ASSERT_CONTAINS(json_string_value(json_object_get(j, "detail")), b->fragment);
		if (b->field)
			TL_ASSERT_STR_EQ(
			    json_string_value(json_object_get(
				json_array_get(json_object_get(j, "invalid_params"), 0), "name")),
			    b->field);
		json_decref(j);
		itest_response_free(&r);
	}
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

static void test_readyz_without_data(void)
{
	char db[512];
	struct itest_server s;
	long status;
	json_t *j;

	itest_db_new("empty", db, sizeof(db));
	itest_serve(config_two_regions, db, NULL, &s); /* serve migrates by itself */
	j = itest_get_json(&s, "/readyz", &status);
	TL_ASSERT_INT_EQ(status, 503);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "checks"), "migrations")),
			 "ok");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "checks"), "data")),
			 "no signals stored yet");
	json_decref(j);
	j = itest_get_json(&s, "/v1/regions/AA", &status);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT(json_is_null(json_object_get(j, "latest")));
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* A broken config stops the service before it binds, naming file and key. */
static void test_bad_config_fails_before_binding(void)
{
	static const struct {
		const char *json, *fragment;
	} cases[] = {
	    {"{\"regions\":[]}", "regions: must be a non-empty array"},
	    {"{\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":0.9}]}",
	     "regions[0].pue: must be between 1.0"},
	    {"{\"regions\":[{\"id\":\"A\",\"latitude\":91,\"longitude\":2,\"pue\":1.1}]}",
	     "regions[0].latitude: must be between -90"},
	    {"{\"regions\":[{\"id\":\"A\",\"longitude\":2,\"pue\":1.1}]}",
	     "regions[0].latitude: is required"},
	    {"{\"treads\":4,\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1}]}",
	     "treads: unknown key"},
	    {"{\"clock\":{\"mode\":\"replay\"},\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,"
	     "\"pue\":1.1}]}",
	     "clock.start: is required"},
	    {"{\"clock\":{\"mode\":\"fast\"},\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,"
	     "\"pue\":1.1}]}",
	     "clock.mode: 'fast' must be"},
	    {"{\"regions\":[{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1},{\"id\":\"A\","
	     "\"latitude\":1,\"longitude\":2,\"pue\":1.1}]}",
	     "duplicate region id 'A'"},
	    {"{\"regions\":[", "malformed JSON"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = itest_write_file("bad-config.json", cases[i].json);
		char path_copy[1024];
		char *err = NULL;

		snprintf(path_copy, sizeof(path_copy), "%s", path);
		const char *args[] = {"serve", "--config", path_copy, NULL};
		const char *env[] = {"CARBONSCHED_DATABASE_URL=host=/nonexistent",
				     "CARBONSCHED_LISTEN=127.0.0.1:1", NULL};
		TL_ASSERT_INT_EQ(itest_run(args, env, NULL, &err), 1);
		TL_ASSERT_CONTAINS(err, "bad-config.json");
		TL_ASSERT_CONTAINS(err, cases[i].fragment);
		free(err);
	}
}

static CU_TestInfo tests[] = {
    {"migrate is idempotent", test_migrate_is_idempotent},
    {"bad file stores nothing", test_bad_file_stores_nothing},
    {"ingest refuses an unmigrated database", test_ingest_without_migration_is_refused},
    {"ingest, re-ingest, serve, compare", test_ingest_serve_roundtrip},
    {"bad requests get problem+json", test_bad_requests},
    {"readyz without data", test_readyz_without_data},
    {"bad config fails before binding", test_bad_config_fails_before_binding},
    CU_TEST_INFO_NULL,
};
TL_SUITE("foundation", itest_suite_init, NULL, tests)
