/*
 * service/metrics and telemetry: the exposition text, label escaping,
 * histograms, concurrent updates, bounded label sets; and the route table
 * against the OpenAPI document compiled into the binary.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "service/assets.h"
#include "service/handlers.h"
#include "service/metrics.h"
#include "service/telemetry.h"
#include "tests/lib/testlib.h"

static char *render(struct metrics *m)
{
	struct buf b;

	buf_init(&b, 0);
	metrics_render(m, &b);
	return buf_detach(&b, NULL);
}

static void test_exposition(void)
{
	struct metrics *m = metrics_new();
	struct metric_family *c =
	    metrics_family(m, METRIC_COUNTER, "t_requests_total", "Requests\nby code \\ path",
			   (const char *const[]){"code", "path", NULL}, NULL, 0);
	struct metric_family *g =
	    metrics_family(m, METRIC_GAUGE, "t_temperature_celsius", "Temp", NULL, NULL, 0);
	char *text;

	metric_inc(METRIC_GET(c, "200", "/a"));
	metric_add(METRIC_GET(c, "200", "/a"), 2.5);
	metric_add(METRIC_GET(c, "200", "/a"), -1); /* counters never go down */
	metric_inc(METRIC_GET(c, "500", "say \"hi\"\\\n"));
	metric_set(metric_get(g, NULL), -0.1);
	/* Same name, type and labels: the same family. */
	TL_ASSERT(metrics_family(m, METRIC_GAUGE, "t_temperature_celsius", "other help", NULL, NULL, 0) == g);
	TL_ASSERT_DBL_EQ(metric_value(METRIC_GET(c, "200", "/a")), 3.5, 0);
	text = render(m);
	TL_ASSERT_CONTAINS(text, "# HELP t_requests_total Requests\\nby code \\\\ path\n"
				 "# TYPE t_requests_total counter\n"
				 "t_requests_total{code=\"200\",path=\"/a\"} 3.5\n"
				 "t_requests_total{code=\"500\",path=\"say \\\"hi\\\"\\\\\\n\"} 1\n"
				 "# HELP t_temperature_celsius Temp\n"
				 "# TYPE t_temperature_celsius gauge\n"
				 "t_temperature_celsius -0.1\n");
	free(text);

	/* A cleared gauge disappears until set again. */
	metrics_family_clear(g);
	text = render(m);
	TL_ASSERT(strstr(text, "t_temperature_celsius -") == NULL);
	TL_ASSERT_CONTAINS(text, "# TYPE t_temperature_celsius gauge\n");
	free(text);
	metric_set(metric_get(g, NULL), 1e300);
	text = render(m);
	TL_ASSERT_CONTAINS(text, "t_temperature_celsius 1e+300\n");
	free(text);
	metrics_free(m);
}

static void test_histogram(void)
{
	static const double buckets[] = {0.1, 1, 10};
	struct metrics *m = metrics_new();
	struct metric_family *h = metrics_family(m, METRIC_HISTOGRAM, "t_duration_seconds", "D",
						 (const char *const[]){"route", NULL}, buckets, 3);
	struct metric *s = METRIC_GET(h, "/x");
	static const double obs[] = {0.05, 0.1, 0.5, 2, 20, 30};
	char *text;

	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		metric_observe(s, obs[i]);
	text = render(m);
	/* le is inclusive: 0.1 falls in the 0.1 bucket. */
	TL_ASSERT_CONTAINS(text, "# TYPE t_duration_seconds histogram\n"
				 "t_duration_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
				 "t_duration_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
				 "t_duration_seconds_bucket{route=\"/x\",le=\"10\"} 4\n"
				 "t_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
				 "t_duration_seconds_sum{route=\"/x\"} 52.65\n"
				 "t_duration_seconds_count{route=\"/x\"} 6\n");
	TL_ASSERT_DBL_EQ(metric_value(s), 6, 0);
	free(text);
	metrics_free(m);
}

struct worker_arg {
	struct metric_family *c, *h;
	int id;
};

#define THREADS 4
#define ROUNDS	50000

static void *hammer(void *p)
{
	struct worker_arg *a = p;
	char label[16];

	for (int i = 0; i < ROUNDS; i++) {
		snprintf(label, sizeof(label), "k%d", i % 50); /* new label sets appear while others update */
		metric_inc(METRIC_GET(a->c, label));
		metric_inc(METRIC_GET(a->c, "shared"));
		metric_observe(METRIC_GET(a->h, "shared"), (i % 3) * 0.5);
	}
	return NULL;
}

static void test_concurrent_updates(void)
{
	static const double buckets[] = {0.25, 0.75};
	struct metrics *m = metrics_new();
	struct worker_arg args[THREADS];
	pthread_t t[THREADS];
	double total = 0;
	char label[16];

	for (int i = 0; i < THREADS; i++) {
		args[i].c = metrics_family(m, METRIC_COUNTER, "t_hits_total", "H",
					   (const char *const[]){"k", NULL}, NULL, 0);
		args[i].h = metrics_family(m, METRIC_HISTOGRAM, "t_obs", "O",
					   (const char *const[]){"k", NULL}, buckets, 2);
		args[i].id = i;
		pthread_create(&t[i], NULL, hammer, &args[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	TL_ASSERT_DBL_EQ(metric_value(METRIC_GET(args[0].c, "shared")), THREADS * ROUNDS, 0);
	for (int i = 0; i < 50; i++) {
		snprintf(label, sizeof(label), "k%d", i);
		total += metric_value(METRIC_GET(args[0].c, label));
	}
	TL_ASSERT_DBL_EQ(total, THREADS * ROUNDS, 0);
	TL_ASSERT_DBL_EQ(metric_value(METRIC_GET(args[0].h, "shared")), THREADS * ROUNDS, 0);
	char *text = render(m);
	/* per thread (ROUNDS = 50000): 16667 zeros, 16667 halves, 16666 ones */
	TL_ASSERT_CONTAINS(text, "t_obs_sum{k=\"shared\"} 99998\n");
	TL_ASSERT_CONTAINS(text, "t_obs_bucket{k=\"shared\",le=\"0.25\"} 66668\n");
	free(text);
	metrics_free(m);
}

static void test_bounded_label_sets(void)
{
	struct metrics *m = metrics_new();
	struct metric_family *c = metrics_family(m, METRIC_COUNTER, "t_paths_total", "P",
						 (const char *const[]){"path", NULL}, NULL, 0);
	char label[32];
	char *text;

	for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
		snprintf(label, sizeof(label), "/p/%d", i);
		metric_inc(METRIC_GET(c, label));
	}
	snprintf(label, sizeof(label), "/p/%d", METRICS_MAX_SERIES - 1);
	TL_ASSERT_DBL_EQ(metric_value(METRIC_GET(c, label)), 1, 0);
	text = render(m);
	TL_ASSERT_CONTAINS(text, "carbonsched_metrics_dropped_series_total 10\n");
	snprintf(label, sizeof(label), "\"/p/%d\"", METRICS_MAX_SERIES);
	TL_ASSERT(strstr(text, label) == NULL);
	free(text);
	metrics_free(m);
}

/* Every family of the table registers, and names follow the conventions
 * that promtool checks on a live scrape too. */
static void test_telemetry_table(void)
{
	struct telemetry *t = telemetry_new();
	char *text = render(t->reg);

	TL_ASSERT_CONTAINS(text, "# TYPE carbonsched_http_requests_total counter\n");
	TL_ASSERT_CONTAINS(text, "# TYPE carbonsched_http_request_duration_seconds histogram\n");
	TL_ASSERT_CONTAINS(text, "# TYPE carbonsched_region_carbon_intensity_gco2eq_per_kwh gauge\n");
	TL_ASSERT_CONTAINS(text, "# TYPE carbonsched_co2_avoided_grams_total counter\n");
	for (int i = 0; i < TM__COUNT; i++)
		TL_ASSERT(t->fam[i] != NULL);
	free(text);
	telemetry_free(t);
}

/* --- the route table and the OpenAPI document ------------------------------- */

struct route_check {
	json_t *paths;
	int routes, missing;
};

static void check_route(void *ctx, const char *method, const char *pattern)
{
	struct route_check *c = ctx;
	json_t *item = json_object_get(c->paths, pattern);
	char lower[16];
	size_t i;

	for (i = 0; method[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)(method[i] | 0x20);
	lower[i] = '\0';
	c->routes++;
	if (!json_object_get(item, lower)) {
		tl_fail(__LINE__, __FILE__, false, "route %s %s is not in service/openapi.json", method,
			pattern);
		c->missing++;
	}
}

struct op_check {
	const char *path, *method;
	bool found;
};

static void find_route(void *ctx, const char *method, const char *pattern)
{
	struct op_check *o = ctx;

	if (!strcmp(o->path, pattern) && !strcasecmp(o->method, method))
		o->found = true;
}

static void test_openapi_matches_routes(void)
{
	const struct asset *a = asset_find("service/openapi.json");
	json_error_t jerr;
	json_t *doc, *item;
	const char *path, *method;
	struct route_check c = {0};

	TL_ASSERT(a != NULL);
	if (!a)
		return;
	doc = json_loadb((const char *)a->data, a->len, 0, &jerr);
	TL_ASSERT(doc != NULL);
	if (!doc)
		return;
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	c.paths = json_object_get(doc, "paths");
	routes_each(check_route, &c);
	TL_ASSERT(c.routes >= 9);
	TL_ASSERT_INT_EQ(c.missing, 0);
	/* ... and nothing documented that the service does not route. */
	json_object_foreach (c.paths, path, item) {
		json_t *op;

		json_object_foreach (item, method, op) {
			struct op_check o = {path, method, false};

			if (!strcmp(method, "parameters") || !strcmp(method, "summary") ||
			    !strcmp(method, "description"))
				continue;
			routes_each(find_route, &o);
			if (!o.found)
				tl_fail(__LINE__, __FILE__, false,
					"openapi.json documents %s %s, which is not routed", method, path);
			else
				CU_PASS(path);
		}
	}
	json_decref(doc);
}

static void test_assets_embedded(void)
{
	const struct asset *idx = asset_find("web/dist/index.html"), *js = asset_find("web/dist/app.js");

	TL_ASSERT(idx != NULL && js != NULL);
	if (!idx || !js)
		return;
	TL_ASSERT_CONTAINS((const char *)idx->data, "/assets/app.js");
	TL_ASSERT(js->len > 10000); /* the bundle holds uPlot */
	TL_ASSERT_INT_EQ(strlen((const char *)js->data), js->len);
	TL_ASSERT_STR_EQ(asset_content_type("web/dist/app.js"), "text/javascript; charset=utf-8");
	TL_ASSERT_STR_EQ(asset_content_type("x.bin"), "application/octet-stream");
	TL_ASSERT(asset_find("web/dist/nope.js") == NULL);
	TL_ASSERT(idx->etag[0] == '"' && strlen(idx->etag) == 22);
	TL_ASSERT(strcmp(idx->etag, js->etag) != 0);
}

static CU_TestInfo tests[] = {
    {"exposition text", test_exposition},
    {"histogram", test_histogram},
    {"concurrent updates", test_concurrent_updates},
    {"bounded label sets", test_bounded_label_sets},
    {"telemetry table", test_telemetry_table},
    {"openapi matches the route table", test_openapi_matches_routes},
    {"assets embedded", test_assets_embedded},
    CU_TEST_INFO_NULL,
};
TL_SUITE("metrics", NULL, NULL, tests)
