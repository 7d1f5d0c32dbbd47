/*
 * The interfaces against the real binary on the bundled demo data:
 * /metrics (values against the API and the database, promtool's lint, a
 * real Prometheus scraping it), /openapi.json (real answers validated
 * against its schemas by tests/node/validate.mjs), and the dashboard
 * driven in headless Chromium (tests/node/dashboard.mjs; the screenshot is
 * left in tests/out/dashboard.png).
 *
 * Node tools come from tests/run.sh, which installs them from the lock file
 * and sets CARBONSCHED_NODE_TOOLS; without them (no node, or npm could
 * not install), those tests skip and say why.  promtool, prometheus and
 * chromium come from Debian (deploy/install-deps.sh) and likewise skip,
 * saying so, when absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

/* The forecasting worker is off: the collectors test plants its own runs
 * and skill rows and reads them back (tests/integration/test_forecast_worker.c
 * covers the worker). */
static const char *config =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2021-11-01T00:00:00Z\"},\"threads\":4,"
    "\"forecast\":{\"enabled\":false},"
    "\"regions\":["
    "{\"id\":\"SE\",\"name\":\"Sweden\",\"latitude\":59.33,\"longitude\":18.07,"
    "\"jurisdictions\":[\"EU\",\"SE\",\"GDPR\"],\"pue\":1.08,\"capacity_kw\":600},"
    "{\"id\":\"DE\",\"name\":\"Germany\",\"latitude\":50.11,\"longitude\":8.68,"
    "\"jurisdictions\":[\"EU\",\"DE\",\"GDPR\"],\"pue\":{\"base\":1.1,\"k\":0.012,\"t0\":18},\"capacity_kw\":"
    "1200},"
    "{\"id\":\"EMPTY\",\"name\":\"No data "
    "yet\",\"zone\":\"ZZ\",\"latitude\":0,\"longitude\":0,\"pue\":1.5}]}";

static char db[512];
static struct itest_server srv;
static bool serving;

/* --- running tools ------------------------------------------------------------ */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static bool have_program(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Start argv (searched in PATH) with stdout and stderr to 'log'. */
static pid_t start_tool(const char *const *argv, const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Run argv to completion under 'timeout'; returns the exit status, its
 * output (stdout and stderr) in *ret_out (new). */
static int run_tool(const char *const *argv, int timeout_s, char **ret_out)
{
	static int n;
	const char *args[32];
	char secs[16], log[600];
	int k = 0, st;

	snprintf(secs, sizeof(secs), "%d", timeout_s);
	snprintf(log, sizeof(log), "%s/tool-%d.log", itest_tmpdir(), ++n);
	args[k++] = "timeout";
	args[k++] = secs;
	for (int i = 0; argv[i] && k < 31; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	pid_t pid = start_tool(args, log);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (ret_out)
		*ret_out = itest_slurp(log);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* True when tests/run.sh installed the node tools; else says why not. */
static bool have_node_tools(const char *test)
{
	const char *skip = getenv("CARBONSCHED_NODE_SKIP");

	if (getenv("CARBONSCHED_NODE_TOOLS"))
		return true;
	printf("\n  SKIP %s: %s\n", test,
	       skip ? skip : "no node tools (run through 'make test', which installs them with npm ci)");
	return false;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* --- the service under test ----------------------------------------------------- */

static char *get(const char *path, long *ret_status, char *ret_ctype, size_t ctype_size)
{
	struct itest_response r;
	char url[1024];

	snprintf(url, sizeof(url), "%s%s", srv.base, path);
	if (!itest_http("GET", url, NULL, NULL, &r)) {
		*ret_status = 0;
		return NULL;
	}
	*ret_status = r.status;
	if (ret_ctype)
		snprintf(ret_ctype, ctype_size, "%s", r.content_type);
	return r.body; /* taken over from r */
}

/* The value of the sample whose line starts with 'series' followed by a
 * space, NAN when absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/* As sample, with an absent series counting as zero (a counter not yet
 * incremented). */
static double sample0(const char *text, const char *series)
{
	double v = sample(text, series);

	return isnan(v) ? 0 : v;
}

static char *scrape(void)
{
	long status;
	char ctype[128];
	char *body = get("/metrics", &status, ctype, sizeof(ctype));

	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(ctype, "text/plain; version=0.0.4; charset=utf-8");
	return body;
}

static double region_latest(const char *id)
{
	char path[64];
	long status;
	json_t *j;
	double v;

	snprintf(path, sizeof(path), "/v1/regions/%s", id);
	j = itest_get_json(&srv, path, &status);
	v = json_number_value(json_object_get(json_object_get(j, "latest"), "carbon_intensity"));
	json_decref(j);
	return v;
}

static int suite_init(void)
{
	char env0[600];
	const char *env[] = {env0, NULL};
	const char *migrate[] = {"migrate", NULL};
	const char *se[] = {"ingest", "--format", "dacf", "--file", "data/demo/SE_direct_emissions.csv.gz",
			    NULL};
	const char *de[] = {"ingest", "--format", "dacf", "--file", "data/demo/DE_direct_emissions.csv.gz",
			    NULL};

	if (!itest_have_db()) {
		fprintf(stderr, "integration tests need the throwaway PostgreSQL of 'make test'\n");
		return 1;
	}
	itest_db_new("interfaces", db, sizeof(db));
	snprintf(env0, sizeof(env0), "CARBONSCHED_DATABASE_URL=%s", db);
	if (itest_run(migrate, env, NULL, NULL) || itest_run(se, env, NULL, NULL) ||
	    itest_run(de, env, NULL, NULL)) {
		fprintf(stderr, "interfaces: cannot load the demo data\n");
		return 1;
	}
	itest_serve(config, db, NULL, &srv);
	serving = true;
	return 0;
}

static int suite_clean(void)
{
	if (serving)
		itest_stop(&srv);
	return 0;
}

/* --- /metrics ------------------------------------------------------------------ */

static void test_http_metrics_by_route(void)
{
	static const char
	    *const ok = "carbonsched_http_requests_total{route=\"/v1/regions/{id}\",method=\"GET\","
			"status=\"200\"}",
		   *nf = "carbonsched_http_requests_total{route=\"/v1/regions/{id}\",method=\"GET\","
			 "status=\"404\"}",
		   *unmatched = "carbonsched_http_requests_total{route=\"unmatched\",method=\"GET\","
				"status=\"404\"}",
		   *wrong = "carbonsched_http_requests_total{route=\"/v1/regions\",method=\"POST\","
			    "status=\"405\"}",
		   *hist = "carbonsched_http_request_duration_seconds_count{route=\"/v1/regions/{id}\","
			   "method=\"GET\"}";
	char *before = scrape(), *after, *body, url[256];
	double ok0 = sample0(before, ok), nf0 = sample0(before, nf), un0 = sample0(before, unmatched),
	       wr0 = sample0(before, wrong), h0 = sample0(before, hist);
	struct itest_response r;
	long status;

	for (int i = 0; i < 3; i++) {
		free(get("/v1/regions/SE", &status, NULL, 0));
		TL_ASSERT_INT_EQ(status, 200);
	}
	free(get("/v1/regions/NOPE", &status, NULL, 0));
	TL_ASSERT_INT_EQ(status, 404);
	/* Raw paths never become labels: two different unknown paths, one series. */
	free(get("/no/such/thing", &status, NULL, 0));
	free(get("/etc/passwd", &status, NULL, 0));
	snprintf(url, sizeof(url), "%s/v1/regions", srv.base);
	TL_ASSERT(itest_http("POST", url, NULL, "{}", &r));
	TL_ASSERT_INT_EQ(r.status, 405);
	itest_response_free(&r);

	after = scrape();
	TL_ASSERT_DBL_EQ(sample(after, ok), ok0 + 3, 0);
	TL_ASSERT_DBL_EQ(sample(after, nf), nf0 + 1, 0);
	TL_ASSERT_DBL_EQ(sample(after, unmatched), un0 + 2, 0);
	TL_ASSERT_DBL_EQ(sample(after, wrong), wr0 + 1, 0);
	TL_ASSERT_DBL_EQ(sample(after, hist), h0 + 4, 0);
	TL_ASSERT(strstr(after, "passwd") == NULL);
	TL_ASSERT(strstr(after, "NOPE") == NULL);
	/* The scrape in flight counts itself. */
	TL_ASSERT_DBL_EQ(sample(after, "carbonsched_http_requests_in_flight"), 1, 0);
	body = get("/metrics?foo=1", &status, NULL, 0);
	TL_ASSERT_INT_EQ(status, 400);
	free(body);
	free(before);
	free(after);
}

static void test_region_gauges_match_the_api(void)
{
	char *m = scrape();
	double se = region_latest("SE"), de = region_latest("DE");

	TL_ASSERT(se > 0 && de > 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_region_carbon_intensity_gco2eq_per_kwh{region=\"SE\",zone="
				   "\"SE\",source=\"file\"}"),
			 se, 1e-9 * se);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_region_carbon_intensity_gco2eq_per_kwh{region=\"DE\",zone="
				   "\"DE\",source=\"file\"}"),
			 de, 1e-9 * de);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_region_effective_intensity_gco2eq_per_kwh{region=\"SE\"}"),
			 se * 1.08, 1e-9 * se);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_region_pue{region=\"SE\"}"), 1.08, 0);
	double share =
	    sample(m, "carbonsched_region_renewable_share_ratio{region=\"SE\",zone=\"SE\",source=\"file\"}");
	TL_ASSERT(share > 0 && share < 1);
	/* The replay starts at 2021-11-01T00:00Z, where the data has an hourly point. */
	double age = sample(m, "carbonsched_region_carbon_intensity_age_seconds{region=\"SE\"}");
	TL_ASSERT(age >= 0 && age < 3600);
	/* No data, no series (and no made-up zero). */
	TL_ASSERT(strstr(m, "region=\"EMPTY\",zone") == NULL);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_region_pue{region=\"EMPTY\"}"), 1.5, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_scrape_collector_success{collector=\"signals\"}"), 1, 0);
	TL_ASSERT_CONTAINS(m, "carbonsched_build_info{version=\"");
	TL_ASSERT_CONTAINS(m, "clock=\"replay\"} 1\n");
	double clock = sample(m, "carbonsched_clock_time_seconds");
	TL_ASSERT(clock >= 1635724800 && clock < 1635724800 + 3600);
	free(m);
}

/* The database-backed collectors: rows written as the scheduler, the
 * forecasters and the pollers will write them show up in the metrics. */
static void test_collectors_read_the_database(void)
{
	char *m, *r;

	r = itest_sql(
	    db, "INSERT INTO jobs (idempotency_key, state, origin, region, request, power_kw, duration_s, "
		"earliest_start,"
		" deadline, expected_g, baseline_g, realised_g, realised_baseline_g) VALUES"
		" ('k1', 'scheduled', 'SE', 'SE', '{}', 10, 3600, '2021-11-01', '2021-11-02', 400, 1000, "
		"NULL, NULL),"
		" ('k2', 'scheduled', 'DE', 'SE', '{}', 10, 3600, '2021-11-01', '2021-11-02', 300, 350, "
		"NULL, NULL),"
		" ('k3', 'completed', 'DE', 'SE', '{}', 10, 3600, '2021-10-01', '2021-10-02', 100, 900, 120, "
		"880),"
		" ('k4', 'completed', 'SE', 'SE', '{}', 10, 3600, '2021-10-01', '2021-10-02', 100, 150, "
		"NULL, NULL),"
		" ('k5', 'completed', 'SE', 'SE', '{}', 10, 3600, '2021-10-01', '2021-10-02', 100, 150, 200, "
		"150),"
		" ('k6', 'failed', 'SE', 'SE', '{}', 10, 3600, '2021-10-01', '2021-10-02', 1, 2, NULL, NULL)"
		" RETURNING 1");
	free(r);
	r = itest_sql(
	    db, "WITH run AS (INSERT INTO forecast_runs (zone, kind, model, issued_at, step_s, horizon_s)"
		" VALUES ('SE', 'carbon_intensity', 'ets', '2021-10-31T22:00:00Z', 3600, 345600),"
		" ('SE', 'carbon_intensity', 'ets', '2021-10-30T22:00:00Z', 3600, 345600) RETURNING id, "
		"issued_at)"
		" INSERT INTO forecast_points (run_id, ts, p10, p50, p90)"
		" SELECT id, issued_at + h * interval '1 hour', 10, 100 + h + CASE WHEN issued_at = "
		"'2021-10-31T22:00:00Z' THEN 0 ELSE 1000 END, 200"
		" FROM run, generate_series(0, 96) h RETURNING 1");
	free(r);
	r = itest_sql(db,
		      "INSERT INTO forecast_skill (zone, kind, model, horizon_h, n, mae, coverage80) VALUES"
		      " ('SE', 'carbon_intensity', 'ets', 24, 100, 12.5, 0.78) RETURNING 1");
	free(r);
	r = itest_sql(
	    db, "INSERT INTO source_state (source, zone, last_success_at, last_error, last_error_at,"
		" rows_written, breaker) VALUES"
		" ('ukgrid', 'GB', now() - interval '90 seconds', NULL, NULL, 1234, 'closed'),"
		" ('entsoe', 'DE', now() - interval '2 hours', 'HTTP 503', now(), 10, 'open') RETURNING 1");
	free(r);

	m = scrape();
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_jobs{state=\"scheduled\"}"), 2, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_jobs{state=\"completed\"}"), 3, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_jobs{state=\"failed\"}"), 1, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_jobs{state=\"cancelled\"}"), 0, 0);
	/* completed: realised 880-120 = 760, planned 150-100 = 50, realised 150-200 = -50 (excess) */
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_co2_avoided_grams_total"), 810, 1e-9);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_co2_excess_grams_total"), 50, 1e-9);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_jobs_planned_avoided_grams"), 600 + 50, 1e-9);
	/* The newest run (issued 2 h before the replay's now) is the one read. */
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_forecast_age_seconds{zone=\"SE\",kind=\"carbon_intensity\","
				   "model=\"ets\"}"),
			 2 * 3600, 60);
	/* now + 4 h = issued + 6 h: p50 = 100 + 6 (the older run's are 1000 higher) */
	TL_ASSERT_DBL_EQ(
	    sample(m, "carbonsched_forecast_carbon_intensity_gco2eq_per_kwh{region=\"SE\",model=\"ets\","
		      "horizon=\"4h\"}"),
	    106, 0);
	TL_ASSERT_DBL_EQ(
	    sample(m, "carbonsched_forecast_carbon_intensity_gco2eq_per_kwh{region=\"SE\",model=\"ets\","
		      "horizon=\"24h\"}"),
	    126, 0);
	TL_ASSERT(strstr(m, "carbonsched_forecast_carbon_intensity_gco2eq_per_kwh{region=\"DE\"") == NULL);
	TL_ASSERT_DBL_EQ(
	    sample(m, "carbonsched_forecast_mae{zone=\"SE\",kind=\"carbon_intensity\",model=\"ets\","
		      "horizon_h=\"24\"}"),
	    12.5, 0);
	TL_ASSERT_DBL_EQ(
	    sample(m, "carbonsched_forecast_interval_coverage_ratio{zone=\"SE\",kind=\"carbon_intensity\","
		      "model=\"ets\",horizon_h=\"24\"}"),
	    0.78, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_source_up{source=\"ukgrid\",zone=\"GB\"}"), 1, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_source_up{source=\"entsoe\",zone=\"DE\"}"), 0, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_source_breaker_open{source=\"entsoe\",zone=\"DE\"}"), 1, 0);
	TL_ASSERT_DBL_EQ(sample(m, "carbonsched_source_rows_written_total{source=\"ukgrid\",zone=\"GB\"}"),
			 1234, 0);
	TL_ASSERT_DBL_EQ(
	    sample(m, "carbonsched_source_last_success_age_seconds{source=\"ukgrid\",zone=\"GB\"}"), 90, 30);
	for (const char *c = "forecasts\0sources\0jobs\0"; *c; c += strlen(c) + 1) {
		char name[96];

		snprintf(name, sizeof(name), "carbonsched_scrape_collector_success{collector=\"%s\"}", c);
		TL_ASSERT_DBL_EQ(sample(m, name), 1, 0);
	}
	free(m);
}

static void test_promtool_lint(void)
{
	char *m = scrape(), *out = NULL, path[600];
	FILE *f;

	if (!have_program("promtool")) {
		printf("\n  SKIP promtool lint: promtool not installed (Debian package 'prometheus', "
		       "deploy/install-deps.sh)\n");
		free(m);
		return;
	}
	snprintf(path, sizeof(path), "%s/metrics.txt", itest_tmpdir());
	f = fopen(path, "w");
	TL_ASSERT(f && fputs(m, f) >= 0 && !fclose(f));
	/* promtool reads the exposition on stdin */
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > '%s.out' 2>&1", path, path);
	int rc = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s.out", path);
	out = itest_slurp(cmd);
	if (rc)
		fprintf(stderr, "promtool check metrics:\n%s\n", out);
	TL_ASSERT_INT_EQ(rc, 0);
	/* ... and it does complain about a bad exposition, so the pass above means something. */
	f = fopen(path, "w");
	TL_ASSERT(f && fputs("# TYPE bad_counter counter\nbad_counter 1\n", f) >= 0 && !fclose(f));
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > /dev/null 2>&1", path);
	TL_ASSERT(system(cmd) != 0);
	free(out);
	free(m);
}

/* Every query of the Grafana dashboard (deploy/grafana) parses as PromQL
 * (promtool check rules) and names only metrics the service exposes. */
static void collect_exprs(json_t *node, json_t *out)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(node))
		json_array_foreach (node, i, v)
			collect_exprs(v, out);
	if (!json_is_object(node))
		return;
	json_object_foreach (node, key, v) {
		if (!strcmp(key, "expr") && json_is_string(v))
			json_array_append(out, v);
		else
			collect_exprs(v, out);
	}
}

static void test_grafana_queries(void)
{
	json_t *dash = json_load_file("deploy/grafana/carbonsched.json", 0, NULL), *exprs = json_array(), *e;
	char *m = scrape(), path[600], cmd[1400];
	struct buf rules;
	size_t i;

	TL_ASSERT(dash != NULL);
	collect_exprs(dash, exprs);
	TL_ASSERT(json_array_size(exprs) >= 20);
	buf_init(&rules, 0);
	buf_adds(&rules, "groups:\n  - name: dashboard\n    rules:\n");
	json_array_foreach (exprs, i, e) {
		struct buf q;
		const char *s = json_string_value(e);

		/* Grafana's variables, as Grafana would fill them. */
		buf_init(&q, 0);
		for (const char *p = s; *p; p++) {
			if (!strncmp(p, "$__rate_interval", 16)) {
				buf_adds(&q, "1m");
				p += 15;
			} else if (!strncmp(p, "$region", 7)) {
				buf_adds(&q, ".*");
				p += 6;
			} else {
				buf_addc(&q, *p);
			}
		}
		json_t *str = json_string(q.data);
		char *lit = json_dumps(str, JSON_ENCODE_ANY);

		json_decref(str);
		buf_addf(&rules, "      - record: dashboard:q%zu\n        expr: %s\n", i, lit);
		free(lit);
		/* Each metric named exists in the exposition (histograms by their family). */
		for (const char *p = strstr(q.data, "carbonsched_"); p; p = strstr(p + 1, "carbonsched_")) {
			char name[128], type[160];
			size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");

			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			if (n > 7 && !strcmp(name + n - 7, "_bucket"))
				name[n - 7] = '\0';
			snprintf(type, sizeof(type), "# TYPE %s ", name);
			if (!strstr(m, type))
				tl_fail(__LINE__, __FILE__, false,
					"the dashboard queries '%s', which /metrics does not have", name);
			else
				CU_PASS(name);
		}
		buf_release(&q);
	}
	if (!have_program("promtool")) {
		printf("\n  SKIP grafana queries as PromQL: promtool not installed (Debian package "
		       "'prometheus')\n");
	} else {
		snprintf(path, sizeof(path), "%s/dashboard-rules.yml", itest_tmpdir());
		FILE *f = fopen(path, "w");
		TL_ASSERT(f && fputs(rules.data, f) >= 0 && !fclose(f));
		snprintf(cmd, sizeof(cmd), "promtool check rules '%s' > '%s.out' 2>&1", path, path);
		int rc = system(cmd);
		if (rc) {
			snprintf(cmd, sizeof(cmd), "%s.out", path);
			char *out = itest_slurp(cmd);
			fprintf(stderr, "promtool check rules:\n%s\n", out);
			free(out);
		}
		TL_ASSERT_INT_EQ(rc, 0);
	}
	buf_release(&rules);
	json_decref(exprs);
	json_decref(dash);
	free(m);
}

/* A real Prometheus scrapes the service; a series comes back through its
 * HTTP query API with the value the service's own API gives. */
static void test_prometheus_scrapes(void)
{
	char dir[600], cfg[700], log[700], listen[64], target[64], url[512], yml[1024];
	int port = free_port();
	const char *argv[] = {"prometheus", NULL, NULL, listen, "--log.level=warn", NULL};
	char cfgarg[800], storearg[800];
	double want = region_latest("SE"), got = NAN;
	struct itest_response r;
	pid_t pid;
	bool ready = false;

	if (!have_program("prometheus")) {
		printf(
		    "\n  SKIP prometheus scrape: prometheus not installed (Debian package 'prometheus')\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/prometheus", itest_tmpdir());
	mkdir(dir, 0755);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", dir);
	snprintf(target, sizeof(target), "127.0.0.1:%d", srv.port);
	snprintf(yml, sizeof(yml),
		 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		 "scrape_configs:\n  - job_name: carbonsched\n    static_configs:\n      - targets: ['%s']\n"
		 "    authorization:\n      credentials: '%s'\n",
		 target, srv.key);
	FILE *f = fopen(cfg, "w");
	TL_ASSERT(f && fputs(yml, f) >= 0 && !fclose(f));
	snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", cfg);
	snprintf(storearg, sizeof(storearg), "--storage.tsdb.path=%s/data", dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	argv[1] = cfgarg;
	argv[2] = storearg;
	pid = start_tool(argv, log);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/ready", port);
	for (int waited = 0; waited < 30000 && !ready; waited += 200) {
		if (itest_http("GET", url, NULL, NULL, &r))
			ready = r.status == 200;
		itest_response_free(&r);
		if (!ready)
			sleep_ms(200);
	}
	TL_ASSERT(ready);
	/* The first scrape comes within a scrape interval or two of start-up. */
	snprintf(
	    url, sizeof(url),
	    "http://127.0.0.1:%d/api/v1/query?query=carbonsched_region_carbon_intensity_gco2eq_per_kwh%%7B"
	    "region%%3D%%22SE%%22%%7D",
	    port);
	for (int waited = 0; ready && waited < 30000 && isnan(got); waited += 250) {
		if (itest_http("GET", url, NULL, NULL, &r) && r.status == 200) {
			json_t *j = json_loads(r.body, 0, NULL);
			json_t *res = json_object_get(json_object_get(j, "data"), "result");
			const char *v = json_string_value(
			    json_array_get(json_object_get(json_array_get(res, 0), "value"), 1));

			if (v)
				got = strtod(v, NULL);
			json_decref(j);
		}
		itest_response_free(&r);
		if (isnan(got))
			sleep_ms(250);
	}
	TL_ASSERT_DBL_EQ(got, want, 1e-9 * want);
	/* The target is up as Prometheus sees it. */
	snprintf(url, sizeof(url),
		 "http://127.0.0.1:%d/api/v1/query?query=up%%7Bjob%%3D%%22carbonsched%%22%%7D", port);
	TL_ASSERT(itest_http("GET", url, NULL, NULL, &r));
	TL_ASSERT_CONTAINS(r.body, "\"value\":[");
	TL_ASSERT_CONTAINS(r.body, ",\"1\"]");
	itest_response_free(&r);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (isnan(got)) {
		char *l = itest_slurp(log);
		fprintf(stderr, "prometheus log:\n%s\n", l);
		free(l);
	}
}

/* --- /openapi.json and the embedded files ----------------------------------------- */

static void test_files_served_as_built(void)
{
	static const struct {
		const char *path, *file, *ctype;
	} files[] = {
	    {"/openapi.json", "service/openapi.json", "application/json"},
	    {"/", "web/dist/index.html", "text/html; charset=utf-8"},
	    {"/assets/app.js", "web/dist/app.js", "text/javascript; charset=utf-8"},
	    {"/assets/app.css", "web/dist/app.css", "text/css; charset=utf-8"},
	};
	char url[256], etag[64], inm[96];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct itest_response r, r2;
		char *want = itest_slurp(files[i].file);
		const char *e;

		snprintf(url, sizeof(url), "%s%s", srv.base, files[i].path);
		TL_ASSERT(itest_http("GET", url, NULL, NULL, &r));
		TL_ASSERT_INT_EQ(r.status, 200);
		TL_ASSERT_STR_EQ(r.content_type, files[i].ctype);
		TL_ASSERT(want && *want && !strcmp(r.body, want));
		/* A strong ETag; a client that has this version gets 304 and no body. */
		e = strstr(r.headers, "ETag: \"");
		TL_ASSERT(e != NULL);
		if (e) {
			snprintf(etag, sizeof(etag), "%.*s", (int)strcspn(e + 6, "\r\n"), e + 6);
			snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
			const char *h[] = {inm, NULL};
			TL_ASSERT(itest_http("GET", url, h, NULL, &r2));
			TL_ASSERT_INT_EQ(r2.status, 304);
			TL_ASSERT_STR_EQ(r2.body, "");
			itest_response_free(&r2);
		}
		itest_response_free(&r);
		free(want);
	}
	/* The page may load scripts only from the service itself. */
	struct itest_response r;
	snprintf(url, sizeof(url), "%s/", srv.base);
	TL_ASSERT(itest_http("GET", url, NULL, NULL, &r));
	TL_ASSERT_CONTAINS(r.headers, "Content-Security-Policy: default-src 'self'");
	itest_response_free(&r);
}

static void test_openapi_validates_real_answers(void)
{
	const char *argv[] = {"node",	"tests/node/validate.mjs", "--base",	 srv.base,
			      "--spec", "service/openapi.json",	   "--requests", NULL,
			      NULL};
	char *out = NULL;
	int rc;

	if (!have_node_tools("OpenAPI validation of real answers"))
		return;
	argv[7] = tl_testdata("interfaces/openapi_requests.txt");
	/* The tools send the key of the environment; lines marked !readkey a
	 * read-only key (to see 403 answers). */
	const char *create[] = {"keys", "create", "--scopes", "read", NULL};
	char *key = NULL, dbenv[600];
	const char *env[] = {dbenv, NULL};
	snprintf(dbenv, sizeof(dbenv), "CARBONSCHED_DATABASE_URL=%s", db);
	TL_ASSERT_INT_EQ(itest_run(create, env, &key, NULL), 0);
	if (key) {
		key[strcspn(key, "\n")] = '\0';
		setenv("CARBONSCHED_READ_KEY", key, 1);
		free(key);
	}
	setenv("CARBONSCHED_API_KEY", srv.key, 1);
	rc = run_tool(argv, 120, &out);
	if (rc)
		fprintf(stderr, "%s\n", out);
	TL_ASSERT_INT_EQ(rc, 0);
	TL_ASSERT_CONTAINS(out, "operations covered, 0 problems");
	free(out);
}

/* --- the dashboard in Chromium ------------------------------------------------------ */

static void test_dashboard_in_chromium(void)
{
	const char *chromium = getenv("CHROMIUM") ? getenv("CHROMIUM") : "/usr/bin/chromium";
	const char *shot = "tests/out/dashboard.png";
	const char *argv[] = {"node", "tests/node/dashboard.mjs", "--base", srv.base, "--out", shot, NULL};
	struct stat st;
	char *out = NULL;
	int rc;

	if (!have_node_tools("dashboard in Chromium"))
		return;
	if (access(chromium, X_OK)) {
		printf("\n  SKIP dashboard in Chromium: no %s (Debian package 'chromium', "
		       "deploy/install-deps.sh)\n",
		       chromium);
		return;
	}
	mkdir("tests/out", 0755);
	unlink(shot);
	setenv("CARBONSCHED_API_KEY", srv.key, 1);
	rc = run_tool(argv, 120, &out);
	if (rc)
		fprintf(stderr, "%s\n", out);
	TL_ASSERT_INT_EQ(rc, 0);
	/* The page ranked SE (hydro, nuclear) before DE, and EMPTY last. */
	TL_ASSERT_CONTAINS(out, "\"ranking\":[\"SE\",\"DE\",\"EMPTY\"]");
	/* SE shows the run the collectors test planted (96 h from its issue time) */
	TL_ASSERT_CONTAINS(
	    out, "\"forecastPoints\":96,\"forecastNote\":\"Forecast issued 2021-10-31 22:00 UTC by ets;");
	TL_ASSERT(stat(shot, &st) == 0 && st.st_size > 20000);
	free(out);
}

/* Last: the service stops cleanly (under ASan: without leaks). */
static void test_stops_cleanly(void)
{
	serving = false;
	TL_ASSERT_INT_EQ(itest_stop(&srv), 0);
}

static CU_TestInfo tests[] = {
    {"HTTP metrics by route pattern", test_http_metrics_by_route},
    {"region gauges match the API", test_region_gauges_match_the_api},
    {"collectors read the database", test_collectors_read_the_database},
    {"promtool lint", test_promtool_lint},
    {"grafana dashboard queries", test_grafana_queries},
    {"prometheus scrapes and answers", test_prometheus_scrapes},
    {"files served as built", test_files_served_as_built},
    {"openapi validates real answers", test_openapi_validates_real_answers},
    {"dashboard in chromium", test_dashboard_in_chromium},
    {"stops cleanly", test_stops_cleanly},
    CU_TEST_INFO_NULL,
};
TL_SUITE("interfaces", suite_init, suite_clean, tests)
