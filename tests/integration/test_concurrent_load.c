/*
 * Reads, advice and bookings at the same time on one service: 12 client
 * threads each send rounds of the read routes (regions, signals, a
 * region, the SDK's average and bylocation, /metrics, /healthz), advice
 * (POST /v1/schedule) and a booking, while the main thread re-ingests the
 * signals (the cache and the planner's snapshot are rebuilt under load).
 * Every answer must have its expected status, and every advice for the
 * unlimited region CC must equal the answer given before the load (no
 * booking can change it).  Its first purpose is 'make tsan', which runs it
 * against a ThreadSanitizer build of the service; the rate is printed, not
 * judged.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "tests/integration/jobsrun.h"
#include "tests/lib/testlib.h"

#define CLIENTS 12
#define ROUNDS	15

static struct itest_server srv;
static char advice_path[] = "/v1/schedule";
static char advice_body[400], booking_body[400];
static int64_t advice_start;
static char advice_region[16];
static atomic_int requests, wrong_status, wrong_advice;

struct call {
	const char *method;
	const char *path;
	const char *body;
	long status; /* expected */
};

static void check(const struct call *c, int client)
{
	char url[400];
	struct itest_response r;
	bool ok;

	snprintf(url, sizeof(url), "%s%s", srv.base, c->path);
	ok = itest_http(c->method, url, NULL, c->body, &r);
	atomic_fetch_add(&requests, 1);
	if (!ok || r.status != c->status) {
		if (atomic_fetch_add(&wrong_status, 1) < 5)
			fprintf(stderr, "load: client %d: %s %s: %ld, expected %ld: %.200s\n", client,
				c->method, c->path, r.status, c->status, r.body ? r.body : "");
	} else if (c->path == advice_path) {
		json_t *j = json_loads(r.body, 0, NULL);

		if (jr_time(j, "start") != advice_start || !jr_str(j, "region") ||
		    strcmp(jr_str(j, "region"), advice_region))
			atomic_fetch_add(&wrong_advice, 1);
		json_decref(j);
	}
	itest_response_free(&r);
}

static void *client(void *arg)
{
	int c = (int)(intptr_t)arg;
	char from[TS_BUFSZ], to[TS_BUFSZ], signals[160], average[200];

	ts_format(JR_T0 + 86400, from);
	ts_format(JR_T0 + 3 * 86400, to);
	snprintf(signals, sizeof(signals), "/v1/regions/%s/signals?from=%s&to=%s", c % 2 ? "AA" : "BB", from,
		 to);
	snprintf(average, sizeof(average),
		 "/emissions/average-carbon-intensity?location=AA&startTime=%s&endTime=%s", from, to);
	const struct call calls[] = {
	    {"GET", "/v1/regions", NULL, 200},
	    {"GET", signals, NULL, 200},
	    {"GET", "/v1/regions/BB", NULL, 200},
	    {"POST", advice_path, advice_body, 200},
	    {"GET", average, NULL, 200},
	    {"GET", "/emissions/bylocation?location=CC", NULL, 200},
	    {"POST", "/v1/jobs", booking_body, 201},
	    {"GET", "/metrics", NULL, 200},
	    {"GET", "/healthz", NULL, 200},
	    {"GET", "/v1/jobs?limit=5", NULL, 200},
	};
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
			check(&calls[(i + (size_t)c) % (sizeof(calls) / sizeof(calls[0]))], c);
	return NULL;
}

static void test_concurrent_load(void)
{
	char db[512], deadline[TS_BUFSZ];
	pthread_t t[CLIENTS];
	long status;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("load", db, sizeof(db));
	char *cfg = jobsrun_config(100000, 100000, 1, "");
	itest_serve(cfg, db, NULL, &srv);
	free(cfg);
	ts_format(JR_NOW0 + 2 * 86400, deadline);
	snprintf(advice_body, sizeof(advice_body),
		 "{\"duration\":\"PT3H\",\"deadline\":\"%s\",\"origin\":\"CC\",\"power_kw\":10,"
		 "\"residency\":[\"US\"]}",
		 deadline);
	snprintf(booking_body, sizeof(booking_body),
		 "{\"duration\":\"PT2H\",\"deadline\":\"%s\",\"origin\":\"AA\",\"power_kw\":1,"
		 "\"residency\":[\"EU\"],\"interruptible\":true}",
		 deadline);
	json_t *j = jobsrun_call(&srv, "POST", "/v1/schedule", NULL, advice_body, &status, NULL);
	TL_ASSERT_INT_EQ(status, 200);
	advice_start = jr_time(j, "start");
	TL_ASSERT(jr_str(j, "region") != NULL);
	snprintf(advice_region, sizeof(advice_region), "%s", jr_str(j, "region"));
	TL_ASSERT_STR_EQ(advice_region, "CC");
	json_decref(j);

	int64_t t0 = ts_now_ms();
	for (int c = 0; c < CLIENTS; c++)
		pthread_create(&t[c], NULL, client, (void *)(intptr_t)c);
	jobsrun_reingest(db);
	for (int c = 0; c < CLIENTS; c++)
		pthread_join(t[c], NULL);
	int64_t ms = ts_now_ms() - t0;

	printf("\n    %d requests from %d clients in %.1f s (%.0f requests/s) ", atomic_load(&requests),
	       CLIENTS, (double)ms / 1000, atomic_load(&requests) / ((double)ms / 1000 + 1e-9));
	TL_ASSERT_INT_EQ(atomic_load(&requests), CLIENTS * ROUNDS * 10);
	TL_ASSERT_INT_EQ(atomic_load(&wrong_status), 0);
	TL_ASSERT_INT_EQ(atomic_load(&wrong_advice), 0);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM jobs"), CLIENTS * ROUNDS);
	TL_ASSERT_INT_EQ(itest_stop(&srv), 0);
}

static CU_TestInfo tests[] = {
    {"12 clients: reads, advice and bookings at once, data re-ingested", test_concurrent_load},
    CU_TEST_INFO_NULL,
};
TL_SUITE("concurrent-load", NULL, NULL, tests)
