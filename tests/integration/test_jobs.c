/*
 * Booked jobs against the real service and a real PostgreSQL: booking,
 * idempotency, listing, capacity (checked in SQL) and cancellation that
 * frees it, job arrays, the lifecycle with realised emissions computed
 * from the file's values, start callbacks to a loopback receiver (and
 * refused elsewhere), and re-planning when a new forecast run is written.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/time.h"
#include "service/db.h"
#include "service/fcstore.h"
#include "tests/integration/jobsrun.h"
#include "tests/lib/testlib.h"

#define H    3600
#define DAY5 (JR_T0 + 4 * 86400)

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static json_t *post(const struct itest_server *s, const char *path, const char *key, const char *body,
		    long *status, char *headers)
{
	char h[300];
	const char *hs[] = {h, NULL};

	snprintf(h, sizeof(h), "Idempotency-Key: %s", key ? key : "");
	return jobsrun_call(s, "POST", path, key ? hs : NULL, body, status, headers);
}

static json_t *get(const struct itest_server *s, const char *path, long *status)
{
	return jobsrun_call(s, "GET", path, NULL, NULL, status, NULL);
}

static long long sql_int(const char *db, const char *fmt, const char *arg)
{
	char q[1024];

	snprintf(q, sizeof(q), fmt, arg);
	return itest_sql_int(db, q);
}

/* ---- booking, idempotency, listing ---------------------------------------- */

static void test_book_and_list(void)
{
	char db[512], headers[2048], path[160];
	struct itest_server s;
	long status;
	const char *body = "{\"duration\":\"PT2H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
			   "\"power_kw\":5,\"name\":\"nightly build\"}";

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("book", db, sizeof(db));
	char *cfg = jobsrun_config(0, 0, 1, "");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	/* Booking answers what advice would, and stores it. */
	json_t *advice =
	    jobsrun_call(&s, "POST", "/v1/schedule", NULL,
			 "{\"duration\":\"PT2H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
			 "\"power_kw\":5}",
			 &status, NULL);
	json_t *j = post(&s, "/v1/jobs", "key-1", body, &status, headers);
	TL_ASSERT_INT_EQ(status, 201);
	const char *id = jr_str(j, "id");
	snprintf(path, sizeof(path), "Location: /v1/jobs/%s", id);
	TL_ASSERT_CONTAINS(headers, path);
	TL_ASSERT_STR_EQ(jr_str(j, "state"), "scheduled");
	TL_ASSERT_STR_EQ(jr_str(j, "name"), "nightly build");
	TL_ASSERT_STR_EQ(jr_str(j, "region"), jr_str(advice, "region"));
	TL_ASSERT_STR_EQ(jr_str(j, "start"), jr_str(advice, "start"));
	TL_ASSERT_DBL_EQ(jr_num(j, "expected_g"), jr_num(advice, "expected_g"), 1e-9);
	TL_ASSERT_DBL_EQ(jr_num(j, "baseline_g"), jobsrun_cost("AA", 5, 2, DAY5), 0.002);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "plans")), 1);
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(j, "plans"), 0), "reason"), "booked");
	TL_ASSERT_INT_EQ(sql_int(db, "SELECT count(*) FROM reservations WHERE job_id = '%s'", id), 2);
	TL_ASSERT_INT_EQ(
	    sql_int(db, "SELECT extract(epoch FROM planned_start)::int8 FROM jobs WHERE id = '%s'", id),
	    jr_time(j, "start"));

	/* The same key and body: the same job, never a second one. */
	json_t *again = post(&s, "/v1/jobs", "key-1", body, &status, headers);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_CONTAINS(headers, "Idempotent-Replayed: true");
	TL_ASSERT_STR_EQ(jr_str(again, "id"), id);
	json_decref(again);
	/* Key order and spacing do not make another request. */
	again = post(&s, "/v1/jobs", "key-1",
		     "{ \"name\":\"nightly build\", \"power_kw\":5, \"origin\":\"AA\", \"duration\":\"PT2H\","
		     " \"deadline\":\"2022-01-06T00:00:00Z\" }",
		     &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(again, "id"), id);
	json_decref(again);
	/* The same key with another body is a conflict naming the header. */
	again = post(
	    &s, "/v1/jobs", "key-1",
	    "{\"duration\":\"PT3H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\",\"power_kw\":5}",
	    &status, NULL);
	TL_ASSERT_INT_EQ(status, 409);
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(again, "invalid_params"), 0), "name"),
			 "Idempotency-Key");
	json_decref(again);
	again = post(&s, "/v1/jobs", "bad key", body, &status, NULL);
	TL_ASSERT_INT_EQ(status, 400);
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(again, "invalid_params"), 0), "name"),
			 "Idempotency-Key");
	json_decref(again);
	TL_ASSERT_INT_EQ(sql_int(db, "SELECT count(*) FROM jobs WHERE idempotency_key = '%s'", "key-1"), 1);

	/* GET answers the stored job. */
	snprintf(path, sizeof(path), "/v1/jobs/%s", id);
	json_t *g = get(&s, path, &status);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(g, "start"), jr_str(j, "start"));
	TL_ASSERT_DBL_EQ(jr_num(g, "expected_g"), jr_num(j, "expected_g"), 1e-9);
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(g, "segments"), 0), "end"), jr_str(j, "end"));
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(g, "plans"), 0), "reason"), "booked");
	json_decref(g);
	json_decref(j);
	json_decref(advice);

	/* Seven more jobs without keys, then page through all of them. */
	for (int i = 0; i < 7; i++) {
		char b[300];

		snprintf(b, sizeof(b),
			 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-0%dT00:00:00Z\",\"origin\":\"BB\","
			 "\"power_kw\":1}",
			 6 + i % 3);
		json_decref(post(&s, "/v1/jobs", NULL, b, &status, NULL));
		TL_ASSERT_INT_EQ(status, 201);
	}
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM jobs"), 8);
	char next[512] = "/v1/jobs?state=scheduled&limit=3";
	size_t seen = 0, pages = 0;
	int64_t last = 0;
	while (next[0]) {
		json_t *l = get(&s, next, &status);
		json_t *jobs = json_object_get(l, "jobs");

		TL_ASSERT_INT_EQ(status, 200);
		for (size_t i = 0; i < json_array_size(jobs); i++) {
			int64_t t = jr_time(json_array_get(jobs, i), "start");

			TL_ASSERT(t >= last); /* ordered by planned start */
			last = t;
			seen++;
		}
		pages++;
		snprintf(next, sizeof(next), "%s",
			 json_is_string(json_object_get(l, "next")) ? jr_str(l, "next") : "");
		json_decref(l);
		if (pages > 10)
			break;
	}
	TL_ASSERT_INT_EQ(seen, 8);
	TL_ASSERT_INT_EQ(pages, 3);
	json_t *l = get(&s, "/v1/jobs?state=running", &status);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(l, "jobs")), 0);
	json_decref(l);
	/* from/to bound the planned start. */
	l = get(&s, "/v1/jobs?from=2022-01-05T00:00:00Z&to=2022-01-05T00:00:01Z", &status);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(l, "jobs")), 0);
	json_decref(l);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* ---- capacity -------------------------------------------------------------- */

static const char *oversubscribed =
    "SELECT count(*) FROM (SELECT r.region, r.ts, sum(r.kw) AS kw, g.capacity_kw FROM reservations r"
    " JOIN regions g ON g.id = r.region WHERE g.capacity_kw > 0 GROUP BY r.region, r.ts, g.capacity_kw) x"
    " WHERE kw > capacity_kw + 1e-9";

static void test_capacity_and_cancel(void)
{
	char db[512], path[160];
	struct itest_server s;
	long status;
	const char *body = "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T04:00:00Z\",\"origin\":\"AA\","
			   "\"power_kw\":10,\"regions\":[\"AA\"]}";
	char ids[3][40];
	int64_t starts[3];

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("capacity", db, sizeof(db));
	char *cfg = jobsrun_config(10, 10, 1, "");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	/* Three one-hour slots (01, 02, 03) of 10 kW: three jobs take one each,
	 * the cheapest first. */
	for (int i = 0; i < 3; i++) {
		json_t *j = post(&s, "/v1/jobs", NULL, body, &status, NULL);

		TL_ASSERT_INT_EQ(status, 201);
		snprintf(ids[i], sizeof(ids[i]), "%s", jr_str(j, "id"));
		starts[i] = jr_time(j, "start");
		json_decref(j);
	}
	double c[3] = {jobsrun_cost("AA", 10, 1, DAY5 + H), jobsrun_cost("AA", 10, 1, DAY5 + 2 * H),
		       jobsrun_cost("AA", 10, 1, DAY5 + 3 * H)};
	for (int i = 0; i < 3; i++) {
		int rank = 0;
		int k = (int)((starts[i] - DAY5) / H) - 1;

		TL_ASSERT(k >= 0 && k < 3);
		for (int m = 0; m < 3; m++)
			rank += c[m] < c[k];
		TL_ASSERT_INT_EQ(rank, i); /* booked in the order of cost */
	}
	TL_ASSERT(starts[0] != starts[1] && starts[1] != starts[2] && starts[0] != starts[2]);
	/* Advice sees the booked capacity too (the snapshot reloads after bookings). */
	json_t *a = NULL;
	for (int i = 0; i < 50; i++) {
		a = jobsrun_call(&s, "POST", "/v1/schedule", NULL, body, &status, NULL);
		if (status == 409)
			break;
		json_decref(a);
		a = NULL;
		nap_ms(100);
	}
	TL_ASSERT_INT_EQ(status, 409);
	json_decref(a);
	/* A fourth finds no room. */
	json_t *j = post(&s, "/v1/jobs", NULL, body, &status, NULL);
	TL_ASSERT_INT_EQ(status, 409);
	TL_ASSERT_STR_EQ(jr_str(j, "code"), "no_capacity");
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(j, "invalid_params"), 0), "name"), "deadline");
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_sql_int(db, oversubscribed), 0);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM region_load WHERE region = 'AA' AND reserved_kw = 10"),
	    3);

	/* Cancelling the second frees its hour, which the next booking gets. */
	snprintf(path, sizeof(path), "/v1/jobs/%s", ids[1]);
	j = jobsrun_call(&s, "DELETE", path, NULL, NULL, &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(j, "state"), "cancelled");
	json_decref(j);
	TL_ASSERT_INT_EQ(sql_int(db, "SELECT count(*) FROM reservations WHERE job_id = '%s'", ids[1]), 0);
	j = jobsrun_call(&s, "DELETE", path, NULL, NULL, &status, NULL); /* again: the same answer */
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(j, "state"), "cancelled");
	json_decref(j);
	j = post(&s, "/v1/jobs", NULL, body, &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	TL_ASSERT_INT_EQ(jr_time(j, "start"), starts[1]);
	json_decref(j);
	/* A cancelled job cannot start. */
	snprintf(path, sizeof(path), "/v1/jobs/%s/start", ids[1]);
	j = post(&s, path, NULL, NULL, &status, NULL);
	TL_ASSERT_INT_EQ(status, 409);
	TL_ASSERT_CONTAINS(jr_str(j, "detail"), "is cancelled");
	json_decref(j);

	/* A job array in BB: three copies of 10 kW in three different hours of
	 * the four free ones; five more do not fit. */
	const char *arr = "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T05:00:00Z\",\"origin\":\"BB\","
			  "\"power_kw\":10,\"regions\":[\"BB\"],\"count\":3}";
	j = post(&s, "/v1/jobs", "array-1", arr, &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	TL_ASSERT_INT_EQ((long long)jr_num(j, "count"), 3);
	json_t *jobs = json_object_get(j, "jobs");
	TL_ASSERT_INT_EQ(json_array_size(jobs), 3);
	double sum = 0;
	for (size_t i = 0; i < 3; i++) {
		json_t *cp = json_array_get(jobs, i);

		TL_ASSERT_STR_EQ(jr_str(json_object_get(cp, "array"), "id"), jr_str(j, "array_id"));
		sum += jr_num(cp, "expected_g");
		for (size_t k = 0; k < i; k++)
			TL_ASSERT(jr_time(cp, "start") != jr_time(json_array_get(jobs, k), "start"));
	}
	/* The three cheapest of the four hours. */
	double hc[4];
	for (int h = 0; h < 4; h++)
		hc[h] = jobsrun_cost("BB", 10, 1, DAY5 + (h + 1) * H);
	double worst = fmax(fmax(hc[0], hc[1]), fmax(hc[2], hc[3]));
	TL_ASSERT_DBL_EQ(sum, hc[0] + hc[1] + hc[2] + hc[3] - worst, 0.01);
	json_t *again = post(&s, "/v1/jobs", "array-1", arr, &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(again, "array_id"), jr_str(j, "array_id"));
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(again, "jobs")), 3);
	json_decref(again);
	json_decref(j);
	j = post(&s, "/v1/jobs", NULL,
		 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T05:00:00Z\",\"origin\":\"BB\","
		 "\"power_kw\":10,\"regions\":[\"BB\"],\"count\":5}",
		 &status, NULL);
	TL_ASSERT_INT_EQ(status, 409);
	TL_ASSERT_CONTAINS(jr_str(j, "detail"), "only 1 of the 5 copies fit");
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_sql_int(db, oversubscribed), 0);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM jobs WHERE array_id IS NOT NULL"), 3);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* ---- lifecycle and realised emissions --------------------------------------- */

/* kwh spread evenly over [a, b) in region r, on the file's hourly values. */
static double realised(const char *r, double kwh, int64_t a, int64_t b)
{
	double g = 0;

	for (int64_t h = ts_floor(a, H); h < b; h += H) {
		int64_t lo = h > a ? h : a, hi = h + H < b ? h + H : b;

		g += kwh * (double)(hi - lo) / (double)(b - a) * jobsrun_ci(r, h) * jobsrun_pue(r, h);
	}
	return g;
}

static void test_lifecycle(void)
{
	char db[512], path[200];
	struct itest_server s;
	long status;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("lifecycle", db, sizeof(db));
	char *cfg = jobsrun_config(100, 100, 1, "");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	/* Runs in AA, baseline in BB (temperature-driven PUE). */
	json_t *j = post(&s, "/v1/jobs", NULL,
			 "{\"duration\":\"PT2H\",\"deadline\":\"2022-01-05T12:00:00Z\",\"origin\":\"BB\","
			 "\"power_kw\":6,\"regions\":[\"AA\"]}",
			 &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	char id[40];
	snprintf(id, sizeof(id), "%s", jr_str(j, "id"));
	int64_t submitted = jr_time(j, "submitted_at");
	TL_ASSERT(submitted >= JR_NOW0 && submitted < JR_NOW0 + 600);
	json_decref(j);

	snprintf(path, sizeof(path), "/v1/jobs/%s/start", id);
	j = post(&s, path, NULL, "{\"started_at\":\"2022-01-04T22:30:00Z\"}", &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(j, "state"), "running");
	TL_ASSERT_STR_EQ(jr_str(j, "started_at"), "2022-01-04T22:30:00Z");
	json_decref(j);
	j = post(&s, path, NULL, NULL, &status, NULL); /* started twice */
	TL_ASSERT_INT_EQ(status, 409);
	TL_ASSERT_CONTAINS(jr_str(j, "detail"), "is running");
	json_decref(j);

	snprintf(path, sizeof(path), "/v1/jobs/%s/complete", id);
	j = post(&s, path, NULL, "{\"measured_kwh\":12.3,\"completed_at\":\"2022-01-04T22:00:00Z\"}", &status,
		 NULL);
	TL_ASSERT_INT_EQ(status, 400); /* before the start */
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(j, "invalid_params"), 0), "name"),
			 "completed_at");
	json_decref(j);
	j = post(&s, path, NULL, "{\"measured_kwh\":-1}", &status, NULL);
	TL_ASSERT_INT_EQ(status, 400);
	json_decref(j);
	j = post(&s, path, NULL, "{\"measured_kwh\":12.3,\"completed_at\":\"2022-01-05T00:00:05Z\"}", &status,
		 NULL);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(jr_str(j, "state"), "completed");
	int64_t a = ts_from_civil(2022, 1, 4, 22, 30, 0), b = ts_from_civil(2022, 1, 5, 0, 0, 5);
	double want = realised("AA", 12.3, a, b), base = realised("BB", 12.3, submitted, submitted + (b - a));
	json_t *rl = json_object_get(j, "realised");
	TL_ASSERT_DBL_EQ(jr_num(rl, "emissions_g"), want, 0.002);
	TL_ASSERT_DBL_EQ(jr_num(rl, "baseline_g"), base, 0.002);
	TL_ASSERT_DBL_EQ(jr_num(rl, "saving_pct"), round((1 - want / base) * 10000) / 100, 0.011);
	TL_ASSERT_DBL_EQ(jr_num(j, "measured_kwh"), 12.3, 1e-9);
	json_decref(j);
	/* The rest of the reservation is freed; a completed job stays completed. */
	TL_ASSERT_INT_EQ(sql_int(db, "SELECT count(*) FROM reservations WHERE job_id = '%s'", id), 0);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM region_load WHERE reserved_kw > 0"), 0);
	j = post(&s, path, NULL, "{\"measured_kwh\":1}", &status, NULL);
	TL_ASSERT_INT_EQ(status, 409);
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/jobs/%s", id);
	j = jobsrun_call(&s, "DELETE", path, NULL, NULL, &status, NULL);
	TL_ASSERT_INT_EQ(status, 409);
	TL_ASSERT_CONTAINS(jr_str(j, "detail"), "is completed");
	json_decref(j);

	/* A job completed without being started ran from its planned start; an
	 * interruptible one ran its planned segments up to completion. */
	j = post(
	    &s, "/v1/jobs", NULL,
	    "{\"duration\":\"PT2H\",\"deadline\":\"2022-01-05T06:00:00Z\",\"origin\":\"AA\",\"power_kw\":1,"
	    "\"regions\":[\"CC\"],\"interruptible\":true}",
	    &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	snprintf(id, sizeof(id), "%s", jr_str(j, "id"));
	TL_ASSERT(jr_time(j, "start") >= DAY5 + H);
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/jobs/%s/complete", id);
	/* Completion is stated after the fact (the replay clock is still before the segments). */
	j = post(&s, path, NULL, "{\"measured_kwh\":4}", &status, NULL);
	TL_ASSERT_INT_EQ(status, 400); /* completed before its planned start */
	json_decref(j);
	j = post(&s, path, NULL, "{\"measured_kwh\":4,\"started_at\":\"2022-01-04T20:00:00Z\"}", &status,
		 NULL);
	TL_ASSERT_INT_EQ(status, 200);
	/* No segment had begun by now: nothing of the plan ran, nothing emitted. */
	TL_ASSERT_DBL_EQ(jr_num(json_object_get(j, "realised"), "emissions_g"), 0, 1e-9);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* Signals that arrive after completion: the realised figures are filled in
 * when they come. */
static void test_realised_later(void)
{
	char db[512], path[200];
	struct itest_server s;
	long status;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("late", db, sizeof(db));
	/* AA's carbon intensity has not arrived from 23:00 on. */
	free(itest_sql(
	    db, "DELETE FROM signals WHERE ts >= '2022-01-04T23:00:00Z' AND series_id ="
		" (SELECT id FROM series WHERE zone = 'AA' AND kind = 'carbon_intensity') RETURNING 1"));
	char *cfg = jobsrun_config(0, 0, 1, "");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);
	json_t *j = post(&s, "/v1/jobs", NULL,
			 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T12:00:00Z\",\"origin\":\"BB\","
			 "\"power_kw\":1,\"regions\":[\"BB\",\"AA\"]}",
			 &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	TL_ASSERT_STR_EQ(jr_str(j, "region"), "BB"); /* AA has no forecast: perfect replay has gaps */
	char id[40];
	snprintf(id, sizeof(id), "%s", jr_str(j, "id"));
	int64_t submitted = jr_time(j, "submitted_at");
	json_decref(j);
	/* It ran in AA after all (the operator moved it): known only up to 23:00. */
	free(itest_sql(db, "UPDATE jobs SET region = 'AA' RETURNING 1"));
	snprintf(path, sizeof(path), "/v1/jobs/%s/complete", id);
	j = post(&s, path, NULL,
		 "{\"measured_kwh\":2,\"started_at\":\"2022-01-04T22:30:00Z\",\"completed_at\":\"2022-01-"
		 "05T00:00:05Z\"}",
		 &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	json_t *rl = json_object_get(j, "realised");
	TL_ASSERT(json_is_null(json_object_get(rl, "emissions_g")));
	TL_ASSERT(json_is_number(json_object_get(rl, "baseline_g"))); /* BB's signals are all there */
	json_decref(j);

	jobsrun_reingest(db); /* the missing hours arrive */
	int64_t a = ts_from_civil(2022, 1, 4, 22, 30, 0), b = ts_from_civil(2022, 1, 5, 0, 0, 5);
	snprintf(path, sizeof(path), "/v1/jobs/%s", id);
	j = NULL;
	for (int i = 0; i < 100; i++) {
		j = get(&s, path, &status);
		if (json_is_number(json_object_get(json_object_get(j, "realised"), "emissions_g")))
			break;
		json_decref(j);
		j = NULL;
		nap_ms(100);
	}
	TL_ASSERT(j != NULL);
	rl = json_object_get(j, "realised");
	TL_ASSERT_DBL_EQ(jr_num(rl, "emissions_g"), realised("AA", 2, a, b), 0.002);
	TL_ASSERT_DBL_EQ(jr_num(rl, "baseline_g"), realised("BB", 2, submitted, submitted + (b - a)), 0.002);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* ---- start callbacks --------------------------------------------------------- */

struct receiver {
	int fd, port, status;
	pthread_t thread;
	pthread_mutex_t lock;
	struct buf got; /* bodies received, one per line */
	int hits;
	atomic_bool stop; /* set by the test thread, read by the receiver (make tsan) */
};

static void *receive(void *arg)
{
	struct receiver *r = arg;

	while (!r->stop) {
		int c = accept(r->fd, NULL, NULL);
		char buf[65536];
		size_t n = 0;

		if (c < 0)
			continue;
		/* Headers, then Content-Length bytes of body. */
		for (;;) {
			ssize_t k = read(c, buf + n, sizeof(buf) - 1 - n);
			if (k <= 0)
				break;
			n += (size_t)k;
			buf[n] = '\0';
			char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "Content-Length:");
			if (end && (!cl || (size_t)(end + 4 - buf) + (size_t)atol(cl + 15) <= n))
				break;
		}
		char *end = strstr(buf, "\r\n\r\n");
		pthread_mutex_lock(&r->lock);
		if (end && !strncmp(buf, "POST ", 5)) {
			buf_adds(&r->got, end + 4);
			buf_addc(&r->got, '\n');
			r->hits++;
		}
		pthread_mutex_unlock(&r->lock);
		char reply[128];
		int len =
		    snprintf(reply, sizeof(reply),
			     "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", r->status);
		if (write(c, reply, (size_t)len) < 0)
			perror("receiver");
		close(c);
	}
	return NULL;
}

static void receiver_start(struct receiver *r, int status)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	struct timeval tv = {0, 200000};

	memset(r, 0, sizeof(*r));
	r->status = status;
	pthread_mutex_init(&r->lock, NULL);
	buf_init(&r->got, 0);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	TL_ASSERT(bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	TL_ASSERT(listen(r->fd, 16) == 0);
	setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	getsockname(r->fd, (struct sockaddr *)&sa, &len);
	r->port = ntohs(sa.sin_port);
	pthread_create(&r->thread, NULL, receive, r);
}

static void receiver_stop(struct receiver *r)
{
	r->stop = true;
	pthread_join(r->thread, NULL);
	close(r->fd);
	buf_release(&r->got);
	pthread_mutex_destroy(&r->lock);
}

static int receiver_hits(struct receiver *r)
{
	pthread_mutex_lock(&r->lock);
	int n = r->hits;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static void test_callbacks(void)
{
	char db[512], body[600], path[200], ok_id[40], fail_id[40];
	struct itest_server s;
	struct receiver ok, bad;
	long status;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	receiver_start(&ok, 200);
	receiver_start(&bad, 500);
	jobsrun_db("callbacks", db, sizeof(db));
	/* 30 minutes of service time per second: the 01:00 start comes after ~2 s
	 * (slower by the harness's timeout scale under valgrind, whose start-up
	 * alone would otherwise carry the clock past the deadlines). */
	int scale = itest_timeout_scale();
	char *cfg = jobsrun_config(0, 0, 1800.0 / scale,
				   "\"scheduler\":{\"callback_hosts\":[\"127.0.0.1\",\"*.0.0.1\"]},");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	/* Refused at booking: an internal address matched only by a wildcard,
	 * a host not on the list, credentials in the URL. */
	static const char *const refused[] = {"http://10.0.0.1:9/hook", "http://example.com/hook",
					      "http://u:p@127.0.0.1:9/hook", NULL};
	for (const char *const *u = refused; *u; u++) {
		snprintf(body, sizeof(body),
			 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T02:00:00Z\",\"origin\":\"AA\","
			 "\"power_kw\":1,"
			 "\"callback_url\":\"%s\"}",
			 *u);
		json_t *j = post(&s, "/v1/jobs", NULL, body, &status, NULL);
		TL_ASSERT_INT_EQ(status, 400);
		TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(j, "invalid_params"), 0), "name"),
				 "callback_url");
		json_decref(j);
	}
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM jobs"), 0);

	/* Allowed: 127.0.0.1 is listed exactly.  The window: 01:00-03:00. */
	snprintf(
	    body, sizeof(body),
	    "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T03:00:00Z\",\"origin\":\"AA\",\"power_kw\":1,"
	    "\"name\":\"cb\",\"callback_url\":\"http://127.0.0.1:%d/hook?x=1\"}",
	    ok.port);
	json_t *j = post(&s, "/v1/jobs", NULL, body, &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	snprintf(ok_id, sizeof(ok_id), "%s", jr_str(j, "id"));
	char ok_start[32];
	snprintf(ok_start, sizeof(ok_start), "%s", jr_str(j, "start"));
	TL_ASSERT(!strcmp(ok_start, "2022-01-05T01:00:00Z") || !strcmp(ok_start, "2022-01-05T02:00:00Z"));
	json_decref(j);
	snprintf(
	    body, sizeof(body),
	    "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T03:00:00Z\",\"origin\":\"AA\",\"power_kw\":1,"
	    "\"callback_url\":\"http://127.0.0.1:%d/hook\"}",
	    bad.port);
	j = post(&s, "/v1/jobs", NULL, body, &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	snprintf(fail_id, sizeof(fail_id), "%s", jr_str(j, "id"));
	json_decref(j);
	TL_ASSERT_INT_EQ(receiver_hits(&ok), 0); /* not before its start */

	for (int i = 0; i < 200 * scale && (receiver_hits(&ok) < 1 || receiver_hits(&bad) < 1); i++)
		nap_ms(100);
	TL_ASSERT_INT_EQ(receiver_hits(&ok), 1);
	pthread_mutex_lock(&ok.lock);
	json_t *got = json_loads(ok.got.data, JSON_DISABLE_EOF_CHECK, NULL);
	pthread_mutex_unlock(&ok.lock);
	TL_ASSERT_STR_EQ(jr_str(got, "event"), "job.start");
	TL_ASSERT_STR_EQ(jr_str(json_object_get(got, "job"), "id"), ok_id);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(got, "job"), "name"), "cb");
	TL_ASSERT_STR_EQ(jr_str(json_object_get(got, "job"), "start"), ok_start);
	json_decref(got);

	/* The job shows the delivery; the failing receiver's job shows the error
	 * and will be retried later (back-off on the service clock). */
	snprintf(path, sizeof(path), "/v1/jobs/%s", ok_id);
	for (int i = 0; i < 50 * scale; i++) {
		j = get(&s, path, &status);
		if (json_is_string(json_object_get(json_object_get(j, "callback"), "sent_at")))
			break;
		json_decref(j);
		j = NULL;
		nap_ms(100);
	}
	TL_ASSERT(j != NULL);
	json_t *cb = json_object_get(j, "callback");
	TL_ASSERT_INT_EQ((long long)jr_num(cb, "status"), 200);
	TL_ASSERT_INT_EQ((long long)jr_num(cb, "attempts"), 1);
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/jobs/%s", fail_id);
	j = get(&s, path, &status);
	cb = json_object_get(j, "callback");
	TL_ASSERT(json_is_null(json_object_get(cb, "sent_at")));
	TL_ASSERT((long long)jr_num(cb, "attempts") >= 1);
	TL_ASSERT_CONTAINS(jr_str(cb, "error"), "HTTP 500");
	json_decref(j);
	nap_ms(600 * scale); /* no second delivery of the first */
	TL_ASSERT_INT_EQ(receiver_hits(&ok), 1);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
	receiver_stop(&ok);
	receiver_stop(&bad);
}

/* ---- re-planning on a new forecast -------------------------------------------- */

/* A run of 100 hourly steps of 300 with some hours changed. */
static void write_run(const char *dbinfo, const char *model, int64_t issued, const int64_t *at,
		      const double *v, size_t n)
{
	struct series *p50 = series_new(issued, H, 100);
	struct db *db;
	struct err_detail err;

	for (size_t i = 0; i < 100; i++)
		p50->v[i] = 300;
	for (size_t k = 0; k < n; k++)
		p50->v[(at[k] - issued) / H] = v[k];
	TL_ASSERT_INT_EQ(db_connect(dbinfo, &db, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fcstore_write(db, "AA", "carbon_intensity", model, issued, NULL, p50, NULL, &err),
			 ERR_OK);
	db_close(db);
	series_free(p50);
}

static void test_replan(void)
{
	char db[512], a_path[200], b_path[200];
	struct itest_server s;
	long status;
	int64_t h10 = DAY5 + 10 * H, h11 = DAY5 + 11 * H, h20 = DAY5 + 20 * H;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("replan", db, sizeof(db));
	/* ridge: 10:00 is the cheapest hour of the day. */
	write_run(db, "ridge", DAY5 - H, (int64_t[]){h10, h20}, (double[]){100, 280}, 2);
	char *cfg =
	    jobsrun_config(0, 0, 1, "\"scheduler\":{\"forecast_poll\":\"PT1S\",\"replan_min_gain_pct\":5},");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	json_t *a = post(&s, "/v1/jobs", NULL,
			 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
			 "\"power_kw\":1,\"regions\":[\"AA\"]}",
			 &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	TL_ASSERT_INT_EQ(jr_time(a, "start"), h10);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(a, "forecast"), "model"), "ridge");
	snprintf(a_path, sizeof(a_path), "/v1/jobs/%s", jr_str(a, "id"));
	/* B may only run until 15:00. */
	json_t *b = post(&s, "/v1/jobs", NULL,
			 "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-05T15:00:00Z\",\"origin\":\"AA\","
			 "\"power_kw\":1,\"regions\":[\"AA\"]}",
			 &status, NULL);
	TL_ASSERT_INT_EQ(status, 201);
	TL_ASSERT_INT_EQ(jr_time(b, "start"), h10);
	snprintf(b_path, sizeof(b_path), "/v1/jobs/%s", jr_str(b, "id"));

	/* A newer run: 10:00 is now dear, 20:00 cheap (A gains 83 %: moves), 11:00
	 * a little cheaper than 10:00 (B would gain 3.3 %, under the 5 %: stays). */
	write_run(db, "ensemble", DAY5, (int64_t[]){h11, h20}, (double[]){290, 50}, 2);
	json_t *g = NULL;
	/* The re-plan follows the worker's NOTIFY; on a loaded machine that can
	 * take seconds, so the wait is generous (60 s): this is not a timing test. */
	for (int i = 0; i < 600; i++) {
		g = get(&s, a_path, &status);
		if (jr_time(g, "start") == h20)
			break;
		json_decref(g);
		g = NULL;
		nap_ms(100);
	}
	TL_ASSERT(g != NULL);
	TL_ASSERT_INT_EQ(jr_time(g, "start"), h20);
	TL_ASSERT_DBL_EQ(jr_num(g, "expected_g"), 50 * 1.2, 1e-6);
	TL_ASSERT_STR_EQ(jr_str(json_object_get(g, "forecast"), "model"), "ensemble");
	json_t *plans = json_object_get(g, "plans");
	TL_ASSERT_INT_EQ(json_array_size(plans), 2);
	TL_ASSERT_STR_EQ(jr_str(json_array_get(plans, 0), "reason"), "booked");
	TL_ASSERT_CONTAINS(jr_str(json_array_get(plans, 1), "reason"),
			   "re-planned on the 'ensemble' forecast");
	TL_ASSERT_CONTAINS(jr_str(json_array_get(plans, 1), "reason"), "360.0 g -> 60.0 g");
	TL_ASSERT_STR_EQ(jr_str(json_object_get(json_array_get(plans, 1), "forecast"), "issued_at"),
			 "2022-01-05T00:00:00Z");
	json_decref(g);
	/* The reservations moved with it. */
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM reservations WHERE ts = '2022-01-05T20:00:00Z'"), 1);
	g = get(&s, b_path, &status);
	TL_ASSERT_INT_EQ(jr_time(g, "start"), h10);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(g, "plans")), 1);
	json_decref(g);
	json_decref(a);
	json_decref(b);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

static CU_TestInfo tests[] = {
    {"book, idempotency, get, list", test_book_and_list},
    {"capacity, cancel frees it, job arrays", test_capacity_and_cancel},
    {"start, complete with realised emissions, conflicts", test_lifecycle},
    {"realised emissions filled when late signals arrive", test_realised_later},
    {"start callbacks: delivered, failed, refused", test_callbacks},
    {"re-planning on a new forecast run, with a threshold", test_replan},
    CU_TEST_INFO_NULL,
};
TL_SUITE("jobs", NULL, NULL, tests)
