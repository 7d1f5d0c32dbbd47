/*
 * Faults end to end: real 'serve' processes, real PostgreSQL, fake
 * providers on loopback.
 *
 *   - PostgreSQL stopped and started again while clients book jobs with
 *     Idempotency-Keys (a cluster of the test's own, so stopping it harms
 *     no other test): meanwhile 503 problem+json with Retry-After in
 *     bounded time, /readyz not ready, /healthz up; afterwards the service
 *     has reconnected by itself, and every acknowledged booking exists
 *     exactly once, with its reservations.
 *   - SIGTERM under load: a request in flight (its body still arriving)
 *     completes and is stored, new connections are refused, the process
 *     exits 0 within shutdown_grace; past the grace it exits anyway.
 *   - The replica holding a poller's lock is SIGKILLed: the other polls
 *     within two intervals.  That bound is the function under test, so it
 *     is asserted (with intervals of 3 s, so the margin is a whole
 *     interval); everything else here waits "until, at most N s".
 *   - A region's only source fails (500, malformed bodies, a hang): the
 *     answers continue from the last good data and are marked stale once
 *     it is older than the source's stale_after.  (Failover to a second
 *     source and staleness of old data are proven in test_pollers.c.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/time.h"
#include "tests/integration/jobsrun.h"
#include "tests/lib/itest.h"
#include "tests/lib/itest_fake.h"
#include "tests/lib/testlib.h"

#define WAIT_S 30 /* longest wait for something that must happen */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Wait for a process at most timeout_ms: its exit status (128 + signal),
 * or -1 when it is still running. */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int st;

	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		sleep_ms(20);
	}
	return -1;
}

static void kill_hard(struct itest_server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

/* ------------------------------------------------------------------ */
/* A PostgreSQL cluster of the test's own (deploy/pg.sh)               */

static int pg_sh(const char *fn, const char *dir)
{
	char cmd[2400];

	snprintf(cmd, sizeof(cmd), "sh -c '. deploy/pg.sh && %s %s' >%s.log 2>&1", fn, dir, dir);
	return system(cmd);
}

static void cluster_start(const char *dir)
{
	char cmd[2400];

	snprintf(cmd, sizeof(cmd),
		 "sh -c '. deploy/pg.sh && pg_init %s && pg_start %s -c fsync=off -c "
		 "synchronous_commit=off -c full_page_writes=off' >%s.log 2>&1",
		 dir, dir, dir);
	if (system(cmd)) {
		char log[1100], *text;

		snprintf(log, sizeof(log), "%s.log", dir);
		text = itest_slurp(log);
		tl_fail(__LINE__, __FILE__, true, "cannot start the cluster in %s: %s", dir, text);
		free(text);
	}
}

static void cluster_stop(const char *dir)
{
	TL_ASSERT_INT_EQ(pg_sh("pg_stop", dir), 0);
}

static void cluster_remove(const char *dir)
{
	char cmd[800];

	pg_sh("pg_stop", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	TL_ASSERT_INT_EQ(system(cmd), 0);
}

/* ------------------------------------------------------------------ */
/* PostgreSQL restart during bookings                                  */

#define RS_CLIENTS 6

static struct {
	const struct itest_server *srv;
	atomic_bool stop;      /* no new keys after this */
	atomic_bool pg_down;   /* the cluster is stopped (or stopping) */
	atomic_bool restarted; /* the cluster is up again */
	atomic_int attempted;  /* distinct keys sent */
	atomic_int acked;      /* keys answered 2xx */
	atomic_int requests, unavailable, transport, bad;
	atomic_int unavailable_bad; /* 503 without Retry-After or problem+json */
	atomic_int unavailable_up;  /* 503 to a request sent after the restart */
	atomic_llong slowest_ms;    /* longest answer while the database was down */
	pthread_mutex_t lock;
	struct buf acked_pairs; /* "('key','id')," for SQL */
} rs;

static void rs_body(int k, char *out, size_t size)
{
	char deadline[TS_BUFSZ];
	int64_t d = JR_T0 + 4 * 86400 + (int64_t)(8 + (k * 7919) % 60) * 3600;

	snprintf(out, size,
		 "{\"duration\":\"PT%dH\",\"deadline\":\"%s\",\"origin\":\"%s\",\"power_kw\":1,"
		 "\"residency\":[\"EU\"]}",
		 1 + k % 3, ts_format(d, deadline), k % 2 ? "AA" : "BB");
}

/* Book key k until an answer acknowledges it (or the test gives up). */
static void rs_book(int k)
{
	char key[64], h[128], url[128], body[400];
	const char *hs[] = {h, NULL};
	int64_t give_up = ts_now_ms() + 90 * 1000;

	snprintf(key, sizeof(key), "restart-%d", k);
	snprintf(h, sizeof(h), "Idempotency-Key: %s", key);
	snprintf(url, sizeof(url), "%s/v1/jobs", rs.srv->base);
	rs_body(k, body, sizeof(body));
	atomic_fetch_add(&rs.attempted, 1);
	while (ts_now_ms() < give_up) {
		struct itest_response r;
		int64_t t0 = ts_now_ms();
		bool sent_up = atomic_load(&rs.restarted);
		bool ok = itest_http("POST", url, hs, body, &r);
		int64_t took = ts_now_ms() - t0;

		atomic_fetch_add(&rs.requests, 1);
		if (atomic_load(&rs.pg_down) && took > atomic_load(&rs.slowest_ms))
			atomic_store(&rs.slowest_ms, took);
		if (!ok) {
			atomic_fetch_add(&rs.transport, 1);
		} else if (r.status == 201 || r.status == 200) {
			json_t *j = json_loads(r.body, 0, NULL);
			const char *id = json_string_value(json_object_get(j, "id"));

			pthread_mutex_lock(&rs.lock);
			buf_addf(&rs.acked_pairs, "('%s','%s'),", key, id ? id : "");
			pthread_mutex_unlock(&rs.lock);
			atomic_fetch_add(&rs.acked, 1);
			json_decref(j);
			itest_response_free(&r);
			return;
		} else if (r.status == 503) {
			atomic_fetch_add(&rs.unavailable, 1);
			if (sent_up)
				atomic_fetch_add(&rs.unavailable_up, 1);
			if (!strcasestr(r.headers, "\nRetry-After: ") ||
			    strcmp(r.content_type, "application/problem+json"))
				atomic_fetch_add(&rs.unavailable_bad, 1);
		} else {
			if (atomic_fetch_add(&rs.bad, 1) < 5)
				fprintf(stderr, "restart: key %s: %ld %.300s\n", key, r.status, r.body);
		}
		itest_response_free(&r);
		/* A client would honour Retry-After (5 s); the test retries
		 * sooner so that it stays short. */
		sleep_ms(100);
	}
}

static void *rs_client(void *arg)
{
	for (int k = (int)(intptr_t)arg; !atomic_load(&rs.stop); k += RS_CLIENTS)
		rs_book(k);
	return NULL;
}

static long status_of(const struct itest_server *s, const char *path)
{
	struct itest_response r;
	char url[128];
	long st;

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	st = itest_http("GET", url, NULL, NULL, &r) ? r.status : -1;
	itest_response_free(&r);
	return st;
}

/* One GET /v1/jobs: non-NULL when answered 200. */
static void *rs_list(void *arg)
{
	(void)arg;
	return status_of(rs.srv, "/v1/jobs") == 200 ? (void *)1 : NULL;
}

static void test_postgres_restart(void)
{
	char dir[700], db[800];
	struct itest_server srv;
	pthread_t t[RS_CLIENTS];

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/pg-restart", itest_tmpdir());
	cluster_start(dir);
	snprintf(db, sizeof(db), "host=%s user=carbonsched dbname=postgres", dir);
	jobsrun_load(db);
	/* Keys are checked in the database again after a second, so the
	 * outage meets authentication too (which then trusts the key as last
	 * seen, service/auth.c). */
	char *cfg = jobsrun_config(100000, 100000, 1, "\"auth\":{\"cache_ttl\":\"PT1S\"},");
	itest_serve(cfg, db, NULL, &srv);
	free(cfg);
	TL_ASSERT_INT_EQ(status_of(&srv, "/readyz"), 200);

	memset(&rs, 0, sizeof(rs));
	rs.srv = &srv;
	pthread_mutex_init(&rs.lock, NULL);
	buf_init(&rs.acked_pairs, 0);
	for (int c = 0; c < RS_CLIENTS; c++)
		pthread_create(&t[c], NULL, rs_client, (void *)(intptr_t)c);
	for (int i = 0; i < WAIT_S * 10 && atomic_load(&rs.acked) < 50; i++)
		sleep_ms(100);
	int before = atomic_load(&rs.acked);
	TL_ASSERT(before >= 50);

	/* Down, with bookings in flight (pg_ctl -m fast: sessions are ended). */
	atomic_store(&rs.pg_down, true);
	cluster_stop(dir);
	int down_503 = atomic_load(&rs.unavailable);
	/* While it is down: /healthz answers, /readyz says not ready, and
	 * bookings get 503s (the clients count them). */
	TL_ASSERT_INT_EQ(status_of(&srv, "/healthz"), 200);
	TL_ASSERT_INT_EQ(status_of(&srv, "/readyz"), 503);
	for (int i = 0; i < WAIT_S * 10 && atomic_load(&rs.unavailable) < down_503 + 20; i++)
		sleep_ms(100);
	TL_ASSERT(atomic_load(&rs.unavailable) >= down_503 + 20);
	TL_ASSERT_INT_EQ(status_of(&srv, "/healthz"), 200);
	TL_ASSERT_INT_EQ(status_of(&srv, "/readyz"), 503);
	int acked_down = atomic_load(&rs.acked);

	/* Up again: the service reconnects by itself. */
	cluster_start(dir);
	atomic_store(&rs.pg_down, false);
	atomic_store(&rs.restarted, true);
	int64_t up = ts_now_ms();
	for (int i = 0; i < WAIT_S * 10 && status_of(&srv, "/readyz") != 200; i++)
		sleep_ms(100);
	TL_ASSERT_INT_EQ(status_of(&srv, "/readyz"), 200);
	int64_t ready_ms = ts_now_ms() - up;
	for (int i = 0; i < WAIT_S * 10 && atomic_load(&rs.acked) < acked_down + 50; i++)
		sleep_ms(100);
	atomic_store(&rs.stop, true);
	for (int c = 0; c < RS_CLIENTS; c++)
		pthread_join(t[c], NULL);

	int attempted = atomic_load(&rs.attempted), acked = atomic_load(&rs.acked);
	printf("\n    bookings: %d keys attempted, %d acknowledged (%d before the stop), %d requests, "
	       "%d answers 503 (slowest while down %lld ms; %d to requests sent after the restart), %d "
	       "transport errors; ready %lld ms after the restart ",
	       attempted, acked, before, atomic_load(&rs.requests), atomic_load(&rs.unavailable),
	       (long long)atomic_load(&rs.slowest_ms), atomic_load(&rs.unavailable_up),
	       atomic_load(&rs.transport), (long long)ready_ms);
	TL_ASSERT_INT_EQ(atomic_load(&rs.bad), 0);
	TL_ASSERT_INT_EQ(atomic_load(&rs.unavailable_bad), 0);
	TL_ASSERT_INT_EQ(atomic_load(&rs.transport), 0);
	/* Pooled sessions the restart ended are noticed when lent, not by
	 * failing a request. */
	TL_ASSERT_INT_EQ(atomic_load(&rs.unavailable_up), 0);
	/* Bounded: connect_timeout and the pool's wait are 5 s each. */
	TL_ASSERT(atomic_load(&rs.slowest_ms) < 12000);
	TL_ASSERT(acked > acked_down);
	/* Every key was retried until acknowledged. */
	TL_ASSERT_INT_EQ(acked, attempted);

	/* Every acknowledged booking exists once, under the id it was given;
	 * no key has two jobs; no job without an acknowledged key. */
	struct buf q;
	buf_init(&q, 0);
	rs.acked_pairs.data[rs.acked_pairs.len - 1] = '\0'; /* the last comma */
	buf_addf(&q,
		 "SELECT count(*) FROM (VALUES %s) v(k, i) JOIN jobs j ON j.id::text = v.i AND "
		 "j.idempotency_key = v.k",
		 rs.acked_pairs.data);
	long long verified = itest_sql_int(db, q.data);
	printf("%lld verified in the database ", verified);
	TL_ASSERT_INT_EQ(verified, acked);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM jobs"), acked);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(DISTINCT idempotency_key) FROM jobs"), acked);
	/* Reservations match the jobs: each job holds its hours, and the load
	 * table is the sum of the reservations. */
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM reservations r"
			      " WHERE r.job_id = j.id) <> ceil(j.duration_s / 3600.0)"),
	    0);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM region_load l FULL JOIN (SELECT region, ts, sum(kw)"
			      " AS kw FROM reservations GROUP BY 1, 2) r USING (region, ts)"
			      " WHERE abs(coalesce(l.reserved_kw, 0) - coalesce(r.kw, 0)) > 1e-9"),
	    0);
	buf_release(&q);
	buf_release(&rs.acked_pairs);
	pthread_mutex_destroy(&rs.lock);

	/* A restart while the service is idle: the pooled sessions it ended
	 * are reopened when lent, so the first requests after it succeed. */
	cluster_stop(dir);
	cluster_start(dir);
	int first_ok = 0;
	for (int c = 0; c < RS_CLIENTS; c++)
		pthread_create(&t[c], NULL, rs_list, NULL);
	for (int c = 0; c < RS_CLIENTS; c++) {
		void *ok;

		pthread_join(t[c], &ok);
		first_ok += ok != NULL;
	}
	printf("(after an idle restart: %d of %d requests at once answered 200) ", first_ok, RS_CLIENTS);
	TL_ASSERT_INT_EQ(first_ok, RS_CLIENTS);

	TL_ASSERT_INT_EQ(itest_stop(&srv), 0);
	cluster_remove(dir);
}

/* ------------------------------------------------------------------ */
/* SIGTERM under load                                                  */

static int connect_to(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read until the peer closes (the server answers with Connection: close
 * while stopping); new string. */
static char *recv_all(int fd)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	struct timeval tv = {WAIT_S, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	buf_init(&b, 0);
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		buf_add(&b, chunk, (size_t)n);
	return buf_detach(&b, NULL);
}

/* A booking whose request is sent up to the middle of its body, with the
 * server's API key. */
static int start_slow_booking(const struct itest_server *srv, const char *key, const char *body)
{
	char head[768];
	int fd = connect_to(srv->port);

	TL_ASSERT(fd >= 0);
	snprintf(head, sizeof(head),
		 "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		 "%s\r\nIdempotency-Key: %s\r\nContent-Length: %zu\r\n\r\n",
		 srv->auth, key, strlen(body));
	TL_ASSERT(send_all(fd, head, strlen(head)));
	TL_ASSERT(send_all(fd, body, strlen(body) / 2));
	return fd;
}

static struct {
	const struct itest_server *srv;
	atomic_bool stop;
	atomic_bool signalled;
	atomic_int ok, ok_after, refused, bad;
} ld;

/* Reads on fresh connections: each must either be answered completely or
 * not be connected at all; a partial answer or a 5xx is a failure. */
static void *ld_client(void *arg)
{
	char url[128];
	const char *paths[] = {"/v1/regions", "/v1/regions/AA/signals?from=2022-01-04T00:00:00Z", "/v1/jobs"};
	int i = (int)(intptr_t)arg;

	while (!atomic_load(&ld.stop)) {
		struct itest_response r;
		bool after = atomic_load(&ld.signalled);
		json_t *j;

		snprintf(url, sizeof(url), "%s%s", ld.srv->base, paths[i++ % 3]);
		if (!itest_http("GET", url, NULL, NULL, &r)) {
			/* Refused, or reset while queued: no answer began. */
			if (r.status == 0)
				atomic_fetch_add(&ld.refused, 1);
			else
				atomic_fetch_add(&ld.bad, 1);
		} else if (r.status == 200 && (j = json_loads(r.body, 0, NULL))) {
			atomic_fetch_add(after ? &ld.ok_after : &ld.ok, 1);
			json_decref(j);
		} else {
			if (atomic_fetch_add(&ld.bad, 1) < 5)
				fprintf(stderr, "sigterm: GET %s: %ld %.200s\n", url, r.status, r.body);
		}
		itest_response_free(&r);
		if (atomic_load(&ld.signalled) && r.status == 0)
			sleep_ms(20); /* the door is closed: do not spin */
	}
	return NULL;
}

static void test_sigterm_under_load(void)
{
	char db[512];
	struct itest_server srv;
	pthread_t t[4];
	const char *body = "{\"duration\":\"PT2H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
			   "\"power_kw\":1}";

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("sigterm", db, sizeof(db));
	char *cfg = jobsrun_config(1000, 1000, 1, "\"shutdown_grace\":\"PT10S\",");
	itest_serve(cfg, db, NULL, &srv);
	free(cfg);

	memset(&ld, 0, sizeof(ld));
	ld.srv = &srv;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, ld_client, (void *)(intptr_t)i);
	for (int i = 0; i < WAIT_S * 10 && atomic_load(&ld.ok) < 40; i++)
		sleep_ms(100);
	int fd = start_slow_booking(&srv, "sigterm-inflight", body);
	sleep_ms(300); /* its headers have arrived: it is in flight */

	int64_t t0 = ts_now_ms();
	atomic_store(&ld.signalled, true);
	kill(srv.pid, SIGTERM);
	/* New connections are refused (at once; a loaded machine may take a
	 * moment to run the signal). */
	bool refused = false;
	for (int i = 0; i < WAIT_S * 10 && !refused; i++) {
		int c = connect_to(srv.port);

		refused = c < 0 && errno == ECONNREFUSED;
		if (c >= 0)
			close(c);
		if (!refused)
			sleep_ms(100);
	}
	TL_ASSERT(refused);
	/* The in-flight booking still completes, and the process waits for it. */
	sleep_ms(500);
	TL_ASSERT_INT_EQ(waitpid(srv.pid, NULL, WNOHANG), 0);
	TL_ASSERT(send_all(fd, body + strlen(body) / 2, strlen(body) - strlen(body) / 2));
	char *answer = recv_all(fd);
	close(fd);
	TL_ASSERT(!strncmp(answer, "HTTP/1.1 201", 12));
	TL_ASSERT(strcasestr(answer, "\r\nConnection: close\r\n") != NULL);
	char *json = strstr(answer, "\r\n\r\n");
	json_t *j = json ? json_loads(json + 4, 0, NULL) : NULL;
	TL_ASSERT(json_is_string(json_object_get(j, "id")));
	int status = wait_exit(srv.pid, 10000 + 5000);
	int64_t took = ts_now_ms() - t0;
	atomic_store(&ld.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("\n    %d reads answered before SIGTERM, %d after it (already accepted), %d refused, "
	       "%d broken; exit %d %.1f s after the signal ",
	       atomic_load(&ld.ok), atomic_load(&ld.ok_after), atomic_load(&ld.refused), atomic_load(&ld.bad),
	       status, (double)took / 1000);
	TL_ASSERT_INT_EQ(status, 0);
	srv.pid = 0;
	TL_ASSERT(took < 10000); /* within the grace */
	TL_ASSERT_INT_EQ(atomic_load(&ld.bad), 0);
	TL_ASSERT(atomic_load(&ld.refused) > 0);
	/* Stored, once. */
	char q[200];
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM jobs WHERE idempotency_key = 'sigterm-inflight' AND id = '%s'",
		 json_string_value(json_object_get(j, "id")) ? json_string_value(json_object_get(j, "id"))
							     : "00000000-0000-0000-0000-000000000000");
	TL_ASSERT_INT_EQ(itest_sql_int(db, q), 1);
	char *log = itest_slurp(srv.log);
	TL_ASSERT_CONTAINS(log, "stopping on SIGTERM: not accepting connections; ");
	TL_ASSERT_CONTAINS(log, "requests in flight finished in");
	free(log);
	json_decref(j);
	free(answer);
}

/* A request that never completes does not hold the process past its grace. */
static void test_sigterm_grace_passes(void)
{
	char db[512];
	struct itest_server srv;
	const char *body = "{\"duration\":\"PT2H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
			   "\"power_kw\":1}";

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("sigterm_grace", db, sizeof(db));
	char *cfg = jobsrun_config(1000, 1000, 1, "\"shutdown_grace\":\"PT2S\",");
	itest_serve(cfg, db, NULL, &srv);
	free(cfg);
	int fd = start_slow_booking(&srv, "sigterm-stuck", body);
	sleep_ms(300);
	int64_t t0 = ts_now_ms();
	kill(srv.pid, SIGTERM);
	int status = wait_exit(srv.pid, 2000 + 10000);
	int64_t took = ts_now_ms() - t0;
	printf("\n    exit %d %.1f s after SIGTERM (grace 2 s) ", status, (double)took / 1000);
	TL_ASSERT_INT_EQ(status, 1);
	TL_ASSERT(took >= 2000);
	if (status < 0)
		kill_hard(&srv);
	srv.pid = 0;
	char *log = itest_slurp(srv.log);
	TL_ASSERT_CONTAINS(log, "shutdown grace of 2s passed with 1 request still in flight; exiting anyway");
	free(log);
	close(fd);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM jobs"), 0);
}

/* ------------------------------------------------------------------ */
/* Pollers: replica killed, upstream faults                            */

/* Quick failures: two tries, short backoff; the breaker (two failed
 * requests) cools down in 1 s, so faulty answers keep being fetched. */
#define FETCH                                                                                      \
	"\"fetch\":{\"attempts\":2,\"backoff_ms\":50,\"breaker_failures\":2,\"breaker_cooldown\":" \
	"\"PT1S\",\"timeout\":\"PT2S\",\"connect_timeout\":\"PT2S\"},"

static json_t *get_ok(const struct itest_server *s, const char *path)
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

static const char *str(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));

	return v ? v : "(absent)";
}

/* The first source of GET /v1/sources (new reference). */
static json_t *first_source(const struct itest_server *s)
{
	json_t *j = get_ok(s, "/v1/sources");
	json_t *ret = json_incref(json_array_get(json_object_get(j, "sources"), 0));

	json_decref(j);
	return ret ? ret : json_object();
}

/* Zone GB of source 'gb' in GET /v1/sources/gb (new reference). */
static json_t *gb_zone(const struct itest_server *s)
{
	json_t *j = get_ok(s, "/v1/sources/gb");
	json_t *ret = json_incref(json_array_get(json_object_get(j, "zones"), 0));

	json_decref(j);
	return ret ? ret : json_object();
}

#define TAKEOVER_INTERVAL_S 3

static void test_poller_replica_killed(void)
{
	struct itest_fake gb;
	struct itest_server r1, r2;
	char db[512], cfg[1024];
	const char *fresh[] = {"--fresh", NULL};
	const char *env1[] = {"CARBONSCHED_FETCH_USER_AGENT=replica-1", NULL};
	const char *env2[] = {"CARBONSCHED_FETCH_USER_AGENT=replica-2", NULL};
	json_t *s;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	itest_fake_start("ukgrid", fresh, &gb);
	itest_db_new("faults_takeover", db, sizeof(db));
	snprintf(
	    cfg, sizeof(cfg),
	    "{" FETCH "\"regions\":[{\"id\":\"GB\",\"latitude\":51.5,\"longitude\":-0.1,\"pue\":1.1}],"
	    "\"sources\":[{\"name\":\"gb\",\"type\":\"ukgrid\",\"zones\":[\"GB\"],\"interval\":\"PT%dS\","
	    "\"base_url\":\"%s\"}]}",
	    TAKEOVER_INTERVAL_S, gb.url);
	itest_serve(cfg, db, env1, &r1);
	for (int i = 0; i < WAIT_S * 10 && itest_fake_agent_requests(&gb, "replica-1") == 0; i++)
		sleep_ms(100);
	TL_ASSERT(itest_fake_agent_requests(&gb, "replica-1") > 0);
	itest_serve(cfg, db, env2, &r2);
	/* Replica 2 has tried the lock and found it held by replica 1. */
	bool waiting = false;
	for (int i = 0; i < WAIT_S * 10 && !waiting; i++) {
		s = first_source(&r2);
		waiting = json_is_false(json_object_get(s, "polled_here")) &&
			  json_is_string(json_object_get(s, "held_by"));
		json_decref(s);
		if (!waiting)
			sleep_ms(100);
	}
	TL_ASSERT(waiting);
	TL_ASSERT_INT_EQ(itest_fake_agent_requests(&gb, "replica-2"), 0);

	/* SIGKILL: no goodbye; PostgreSQL ends the session and frees the lock. */
	int64_t killed = ts_now_ms();
	kill_hard(&r1);
	for (int i = 0; i < WAIT_S * 20 && itest_fake_agent_requests(&gb, "replica-2") == 0; i++)
		sleep_ms(50);
	int64_t took = ts_now_ms() - killed;
	TL_ASSERT(itest_fake_agent_requests(&gb, "replica-2") > 0);
	printf("\n    replica 2 polled %.2f s after replica 1 was killed (interval %d s, bound %d s) ",
	       (double)took / 1000, TAKEOVER_INTERVAL_S, 2 * TAKEOVER_INTERVAL_S);
	/* The function: within two intervals (it tries once per interval). */
	TL_ASSERT(took <= 2 * TAKEOVER_INTERVAL_S * 1000);
	bool here = false;
	for (int i = 0; i < WAIT_S * 10 && !here; i++) {
		s = first_source(&r2);
		here = json_is_true(json_object_get(s, "polled_here"));
		json_decref(s);
		if (!here)
			sleep_ms(100);
	}
	TL_ASSERT(here);
	TL_ASSERT_INT_EQ(itest_stop(&r2), 0);
	itest_fake_stop(&gb);
}

/* GET /v1/regions/GB/signals over the last day. */
static json_t *gb_signals(const struct itest_server *s)
{
	char path[128], from[TS_BUFSZ];

	snprintf(path, sizeof(path), "/v1/regions/GB/signals?from=%s", ts_format(ts_now() - 86400, from));
	return get_ok(s, path);
}

static long fake_faulted(const struct itest_fake *f)
{
	json_t *j = itest_fake_stats(f);
	long n = (long)json_integer_value(json_object_get(j, "faulted"));

	json_decref(j);
	return n;
}

/* Under a fault: wait until the fake has answered 'n' more requests with
 * it and the source reports failing; the region's answer meanwhile is the
 * last good data, from the same source. */
static void under_fault(const struct itest_server *srv, const struct itest_fake *gb, const char *fault,
			int points)
{
	long before = fake_faulted(gb);
	bool failing = false;

	itest_fake_fault(gb, fault, 0);
	for (int i = 0; i < WAIT_S * 10 && !(failing && fake_faulted(gb) >= before + 2); i++) {
		json_t *z = gb_zone(srv);

		failing = json_is_true(json_object_get(z, "failing"));
		json_decref(z);
		sleep_ms(100);
	}
	TL_ASSERT(failing);
	TL_ASSERT(fake_faulted(gb) >= before + 2);
	int64_t t0 = ts_now_ms();
	json_t *j = gb_signals(srv);
	int64_t took = ts_now_ms() - t0;
	printf("\n    fault '%s': %ld answers faulted; signals answered in %lld ms with %zu points ", fault,
	       fake_faulted(gb) - before, (long long)took, json_array_size(json_object_get(j, "points")));
	TL_ASSERT_STR_EQ(str(j, "source"), "gb");
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "points")), points);
	json_decref(j);
}

static void test_upstream_faults_serve_stale(void)
{
	struct itest_fake gb;
	struct itest_server srv;
	char db[512], cfg[1024];
	const char *fresh[] = {"--fresh", NULL};
	json_t *j, *z;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	itest_fake_start("ukgrid", fresh, &gb);
	itest_db_new("faults_upstream", db, sizeof(db));
	/* The data's age depends on the minute the test runs in: learn it
	 * with the default stale_after, then restart with a stale_after a
	 * little longer, so the data turns stale during the test. */
	const char *tmpl =
	    "{" FETCH "\"regions\":[{\"id\":\"GB\",\"latitude\":51.5,\"longitude\":-0.1,\"pue\":1.1}],"
	    "\"sources\":[{\"name\":\"gb\",\"type\":\"ukgrid\",\"zones\":[\"GB\"],\"interval\":"
	    "\"PT1S\",\"base_url\":\"%s\"%s}]}";
	snprintf(cfg, sizeof(cfg), tmpl, gb.url, "");
	itest_serve(cfg, db, NULL, &srv);
	bool ok = false;
	for (int i = 0; i < WAIT_S * 10 && !ok; i++) {
		z = gb_zone(&srv);
		ok = json_is_string(json_object_get(z, "last_success"));
		json_decref(z);
		if (!ok)
			sleep_ms(100);
	}
	TL_ASSERT(ok);
	j = gb_signals(&srv);
	long long age = json_integer_value(json_object_get(j, "age_s"));
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&srv), 0);

	char extra[64];
	long long stale_after = age + 20;
	snprintf(extra, sizeof(extra), ",\"stale_after\":\"PT%lldS\"", stale_after);
	snprintf(cfg, sizeof(cfg), tmpl, gb.url, extra);
	itest_serve(cfg, db, NULL, &srv);
	ok = false;
	for (int i = 0; i < WAIT_S * 10 && !ok; i++) {
		z = gb_zone(&srv);
		ok = json_is_string(json_object_get(z, "last_success")) &&
		     json_is_false(json_object_get(z, "failing"));
		json_decref(z);
		if (!ok)
			sleep_ms(100);
	}
	TL_ASSERT(ok);
	j = gb_signals(&srv);
	TL_ASSERT(json_is_false(json_object_get(j, "stale")));
	int points = (int)json_array_size(json_object_get(j, "points"));
	TL_ASSERT(points > 0);
	json_decref(j);
	long long rows = itest_sql_int(db, "SELECT count(*) FROM signals");

	under_fault(&srv, &gb, "500", points);
	under_fault(&srv, &gb, "malformed", points);
	under_fault(&srv, &gb, "content-type", points);
	under_fault(&srv, &gb, "hang", points);

	/* Still failing when the last good data grows old: marked stale,
	 * still served. */
	bool stale = false;
	for (int i = 0; i < (stale_after + WAIT_S) * 10 && !stale; i++) {
		j = gb_signals(&srv);
		stale = json_is_true(json_object_get(j, "stale"));
		json_decref(j);
		if (!stale)
			sleep_ms(100);
	}
	TL_ASSERT(stale);
	j = gb_signals(&srv);
	TL_ASSERT_STR_EQ(str(j, "source"), "gb");
	TL_ASSERT(json_is_true(json_object_get(j, "stale")));
	TL_ASSERT(json_integer_value(json_object_get(j, "age_s")) > stale_after);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "points")), points);
	json_decref(j);
	json_t *regions = get_ok(&srv, "/v1/regions");
	json_t *latest = json_object_get(json_array_get(json_object_get(regions, "regions"), 0), "latest");
	TL_ASSERT(json_is_true(json_object_get(latest, "stale")));
	json_decref(regions);
	z = gb_zone(&srv);
	TL_ASSERT(json_is_true(json_object_get(z, "failing")));
	TL_ASSERT(json_is_true(json_object_get(z, "stale")));
	json_decref(z);
	/* Nothing of the faulty answers was stored. */
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), rows);

	TL_ASSERT_INT_EQ(itest_stop(&srv), 0);
	itest_fake_stop(&gb);
}

static CU_TestInfo tests[] = {
    {"PostgreSQL restarts during bookings: 503s, then every acknowledged booking once",
     test_postgres_restart},
    {"SIGTERM under load: in flight completes, new refused, exit 0", test_sigterm_under_load},
    {"SIGTERM: past shutdown_grace the process exits anyway", test_sigterm_grace_passes},
    {"the replica polling a source is killed: another polls within two intervals",
     test_poller_replica_killed},
    {"a region's only source fails: the last good data is served, then marked stale",
     test_upstream_faults_serve_stale},
    CU_TEST_INFO_NULL,
};
TL_SUITE("faults", NULL, NULL, tests)
