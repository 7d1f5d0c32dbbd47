/*
 * bench_metrics.c - the cost of recording one HTTP request's metrics, as
 * the router does (service/routes.c: find the counter by route, method and
 * status and add 1; find the histogram by route and method and observe;
 * in-flight +1 and -1), against a reference measured in the same run: one
 * atomic increment of a shared counter per request, the least any
 * thread-safe request counter costs.  With 1 thread and with 4 (the
 * service's default worker count) all hitting the same series, the worst
 * case for contention.  Best of several runs; asserts nothing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "service/metrics.h"
#include "service/telemetry.h"

#define OPS  2000000
#define RUNS 5

static struct telemetry *tm;
static _Atomic unsigned long long shared_counter;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *record_requests(void *arg)
{
	struct metric_family *req = tm->fam[TM_HTTP_REQUESTS], *dur = tm->fam[TM_HTTP_DURATION],
			     *inflight = tm->fam[TM_HTTP_IN_FLIGHT];

	(void)arg;
	for (int i = 0; i < OPS; i++) {
		metric_add(metric_get(inflight, NULL), 1);
		metric_inc(METRIC_GET(req, "/v1/regions/{id}/signals", "GET", "200"));
		metric_observe(METRIC_GET(dur, "/v1/regions/{id}/signals", "GET"), 0.0004 + (i & 7) * 0.001);
		metric_add(metric_get(inflight, NULL), -1);
	}
	return NULL;
}

static void *count_requests(void *arg)
{
	(void)arg;
	for (int i = 0; i < OPS; i++)
		atomic_fetch_add_explicit(&shared_counter, 1, memory_order_relaxed);
	return NULL;
}

/* Best ns per request over RUNS runs of 'threads' threads. */
static double measure(void *(*fn)(void *), int threads)
{
	double best = 1e30;

	for (int r = 0; r < RUNS; r++) {
		pthread_t t[8];
		double t0 = now_s();

		for (int i = 0; i < threads; i++)
			pthread_create(&t[i], NULL, fn, NULL);
		for (int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
		double ns = (now_s() - t0) * 1e9 / ((double)OPS * threads);
		if (ns < best)
			best = ns;
	}
	return best;
}

int main(void)
{
	tm = telemetry_new();
	for (int threads = 1; threads <= 4; threads += 3) {
		double ours = measure(record_requests, threads), ref = measure(count_requests, threads);

		printf("metrics: recording a request, %d thread%s: %.1f ns; reference (one shared atomic "
		       "increment) "
		       "%.1f ns; ratio %.1f\n",
		       threads, threads > 1 ? "s" : "", ours, ref, ours / ref);
	}
	telemetry_free(tm);
	return 0;
}
