/*
 * The Carbon Aware SDK WebAPI routes against the real binary: the golden
 * answers of tests/data/sdk/ (the SDK's documented examples, on data built
 * so that the SDK would give them), then the SDK's rules one by one and
 * every error a client can reach.
 *
 * Two services share one database: one whose clock stands at 2022-07-19
 * 13:37:49Z (the 'requestedAt' of the SDK's forecast example), one at
 * 2022-08-24T00:00Z (after the observed example of 2022-08-23).  Both
 * clocks run at a thousandth of real time, so 'now' does not move.
 */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/time.h"
#include "service/db.h"
#include "service/fcstore.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

#define REGIONS                                                                                             \
	"\"regions\":["                                                                                     \
	"{\"id\":\"westus\",\"name\":\"West US\",\"zone\":\"CAISO_NORTH\",\"latitude\":37.783,"             \
	"\"longitude\":-122.417,\"pue\":1.2},"                                                              \
	"{\"id\":\"eastus\",\"name\":\"East US\",\"zone\":\"US-MIDA-PJM\",\"latitude\":37.3719,"            \
	"\"longitude\":-79.8164,\"pue\":1.2},"                                                              \
	"{\"id\":\"northeurope\",\"name\":\"North Europe\",\"zone\":\"IE\",\"latitude\":53.3478,"           \
	"\"longitude\":-6.2597,\"pue\":1.1},"                                                               \
	"{\"id\":\"sdk-a\",\"name\":\"A\",\"zone\":\"ZA\",\"latitude\":1,\"longitude\":1,\"pue\":1.1},"     \
	"{\"id\":\"sdk-b\",\"name\":\"B\",\"zone\":\"ZB\",\"latitude\":2,\"longitude\":2,\"pue\":1.1},"     \
	"{\"id\":\"sdk-gap\",\"name\":\"Gap\",\"zone\":\"ZG\",\"latitude\":3,\"longitude\":3,\"pue\":1.1}," \
	"{\"id\":\"nodata\",\"name\":\"No "                                                                 \
	"data\",\"zone\":\"ZN\",\"latitude\":4,\"longitude\":4,\"pue\":1.1},"                               \
	"{\"id\":\"dup-1\",\"name\":\"D1\",\"zone\":\"ZD\",\"latitude\":5,\"longitude\":5,\"pue\":1.1},"    \
	"{\"id\":\"dup-2\",\"name\":\"D2\",\"zone\":\"ZD\",\"latitude\":6,\"longitude\":6,\"pue\":1.1}]"

/* The forecasting worker is off: the forecasts are the runs planted here. */
static const char *config_july =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2022-07-19T13:37:49Z\",\"speed\":0.001},"
    "\"threads\":2,\"forecast\":{\"enabled\":false}," REGIONS "}";
static const char *config_august =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2022-08-24T00:00:00Z\",\"speed\":0.001},"
    "\"threads\":2,\"forecast\":{\"enabled\":false}," REGIONS "}";

static char db[512];
static struct itest_server july, august;
static bool serving;

/* --- the data ------------------------------------------------------------------------ */

static int64_t at(const char *rfc3339)
{
	int64_t t = 0;

	ts_parse(rfc3339, "t", &t, NULL);
	return t;
}

static int ingest_wide(const char *name, const char *csv, const char *const *env)
{
	const char *path = itest_write_file(name, csv);
	char file[1024];
	const char *args[] = {"ingest", "--format", "wide", "--file", file, NULL};
	char *err = NULL;
	int rc;

	snprintf(file, sizeof(file), "%s", path);
	rc = itest_run(args, env, NULL, &err);
	if (rc)
		fprintf(stderr, "ingest %s: %s\n", name, err ? err : "");
	free(err);
	return rc;
}

/* Observed data: 5-minute CAISO_NORTH around the SDK's quickstart example,
 * hourly for the others. */
static int load_observed(const char *const *env)
{
	struct buf five, hourly;
	char ts[TS_BUFSZ];
	int rc;

	buf_init(&five, 0);
	buf_adds(&five, "datetime_utc,CAISO_NORTH\n");
	for (int64_t t = at("2022-08-23T12:00:00Z"); t < at("2022-08-23T16:00:00Z"); t += 300) {
		ts_format(t, ts);
		ts[10] = ' ';
		ts[19] = '\0';
		if (t == at("2022-08-23T14:25:00Z"))
			buf_addf(&five, "%s,438.62382179\n", ts);
		else if (t == at("2022-08-23T14:30:00Z"))
			buf_addf(&five, "%s,439.07741416000005\n", ts);
		else
			buf_addf(&five, "%s,%d\n", ts, 440 + (int)((t / 300) % 17));
	}

	/* eastus: the three 4-hour periods of the SDK's average example hold
	 * its answers; ZA/ZB tie at 100 (10:00 both, 11:00 B, 12:00 A); ZG has
	 * a gap at 09:00, where the SDK would put -1. */
	buf_init(&hourly, 0);
	buf_adds(&hourly, "datetime_utc,US-MIDA-PJM,ZA,ZB,ZG\n");
	for (int64_t t = at("2022-05-01T00:00:00Z"); t < at("2022-08-24T00:00:00Z"); t += 3600) {
		const char *pjm = "200";
		struct ts_civil c;

		ts_to_civil(t, &c);
		if (c.year == 2022 && c.day == 1 && c.hour >= 14 && c.hour < 18)
			pjm = c.month == 5   ? "32.935208333333335"
			      : c.month == 6 ? "89.18215277777779"
			      : c.month == 7 ? "10.416875"
					     : pjm;
		bool d23 = c.month == 8 && c.day == 23;
		ts_format(t, ts);
		ts[10] = ' ';
		ts[19] = '\0';
		buf_addf(&hourly, "%s,%s,%s,%s,%s\n", ts, pjm,
			 d23 && (c.hour == 10 || c.hour == 12) ? "100" : "150",
			 d23 && (c.hour == 10 || c.hour == 11) ? "100" : "160",
			 d23 && c.hour == 9 ? "" : "120");
	}
	rc = ingest_wide("caiso.csv", five.data, env) || ingest_wide("hourly.csv", hourly.data, env);
	buf_release(&five);
	buf_release(&hourly);
	return rc;
}

/* A run of 5-minute (or 'step') p50 values: 'base' everywhere but at the
 * given instants. */
struct fc_value {
	const char *ts;
	double v;
};

static int write_run(struct db *d, const char *zone, const char *issued, int step, int hours, double base,
		     const struct fc_value *vals, size_t nvals)
{
	struct err_detail err;
	struct series p50;
	int64_t t0 = at(issued);
	int rc;

	series_init(&p50, t0, step);
	for (int64_t t = t0; t < t0 + hours * TS_HOUR; t += step)
		series_push(&p50, base);
	for (size_t i = 0; i < nvals; i++)
		series_set(&p50, at(vals[i].ts), vals[i].v, false);
	rc = fcstore_write(d, zone, "carbon_intensity", "ensemble", t0, NULL, &p50, NULL, &err);
	if (rc)
		fprintf(stderr, "fcstore_write %s: %s\n", zone, err.msg);
	series_release(&p50);
	return rc;
}

static int load_forecasts(void)
{
	/* IE: the 10-minute windows at 14:00, 18:45 and 04:25 are the values of
	 * the SDK's example (two equal 5-minute halves each); everything else
	 * is higher. */
	static const struct fc_value ie[] = {
	    {"2022-07-19T14:00:00Z", 532.02293146},	 {"2022-07-19T14:05:00Z", 532.02293146},
	    {"2022-07-19T18:45:00Z", 448.4451043375},	 {"2022-07-19T18:50:00Z", 448.4451043375},
	    {"2022-07-20T04:25:00Z", 535.7318741001667}, {"2022-07-20T04:30:00Z", 535.7318741001667},
	};
	/* US-MIDA-PJM: six points of m from 14:45 make the 30-minute window
	 * there m; a (14:40) and c (15:15) give the neighbours of the SDK's
	 * schema example: (a + 5m)/6 = 380.99, (4m + m + c)/6 = 375.12. */
	const double m = 359.23, a = 6 * 380.99 - 5 * m, c = 6 * 375.12 - 5 * m;
	const struct fc_value pjm[] = {
	    {"2022-06-01T14:40:00Z", a}, {"2022-06-01T14:45:00Z", m}, {"2022-06-01T14:50:00Z", m},
	    {"2022-06-01T14:55:00Z", m}, {"2022-06-01T15:00:00Z", m}, {"2022-06-01T15:05:00Z", m},
	    {"2022-06-01T15:10:00Z", m}, {"2022-06-01T15:15:00Z", c},
	};
	/* CAISO_NORTH: a half-hour dip at 08:30. */
	static const struct fc_value caiso[] = {
	    {"2022-06-13T08:30:00Z", 100}, {"2022-06-13T08:35:00Z", 100}, {"2022-06-13T08:40:00Z", 100},
	    {"2022-06-13T08:45:00Z", 100}, {"2022-06-13T08:50:00Z", 100}, {"2022-06-13T08:55:00Z", 100},
	};
	/* ZB: three tied hours (15:00, 16:00, 18:00); ZG: a gap at 15:00. */
	static const struct fc_value zb[] = {
	    {"2022-07-19T13:00:00Z", 300}, {"2022-07-19T14:00:00Z", 200}, {"2022-07-19T15:00:00Z", 100},
	    {"2022-07-19T16:00:00Z", 100}, {"2022-07-19T17:00:00Z", 200}, {"2022-07-19T18:00:00Z", 100},
	};
	static const struct fc_value zg[] = {{"2022-07-19T15:00:00Z", NAN}, {"2022-07-19T16:00:00Z", 50}};
	struct err_detail err;
	struct db *d;
	int rc;

	if (db_connect(db, &d, &err)) {
		fprintf(stderr, "sdk: %s\n", err.msg);
		return 1;
	}
	rc = write_run(d, "IE", "2022-07-19T13:35:00Z", 300, 24, 540, ie, 6) ||
	     write_run(d, "US-MIDA-PJM", "2022-06-01T00:00:00Z", 300, 24, 600, pjm, 8) ||
	     write_run(d, "CAISO_NORTH", "2022-06-13T06:00:00Z", 300, 24, 500, caiso, 6) ||
	     /* ZA: six hours only, for a deadline past the forecast */
	     write_run(d, "ZA", "2022-07-19T13:00:00Z", 3600, 6, 250, NULL, 0) ||
	     write_run(d, "ZB", "2022-07-19T13:00:00Z", 3600, 12, 300, zb, 6) ||
	     write_run(d, "ZG", "2022-07-19T13:00:00Z", 3600, 12, 120, zg, 2);
	db_close(d);
	return rc;
}

static int suite_init(void)
{
	char env0[600];
	const char *env[] = {env0, NULL};
	const char *migrate[] = {"migrate", NULL};

	if (!itest_have_db()) {
		fprintf(stderr, "integration tests need the throwaway PostgreSQL of 'make test'\n");
		return 1;
	}
	itest_db_new("sdk", db, sizeof(db));
	snprintf(env0, sizeof(env0), "CARBONSCHED_DATABASE_URL=%s", db);
	if (itest_run(migrate, env, NULL, NULL) || load_observed(env) || load_forecasts()) {
		fprintf(stderr, "sdk: cannot load the test data\n");
		return 1;
	}
	itest_serve(config_july, db, NULL, &july);
	itest_serve(config_august, db, NULL, &august);
	serving = true;
	return 0;
}

static int suite_clean(void)
{
	if (serving) {
		itest_stop(&july);
		itest_stop(&august);
	}
	return 0;
}

/* --- requests ------------------------------------------------------------------------ */

struct answer {
	long status;
	char ctype[128];
	char headers[2048];
	char *body;
	json_t *json; /* NULL when the body is not JSON */
};

static void answer_free(struct answer *a)
{
	free(a->body);
	json_decref(a->json);
}

static void ask(const struct itest_server *s, const char *method, const char *path, const char *body,
		const char *ctype, struct answer *ret)
{
	char url[2048], h[160];
	const char *headers[] = {h, NULL};
	struct itest_response r;

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	snprintf(h, sizeof(h), "Content-Type: %s", ctype ? ctype : "application/json");
	memset(ret, 0, sizeof(*ret));
	if (!itest_http(method, url, body ? headers : NULL, body, &r)) {
		tl_fail(__LINE__, __FILE__, false, "%s %s: no answer", method, path);
		ret->body = strdup("");
		return;
	}
	ret->status = r.status;
	snprintf(ret->ctype, sizeof(ret->ctype), "%s", r.content_type);
	snprintf(ret->headers, sizeof(ret->headers), "%s", r.headers);
	ret->body = r.body;
	r.body = NULL;
	ret->json = json_loads(ret->body, JSON_DECODE_ANY, NULL);
	itest_response_free(&r);
}

static json_t *get_ok(const struct itest_server *s, const char *path, struct answer *a)
{
	ask(s, "GET", path, NULL, NULL, a);
	if (a->status != 200)
		fprintf(stderr, "GET %s: %ld %s\n", path, a->status, a->body);
	TL_ASSERT_INT_EQ(a->status, 200);
	return a->json;
}

/* A 400 (or 'status') problem naming 'field' in invalid_params and in the
 * SDK's errors map, whose detail contains 'words'. */
static void expect_problem(const struct itest_server *s, const char *method, const char *path,
			   const char *body, long status, const char *field, const char *words)
{
	struct answer a;

	ask(s, method, path, body, NULL, &a);
	if (a.status != status)
		fprintf(stderr, "%s %s: %ld %s\n", method, path, a.status, a.body);
	TL_ASSERT_INT_EQ(a.status, status);
	TL_ASSERT_STR_EQ(a.ctype, "application/problem+json");
	TL_ASSERT(a.json != NULL);
	const char *detail = json_string_value(json_object_get(a.json, "detail"));
	TL_ASSERT_CONTAINS(detail, words);
	TL_ASSERT(json_is_string(json_object_get(a.json, "traceId")));
	json_t *errors = json_object_get(a.json, "errors");
	TL_ASSERT(json_is_object(errors));
	if (field) {
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(
				     json_array_get(json_object_get(a.json, "invalid_params"), 0), "name")),
				 field);
		TL_ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(errors, field), 0)),
				 detail);
	}
	answer_free(&a);
}

/* --- golden answers ---------------------------------------------------------------------- */

static bool is_ellipsis(const json_t *j)
{
	return json_is_string(j) && !strcmp(json_string_value(j), "...");
}

/* Does 'got' match 'want' (see tests/data/sdk/README.md)?  On a mismatch,
 * 'where' gets the JSON path of the first difference. */
static bool matches(const json_t *want, const json_t *got, char *where, size_t size)
{
	size_t len = strlen(where);

	if (json_is_object(want)) {
		const char *k;
		json_t *v;

		if (!json_is_object(got))
			return false;
		json_object_foreach ((json_t *)want, k, v) {
			snprintf(where + len, size - len, ".%s", k);
			if (!matches(v, json_object_get(got, k), where, size))
				return false;
			where[len] = '\0';
		}
		return true;
	}
	if (json_is_array(want)) {
		size_t nw = json_array_size(want), ng = json_array_size(got), gap = nw;

		if (!json_is_array(got))
			return false;
		for (size_t i = 0; i < nw; i++)
			if (is_ellipsis(json_array_get(want, i)))
				gap = i;
		/* Elements before a "..." match the first ones, after it the last
		 * ones; several "..." are allowed between exact elements. */
		size_t gi = 0;
		for (size_t i = 0; i < nw; i++) {
			json_t *w = json_array_get(want, i);

			if (is_ellipsis(w))
				continue;
			if (i > 0 && is_ellipsis(json_array_get(want, i - 1))) {
				/* find the next element of got matching w */
				bool found = false;
				size_t left = 0;

				for (size_t k = i; k < nw; k++)
					if (!is_ellipsis(json_array_get(want, k)))
						left++;
				for (; gi + left <= ng && !found; gi++) {
					char tmp[256] = "";
					if (matches(w, json_array_get(got, gi), tmp, sizeof(tmp)))
						found = true;
				}
				if (!found) {
					snprintf(where + len, size - len, "[%zu] (no element matches)", i);
					return false;
				}
				continue;
			}
			snprintf(where + len, size - len, "[%zu]", gi);
			if (gi >= ng || !matches(w, json_array_get(got, gi), where, size))
				return false;
			gi++;
			where[len] = '\0';
		}
		if (gap == nw && gi != ng) {
			snprintf(where + len, size - len, " (%zu elements, expected %zu)", ng, nw);
			return false;
		}
		if (gap != nw && !is_ellipsis(json_array_get(want, nw - 1)) && gi != ng) {
			snprintf(where + len, size - len, " (the last elements differ)");
			return false;
		}
		return true;
	}
	if (json_is_string(want)) {
		const char *w = json_string_value(want);
		size_t n = strlen(w);

		if (!json_is_string(got))
			return false;
		if (n >= 3 && !strcmp(w + n - 3, "..."))
			return !strncmp(json_string_value(got), w, n - 3);
		return !strcmp(json_string_value(got), w);
	}
	if (json_is_number(want)) {
		double w = json_number_value(want), g = json_number_value(got);

		return json_is_number(got) && fabs(w - g) <= 1e-14 * fmax(1, fabs(w));
	}
	return json_equal((json_t *)want, (json_t *)got);
}

static void run_golden(const char *path)
{
	json_error_t je;
	json_t *g = json_load_file(path, 0, &je), *body;
	const char *clock, *method, *target;
	char *text = NULL, where[512] = "$";
	struct answer a;

	if (!g) {
		tl_fail(__LINE__, __FILE__, false, "%s: %s", path, je.text);
		return;
	}
	clock = json_string_value(json_object_get(g, "clock"));
	method = json_string_value(json_object_get(g, "method"));
	target = json_string_value(json_object_get(g, "path"));
	body = json_object_get(g, "body");
	TL_ASSERT(clock && method && target);
	if (body)
		text = json_dumps(body, JSON_COMPACT);
	ask(!strcmp(clock, "2022-07-19T13:37:49Z") ? &july : &august, method, target, text, NULL, &a);
	if (a.status != json_integer_value(json_object_get(g, "status")))
		tl_fail(__LINE__, __FILE__, false, "%s: status %ld, expected %lld: %.400s", path, a.status,
			json_integer_value(json_object_get(g, "status")), a.body);
	else if (!a.json || !matches(json_object_get(g, "expect"), a.json, where, sizeof(where)))
		tl_fail(__LINE__, __FILE__, false, "%s: the answer differs at %s: %.600s", path, where,
			a.body);
	else
		CU_PASS(path);
	answer_free(&a);
	free(text);
	json_decref(g);
}

static void test_golden(void)
{
	char dir[512];
	struct dirent **names;
	int n, ran = 0;

	snprintf(dir, sizeof(dir), "%s", tl_testdata("sdk"));
	n = scandir(dir, &names, NULL, alphasort);
	TL_ASSERT(n > 0);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);

		if (len > 5 && !strcmp(name + len - 5, ".json")) {
			char path[1024];

			snprintf(path, sizeof(path), "%s/%s", dir, name);
			run_golden(path);
			ran++;
		}
		free(names[i]);
	}
	free(names);
	TL_ASSERT_INT_EQ(ran, 6);
}

/* The matcher itself can say no (so the golden pass above means something). */
static void test_matcher_can_fail(void)
{
	json_t *want = json_loads("[{\"a\":1},\"...\",{\"b\":\"x...\"}]", 0, NULL);
	static const char *const bad[] = {
	    "[{\"a\":2},{\"b\":\"xy\"}]",	"[{\"a\":1},{\"b\":\"y\"}]", "[{\"a\":1}]", "{\"a\":1}",
	    "[{\"a\":1.000001},{\"b\":\"x\"}]",
	};
	char where[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *got = json_loads(bad[i], 0, NULL);

		strcpy(where, "$");
		TL_ASSERT(!matches(want, got, where, sizeof(where)));
		json_decref(got);
	}
	json_t *good = json_loads("[{\"a\":1,\"c\":3},{\"q\":0},{\"b\":\"xyz\"}]", 0, NULL);
	strcpy(where, "$");
	TL_ASSERT(matches(want, good, where, sizeof(where)));
	json_decref(good);
	json_decref(want);
}

/* --- observed emissions ------------------------------------------------------------------- */

static void test_bylocation_filter(void)
{
	struct answer a;
	json_t *j =
	    get_ok(&august,
		   "/emissions/bylocation?location=westus&time=2022-08-23T14:00&toTime=2022-08-23T14:30", &a);

	/* t + 5 min > 14:00 and t <= 14:30: 14:00 ... 14:30, seven points. */
	TL_ASSERT_INT_EQ(json_array_size(j), 7);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "time")),
			 "2022-08-23T14:00:00+00:00");
	TL_ASSERT_STR_EQ(a.ctype, "application/json");
	/* The rating is the stored double, written back to the digit. */
	TL_ASSERT_CONTAINS(a.body, "\"rating\":439.07741416000005,");
	answer_free(&a);

	/* A start inside a point keeps that point; parameter names in any case;
	 * lenient query dates (one-digit hour). */
	j = get_ok(&august,
		   "/emissions/bylocation?Location=WESTUS&TIME=2022-08-23T14:02:30Z&toTime=2022-8-23T14:10",
		   &a);
	TL_ASSERT_INT_EQ(json_array_size(j), 3);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "time")),
			 "2022-08-23T14:00:00+00:00");
	answer_free(&a);
	/* A zone names its one region. */
	j = get_ok(&august, "/emissions/bylocation?location=caiso_north&time=2022-08-23T14:00:00%2B02:00",
		   &a);
	TL_ASSERT_INT_EQ(json_array_size(j), 1);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "time")),
			 "2022-08-23T12:00:00+00:00");
	answer_free(&a);
	/* A '+' left unencoded arrives as a space. */
	j = get_ok(&august, "/emissions/bylocation?location=westus&time=2022-08-23T14:00:00+02:00", &a);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "time")),
			 "2022-08-23T12:00:00+00:00");
	answer_free(&a);
}

static void test_bylocation_defaults(void)
{
	struct answer a;
	json_t *j;

	/* No time: the newest point (ZA's hourly data ends at 2022-08-23T23:00). */
	j = get_ok(&august, "/emissions/bylocation?location=sdk-a", &a);
	TL_ASSERT_INT_EQ(json_array_size(j), 1);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "time")),
			 "2022-08-23T23:00:00+00:00");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "duration")), "01:00:00");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "location")), "ZA");
	answer_free(&a);
	/* time alone: toTime = time, the one point holding it. */
	j = get_ok(&august, "/emissions/bylocation?location=sdk-a&time=2022-08-23T10:30:00Z", &a);
	TL_ASSERT_INT_EQ(json_array_size(j), 1);
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(json_array_get(j, 0), "rating")), 100, 0);
	answer_free(&a);
	/* No data: 204, no body. */
	ask(&august, "GET", "/emissions/bylocation?location=nodata", NULL, NULL, &a);
	TL_ASSERT_INT_EQ(a.status, 204);
	TL_ASSERT_STR_EQ(a.body, "");
	answer_free(&a);
	ask(&august, "GET",
	    "/emissions/bylocation?location=westus&time=2022-01-01T00:00:00Z&toTime=2022-01-02T00:00:00Z",
	    NULL, NULL, &a);
	TL_ASSERT_INT_EQ(a.status, 204);
	answer_free(&a);
}

static void test_bylocations_and_best(void)
{
	struct answer a;
	json_t *j;
	const char *range = "time=2022-08-23T08:00:00Z&toTime=2022-08-23T13:00:00Z";
	char path[512];

	/* Per location in the order asked, in time order; the gap is left out. */
	snprintf(path, sizeof(path), "/emissions/bylocations?location=sdk-gap&location=sdk-b&%s", range);
	j = get_ok(&august, path, &a);
	TL_ASSERT_INT_EQ(json_array_size(j), 5 + 6); /* ZG: 08..13 without 09; ZB: 08..13 */
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "location")), "ZG");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 1), "time")),
			 "2022-08-23T10:00:00+00:00");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 5), "location")), "ZB");
	TL_ASSERT(strstr(a.body, "-1") == NULL);
	answer_free(&a);

	/* Best: every point at the minimum, earliest first, then in the order
	 * of the locations; the gap (the SDK's -1) does not win. */
	snprintf(path, sizeof(path),
		 "/emissions/bylocations/best?location=sdk-gap&location=sdk-b&location=sdk-a&%s", range);
	j = get_ok(&august, path, &a);
	static const char *const want[][2] = {{"ZB", "2022-08-23T10:00:00+00:00"},
					      {"ZA", "2022-08-23T10:00:00+00:00"},
					      {"ZB", "2022-08-23T11:00:00+00:00"},
					      {"ZA", "2022-08-23T12:00:00+00:00"}};
	TL_ASSERT_INT_EQ(json_array_size(j), 4);
	for (size_t i = 0; i < 4 && i < json_array_size(j); i++) {
		json_t *p = json_array_get(j, i);

		TL_ASSERT_STR_EQ(json_string_value(json_object_get(p, "location")), want[i][0]);
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(p, "time")), want[i][1]);
		TL_ASSERT_DBL_EQ(json_number_value(json_object_get(p, "rating")), 100, 0);
	}
	answer_free(&a);
	/* Only the gap in range: nothing, not -1. */
	ask(&august, "GET", "/emissions/bylocations/best?location=sdk-gap&time=2022-08-23T09:00:00Z", NULL,
	    NULL, &a);
	TL_ASSERT_INT_EQ(a.status, 204);
	answer_free(&a);
	/* No times: the newest point of each, the lowest wins (ZG 120 < ZA 150 < ZB 160). */
	j = get_ok(&august, "/emissions/bylocations/best?location=sdk-a&location=sdk-b&location=sdk-gap", &a);
	TL_ASSERT_INT_EQ(json_array_size(j), 1);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "location")), "ZG");
	answer_free(&a);
}

static void test_emissions_errors(void)
{
	/* The SDK ignores unknown parameters: a client still sending the old
	 * startTime got current data back.  Here it is told. */
	expect_problem(&august, "GET", "/emissions/bylocation?location=westus&startTime=2022-08-23T14:00:00Z",
		       NULL, 400, "startTime", "unknown parameter 'startTime'");
	expect_problem(&august, "GET", "/emissions/bylocation", NULL, 400, "location", "location is not set");
	expect_problem(&august, "GET", "/emissions/bylocation?location=", NULL, 400, "location",
		       "location is not set");
	expect_problem(&august, "GET", "/emissions/bylocation?location=westus&location=eastus", NULL, 400,
		       "location", "/emissions/bylocations takes several");
	expect_problem(&august, "GET", "/emissions/bylocation?location=westus&toTime=2022-08-23T14:00:00Z",
		       NULL, 400, "toTime", "time (the start) must be set");
	expect_problem(
	    &august, "GET",
	    "/emissions/bylocations?location=westus&time=2022-08-23T14:00:00Z&toTime=2022-08-23T14:00:00Z",
	    NULL, 400, "time", "time must be before toTime");
	expect_problem(&august, "GET", "/emissions/bylocations?location=westus&time=yesterday", NULL, 400,
		       "time", "'yesterday' is not a date-time");
	expect_problem(&august, "GET", "/emissions/bylocations?location=westus&time=2022-02-30T00:00:00Z",
		       NULL, 400, "time", "out of range");
	/* The future is not observed (the SDK answers 204). */
	expect_problem(&august, "GET",
		       "/emissions/bylocations/best?location=westus&time=2022-08-25T00:00:00Z", NULL, 400,
		       "time", "/emissions/forecasts/current has the forecast");
	expect_problem(
	    &august, "GET",
	    "/emissions/bylocations?location=westus&time=2022-01-01T00:00:00Z&toTime=2022-08-01T00:00:00Z",
	    NULL, 422, "toTime", "limits.max_range");
	expect_problem(&august, "GET", "/emissions/bylocations?location=ZD", NULL, 400, "location",
		       "grid zone of 2 regions (dup-1, dup-2)");
	expect_problem(&august, "GET", "/emissions/bylocations?location=westus&durationMinutes=15", NULL, 400,
		       "durationMinutes", "not supported");
	/* The docs' example URL with durationMinutes=0 still works. */
	struct answer a;
	get_ok(&august, "/emissions/bylocations?location=westus&durationMinutes=0", &a);
	answer_free(&a);
}

/* --- forecasts ------------------------------------------------------------------------------ */

static json_t *one_forecast(struct answer *a, const char *path)
{
	json_t *j = get_ok(&july, path, a);

	TL_ASSERT_INT_EQ(json_array_size(j), 1);
	return json_array_get(j, 0);
}

static void test_forecast_defaults(void)
{
	struct answer a;
	json_t *f;

	/* No bounds, no window: the raw points from the step holding now
	 * (13:35, the run's first) to the end; windowSize echoes 0. */
	f = one_forecast(&a, "/emissions/forecasts/current?location=northeurope");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(f, "dataStartAt")), "2022-07-19T13:35:00+00:00");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(f, "dataEndAt")), "2022-07-20T13:35:00+00:00");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(f, "requestedAt")), "2022-07-19T13:37:49+00:00");
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(f, "windowSize")), 0);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(f, "forecastData")), 288);
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(
			     json_array_get(json_object_get(f, "forecastData"), 0), "duration")),
			 5);
	/* Two equal 5-minute lows: both are optimal, earliest first. */
	json_t *opt = json_object_get(f, "optimalDataPoints");
	TL_ASSERT_INT_EQ(json_array_size(opt), 2);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(opt, 0), "timestamp")),
			 "2022-07-19T18:45:00+00:00");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(opt, 1), "timestamp")),
			 "2022-07-19T18:50:00+00:00");
	answer_free(&a);

	/* Hourly ties: all three tied hours, in time order. */
	f = one_forecast(&a, "/emissions/forecasts/current?location=sdk-b&windowSize=60");
	opt = json_object_get(f, "optimalDataPoints");
	TL_ASSERT_INT_EQ(json_array_size(opt), 3);
	static const char *const tied[] = {"2022-07-19T15:00:00+00:00", "2022-07-19T16:00:00+00:00",
					   "2022-07-19T18:00:00+00:00"};
	for (size_t i = 0; i < 3 && i < json_array_size(opt); i++)
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(opt, i), "timestamp")),
				 tied[i]);
	/* From now's step (13:00) to the end, 60-minute windows every hour. */
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(f, "forecastData")), 12);
	answer_free(&a);

	/* A window longer than the forecast: 200 with nothing in it (as the SDK). */
	f = one_forecast(&a, "/emissions/forecasts/current?location=sdk-a&windowSize=600");
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(f, "forecastData")), 0);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(f, "optimalDataPoints")), 0);
	answer_free(&a);

	/* A gap: no window over it, no -1. */
	f = one_forecast(&a, "/emissions/forecasts/current?location=sdk-gap&windowSize=120");
	json_t *data = json_object_get(f, "forecastData");
	size_t i;
	json_t *p;
	json_array_foreach (data, i, p) {
		const char *ts = json_string_value(json_object_get(p, "timestamp"));
		TL_ASSERT(strcmp(ts, "2022-07-19T14:00:00+00:00") && strcmp(ts, "2022-07-19T15:00:00+00:00"));
		TL_ASSERT(json_number_value(json_object_get(p, "value")) > 0);
	}
	TL_ASSERT_INT_EQ(json_array_size(data), 12 - 1 - 2); /* 11 windows of 2 h, two touch the gap */
	/* 16:00-18:00 = (50 + 120) / 2 */
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(
			     json_array_get(json_object_get(f, "optimalDataPoints"), 0), "value")),
			 85, 1e-12);
	answer_free(&a);

	/* Several locations: one forecast each, in order. */
	ask(&july, "GET", "/emissions/forecasts/current?location=sdk-a&location=northeurope", NULL, NULL, &a);
	TL_ASSERT_INT_EQ(a.status, 200);
	TL_ASSERT_INT_EQ(json_array_size(a.json), 2);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(a.json, 1), "location")),
			 "northeurope");
	answer_free(&a);
}

static void test_forecast_window_start_off_grid(void)
{
	struct answer a;
	json_t *f =
	    one_forecast(&a, "/emissions/forecasts/current?location=sdk-b&dataStartAt=2022-07-19T14:30:00Z"
			     "&dataEndAt=2022-07-19T17:00:00Z&windowSize=60");
	json_t *data = json_object_get(f, "forecastData");

	/* Windows start at dataStartAt exactly, one step apart, and end by
	 * dataEndAt: 14:30 and 15:30 (16:30 would end at 17:30). */
	TL_ASSERT_INT_EQ(json_array_size(data), 2);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(data, 0), "timestamp")),
			 "2022-07-19T14:30:00+00:00");
	/* half of 14:00 (200) and half of 15:00 (100) */
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(json_array_get(data, 0), "value")), 150, 0);
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(json_array_get(data, 1), "value")), 100, 0);
	answer_free(&a);
}

static void test_forecast_deadline_past_the_forecast(void)
{
	struct answer a;
	/* ZA's forecast ends at 19:00; the SDK would answer a bare 400. */
	json_t *f =
	    one_forecast(&a, "/emissions/forecasts/current?location=sdk-a&dataEndAt=2022-07-20T12:00:00Z"
			     "&windowSize=120");

	TL_ASSERT_STR_EQ(json_string_value(json_object_get(f, "dataEndAt")), "2022-07-19T19:00:00+00:00");
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(f, "forecastData")), 5); /* 13..17 */
	TL_ASSERT_CONTAINS(a.headers,
			   "Warning: 199 carbonsched \"sdk-a: dataEndAt 2022-07-20T12:00:00Z is past the "
			   "forecast, which ends at 2022-07-19T19:00:00Z: cut\"");
	answer_free(&a);
	/* Entirely after the forecast: a 400 that says what it covers. */
	expect_problem(&july, "GET",
		       "/emissions/forecasts/current?location=sdk-a&dataStartAt=2022-07-20T00:00:00Z", NULL,
		       400, "dataStartAt", "it covers 2022-07-19T13:00:00Z through 2022-07-19T19:00:00Z");
	expect_problem(&july, "GET",
		       "/emissions/forecasts/current?location=sdk-a&dataEndAt=2022-07-19T12:00:00Z", NULL,
		       400, "dataEndAt", "is not after the start");
	expect_problem(
	    &july, "GET",
	    "/emissions/forecasts/current?location=sdk-a&dataStartAt=2022-07-19T15:00:00Z&dataEndAt=2022-07-"
	    "19T14:00:00Z",
	    NULL, 400, "dataStartAt", "dataStartAt must be before dataEndAt");
	expect_problem(&july, "GET", "/emissions/forecasts/current?location=sdk-a&windowSize=-5", NULL, 400,
		       "windowSize", "whole number of minutes");
	expect_problem(&july, "GET", "/emissions/forecasts/current?location=sdk-a&windowSize=1.5", NULL, 400,
		       "windowSize", "whole number of minutes");
	expect_problem(&july, "GET", "/emissions/forecasts/current?location=nodata", NULL, 404, "location",
		       "no carbon-intensity forecast for location 'nodata'");
	expect_problem(&july, "GET", "/emissions/forecasts/current", NULL, 400, "location",
		       "location is not set");
	expect_problem(&july, "GET", "/emissions/forecasts/current?location=sdk-a&time=2022-07-19T15:00:00Z",
		       NULL, 400, "time", "unknown parameter 'time'");
}

static void test_forecast_batch(void)
{
	struct answer a;

	/* requestedAt picks the run known then; before any run: 404. */
	ask(&july, "POST", "/emissions/forecasts/batch",
	    "[{\"requestedAt\":\"2022-07-19T13:30:00Z\",\"location\":\"northeurope\"}]", NULL, &a);
	TL_ASSERT_INT_EQ(a.status, 404);
	answer_free(&a);
	/* requestedAt after now: the newest run; echoed as asked; keys in any case. */
	ask(&july, "POST", "/emissions/forecasts/batch",
	    "[{\"RequestedAt\":\"2030-01-01T00:00:00Z\",\"LOCATION\":\"sdk-b\",\"windowSize\":null}]", NULL,
	    &a);
	TL_ASSERT_INT_EQ(a.status, 200);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(a.json, 0), "requestedAt")),
			 "2030-01-01T00:00:00+00:00");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(a.json, 0), "generatedAt")),
			 "2022-07-19T13:00:00+00:00");
	answer_free(&a);
	ask(&july, "POST", "/emissions/forecasts/batch", "[]", NULL, &a);
	TL_ASSERT_INT_EQ(a.status, 200);
	TL_ASSERT_STR_EQ(a.body, "[]\n");
	answer_free(&a);

	expect_problem(&july, "POST", "/emissions/forecasts/batch", "{\"location\":\"sdk-a\"}", 400, NULL,
		       "must be a JSON array");
	expect_problem(&july, "POST", "/emissions/forecasts/batch", "[{\"location\":", 400, NULL, "");
	expect_problem(&july, "POST", "/emissions/forecasts/batch", "[{\"location\":\"sdk-a\"}]", 400,
		       "[0].requestedAt", "[0].requestedAt is not set");
	expect_problem(
	    &july, "POST", "/emissions/forecasts/batch",
	    "[{\"location\":\"sdk-a\",\"requestedAt\":\"2022-07-19T13:00:00Z\",\"windowsize\":\"30\"}]", 400,
	    "[0].windowSize", "whole number of minutes");
	expect_problem(&july, "POST", "/emissions/forecasts/batch",
		       "[{\"location\":\"sdk-a\",\"requestedAt\":\"2022-07-19T13:00:00Z\",\"horizon\":1}]",
		       400, "[0]", "unknown field 'horizon'");
	/* JSON bodies are strict about dates (2021-9-1 is refused, as by the SDK). */
	expect_problem(&july, "POST", "/emissions/forecasts/batch",
		       "[{\"location\":\"sdk-a\",\"requestedAt\":\"2021-9-1T08:30:00Z\"}]", 400,
		       "[0].requestedAt", "every field zero-padded");
	expect_problem(&july, "POST", "/emissions/forecasts/batch?x=1", "[]", 400, "x", "unknown parameter");
	ask(&july, "POST", "/emissions/forecasts/batch", "[]", "text/plain", &a);
	TL_ASSERT_INT_EQ(a.status, 415);
	answer_free(&a);
}

/* --- averages, locations, health ---------------------------------------------------------- */

static void test_average(void)
{
	struct answer a;
	json_t *j =
	    get_ok(&july,
		   "/emissions/average-carbon-intensity?location=eastus&startTime=2022-06-01T13:30:00Z"
		   "&endTime=2022-06-01T14:30:00Z",
		   &a);

	/* Time-weighted: half an hour of 200, half an hour of 89.18... */
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(j, "carbonIntensity")),
			 (200 + 89.18215277777779) / 2, 1e-12);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "location")), "eastus");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "startTime")), "2022-06-01T13:30:00+00:00");
	answer_free(&a);

	expect_problem(&july, "GET",
		       "/emissions/average-carbon-intensity?location=eastus&startTime=2022-06-01T13:30:00Z",
		       NULL, 400, "endTime", "endTime is not set");
	expect_problem(&july, "GET",
		       "/emissions/average-carbon-intensity?location=eastus&startTime=2022-07-19T12:00:00Z"
		       "&endTime=2022-07-19T18:00:00Z",
		       NULL, 400, "endTime", "after the service's now");
	expect_problem(&july, "GET",
		       "/emissions/average-carbon-intensity?location=eastus&startTime=2022-06-01T15:00:00Z"
		       "&endTime=2022-06-01T14:00:00Z",
		       NULL, 400, "startTime", "startTime must be before endTime");
	expect_problem(&july, "GET",
		       "/emissions/average-carbon-intensity?location=nodata&startTime=2022-06-01T13:00:00Z"
		       "&endTime=2022-06-01T14:00:00Z",
		       NULL, 400, "startTime",
		       "no carbon-intensity data for 'nodata' (zone 'ZN') from startTime");
	expect_problem(&july, "GET",
		       "/emissions/average-carbon-intensity?location=eastus&startTime=2022-04-30T22:00:00Z"
		       "&endTime=2022-05-01T02:00:00Z",
		       NULL, 400, "startTime",
		       "Period out of range: the carbon-intensity data of 'eastus' (zone "
		       "'US-MIDA-PJM') has no value from 2022-04-30T22:00:00Z to 2022-05-01T00:00:00Z");
	/* A hole: named, not averaged over (the SDK throws a 500). */
	expect_problem(&august, "GET",
		       "/emissions/average-carbon-intensity?location=sdk-gap&startTime=2022-08-23T08:00:00Z"
		       "&endTime=2022-08-23T12:00:00Z",
		       NULL, 400, "location",
		       "has no value from 2022-08-23T09:00:00Z to 2022-08-23T10:00:00Z");
	expect_problem(&july, "POST", "/emissions/average-carbon-intensity/batch",
		       "[{\"location\":\"eastus\",\"startTime\":\"2022-06-01T14:00:00Z\"}]", 400,
		       "[0].endTime", "[0].endTime is not set");
	expect_problem(&july, "POST", "/emissions/average-carbon-intensity/batch",
		       "[{\"location\":\"mars\",\"startTime\":\"2022-06-01T14:00:00Z\",\"endTime\":\"2022-06-"
		       "01T15:00:00Z\"}]",
		       400, "[0].location", "Unknown Location: 'mars' not found");
}

static void test_locations_and_health(void)
{
	struct answer a;
	json_t *j = get_ok(&july, "/locations", &a);

	TL_ASSERT_INT_EQ(json_object_size(j), 9);
	json_t *w = json_object_get(j, "westus");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(w, "name")), "westus");
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(w, "latitude")), 37.783, 0);
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(w, "longitude")), -122.417, 0);
	answer_free(&a);
	expect_problem(&july, "GET", "/locations?x=1", NULL, 400, "x", "unknown parameter");

	ask(&july, "GET", "/health", NULL, NULL, &a);
	TL_ASSERT_INT_EQ(a.status, 200);
	TL_ASSERT_STR_EQ(a.ctype, "text/plain");
	TL_ASSERT_STR_EQ(a.body, "Healthy");
	answer_free(&a);
}

/* Last: both services stop cleanly (under ASan: without leaks). */
static void test_stops_cleanly(void)
{
	serving = false;
	TL_ASSERT_INT_EQ(itest_stop(&july), 0);
	TL_ASSERT_INT_EQ(itest_stop(&august), 0);
}

static CU_TestInfo tests[] = {
    {"golden answers of the SDK's examples", test_golden},
    {"the golden matcher can fail", test_matcher_can_fail},
    {"bylocation: the SDK's filter, names, dates", test_bylocation_filter},
    {"bylocation: defaults and 204", test_bylocation_defaults},
    {"bylocations and best: ties, gaps", test_bylocations_and_best},
    {"emissions: errors", test_emissions_errors},
    {"forecasts: defaults, ties, gaps", test_forecast_defaults},
    {"forecasts: windows from dataStartAt", test_forecast_window_start_off_grid},
    {"forecasts: a deadline past the forecast", test_forecast_deadline_past_the_forecast},
    {"forecasts: batch", test_forecast_batch},
    {"average carbon intensity", test_average},
    {"locations and health", test_locations_and_health},
    {"stops cleanly", test_stops_cleanly},
    CU_TEST_INFO_NULL,
};
TL_SUITE("sdk", suite_init, suite_clean, tests)
