/*
 * soak.c - the client of 'make soak': a fixed request rate against a
 * running service for a bounded time, and its resident memory meanwhile.
 *
 *   soak BASE_URL PID SECONDS RATE THREADS
 *
 * Requests are slots on one timetable: slot k is due at start + k / RATE.
 * THREADS workers (each with its own keep-alive connection) take the next
 * slot, wait for its time and send it, so the rate is fixed while the
 * service keeps up; a slot sent more than 100 ms late is counted (a figure,
 * not an error).  The kind of a slot follows a table: reads (signals,
 * forecast, regions, the SDK routes), advice (POST /v1/schedule) and
 * bookings (POST /v1/jobs, then DELETE of the job at once, so capacity is
 * freed and the soak can run for any time).
 *
 * Every answer must have its expected status and a body that is JSON;
 * anything else is an error, printed (the first few) and counted.  VmRSS
 * of PID is sampled each second from /proc; the median sample of the
 * first window (a minute, or a third of a shorter run) is compared with
 * the median of the last (a median, so that one busy second - a forecast
 * round - does not decide).  Exit status 1 on any error or on growth of 5 %
 * or more; latency is reported, never judged.
 *
 * SOAK_API_KEY, when set, is sent as "Authorization: Bearer KEY".
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

#define LATE_MS	     100
#define GROWTH_LIMIT 5.0 /* % */

enum kind { K_SIGNALS, K_FORECAST, K_REGIONS, K_SDK, K_SCHEDULE, K_BOOK, K_CANCEL, K__COUNT };

static const char *const kind_names[K__COUNT] = {"signals",  "forecast", "regions", "sdk",
						 "schedule", "book",	 "cancel"};

/* The demo's regions (deploy/demo.json). */
static const char *const regions[] = {"SE", "DE", "US-CAL-CISO", "US-MIDA-PJM", "US-TEX-ERCO", "US-NE-ISNE"};
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

/* One slot of the timetable: the request to send. */
struct slot_kind {
	enum kind kind;
	const char *method;
	const char *path; /* %s = a region */
	const char *body; /* %s = a region; NULL = none */
};

/* Ten slots a cycle: six reads, two pieces of advice, one booking (and
 * its cancel, sent by the same worker right after). */
static const struct slot_kind table[] = {
    {K_SIGNALS, "GET", "/v1/regions/%s/signals?from=2021-10-30T00:00:00Z&to=2021-10-31T00:00:00Z", NULL},
    {K_FORECAST, "GET", "/v1/regions/%s/forecast", NULL},
    {K_REGIONS, "GET", "/v1/regions", NULL},
    {K_SDK, "GET", "/emissions/bylocation?location=%s&time=2021-10-30T00:00:00Z&toTime=2021-10-30T06:00:00Z",
     NULL},
    {K_SCHEDULE, "POST", "/v1/schedule",
     "{\"duration\":\"PT3H\",\"deadline\":\"2021-11-02T12:00:00Z\",\"origin\":\"%s\",\"power_kw\":10}"},
    {K_SDK, "GET", "/emissions/forecasts/current?location=%s", NULL},
    {K_BOOK, "POST", "/v1/jobs",
     "{\"duration\":\"PT2H\",\"deadline\":\"2021-11-02T12:00:00Z\",\"origin\":\"%s\",\"power_kw\":5}"},
    {K_SIGNALS, "GET", "/v1/regions/%s/signals", NULL},
    {K_SCHEDULE, "POST", "/v1/schedule",
     "{\"duration\":\"PT4H\",\"deadline\":\"2021-11-03T00:00:00Z\",\"origin\":\"%s\",\"energy_kwh\":30,"
     "\"interruptible\":true}"},
    {K_SDK, "GET",
     "/emissions/bylocations/"
     "best?location=SE&location=DE&time=2021-10-30T00:00:00Z&toTime=2021-10-31T00:00:00Z",
     NULL},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

struct lat {
	pthread_mutex_t mu;
	double *ms;
	size_t n, cap;
};

static struct {
	const char *base;
	char auth[300]; /* "Authorization: Bearer ..." or "" */
	int64_t start_ms, end_ms;
	double rate;
	atomic_long next_slot;
	atomic_long requests, errors, late;
	struct lat lat[K__COUNT];
} soak;

static void sleep_until(int64_t mono_ms)
{
	int64_t now = ts_mono_ms();

	if (mono_ms > now) {
		struct timespec ts = {(mono_ms - now) / 1000, (long)((mono_ms - now) % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static double mono_ms_precise(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void record(enum kind k, double ms)
{
	struct lat *l = &soak.lat[k];

	pthread_mutex_lock(&l->mu);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->ms = xrealloc(l->ms, l->cap * sizeof(*l->ms));
	}
	l->ms[l->n++] = ms;
	pthread_mutex_unlock(&l->mu);
}

static size_t body_cb(char *p, size_t size, size_t n, void *ud)
{
	buf_add(ud, p, size * n);
	return size * n;
}

/* Send one request; its JSON answer (new reference) when the status is the
 * expected one, else NULL (the error is counted and, the first few times,
 * printed). */
static json_t *call(CURL *c, enum kind k, const char *method, const char *path, const char *body, long expect)
{
	char url[512];
	struct curl_slist *h = NULL;
	struct buf b;
	long status = 0;
	json_t *j = NULL;

	snprintf(url, sizeof(url), "%s%s", soak.base, path);
	buf_init(&b, 0);
	if (soak.auth[0])
		h = curl_slist_append(h, soak.auth);
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	double t0 = mono_ms_precise();
	CURLcode rc = curl_easy_perform(c);
	double ms = mono_ms_precise() - t0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	atomic_fetch_add(&soak.requests, 1);
	record(k, ms);
	if (rc == CURLE_OK && status == expect && b.len)
		j = json_loadb(b.data, b.len, 0, NULL);
	if (!j && atomic_fetch_add(&soak.errors, 1) < 10)
		fprintf(stderr, "soak: %s %s: %s, status %ld: %.200s\n", method, path,
			rc == CURLE_OK ? "answered" : curl_easy_strerror(rc), status, b.len ? b.data : "");
	buf_release(&b);
	return j;
}

static void send_slot(CURL *c, long k)
{
	const struct slot_kind *s = &table[k % NTABLE];
	const char *region = regions[(k / NTABLE) % NREGIONS];
	char path[300], body[300];
	json_t *j;

	snprintf(path, sizeof(path), s->path, region);
	if (s->body)
		snprintf(body, sizeof(body), s->body, region);
	j = call(c, s->kind, s->method, path, s->body ? body : NULL, s->kind == K_BOOK ? 201 : 200);
	if (s->kind == K_BOOK && j) {
		const char *id = json_string_value(json_object_get(j, "id"));

		if (!id) {
			atomic_fetch_add(&soak.errors, 1);
		} else {
			json_t *cancelled;

			snprintf(path, sizeof(path), "/v1/jobs/%s", id);
			cancelled = call(c, K_CANCEL, "DELETE", path, NULL, 200);
			json_decref(cancelled);
		}
	}
	json_decref(j);
}

static void *worker(void *arg)
{
	CURL *c = curl_easy_init();

	(void)arg;
	for (;;) {
		long k = atomic_fetch_add(&soak.next_slot, 1);
		int64_t due = soak.start_ms + (int64_t)((double)k * 1000.0 / soak.rate);

		if (due >= soak.end_ms)
			break;
		sleep_until(due);
		if (ts_mono_ms() - due > LATE_MS)
			atomic_fetch_add(&soak.late, 1);
		send_slot(c, k);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static long vmrss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* Median and largest of n samples (kB). */
static long median_kb(const long *v, int n)
{
	long *c = xcalloc((size_t)n, sizeof(*c)), m;

	memcpy(c, v, (size_t)n * sizeof(*c));
	qsort(c, (size_t)n, sizeof(*c), cmp_long);
	m = c[n / 2];
	free(c);
	return m;
}

static long max_kb(const long *v, int n)
{
	long m = 0;

	for (int i = 0; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const struct lat *l, double p)
{
	if (!l->n)
		return 0;
	size_t i = (size_t)(p * (double)(l->n - 1) + 0.5);
	return l->ms[i];
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: soak BASE_URL PID SECONDS RATE THREADS\n");
		return 2;
	}
	int pid = atoi(argv[2]), seconds = atoi(argv[3]), threads = atoi(argv[5]);
	double rate = atof(argv[4]);
	const char *key = getenv("SOAK_API_KEY");

	if (seconds < 3 || rate <= 0 || threads < 1 || threads > 256 || vmrss_kb(pid) < 0) {
		fprintf(stderr, "soak: bad arguments (SECONDS >= 3, RATE > 0, 1..256 THREADS, a live PID)\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	soak.base = argv[1];
	soak.rate = rate;
	if (key && *key)
		snprintf(soak.auth, sizeof(soak.auth), "Authorization: Bearer %s", key);
	for (int k = 0; k < K__COUNT; k++)
		pthread_mutex_init(&soak.lat[k].mu, NULL);
	soak.start_ms = ts_mono_ms() + 100;
	soak.end_ms = soak.start_ms + (int64_t)seconds * 1000;

	pthread_t *t = xcalloc((size_t)threads, sizeof(*t));
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);

	/* Memory: one sample a second, by second of the run. */
	long *rss = xcalloc((size_t)seconds + 2, sizeof(*rss));
	for (int s = 0; s <= seconds; s++) {
		sleep_until(soak.start_ms + (int64_t)s * 1000);
		rss[s] = vmrss_kb(pid);
		if (s && s % 30 == 0)
			fprintf(stderr, "soak: %d s, %ld requests, %ld errors, VmRSS %ld kB\n", s,
				atomic_load(&soak.requests), atomic_load(&soak.errors), rss[s]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double took = (double)(ts_mono_ms() - soak.start_ms) / 1000;

	int window = seconds / 3 < 60 ? seconds / 3 : 60;
	long first = median_kb(rss + 1, window), last = median_kb(rss + seconds - window + 1, window);
	long first_max = max_kb(rss + 1, window), last_max = max_kb(rss + seconds - window + 1, window);
	double growth = first > 0 ? 100.0 * (double)(last - first) / (double)first : 100;

	printf("soak: %d s at %g requests/s planned (plus a cancel per booking), %d connections: %ld "
	       "requests in %.1f s (%.1f/s), "
	       "%ld errors, %ld sent more than %d ms late\n",
	       seconds, rate, threads, atomic_load(&soak.requests), took,
	       (double)atomic_load(&soak.requests) / took, atomic_load(&soak.errors), atomic_load(&soak.late),
	       LATE_MS);
	printf("  %-9s %8s %9s %9s %9s\n", "kind", "count", "p50 ms", "p99 ms", "max ms");
	for (int k = 0; k < K__COUNT; k++) {
		struct lat *l = &soak.lat[k];

		qsort(l->ms, l->n, sizeof(*l->ms), cmp_double);
		printf("  %-9s %8zu %9.2f %9.2f %9.2f\n", kind_names[k], l->n, pct(l, 0.5), pct(l, 0.99),
		       l->n ? l->ms[l->n - 1] : 0);
		free(l->ms);
		pthread_mutex_destroy(&l->mu);
	}
	printf("  VmRSS (median of one sample a second): %ld kB in the first %d s, %ld kB in the last %d s: "
	       "growth %+.2f %% (limit < %.0f %%); largest samples %ld kB and %ld kB\n",
	       first, window, last, window, growth, GROWTH_LIMIT, first_max, last_max);
	free(rss);
	free(t);
	curl_global_cleanup();
	if (atomic_load(&soak.errors)) {
		printf("soak: FAILED: %ld errors\n", atomic_load(&soak.errors));
		return 1;
	}
	if (growth >= GROWTH_LIMIT) {
		printf("soak: FAILED: resident memory grew %.2f %%\n", growth);
		return 1;
	}
	printf("soak: passed\n");
	return 0;
}
