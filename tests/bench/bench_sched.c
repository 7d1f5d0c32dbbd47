/*
 * bench_sched.c - speed of the placement engine on the 123-zone matrix
 * (../shared/data/sukprasert-eurosys24, hourly, 2022), each figure with a
 * reference measured in the same run:
 *
 *  1. the full temporal protocol of evaluation.md §5.1 (123 zones × 7 job
 *     lengths × 5 slacks, deferrable and interruptible) against the direct
 *     method (every window summed and sorted) on one configuration;
 *  2. placing one job over 20 regions × 96 h (contiguous and interruptible,
 *     15-min and hourly steps) against a direct scan (window sums
 *     recomputed, windows sorted);
 *  3. a job array of 1,000 copies over the same regions with capacity.
 *
 * Asserts nothing; prints best-of-N times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/files.h"
#include "core/mem.h"
#include "service/sched.h"
#include "tests/lib/testlib.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The direct method for one zone and configuration. */
static double direct_bound(const double *c, size_t n, size_t len, size_t slack)
{
	size_t arrivals = slack >= n ? n - len + 1 : n - len;
	double *w = xmalloc(n * sizeof(double)), acc = 0;

	for (size_t i = 0; i < arrivals; i++) {
		size_t end = slack >= n || i + slack + len > n ? n : i + slack + len;
		double best = INFINITY, s = 0;

		for (size_t st = i; st + len <= end; st++) {
			double b = 0;
			for (size_t k = 0; k < len; k++)
				b += c[st + k];
			best = b < best ? b : best;
		}
		memcpy(w, c + i, (end - i) * sizeof(double));
		qsort(w, end - i, sizeof(double), cmp_double);
		for (size_t k = 0; k < len; k++)
			s += w[k];
		acc += best + s;
	}
	free(w);
	return acc;
}

static uint64_t state = 7;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

int main(int argc, char **argv)
{
	const char *dir = tl_shared_data();
	char path[4096];
	struct sig_set set;
	struct err_detail err;
	int runs = argc > 1 ? atoi(argv[1]) : 3;

	if (!dir) {
		printf("sched: skipped: ../shared/data absent\n");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv", dir);
	if (files_read(path, "wide", NULL, &set, &err)) {
		printf("sched: skipped: %s\n", err.msg);
		sig_set_release(&set);
		return 0;
	}
	size_t nz = set.n, n = set.items[0].s.n;

	/* 1. the temporal protocol */
	static const size_t lens[] = {1, 6, 12, 24, 48, 96, 168}, slacks[] = {24, 168, 480, 720, 8760};
	struct sched_bound *bd = xmalloc(7 * 5 * sizeof(*bd));
	double best = 1e9, sink = 0;
	for (int r = 0; r < runs; r++) {
		double t0 = now_s();

		for (size_t z = 0; z < nz; z++) {
			if (sched_temporal_bounds(set.items[z].s.v, n, lens, 7, slacks, 5, bd, &err)) {
				fprintf(stderr, "sched: %s: %s\n", set.items[z].zone, err.msg);
				return 1;
			}
			sink += bd[0].interruptible;
		}
		double dt = now_s() - t0;
		best = dt < best ? dt : best;
	}
	const struct sig_series *de = sig_set_find(&set, "DE", "carbon_intensity");
	double t0 = now_s();
	sched_temporal_bounds(de->s.v, n, &lens[3], 1, &slacks[1], 1, bd, &err);
	double fast1 = now_s() - t0;
	t0 = now_s();
	sink += direct_bound(de->s.v, n, 24, 168);
	double direct1 = now_s() - t0;
	printf("sched: 123-zone temporal protocol (%zu zones x 7 lengths x 5 slacks, deferrable and "
	       "interruptible): "
	       "%.2f s (goal < 30 s, best of %d)\n",
	       nz, best, runs);
	printf("sched:   one configuration (DE, 24 h job, 168 h slack): %.2f ms; direct method (sum and sort "
	       "every "
	       "window) %.0f ms; ratio direct/ours = %.0f\n",
	       fast1 * 1e3, direct1 * 1e3, direct1 / fast1);

	/* 2. one job over 20 regions x 96 h, on the hourly grid and on a 15-min grid */
	struct sched_model *m = NULL;
	size_t regions[20];
	for (size_t i = 0; i < 20; i++)
		regions[i] = i * 6;
	enum { JOBS = 20000 };
	struct sched_result res;
	struct sched_job j;
	sched_result_init(&res);
	static const int32_t steps[] = {900, 3600}; /* the hourly model stays for part 3 */
	for (size_t g = 0; g < ARRAY_SIZE(steps); g++) {
		int32_t step = steps[g];
		size_t per_h = (size_t)(3600 / step), w = 96 * per_h, nn = n * per_h, idx;

		sched_model_free(m);
		m = sched_model_new(set.items[0].s.start, step, nn);
		for (size_t z = 0; z < nz; z++) {
			struct sched_region_spec spec = {.id = set.items[z].zone,
							 .ci = {NULL, &set.items[z].s, NULL}};
			sched_model_add_region(m, &spec, &idx, &err);
		}
		for (int intr = 0; intr < 2; intr++) {
			double ours = 1e9, ref = 1e9, *win = xmalloc(w * sizeof(double));

			for (int r = 0; r < runs; r++) {
				state = 7;
				t0 = now_s();
				for (int k = 0; k < JOBS; k++) {
					size_t a = rnd() % (nn - w), dur = (1 + rnd() % 24) * per_h;

					sched_job_init(&j);
					j.submit = j.earliest_start =
					    sched_model_start(m) + (int64_t)a * step;
					j.deadline = j.earliest_start + (int64_t)w * step;
					j.duration = (int64_t)dur * step;
					j.power_kw = 1;
					j.interruptible = intr;
					j.origin = (int)regions[0];
					j.regions = regions;
					j.n_regions = 20;
					if (sched_place(m, NULL, &j, &res, &err)) {
						fprintf(stderr, "sched: %s\n", err.msg);
						return 1;
					}
					sink += res.best.expected_g;
				}
				double dt = now_s() - t0;
				ours = dt < ours ? dt : ours;
				/* reference: the same jobs, every window summed or sorted */
				state = 7;
				t0 = now_s();
				for (int k = 0; k < JOBS; k++) {
					size_t a = rnd() % (nn - w), dur = (1 + rnd() % 24) * per_h;
					double bestc = INFINITY;

					for (size_t i = 0; i < 20; i++) {
						const double *v =
						    sched_region_intensity(m, regions[i], SCHED_P50);

						if (intr) {
							double s = 0;
							memcpy(win, v + a, w * sizeof(double));
							qsort(win, w, sizeof(double), cmp_double);
							for (size_t q = 0; q < dur; q++)
								s += win[q];
							bestc = s < bestc ? s : bestc;
						} else {
							for (size_t s0 = a; s0 + dur <= a + w; s0++) {
								double s = 0;
								for (size_t q = 0; q < dur; q++)
									s += v[s0 + q];
								bestc = s < bestc ? s : bestc;
							}
						}
					}
					sink += bestc;
				}
				dt = now_s() - t0;
				ref = dt < ref ? dt : ref;
			}
			free(win);
			printf("sched: place one %s job (1-24 h) over 20 regions x 96 h of %d-min steps: "
			       "%.1f us/job = "
			       "%.0f jobs/s; direct %s %.1f us/job; ratio direct/ours = %.2f\n",
			       intr ? "interruptible" : "contiguous", step / 60, ours / JOBS * 1e6,
			       JOBS / ours, intr ? "(sort every window)" : "(sum every window)",
			       ref / JOBS * 1e6, ref / ours);
		}
	}

	/* 3. a job array */
	struct sched_batch b;
	sched_batch_init(&b);
	best = 1e9;
	double one = 1e9;
	for (int r = 0; r < runs; r++) {
		struct sched_capacity *cap = sched_capacity_new(m, 25);

		sched_job_init(&j);
		j.submit = j.earliest_start = sched_model_start(m) + 4000 * 3600;
		j.deadline = j.earliest_start + 96 * 3600;
		j.duration = 6 * 3600;
		j.power_kw = 1;
		j.origin = (int)regions[0];
		j.regions = regions;
		j.n_regions = 20;
		t0 = now_s();
		sched_place_batch(m, cap, &j, 1000, &b, &err);
		double dt = now_s() - t0;
		best = dt < best ? dt : best;
		t0 = now_s();
		for (int k = 0; k < 1000; k++)
			if (!sched_place(m, cap, &j, &res, &err))
				sched_commit(m, cap, &j, &res, &res.best);
		dt = now_s() - t0;
		one = dt < one ? dt : one;
		sink += b.expected_g;
		sched_capacity_free(cap);
	}
	printf("sched: job array of 1,000 x 6 h over 20 regions x 96 h, 25 kW each: %.1f ms; reference 1,000 "
	       "one-by-one bookings %.1f ms; ratio one-by-one/array = %.2f\n",
	       best * 1e3, one * 1e3, one / best);
	sched_batch_release(&b);
	sched_result_release(&res);
	sched_model_free(m);
	sig_set_release(&set);
	free(bd);
	return sink > 0 ? 0 : 1;
}
