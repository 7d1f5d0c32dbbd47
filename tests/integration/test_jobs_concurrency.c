/*
 * Bookings from many clients on several replicas are serialised by
 * PostgreSQL: three 'serve' processes share one database; 32 client
 * threads book 5,000 jobs against tight capacity, some keys sent twice in
 * a row to different replicas, some sent by two clients at once.  Then,
 * in SQL: no step of any region is over its capacity, no idempotency key
 * has two jobs, region_load equals the sum of the reservations, and every
 * answer for a key named the same job.  The rate is printed, not judged.
 */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/time.h"
#include "tests/integration/jobsrun.h"
#include "tests/lib/testlib.h"

#define CLIENTS	    32
#define BOOKINGS    5000
#define SHARED_KEYS 200 /* booked by two clients at the same time */
#define REPLICAS    3

struct outcome {
	char id[40];  /* job id of the first success for the key; "" when none */
	int created;  /* 201 answers */
	int replayed; /* 200 answers */
	int full;     /* 409 no_capacity */
	int other;    /* anything else */
	bool mismatch;
	pthread_mutex_t lock;
};

static struct itest_server replicas[REPLICAS];
static struct outcome *outcomes; /* per key: BOOKINGS own keys then SHARED_KEYS */
static atomic_int requests;

/* The body of booking k: 1-3 hours of 1 kW, deadline 6-70 hours after the
 * clock's start, anywhere in the EU (regions AA and BB). */
static void body_of(int k, char *out, size_t size)
{
	char deadline[TS_BUFSZ];
	int64_t d = JR_T0 + 4 * 86400 + (int64_t)(6 + (k * 7919) % 65) * 3600;

	snprintf(out, size,
		 "{\"duration\":\"PT%dH\",\"deadline\":\"%s\",\"origin\":\"%s\",\"power_kw\":1,"
		 "\"residency\":[\"EU\"]%s}",
		 1 + k % 3, ts_format(d, deadline), k % 2 ? "AA" : "BB",
		 k % 4 == 0 ? ",\"interruptible\":true" : "");
}

static void book(int replica, int key_index, const char *key, const char *body)
{
	struct outcome *o = &outcomes[key_index];
	char h[128], url[128];
	const char *hs[] = {h, NULL};
	struct itest_response r;

	snprintf(h, sizeof(h), "Idempotency-Key: %s", key);
	snprintf(url, sizeof(url), "%s/v1/jobs", replicas[replica].base);
	atomic_fetch_add(&requests, 1);
	if (!itest_http("POST", url, hs, body, &r)) {
		pthread_mutex_lock(&o->lock);
		if (o->other++ == 0)
			fprintf(stderr,
				"concurrency: key %s: no answer (the connection failed or was refused)\n",
				key);
		pthread_mutex_unlock(&o->lock);
		return;
	}
	json_t *j = json_loads(r.body, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "id"));
	pthread_mutex_lock(&o->lock);
	if ((r.status == 201 || r.status == 200) && id) {
		if (r.status == 201)
			o->created++;
		else
			o->replayed++;
		if (!o->id[0])
			snprintf(o->id, sizeof(o->id), "%s", id);
		else if (strcmp(o->id, id))
			o->mismatch = true;
	} else if (r.status == 409 && !strcmp(json_string_value(json_object_get(j, "code")), "no_capacity")) {
		o->full++;
	} else {
		if (o->other++ == 0)
			fprintf(stderr, "concurrency: key %s: %ld %.300s\n", key, r.status, r.body);
	}
	pthread_mutex_unlock(&o->lock);
	json_decref(j);
	itest_response_free(&r);
}

static void *client(void *arg)
{
	int c = (int)(intptr_t)arg;
	char body[400], key[64];

	for (int k = c; k < BOOKINGS; k += CLIENTS) {
		int replica = k % REPLICAS;

		snprintf(key, sizeof(key), "own-%d", k);
		body_of(k, body, sizeof(body));
		book(replica, k, key, body);
		/* Every tenth booking is retried at once on another replica. */
		if (k % 10 == 0)
			book((replica + 1) % REPLICAS, k, key, body);
		/* Clients c and c + 16 send the same shared keys at about the same time. */
		if (k % 25 == 0) {
			int s = (k / 25) % SHARED_KEYS;

			snprintf(key, sizeof(key), "shared-%d", s);
			body_of(100000 + s, body, sizeof(body));
			book((replica + 2) % REPLICAS, BOOKINGS + s, key, body);
		}
	}
	return NULL;
}

static void test_concurrent_bookings(void)
{
	char db[512];
	pthread_t t[CLIENTS];

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("concurrency", db, sizeof(db));
	/* Tight: 25 kW per step in each of the two EU regions, for about
	 * 10,000 kWh asked before deadlines 6-70 hours away. */
	char *cfg = jobsrun_config(25, 25, 1, "");
	for (int i = 0; i < REPLICAS; i++)
		itest_serve(cfg, db, NULL, &replicas[i]);
	free(cfg);
	outcomes = calloc(BOOKINGS + SHARED_KEYS, sizeof(*outcomes));
	for (int i = 0; i < BOOKINGS + SHARED_KEYS; i++)
		pthread_mutex_init(&outcomes[i].lock, NULL);

	int64_t t0 = ts_now_ms();
	for (int c = 0; c < CLIENTS; c++)
		pthread_create(&t[c], NULL, client, (void *)(intptr_t)c);
	for (int c = 0; c < CLIENTS; c++)
		pthread_join(t[c], NULL);
	int64_t ms = ts_now_ms() - t0;

	int booked = 0, full = 0, other = 0, replays = 0, mismatches = 0, created_twice = 0;
	for (int i = 0; i < BOOKINGS + SHARED_KEYS; i++) {
		struct outcome *o = &outcomes[i];

		booked += o->id[0] != '\0';
		full += o->full;
		other += o->other;
		replays += o->replayed;
		mismatches += o->mismatch;
		created_twice += o->created > 1;
	}
	printf(
	    "\n    %d requests (%d keys) from %d clients on %d replicas in %.1f s (%.0f requests/s): %d jobs "
	    "booked, %d answers 'no capacity', %d idempotent replays ",
	    atomic_load(&requests), BOOKINGS + SHARED_KEYS, CLIENTS, REPLICAS, (double)ms / 1000,
	    atomic_load(&requests) / ((double)ms / 1000), booked, full, replays);
	TL_ASSERT_INT_EQ(other, 0);
	TL_ASSERT_INT_EQ(mismatches, 0);
	TL_ASSERT_INT_EQ(created_twice, 0);
	/* Tight indeed: some bookings found no room, and many did. */
	TL_ASSERT(full > 100);
	TL_ASSERT(booked > 1000);

	/* In SQL: one job per key, no step over capacity, the load table right. */
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM jobs"), booked);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(DISTINCT idempotency_key) FROM jobs"), booked);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM (SELECT idempotency_key FROM jobs"
					   " GROUP BY idempotency_key HAVING count(*) > 1) x"),
			 0);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM (SELECT r.region, r.ts, sum(r.kw) AS kw"
			      " FROM reservations r GROUP BY r.region, r.ts) x JOIN regions g ON g.id ="
			      " x.region WHERE x.kw > g.capacity_kw + 1e-9"),
	    0);
	TL_ASSERT(itest_sql_int(
		      db, "SELECT count(*) FROM region_load WHERE reserved_kw >= capacity_kw - 1e-9") > 10);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM region_load l FULL JOIN (SELECT region, ts, sum(kw)"
			      " AS kw FROM reservations GROUP BY 1, 2) r USING (region, ts)"
			      " WHERE abs(coalesce(l.reserved_kw, 0) - coalesce(r.kw, 0)) > 1e-9"),
	    0);
	/* Every job holds exactly its hours. */
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM reservations r"
			      " WHERE r.job_id = j.id) <> ceil(j.duration_s / 3600.0)"),
	    0);
	/* Each key's job is the one every answer named: (key, id) pairs joined
	 * with the table in one query. */
	struct buf q;
	buf_init(&q, 0);
	buf_adds(&q, "SELECT count(*) FROM (VALUES ");
	int pairs = 0;
	for (int i = 0; i < BOOKINGS + SHARED_KEYS; i++) {
		if (!outcomes[i].id[0])
			continue;
		if (i < BOOKINGS)
			buf_addf(&q, "%s('own-%d','%s')", pairs ? "," : "", i, outcomes[i].id);
		else
			buf_addf(&q, "%s('shared-%d','%s')", pairs ? "," : "", i - BOOKINGS, outcomes[i].id);
		pairs++;
	}
	buf_adds(&q, ") v(k, i) JOIN jobs j ON j.id = v.i::uuid AND j.idempotency_key = v.k");
	TL_ASSERT_INT_EQ(pairs, booked);
	if (pairs)
		TL_ASSERT_INT_EQ(itest_sql_int(db, q.data), booked);
	buf_release(&q);

	for (int i = 0; i < REPLICAS; i++)
		TL_ASSERT_INT_EQ(itest_stop(&replicas[i]), 0);
	for (int i = 0; i < BOOKINGS + SHARED_KEYS; i++)
		pthread_mutex_destroy(&outcomes[i].lock);
	free(outcomes);
}

static CU_TestInfo tests[] = {
    {"three replicas, 32 clients, 5,000 bookings, tight capacity", test_concurrent_bookings},
    CU_TEST_INFO_NULL,
};
TL_SUITE("jobs-concurrency", NULL, NULL, tests)
