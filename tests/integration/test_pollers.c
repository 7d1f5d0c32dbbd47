/*
 * Pollers end to end: 'serve' with live sources pointed at fake provider
 * processes serving fresh (time-shifted) recordings.  Breaking the first
 * source of a zone hands the zone to the next; stale data gives way and
 * is marked; /v1/sources tells the story; repeated polls write nothing
 * twice; two replicas on one database never poll one source together, and
 * the survivor takes over when the holder dies.
 *
 * Waits are "until this happens, at most N seconds": on a loaded machine
 * they take longer, never fail sooner.  Intervals are 1 s.
 */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/time.h"
#include "tests/lib/itest.h"
#include "tests/lib/itest_fake.h"
#include "tests/lib/testlib.h"

#define WAIT_S 30 /* longest wait for something that must happen */

/* Fetch settings that make failures quick: two tries, short backoff, a
 * breaker that opens after two failed requests and stays open. */
#define FETCH                                                                                      \
	"\"fetch\":{\"attempts\":2,\"backoff_ms\":50,\"breaker_failures\":2,\"breaker_cooldown\":" \
	"\"PT300S\","                                                                              \
	"\"timeout\":\"PT2S\",\"connect_timeout\":\"PT2S\"},"

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static json_t *get(const struct itest_server *s, const char *path)
{
	long status;
	json_t *j = itest_get_json(s, path, &status);

	if (status != 200) {
		char *text = json_dumps(j, 0);
		tl_fail(__LINE__, __FILE__, false, "GET %s: status %ld: %s", path, status, text);
		free(text);
	}
	return j;
}

/* The zone entry of one source in GET /v1/sources/{name} (new reference). */
static json_t *source_zone(const struct itest_server *s, const char *name, const char *zone)
{
	char path[128];
	json_t *j, *z, *ret = NULL;
	size_t i;

	snprintf(path, sizeof(path), "/v1/sources/%s", name);
	j = get(s, path);
	json_array_foreach (json_object_get(j, "zones"), i, z)
		if (!strcmp(json_string_value(json_object_get(z, "zone")), zone))
			ret = json_incref(z);
	json_decref(j);
	return ret ? ret : json_object();
}

static bool has_success(const struct itest_server *s, const char *name, const char *zone)
{
	json_t *z = source_zone(s, name, zone);
	bool ok = json_is_string(json_object_get(z, "last_success")) &&
		  json_is_false(json_object_get(z, "failing"));

	json_decref(z);
	return ok;
}

static void wait_success(const struct itest_server *s, const char *name, const char *zone)
{
	for (int i = 0; i < WAIT_S * 5 && !has_success(s, name, zone); i++)
		sleep_ms(200);
	if (!has_success(s, name, zone))
		tl_fail(__LINE__, __FILE__, false, "source '%s' never succeeded for zone '%s'", name, zone);
}

static const char *str(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));

	return v ? v : "(absent)";
}

/* The signals answer of a region: its source, and whether it is marked stale. */
static json_t *signals(const struct itest_server *s, const char *region)
{
	char path[128];

	snprintf(path, sizeof(path), "/v1/regions/%s/signals", region);
	return get(s, path);
}

static json_t *latest(const struct itest_server *s, const char *region)
{
	json_t *j = get(s, "/v1/regions"), *r, *ret = NULL;
	size_t i;

	json_array_foreach (json_object_get(j, "regions"), i, r)
		if (!strcmp(str(r, "id"), region))
			ret = json_incref(json_object_get(r, "latest"));
	json_decref(j);
	return ret ? ret : json_object();
}

static long long rows_written(const struct itest_server *s, const char *name, const char *zone)
{
	json_t *z = source_zone(s, name, zone);
	long long n = json_integer_value(json_object_get(z, "rows_written"));

	json_decref(z);
	return n;
}

/* Check the answer of GET path against a schema of service/openapi.json
 * (tests/node/schema.mjs; skipped, saying so, without the node tools that
 * tests/run.sh installs). */
static void check_schema(const struct itest_server *s, const char *path, const char *schema)
{
	struct itest_response r;
	char url[256], cmd[1400], line[512];
	struct buf out;
	FILE *p;

	if (!getenv("CARBONSCHED_NODE_TOOLS")) {
		printf("\n  (skipped: %s against the OpenAPI schema %s: no node tools)\n", path, schema);
		return;
	}
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	TL_ASSERT(itest_http("GET", url, NULL, NULL, &r));
	const char *file = itest_write_file("answer.json", r.body ? r.body : "");
	itest_response_free(&r);
	snprintf(cmd, sizeof(cmd),
		 "node tests/node/schema.mjs --spec service/openapi.json --schema %s '%s' 2>&1", schema,
		 file);
	buf_init(&out, 0);
	if (!(p = popen(cmd, "r"))) {
		tl_fail(__LINE__, __FILE__, false, "cannot run %s", cmd);
		return;
	}
	while (fgets(line, sizeof(line), p))
		buf_adds(&out, line);
	int rc = pclose(p);
	if (rc)
		tl_fail(__LINE__, __FILE__, false, "GET %s is not a %s: %s", path, schema, out.data);
	TL_ASSERT_CONTAINS(out.data, "1 answers checked, 0 problems");
	buf_release(&out);
}

/* A sample of GET /metrics: the value of the line starting with 'series'
 * ("name{labels}"), or -1 when absent. */
static double metric(const struct itest_server *s, const char *series)
{
	struct itest_response r;
	char url[128];
	double v = -1;

	snprintf(url, sizeof(url), "%s/metrics", s->base);
	if (itest_http("GET", url, NULL, NULL, &r) && r.body) {
		for (const char *p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (!strncmp(p, series, strlen(series)) && p[strlen(series)] == ' ')
				v = atof(p + strlen(series) + 1);
	}
	itest_response_free(&r);
	return v;
}

static void test_fallback_when_first_fails(void)
{
	struct itest_fake em, gb;
	struct itest_server srv;
	char db[512], cfg[2048];
	const char *fresh[] = {"--fresh", NULL};
	const char *env[] = {"TEST_EM_TOKEN=test-token", NULL};
	json_t *j, *z;

	if (!itest_have_db())
		return;
	itest_fake_start("electricitymaps", fresh, &em);
	itest_fake_start("ukgrid", fresh, &gb);
	itest_db_new("pollers_fallback", db, sizeof(db));
	snprintf(cfg, sizeof(cfg),
		 "{" FETCH "\"regions\":[{\"id\":\"GB\",\"latitude\":51.5,\"longitude\":-0.1,\"pue\":1.1,"
		 "\"sources\":[\"em\",\"gb\"]}],"
		 "\"sources\":[{\"name\":\"em\",\"type\":\"electricitymaps\",\"zones\":[\"GB\"],\"interval\":"
		 "\"PT1S\","
		 "\"base_url\":\"%s\",\"token_env\":\"TEST_EM_TOKEN\"},"
		 "{\"name\":\"gb\",\"type\":\"ukgrid\",\"zones\":[\"GB\"],\"interval\":\"PT1S\",\"base_url\":"
		 "\"%s\"}]}",
		 em.url, gb.url);
	itest_serve(cfg, db, env, &srv);
	wait_success(&srv, "em", "GB");
	wait_success(&srv, "gb", "GB");

	/* Both healthy: the first of the region's list serves. */
	j = signals(&srv, "GB");
	TL_ASSERT_STR_EQ(str(j, "source"), "em");
	TL_ASSERT(json_is_false(json_object_get(j, "stale")));
	TL_ASSERT(json_integer_value(json_object_get(j, "age_s")) < 3600);
	TL_ASSERT(json_array_size(json_object_get(j, "points")) > 0);
	json_decref(j);
	j = latest(&srv, "GB");
	TL_ASSERT_STR_EQ(str(j, "source"), "em");
	TL_ASSERT(json_is_false(json_object_get(j, "stale")));
	json_decref(j);

	/* Repeated polls of the same data write nothing: rows in the table and
	 * rows_written stay put over three more polls of each source. */
	long long signals1 = itest_sql_int(db, "SELECT count(*) FROM signals");
	/* the pollers' runs (the forecasting worker writes its own, e.g. PUE each hour) */
	long long runs1 = itest_sql_int(db, "SELECT count(*) FROM forecast_runs WHERE model IN ('em', 'gb')");
	long long em1 = rows_written(&srv, "em", "GB"), gb1 = rows_written(&srv, "gb", "GB");
	long em_req = itest_fake_requests(&em), gb_req = itest_fake_requests(&gb);
	for (int i = 0; i < WAIT_S * 5 &&
			(itest_fake_requests(&em) < em_req + 6 || itest_fake_requests(&gb) < gb_req + 9);
	     i++)
		sleep_ms(200);
	TL_ASSERT(itest_fake_requests(&em) >= em_req + 6); /* history + power-history per poll */
	TL_ASSERT(itest_fake_requests(&gb) >= gb_req + 9); /* intensity, generation, fw48h */
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), signals1);
	TL_ASSERT_INT_EQ(rows_written(&srv, "em", "GB"), em1);
	/* GB's forecast is issued each half hour: a run of a new half hour is
	 * new data, the same run again is not. */
	long long runs2 = itest_sql_int(db, "SELECT count(*) FROM forecast_runs WHERE model IN ('em', 'gb')");
	TL_ASSERT(runs2 == runs1 || runs2 == runs1 + 1);
	if (runs2 == runs1)
		TL_ASSERT_INT_EQ(rows_written(&srv, "gb", "GB"), gb1);
	else
		printf("\n  (a half hour began during the test: gb's new forecast run was written)\n");
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM (SELECT zone, kind, model, issued_at FROM "
					   "forecast_runs GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"),
			 0);

	/* Break the first source: it fails, its breaker opens, the second serves. */
	itest_fake_fault(&em, "500", 0);
	bool saw_500 = false, open = false;
	for (int i = 0; i < WAIT_S * 5 && !open; i++) {
		z = source_zone(&srv, "em", "GB");
		const char *msg = str(json_object_get(z, "last_error"), "message");
		saw_500 |= strstr(msg, "HTTP 500") != NULL;
		j = get(&srv, "/v1/sources/em");
		open = !strcmp(str(j, "breaker"), "open") && json_is_true(json_object_get(z, "failing"));
		json_decref(j);
		json_decref(z);
		if (!open)
			sleep_ms(200);
	}
	TL_ASSERT(open);
	z = source_zone(&srv, "em", "GB");
	TL_ASSERT(json_is_true(json_object_get(z, "failing")));
	TL_ASSERT_STR_EQ(str(z, "breaker"), "open");
	json_t *e = json_object_get(z, "last_error");
	TL_ASSERT(json_is_string(json_object_get(e, "time")));
	TL_ASSERT_CONTAINS(str(e, "message"), "em: ");
	/* The cause while retries ran, then the breaker's refusal. */
	TL_ASSERT(saw_500 || strstr(str(e, "message"), "circuit breaker open"));
	TL_ASSERT(strstr(str(e, "message"), "HTTP 500") || strstr(str(e, "message"), "circuit breaker open"));
	TL_ASSERT(json_is_string(json_object_get(z, "last_success"))); /* the last good pull is remembered */
	json_decref(z);
	j = get(&srv, "/v1/sources/em");
	TL_ASSERT_STR_EQ(str(j, "type"), "electricitymaps");
	TL_ASSERT(json_is_true(json_object_get(j, "polled_here")));
	json_decref(j);
	z = source_zone(&srv, "gb", "GB");
	TL_ASSERT(json_is_false(json_object_get(z, "failing")));
	TL_ASSERT(json_is_null(json_object_get(z, "last_error")));
	TL_ASSERT_STR_EQ(str(z, "breaker"), "closed");
	json_decref(z);

	j = signals(&srv, "GB");
	TL_ASSERT_STR_EQ(str(j, "source"), "gb");
	TL_ASSERT(json_is_false(json_object_get(j, "stale")));
	TL_ASSERT(json_array_size(json_object_get(j, "points")) > 0);
	json_decref(j);
	j = latest(&srv, "GB");
	TL_ASSERT_STR_EQ(str(j, "source"), "gb");
	json_decref(j);
	/* The failing source's last good data is still there when asked for. */
	j = get(&srv, "/v1/regions/GB/signals?source=em");
	TL_ASSERT_STR_EQ(str(j, "source"), "em");
	TL_ASSERT(json_array_size(json_object_get(j, "points")) > 0);
	json_decref(j);
	/* The pollers' metrics: fetches by outcome (the open breaker refuses
	 * them: "skipped"), and their durations. */
	TL_ASSERT(metric(&srv, "carbonsched_source_fetches_total{source=\"em\",outcome=\"ok\"}") >= 4);
	TL_ASSERT(metric(&srv, "carbonsched_source_fetches_total{source=\"em\",outcome=\"error\"}") >= 1);
	for (int i = 0;
	     i < WAIT_S * 5 &&
	     metric(&srv, "carbonsched_source_fetches_total{source=\"em\",outcome=\"skipped\"}") < 1;
	     i++)
		sleep_ms(200);
	TL_ASSERT(metric(&srv, "carbonsched_source_fetches_total{source=\"em\",outcome=\"skipped\"}") >= 1);
	TL_ASSERT(metric(&srv, "carbonsched_source_fetches_total{source=\"gb\",outcome=\"error\"}") < 0);
	TL_ASSERT(metric(&srv, "carbonsched_source_fetch_duration_seconds_count{source=\"gb\"}") >= 4);
	TL_ASSERT_INT_EQ(metric(&srv, "carbonsched_source_up{source=\"em\",zone=\"GB\"}"), 0);
	TL_ASSERT_INT_EQ(metric(&srv, "carbonsched_source_breaker_open{source=\"em\",zone=\"GB\"}"), 1);
	/* The story as the OpenAPI document describes it. */
	check_schema(&srv, "/v1/sources", "SourceList");
	check_schema(&srv, "/v1/sources/em", "Source");
	check_schema(&srv, "/v1/regions/GB/signals", "Signals");
	check_schema(&srv, "/v1/regions", "RegionList");

	/* The second stops answering at all (a response that never ends): the
	 * answers stay available, from the first of the list whose data is
	 * not stale. */
	itest_fake_fault(&gb, "hang", 0);
	bool gb_failing = false, saw_timeout = false;
	for (int i = 0; i < WAIT_S * 5 && !gb_failing; i++) {
		z = source_zone(&srv, "gb", "GB");
		gb_failing = json_is_true(json_object_get(z, "failing"));
		const char *msg = str(json_object_get(z, "last_error"), "message");
		saw_timeout |=
		    strstr(msg, "timed out") != NULL || strstr(msg, "circuit breaker open") != NULL;
		json_decref(z);
		if (!gb_failing)
			sleep_ms(200);
	}
	TL_ASSERT(gb_failing);
	TL_ASSERT(saw_timeout);
	j = signals(&srv, "GB");
	TL_ASSERT_STR_EQ(str(j, "source"), "em");
	TL_ASSERT(json_array_size(json_object_get(j, "points")) > 0);
	json_decref(j);

	TL_ASSERT_INT_EQ(itest_stop(&srv), 0); /* a transfer in flight does not hold shutdown up */
	itest_fake_stop(&em);
	itest_fake_stop(&gb);
}

static void test_stale_source_gives_way(void)
{
	struct itest_fake old, fresh;
	struct itest_server srv;
	char db[512], cfg[2048];
	const char *aged[] = {"--fresh", "--age", "4h", NULL}, *now[] = {"--fresh", NULL};
	json_t *j, *z;

	if (!itest_have_db())
		return;
	itest_fake_start("ukgrid", aged, &old);
	itest_fake_start("ukgrid", now, &fresh);
	itest_db_new("pollers_stale", db, sizeof(db));
	/* Region X (zone GB) prefers 'old' to 'new'; region Y's zone has no
	 * other source ('old' also pulls the national data as zone GB-OLD).
	 * Half-hourly data polled every second is stale after 3 x 30 min. */
	snprintf(
	    cfg, sizeof(cfg),
	    "{" FETCH
	    "\"regions\":[{\"id\":\"X\",\"zone\":\"GB\",\"latitude\":51.5,\"longitude\":-0.1,\"pue\":1.1,"
	    "\"sources\":[\"old\",\"new\"]},"
	    "{\"id\":\"Y\",\"zone\":\"GB-OLD\",\"latitude\":51.5,\"longitude\":-0.1,\"pue\":1.1,\"sources\":["
	    "\"old\"]}],"
	    "\"sources\":[{\"name\":\"old\",\"type\":\"ukgrid\",\"zones\":[\"GB\",\"GB-OLD\"],"
	    "\"keys\":{\"GB-OLD\":\"national\"},\"interval\":\"PT1S\",\"base_url\":\"%s\"},"
	    "{\"name\":\"new\",\"type\":\"ukgrid\",\"zones\":[\"GB\"],\"interval\":\"PT1S\",\"base_url\":\"%"
	    "s\"}]}",
	    old.url, fresh.url);
	itest_serve(cfg, db, NULL, &srv);
	wait_success(&srv, "old", "GB");
	wait_success(&srv, "old", "GB-OLD");
	wait_success(&srv, "new", "GB");

	j = signals(&srv, "X");
	TL_ASSERT_STR_EQ(str(j, "source"), "new");
	TL_ASSERT(json_is_false(json_object_get(j, "stale")));
	json_decref(j);

	j = signals(&srv, "Y");
	TL_ASSERT_STR_EQ(str(j, "source"), "old");
	TL_ASSERT(json_is_true(json_object_get(j, "stale")));
	TL_ASSERT(json_integer_value(json_object_get(j, "age_s")) >= 4 * 3600);
	TL_ASSERT(json_array_size(json_object_get(j, "points")) > 0);
	json_decref(j);
	j = latest(&srv, "Y");
	TL_ASSERT_STR_EQ(str(j, "source"), "old");
	TL_ASSERT(json_is_true(json_object_get(j, "stale")));
	TL_ASSERT(json_integer_value(json_object_get(j, "age_s")) >= 4 * 3600);
	json_decref(j);

	z = source_zone(&srv, "old", "GB");
	TL_ASSERT(json_is_true(json_object_get(z, "stale")));
	TL_ASSERT(json_is_false(json_object_get(z, "failing")));
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(z, "stale_after_s")), 3 * 1800);
	TL_ASSERT(json_integer_value(json_object_get(z, "age_s")) >= 4 * 3600);
	json_decref(z);
	z = source_zone(&srv, "new", "GB");
	TL_ASSERT(json_is_false(json_object_get(z, "stale")));
	json_decref(z);

	TL_ASSERT_INT_EQ(itest_stop(&srv), 0);
	itest_fake_stop(&old);
	itest_fake_stop(&fresh);
}

static void kill_hard(struct itest_server *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

static void test_one_replica_polls_a_source(void)
{
	struct itest_fake gb;
	struct itest_server r1, r2;
	char db[512], cfg[1024];
	const char *fresh[] = {"--fresh", NULL};
	const char *env1[] = {"CARBONSCHED_FETCH_USER_AGENT=replica-1", NULL};
	const char *env2[] = {"CARBONSCHED_FETCH_USER_AGENT=replica-2", NULL};
	json_t *j;

	if (!itest_have_db())
		return;
	itest_fake_start("ukgrid", fresh, &gb);
	itest_db_new("pollers_replicas", db, sizeof(db));
	snprintf(cfg, sizeof(cfg),
		 "{" FETCH "\"regions\":[{\"id\":\"GB\",\"latitude\":51.5,\"longitude\":-0.1,\"pue\":1.1}],"
		 "\"sources\":[{\"name\":\"gb\",\"type\":\"ukgrid\",\"zones\":[\"GB\"],\"interval\":\"PT1S\","
		 "\"base_url\":\"%s\"}]}",
		 gb.url);
	itest_serve(cfg, db, env1, &r1);
	wait_success(&r1, "gb", "GB");
	itest_serve(cfg, db, env2, &r2);

	/* Both run a poller for 'gb' on a 1 s schedule; over five of replica 1's
	 * polls (15 requests) replica 2 must not have sent one. */
	long start = itest_fake_agent_requests(&gb, "replica-1");
	for (int i = 0; i < WAIT_S * 5 && itest_fake_agent_requests(&gb, "replica-1") < start + 15; i++)
		sleep_ms(200);
	TL_ASSERT(itest_fake_agent_requests(&gb, "replica-1") >= start + 15);
	TL_ASSERT_INT_EQ(itest_fake_agent_requests(&gb, "replica-2"), 0);
	/* Both replicas name the same holder: replica 1. */
	j = get(&r1, "/v1/sources");
	char holder[96];
	snprintf(holder, sizeof(holder), "%s", str(j, "replica"));
	json_t *s1 = json_array_get(json_object_get(j, "sources"), 0);
	TL_ASSERT_STR_EQ(str(s1, "held_by"), holder);
	TL_ASSERT(json_is_true(json_object_get(s1, "polled_here")));
	json_decref(j);
	j = get(&r2, "/v1/sources");
	json_t *s2 = json_array_get(json_object_get(j, "sources"), 0);
	TL_ASSERT_STR_EQ(str(s2, "held_by"), holder);
	TL_ASSERT(json_is_false(json_object_get(s2, "polled_here")));
	TL_ASSERT(strcmp(str(j, "replica"), holder) != 0);
	json_decref(j);

	/* The holder dies without a word: its session closes, the lock is free,
	 * and replica 2 takes the source over at its next try. */
	int64_t killed = ts_now_ms();
	kill_hard(&r1);
	for (int i = 0; i < WAIT_S * 5 && itest_fake_agent_requests(&gb, "replica-2") == 0; i++)
		sleep_ms(100);
	TL_ASSERT(itest_fake_agent_requests(&gb, "replica-2") > 0);
	printf("\n  (replica 2 polled %.1f s after replica 1 was killed; interval 1 s)\n",
	       (double)(ts_now_ms() - killed) / 1000);
	wait_success(&r2, "gb", "GB");
	j = get(&r2, "/v1/sources");
	s2 = json_array_get(json_object_get(j, "sources"), 0);
	TL_ASSERT_STR_EQ(str(s2, "held_by"), str(j, "replica"));
	TL_ASSERT(json_is_true(json_object_get(s2, "polled_here")));
	json_decref(j);

	TL_ASSERT_INT_EQ(itest_stop(&r2), 0);
	itest_fake_stop(&gb);
}

/* 'ingest --source' without --dry-run: stored as the pollers store, once. */
static void test_ingest_source_writes_once(void)
{
	struct itest_fake gb;
	char db[512], cfg[1024], dbenv[600], *out = NULL, *err = NULL;
	const char *fresh[] = {"--fresh", NULL};
	const char *migrate[] = {"migrate", NULL};

	if (!itest_have_db())
		return;
	itest_fake_start("ukgrid", fresh, &gb);
	itest_db_new("pollers_ingest", db, sizeof(db));
	snprintf(dbenv, sizeof(dbenv), "CARBONSCHED_DATABASE_URL=%s", db);
	const char *env[] = {dbenv, NULL};
	TL_ASSERT_INT_EQ(itest_run(migrate, env, NULL, NULL), 0);
	snprintf(
	    cfg, sizeof(cfg),
	    "{" FETCH "\"regions\":[{\"id\":\"GB\",\"latitude\":51.5,\"longitude\":-0.1,\"pue\":1.1}],"
	    "\"sources\":[{\"name\":\"gb\",\"type\":\"ukgrid\",\"zones\":[\"GB\"],\"base_url\":\"%s\"}]}",
	    gb.url);
	char path[600];
	snprintf(path, sizeof(path), "%s", itest_write_file("ingest-source.json", cfg));
	const char *pull[] = {"ingest", "--config", path, "--source", "gb", NULL};

	/* First pull: 4 half-hourly series of one point, one forecast run of two steps. */
	TL_ASSERT_INT_EQ(itest_run(pull, env, &out, &err), 0);
	TL_ASSERT_CONTAINS(out,
			   "gb GB: 4 series, 4 points, 4 rows written; 1 forecasts, 1 written (2 points)");
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signal_points WHERE source = 'gb'"), 4);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM forecast_runs WHERE model = 'gb' AND zone = 'GB'"), 1);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM forecast_points"), 2);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT rows_written FROM source_state WHERE source = 'gb' AND zone = 'GB'"),
	    6);
	free(out);
	free(err);

	/* Second pull of the same data: nothing new (a run of a new half hour would be). */
	TL_ASSERT_INT_EQ(itest_run(pull, env, &out, &err), 0);
	TL_ASSERT_CONTAINS(out, "gb GB: 4 series, 4 points, 0 rows written; 1 forecasts, ");
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), 4);
	long long runs = itest_sql_int(db, "SELECT count(*) FROM forecast_runs");
	TL_ASSERT(runs == 1 || runs == 2);
	if (runs == 1) {
		TL_ASSERT_CONTAINS(out, "1 forecasts, 0 written (0 points)");
		TL_ASSERT_INT_EQ(
		    itest_sql_int(db, "SELECT rows_written FROM source_state WHERE source = 'gb'"), 6);
	}
	free(out);
	free(err);

	/* --dry-run prints what would be stored, under the source's name, and stores nothing. */
	const char *dry[] = {"ingest", "--config", path, "--source", "gb", "--dry-run", NULL};
	TL_ASSERT_INT_EQ(itest_run(dry, env, &out, &err), 0);
	TL_ASSERT_CONTAINS(out, "\"source\":\"gb\"");
	TL_ASSERT_CONTAINS(out, "\"model\":\"gb\"");
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), 4);
	free(out);
	free(err);

	/* A connector type without a config entry: stored under the type's name. */
	const char *bytype[] = {"ingest",     "--source", "ukgrid",  "--zone", "GB",
				"--base-url", gb.url,	  "--quiet", NULL};
	TL_ASSERT_INT_EQ(itest_run(bytype, env, &out, &err), 0);
	TL_ASSERT_STR_EQ(out, "");
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signal_points WHERE source = 'ukgrid'"), 4);
	free(out);
	free(err);

	/* A failing provider: exit status 1, the cause on stderr and in source_state, nothing lost. */
	itest_fake_fault(&gb, "500", 0);
	TL_ASSERT_INT_EQ(itest_run(pull, env, &out, &err), 1);
	TL_ASSERT_CONTAINS(err, "gb zone 'GB': nothing stored: gb: HTTP 500 Internal Server Error");
	char *msg = itest_sql(db, "SELECT last_error FROM source_state WHERE source = 'gb'");
	TL_ASSERT_CONTAINS(msg, "HTTP 500");
	free(msg);
	TL_ASSERT_INT_EQ(itest_sql_int(db,
				       "SELECT count(*) FROM source_state WHERE source = 'gb' AND "
				       "last_success_at IS NOT NULL AND last_error_at >= last_success_at"),
			 1);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), 8);
	free(out);
	free(err);
	itest_fake_stop(&gb);
}

static CU_TestInfo tests[] = {
    {"the next source serves when the first fails", test_fallback_when_first_fails},
    {"a stale source gives way and is marked stale", test_stale_source_gives_way},
    {"one replica polls a source; another takes over", test_one_replica_polls_a_source},
    {"ingest --source stores once and records failures", test_ingest_source_writes_once},
    CU_TEST_INFO_NULL,
};
TL_SUITE("pollers", NULL, NULL, tests)
