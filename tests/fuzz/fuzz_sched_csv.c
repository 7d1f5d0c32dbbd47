/*
 * fuzz_sched_csv.c - libFuzzer target for the files of 'carbonsched
 * simulate' (service/sched_csv.c) and, through the jobs they describe, the
 * placement engine.
 *
 * Input: the first byte picks the reader (modulo 3: long signals, capacity,
 * jobs); the rest is the file.  Jobs are placed on a fixed three-region
 * model (48 hourly steps, one gap, 3 kW per region), booked, and checked
 * beyond "no crash": a failure carries a message; a placement lies in a
 * candidate region, inside the window, in ordered segments of the job's
 * length, and never drives capacity below zero.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "service/sched.h"
#include "service/sched_csv.h"

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sched_model *model(void)
{
	static struct sched_model *m;

	if (!m) {
		static const char *const ids[] = {"A", "B", "C"};

		m = sched_model_new(T0, 3600, 48);
		for (int r = 0; r < 3; r++) {
			struct series *s = series_new(T0, 3600, 48);
			size_t idx;

			for (int h = 0; h < 48; h++)
				s->v[h] = r == 1 && h == 7 ? NAN : 100 + 50 * r + (h * 37 + r * 11) % 90;
			struct sched_region_spec spec = {.id = ids[r], .ci = {NULL, s, NULL}};
			if (sched_model_add_region(m, &spec, &idx, NULL))
				abort();
			series_free(s);
		}
	}
	return m;
}

static void check_place(const struct sched_model *m, struct sched_capacity *cap, const struct sched_job *job,
			struct sched_result *res, struct sched_batch *b)
{
	struct err_detail err = {{0}, {0}};
	int rc = sched_place(m, cap, job, res, &err);

	if (rc) {
		if (!err.msg[0])
			abort();
		return;
	}
	const struct sched_placement *p = &res->best;
	bool in = false;
	for (size_t i = 0; i < job->n_regions; i++)
		in |= job->regions[i] == p->region;
	if (!in || p->start < ts_floor(job->earliest_start, 3600) || p->end > job->deadline || p->n_seg == 0)
		abort();
	int64_t run = 0, prev = INT64_MIN;
	for (size_t s = 0; s < p->n_seg; s++) {
		const struct sched_segment *sg = &sched_segments(res, p)[s];

		if (sg->start <= prev || sg->end <= sg->start)
			abort();
		run += sg->end - sg->start;
		prev = sg->end;
	}
	if (run != job->duration || !(p->expected_g >= 0))
		abort();
	if (sched_commit(m, cap, job, res, p))
		abort();
	if (!job->interruptible && job->duration <= 12 * 3600) {
		rc = sched_place_batch(m, cap, job, 3, b, &err);
		if (rc && !err.msg[0])
			abort();
		if (b->placed > 3 || ((!rc || rc == ERR_NO_CAPACITY) && sched_commit_batch(m, cap, job, b)))
			abort();
	}
	for (size_t r = 0; r < cap->n_regions; r++)
		for (size_t t = 0; t < cap->n_steps; t++)
			if (sched_capacity_row(cap, r)[t] < -1e-6)
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err_detail err = {{0}, {0}};
	struct sched_model *m = model();
	int rc = ERR_OK;

	if (size < 2)
		return 0;
	FILE *f = fmemopen((void *)(data + 1), size - 1, "r");
	if (!f)
		return 0;
	struct sched_capacity *cap = sched_capacity_new(m, 3);
	switch (data[0] % 3) {
	case 0: {
		struct sig_set set;

		sig_set_init(&set);
		rc = sched_csv_read_long(f, "fuzz.csv", "carbon_intensity", &set, &err);
		for (size_t i = 0; !rc && i < set.n; i++)
			if (set.items[i].s.step <= 0 || set.items[i].s.n == 0)
				abort();
		sig_set_release(&set);
		break;
	}
	case 1: rc = sched_csv_read_capacity(f, "cap.csv", m, cap, &err); break;
	default: {
		struct sched_jobs_reader rd;
		struct sched_result res;
		struct sched_batch b;
		struct sched_job job;
		bool more = true;

		sched_jobs_reader_init(&rd, f, "jobs.csv", m);
		sched_result_init(&res);
		sched_batch_init(&b);
		for (int k = 0; k < 200 && more; k++) {
			rc = sched_jobs_next(&rd, &job, &more, &err);
			if (rc)
				break;
			if (more)
				check_place(m, cap, &job, &res, &b);
		}
		sched_batch_release(&b);
		sched_result_release(&res);
		sched_jobs_reader_release(&rd);
	}
	}
	if (rc && !err.msg[0])
		abort();
	sched_capacity_free(cap);
	fclose(f);
	return 0;
}
