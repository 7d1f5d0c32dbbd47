/*
 * POST /v1/schedule against the real service: answers equal brute force
 * over the file's values (carbon intensity × PUE, including the
 * temperature model), every user error names its field, and the inputs
 * say where they came from (perfect replay, stored forecast runs - the
 * choice the forecast endpoints make, extended where short - and seasonal
 * naive on the real clock).
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/time.h"
#include "service/db.h"
#include "service/fcstore.h"
#include "tests/integration/jobsrun.h"
#include "tests/lib/testlib.h"

#define H    3600
#define DAY5 (JR_T0 + 4 * 86400) /* 2022-01-05T00:00Z, the grid start */

static struct itest_server srv;
static char dbinfo[512];
static bool up;

/* One service for the advice tests, started by the first that needs it
 * (assertions cannot run in a suite's init). */
static bool ensure_up(void)
{
	if (up || !itest_have_db())
		return up;
	jobsrun_db("schedule", dbinfo, sizeof(dbinfo));
	char *cfg = jobsrun_config(100, 100, 1, "");
	itest_serve(cfg, dbinfo, NULL, &srv);
	free(cfg);
	up = true;
	return true;
}

static int suite_clean(void)
{
	if (up)
		itest_stop(&srv);
	up = false;
	return 0;
}

static json_t *advise(const char *body, long *status)
{
	return jobsrun_call(&srv, "POST", "/v1/schedule", NULL, body, status, NULL);
}

/* The best of the candidate regions by brute force (ties: earliest, then
 * the origin, then config order). */
static double expect_best(const char *const *regions, const char *origin, double kw, int hours, int64_t first,
			  int64_t last, const char **ret_region, int64_t *ret_start)
{
	double best = INFINITY;

	for (const char *const *r = regions; *r; r++) {
		int64_t t = 0;
		double c = jobsrun_best(*r, kw, hours, first, last, &t);

		if (c < best * (1 - 1e-9) || (fabs(c - best) <= best * 1e-9 &&
					      (t < *ret_start || (t == *ret_start && !strcmp(*r, origin))))) {
			best = c;
			*ret_region = *r;
			*ret_start = t;
		}
	}
	return best;
}

static void test_best_placement(void)
{
	static const char *const all[] = {"AA", "BB", "CC", NULL};
	long status;
	const char *region = NULL;
	int64_t start = 0;

	if (!ensure_up()) {
		printf("skipped: no test database\n");
		return;
	}
	json_t *j = advise("{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
			   "\"power_kw\":10}",
			   &status);
	TL_ASSERT_INT_EQ(status, 200);
	double best = expect_best(all, "AA", 10, 3, DAY5 + H, DAY5 + 21 * H, &region, &start);
	TL_ASSERT_STR_EQ(jr_str(j, "region"), region);
	TL_ASSERT_INT_EQ(jr_time(j, "start"), start);
	TL_ASSERT_INT_EQ(jr_time(j, "end"), start + 3 * H);
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), best, 0.002);
	double base = jobsrun_cost("AA", 10, 3, DAY5);
	TL_ASSERT_DBL_EQ(jr_num(j, "baseline_g"), base, 0.002);
	TL_ASSERT_DBL_EQ(jr_num(j, "saving_pct"), round((1 - best / base) * 10000) / 100, 0.011);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(j, "baseline"), "region"), "AA");
	TL_ASSERT_INT_EQ(jr_time(json_object_get(j, "baseline"), "start"), DAY5);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(j, "forecast"), "model"), "perfect (replay)");
	TL_ASSERT(json_is_null(json_object_get(json_object_get(j, "forecast"), "issued_at")));
	TL_ASSERT_DBL_EQ(jr_num(j, "energy_kwh"), 30, 1e-9);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "segments")), 1);
	/* The other two regions, each at its own best. */
	json_t *alts = json_object_get(j, "alternatives");
	TL_ASSERT_INT_EQ(json_array_size(alts), 2);
	for (size_t i = 0; i < json_array_size(alts); i++) {
		json_t *a = json_array_get(alts, i);
		int64_t t = 0;
		double c = jobsrun_best(jr_str(a, "region"), 10, 3, DAY5 + H, DAY5 + 21 * H, &t);

		TL_ASSERT(strcmp(jr_str(a, "region"), region) != 0);
		TL_ASSERT_INT_EQ(jr_time(a, "start"), t);
		TL_ASSERT_DBL_EQ(jr_num(a, "expected_g"), c, 0.002);
		TL_ASSERT(c >= best);
	}
	/* Provenance of every candidate: perfect replay, and BB's temperature model. */
	json_t *inputs = json_object_get(j, "inputs");
	TL_ASSERT_INT_EQ(json_array_size(inputs), 3);
	for (size_t i = 0; i < json_array_size(inputs); i++) {
		json_t *in = json_array_get(inputs, i);
		json_t *pue = json_object_get(in, "pue");

		TL_ASSERT_STR_EQ(jr_str(json_object_get(in, "forecast"), "model"), "perfect (replay)");
		TL_ASSERT_STR_EQ(jr_str(in, "horizon"), "2022-01-09T00:00:00Z");
		if (!strcmp(jr_str(in, "region"), "BB")) {
			TL_ASSERT_CONTAINS(jr_str(pue, "source"), "temperature model");
			TL_ASSERT_DBL_EQ(jr_num(pue, "min"), 1.1, 1e-9);
			TL_ASSERT(jr_num(pue, "max") > 1.1);
		} else {
			TL_ASSERT_STR_EQ(jr_str(pue, "source"), "constant");
		}
	}
	TL_ASSERT_STR_EQ(jr_str(j, "horizon"), "2022-01-09T00:00:00Z");
	json_decref(j);

	/* energy_kwh is power × duration; residency and region lists restrict. */
	static const char *const us[] = {"CC", NULL}, *const bb[] = {"BB", NULL};
	j = advise("{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
		   "\"energy_kwh\":30,\"residency\":[\"US\"]}",
		   &status);
	TL_ASSERT_INT_EQ(status, 200);
	best = expect_best(us, "AA", 10, 3, DAY5 + H, DAY5 + 21 * H, &region, &start);
	TL_ASSERT_STR_EQ(jr_str(j, "region"), "CC");
	TL_ASSERT_INT_EQ(jr_time(j, "start"), start);
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), best, 0.002);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "alternatives")), 0);
	json_decref(j);
	j = advise("{\"duration\":\"PT2H\",\"deadline\":\"2022-01-05T12:00:00Z\",\"earliest_start\":"
		   "\"2022-01-05T04:00:00Z\",\"origin\":\"AA\",\"power_kw\":3,\"regions\":[\"BB\"],\"risk\":"
		   "\"p90\"}",
		   &status);
	TL_ASSERT_INT_EQ(status, 200);
	best = expect_best(bb, "AA", 3, 2, DAY5 + 4 * H, DAY5 + 10 * H, &region, &start);
	TL_ASSERT_STR_EQ(jr_str(j, "region"), "BB");
	TL_ASSERT_INT_EQ(jr_time(j, "start"), start);
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), best, 0.002);
	TL_ASSERT_DBL_EQ(jr_num(j, "decision_g"), best, 0.002); /* a perfect forecast: p90 = p50 */
	TL_ASSERT_STR_EQ(jr_str(j, "risk"), "p90");
	json_decref(j);

	/* Interruptible: the cheapest hours of the window in one region. */
	j = advise(
	    "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-05T13:00:00Z\",\"origin\":\"AA\",\"power_kw\":1,"
	    "\"regions\":[\"AA\"],\"interruptible\":true}",
	    &status);
	TL_ASSERT_INT_EQ(status, 200);
	double c[12];
	for (int h = 1; h <= 12; h++)
		c[h - 1] = jobsrun_cost("AA", 1, 1, DAY5 + h * H);
	for (int a = 0; a < 12; a++) /* sort the 12 hourly costs */
		for (int b = a + 1; b < 12; b++)
			if (c[b] < c[a]) {
				double t = c[a];
				c[a] = c[b];
				c[b] = t;
			}
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), c[0] + c[1] + c[2], 0.002);
	size_t hours = 0;
	json_t *segs = json_object_get(j, "segments");
	for (size_t i = 0; i < json_array_size(segs); i++)
		hours += (size_t)((jr_time(json_array_get(segs, i), "end") -
				   jr_time(json_array_get(segs, i), "start")) /
				  H);
	TL_ASSERT_INT_EQ(hours, 3);
	json_decref(j);
}

static const struct refusal {
	const char *method, *path, *body;
	long status;
	const char *param; /* invalid_params[0].name, NULL when none */
	const char *detail;
} refusals[] = {
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"ZZ\","
     "\"power_kw\":1}",
     400, "origin", "unknown region 'ZZ'"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"regions\":[\"AA\",\"ZZ\"]}",
     400, "regions[1]", "unknown region 'ZZ'"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"residency\":[\"JP\"]}",
     422, "residency", "excludes every configured region"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"regions\":[\"AA\",\"BB\"],\"residency\":[\"US\"]}",
     422, "residency", "excludes every listed region"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-04T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1}",
     400, "deadline", "has passed"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-10T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1}",
     422, "deadline", "forecasts reach 2022-01-09T00:00:00Z"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-05T03:30:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1}",
     400, "duration", "longer than the window from 2022-01-05T01:00:00Z"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"earliest_start\":"
     "\"2022-01-07T00:00:00Z\",\"origin\":\"AA\",\"power_kw\":1}",
     400, "deadline", "after 'earliest_start'"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\"}", 400, "power_kw",
     "either"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"energy_kwh\":3}",
     400, "energy_kwh", "not both"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":\"1\"}",
     400, "power_kw", "a number"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"colour\":\"green\"}",
     400, "colour", "unknown field"},
    {"POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"count\":3}",
     400, "count", "only for bookings"},
    {"POST", "/v1/schedule", "{\"duration\":", 400, "body", "malformed JSON"},
    {"POST", "/v1/schedule", NULL, 400, "body", "needs a JSON body"},
    {"POST", "/v1/schedule?dry=1", "{}", 400, "dry", "unknown parameter"},
    {"GET", "/v1/schedule", NULL, 405, NULL, "allowed: POST"},
    {"POST", "/v1/jobs",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"count\":100000}",
     422, "count", "at most 1000 copies in one booking (scheduler.max_job_count)"},
    {"POST", "/v1/jobs",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"callback_url\":\"http://hooks.example.com/x\"}",
     400, "callback_url", "is not allowed"},
    {"POST", "/v1/jobs",
     "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
     "\"power_kw\":1,\"callback_url\":\"gopher://127.0.0.1/x\"}",
     400, "callback_url", "http:// or https://"},
    {"GET", "/v1/jobs/not-a-uuid", NULL, 400, "id", "not a job id"},
    {"GET", "/v1/jobs/00000000-0000-4000-8000-000000000000", NULL, 404, "id", "no job"},
    {"POST", "/v1/jobs/00000000-0000-4000-8000-000000000000/start", NULL, 404, "id", "no job"},
    {"POST", "/v1/jobs/00000000-0000-4000-8000-000000000000/complete", "{\"measured_kwh\":1}", 404, "id",
     "no job"},
    {"POST", "/v1/jobs/00000000-0000-4000-8000-000000000000/complete", "{}", 400, "measured_kwh", "required"},
    {"POST", "/v1/jobs/00000000-0000-4000-8000-000000000000/complete", "{\"measured_kwh\":1,\"kwh\":2}", 400,
     "kwh", "unknown field"},
    {"POST", "/v1/jobs/00000000-0000-4000-8000-000000000000/start",
     "{\"started_at\":\"2030-01-01T00:00:00Z\"}", 400, "started_at", "in the future"},
    {"DELETE", "/v1/jobs/00000000-0000-4000-8000-000000000000", NULL, 404, "id", "no job"},
    {"GET", "/v1/jobs?state=lost", NULL, 400, "state", "must be scheduled"},
    {"GET", "/v1/jobs?limit=0", NULL, 400, "limit", "1 to 1000"},
    {"GET", "/v1/jobs?limit=5000", NULL, 400, "limit", "1 to 1000"},
    {"GET", "/v1/jobs?from=yesterday", NULL, 400, "from", ""},
    {"GET", "/v1/jobs?from=2022-01-06T00:00:00Z&to=2022-01-05T00:00:00Z", NULL, 400, "from", "before 'to'"},
    {"GET", "/v1/jobs?cursor=abc", NULL, 400, "cursor", "not one this service gave out"},
    {"GET", "/v1/jobs?page=2", NULL, 400, "page", "unknown parameter"},
};

static void test_refusals(void)
{
	if (!ensure_up()) {
		printf("skipped: no test database\n");
		return;
	}
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		long status;
		char headers[2048];
		json_t *j = jobsrun_call(&srv, r->method, r->path, NULL, r->body, &status, headers);
		json_t *ip = json_array_get(json_object_get(j, "invalid_params"), 0);
		const char *name = jr_str(ip, "name"), *detail = jr_str(j, "detail");

		if (status != r->status || (r->param && (!name || strcmp(name, r->param))) || !detail ||
		    !strstr(detail, r->detail))
			tl_fail(__LINE__, __FILE__, false, "%s %s %s: got %ld, param '%s', detail '%s'",
				r->method, r->path, r->body ? r->body : "", status, name ? name : "(none)",
				detail ? detail : "(none)");
		if (status >= 400 && !strstr(headers, "application/problem+json"))
			tl_fail(__LINE__, __FILE__, false, "%s %s: not problem+json", r->method, r->path);
		json_decref(j);
	}
}

/* ---- where the inputs come from ------------------------------------------ */

static struct series *flat(int64_t start, size_t n, double v)
{
	struct series *s = series_new(start, H, n);

	for (size_t i = 0; i < n; i++)
		s->v[i] = v + (double)i; /* rising: the earliest hours are the cheapest */
	return s;
}

static void write_run(const char *db_info, const char *zone, const char *model, int64_t issued, size_t n,
		      double v)
{
	struct db *db;
	struct err_detail err;
	struct series *p50 = flat(issued, n, v), *p10 = flat(issued, n, v * 0.9),
		      *p90 = flat(issued, n, v * 1.2);

	TL_ASSERT_INT_EQ(db_connect(db_info, &db, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fcstore_write(db, zone, "carbon_intensity", model, issued, p10, p50, p90, &err),
			 ERR_OK);
	db_close(db);
	series_free(p10);
	series_free(p50);
	series_free(p90);
}

static json_t *input_of(json_t *answer, const char *region)
{
	json_t *inputs = json_object_get(answer, "inputs");

	for (size_t i = 0; i < json_array_size(inputs); i++)
		if (!strcmp(jr_str(json_array_get(inputs, i), "region"), region))
			return json_array_get(inputs, i);
	return NULL;
}

/* Stored runs: ours before a provider's, extended by seasonal naive when
 * they stop short of the horizon; p90 decisions use p90. */
static void test_forecast_runs(void)
{
	char db[512];
	struct itest_server s;
	long status;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("fcruns", db, sizeof(db));
	/* AA: a provider's run (the connector 'electricitymaps') and our ensemble
	 * (48 h only) in one round with no skill scored yet: the forecast
	 * endpoints' default choice is the ensemble.  BB: the provider alone. */
	write_run(db, "AA", "electricitymaps", DAY5 - 2 * H, 100, 100);
	write_run(db, "AA", "ensemble", DAY5 - 3 * H, 51, 200);
	write_run(db, "BB", "electricitymaps", DAY5 - H, 100, 50);
	char *cfg = jobsrun_config(0, 0, 1, "\"scheduler\":{\"forecast_poll\":\"PT1S\"},");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	json_t *j =
	    jobsrun_call(&s, "POST", "/v1/schedule", NULL,
			 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-08T00:00:00Z\",\"origin\":\"AA\","
			 "\"power_kw\":1,\"regions\":[\"AA\",\"BB\",\"CC\"],\"risk\":\"p90\"}",
			 &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	json_t *aa = json_object_get(input_of(j, "AA"), "forecast");
	TL_ASSERT_STR_EQ(jr_str(aa, "model"), "ensemble");
	TL_ASSERT_STR_EQ(jr_str(aa, "chosen_by"), "default");
	TL_ASSERT_STR_EQ(jr_str(aa, "issued_at"), "2022-01-04T21:00:00Z");
	/* 51 steps from 21:00 reach 2022-01-07T00:00; the rest of the horizon is filled. */
	TL_ASSERT_STR_EQ(jr_str(json_object_get(aa, "extended"), "from"), "2022-01-07T00:00:00Z");
	TL_ASSERT_INT_EQ((long long)jr_num(json_object_get(aa, "extended"), "steps"), 48);
	json_t *bb = json_object_get(input_of(j, "BB"), "forecast");
	TL_ASSERT_STR_EQ(jr_str(bb, "model"), "electricitymaps");
	TL_ASSERT(json_object_get(bb, "extended") == NULL);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(input_of(j, "CC"), "forecast"), "model"), "perfect (replay)");
	/* BB's run at 01:00 (earliest start): p50 = 50 + 2, × PUE from the stored temperature. */
	TL_ASSERT_STR_EQ(jr_str(j, "region"), "BB");
	TL_ASSERT_STR_EQ(jr_str(j, "start"), "2022-01-05T01:00:00Z");
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), 52 * jobsrun_pue("BB", DAY5 + H), 0.002);
	/* p90 decides: the run's p90 at that step is 60 + 2, its p10 45 + 2. */
	TL_ASSERT_DBL_EQ(jr_num(j, "decision_g"), 62 * jobsrun_pue("BB", DAY5 + H), 0.002);
	TL_ASSERT_DBL_EQ(jr_num(json_object_get(j, "expected_range_g"), "p10"),
			 47 * jobsrun_pue("BB", DAY5 + H), 0.002);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(j, "forecast"), "model"), "electricitymaps");
	json_decref(j);

	/* AA alone: the extension repeats the run's last day (seasonal naive). */
	j = jobsrun_call(&s, "POST", "/v1/schedule", NULL,
			 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-08T00:00:00Z\",\"earliest_start\":"
			 "\"2022-01-07T05:00:00Z\",\"origin\":\"AA\",\"power_kw\":1,\"regions\":[\"AA\"]}",
			 &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	/* Each extended step is the ensemble's value a day earlier: 05:00 repeats step 32 (200 + 32),
	 * the cheapest of the rising day. */
	TL_ASSERT_STR_EQ(jr_str(j, "start"), "2022-01-07T05:00:00Z");
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), (200 + 32) * 1.2, 0.002);
	json_decref(j);

	/* A newer run is picked up (poll) without a restart. */
	write_run(db, "AA", "ensemble", DAY5, 96, 10);
	for (int i = 0; i < 100; i++) {
		j = jobsrun_call(
		    &s, "POST", "/v1/schedule", NULL,
		    "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-08T00:00:00Z\",\"origin\":\"AA\","
		    "\"power_kw\":1,\"regions\":[\"AA\"]}",
		    &status, NULL);
		const char *issued = jr_str(json_object_get(j, "forecast"), "issued_at");
		if (issued && !strcmp(issued, "2022-01-05T00:00:00Z"))
			break;
		json_decref(j);
		j = NULL;
		struct timespec ts = {0, 100000000L};
		nanosleep(&ts, NULL);
	}
	TL_ASSERT(j != NULL);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(j, "forecast"), "issued_at"), "2022-01-05T00:00:00Z");
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), 11 * 1.2, 0.002);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* On the real clock without any run: seasonal naive from the stored
 * signals, said so - never silently. */
static void test_seasonal_naive(void)
{
	char db[512], env[600], path[1024];
	struct itest_server s;
	struct buf b;
	char ts[TS_BUFSZ];
	long status;
	int64_t day = ts_floor(ts_now(), 86400), first = day - 8 * 86400;
	const char *margs[] = {"migrate", NULL};
	const char *iargs[] = {"ingest", "--format", "wide", "--file", path, NULL};
	const char *envs[] = {env, NULL};

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	/* Eight days up to today 00:00, each day the same shape: hour h costs 100 + h,
	 * except yesterday, whose 03:00 is the cheapest of all (5). */
	buf_init(&b, 0);
	buf_adds(&b, "datetime_utc,AA\n");
	for (int64_t t = first; t < day; t += H) {
		int h = (int)((t - first) / H % 24);
		double v = t == day - 86400 + 3 * H ? 5 : 100 + h;

		ts_format(t, ts);
		ts[10] = ' ';
		ts[19] = '\0';
		buf_addf(&b, "%s,%g\n", ts, v);
	}
	snprintf(path, sizeof(path), "%s", itest_write_file("naive.csv", b.data));
	buf_release(&b);
	itest_db_new("naive", db, sizeof(db));
	snprintf(env, sizeof(env), "CARBONSCHED_DATABASE_URL=%s", db);
	TL_ASSERT_INT_EQ(itest_run(margs, envs, NULL, NULL), 0);
	TL_ASSERT_INT_EQ(itest_run(iargs, envs, NULL, NULL), 0);
	itest_serve("{\"forecast\":{\"enabled\":false},\"regions\":[{\"id\":\"AA\",\"latitude\":0,"
		    "\"longitude\":0,\"pue\":1.0}]}",
		    db, NULL, &s);

	char body[512], t1[TS_BUFSZ];
	snprintf(body, sizeof(body),
		 "{\"duration\":\"PT1H\",\"deadline\":\"%s\",\"origin\":\"AA\",\"power_kw\":1}",
		 ts_format(day + 3 * 86400, t1));
	json_t *j = jobsrun_call(&s, "POST", "/v1/schedule", NULL, body, &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(j, "forecast"), "model"), "seasonal naive (stored signals)");
	/* Yesterday's 03:00 repeats at 03:00 of each later day: the first one not past. */
	int64_t want = day + 3 * H;
	while (want < ts_ceil(ts_now(), H))
		want += 86400;
	TL_ASSERT_INT_EQ(jr_time(j, "start"), want);
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), 5, 1e-9);
	/* Its interval: the lowest and highest of the last seven days at 03:00. */
	TL_ASSERT_DBL_EQ(jr_num(json_object_get(j, "expected_range_g"), "p90"), 103, 1e-9);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

static CU_TestInfo tests[] = {
    {"advice equals brute force on the file values", test_best_placement},
    {"every refused request names its field", test_refusals},
    {"forecast runs: the endpoints' choice, providers, extension, new runs", test_forecast_runs},
    {"seasonal naive on the real clock", test_seasonal_naive},
    CU_TEST_INFO_NULL,
};
TL_SUITE("schedule", NULL, suite_clean, tests)
