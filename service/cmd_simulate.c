/*
 * cmd_simulate.c - 'carbonsched simulate': the placement engine offline,
 * for what-if studies and for reproducing published evaluations.
 *
 * Two modes:
 *  - jobs (default): every job of a CSV file is placed in file order
 *    against the remaining capacity, as if each had been booked when it
 *    was submitted; the decision uses the forecast (perfect, or the true
 *    series plus Gaussian noise as in Let's Wait Awhile) and the emissions
 *    are charged on the true series.  With --capacity, consecutive rows
 *    that describe the same non-interruptible job are booked together as a
 *    job array (sched_place_batch), as a scheduler submitting an array
 *    would.  Jobs are streamed: memory does not grow with their number;
 *    per-region totals are kept, nothing per job (an array keeps its ids
 *    only when --placements asks for them, and is capped at MAX_ARRAY).
 *  - --protocol temporal: the oracle bounds of Sukprasert et al. (EuroSys
 *    2024) per zone, job length and slack (evaluation.md §5.1).
 *
 * Signals come from files through connectors/files.h; the 'long' format
 * (zone,ts,value), the jobs and the capacity files are this command's own
 * and are read by service/sched_csv.c.  Each zone of the chosen kind becomes a region of the same name
 * with PUE 1 and, without --capacity, unlimited capacity.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/files.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/mem.h"
#include "core/signal.h"
#include "core/time.h"
#include "service/commands.h"
#include "service/sched.h"
#include "service/sched_csv.h"

#define MAX_SIGNAL_FILES 64

static const char usage[] =
    "usage: carbonsched simulate --signals FILE [--signals-format FORMAT] --jobs FILE\n"
    "                            [--capacity FILE] [--forecast perfect|noise:E:SEED] [--json]\n"
    "       carbonsched simulate --protocol temporal --signals FILE [--lengths H,..] [--slacks H,..]\n"
    "\n"
    "Place every job of a CSV file with the scheduling engine and report the emissions against\n"
    "running each job at its submit time in its own region.\n"
    "\n"
    "  --signals FILE         carbon intensity per zone (repeatable); gzip is detected\n"
    "  --signals-format F     wide (default), long, lwa, dacf, emaps, ... (see below)\n"
    "  --kind KIND            signal kind to use (default carbon_intensity)\n"
    "  --step DURATION        grid step (e.g. 30m); the files are resampled to it\n"
    "  --resample mean|sample how a coarser step is formed: mean of the sub-steps (default)\n"
    "                         or the value stamped exactly at each grid instant\n"
    "  --jobs FILE            jobs CSV, header\n"
    "                         id,region,submit,earliest_start,deadline,duration_min,power_kw,\n"
    "                         interruptible,allowed_regions  (optional: min_segment_min,max_segments)\n"
    "  --capacity FILE        region,capacity_kw (regions not listed are unlimited)\n"
    "  --forecast perfect     decide on the true series (default)\n"
    "  --forecast noise:E:SEED decide on true + N(0, (E * series mean)^2) per step; charge the truth\n"
    "  --placements FILE      write every job's placement as CSV\n"
    "  --one-by-one           book consecutive identical rows one by one, not as a job array\n"
    "  --json                 print the totals as JSON\n"
    "  --protocol temporal    Sukprasert et al.'s temporal-shifting bounds per zone\n"
    "  --lengths H,...        job lengths in hours (default 1,6,12,24,48,96,168)\n"
    "  --slacks H,...         slacks in hours (default 24,168,480,720,8760; >= the series = rest)\n"
    "\n"
    "Times are RFC 3339 or 'YYYY-MM-DD HH:MM[:SS]' (UTC). 'long' signals: header zone,ts,value,\n"
    "one row per zone and step, an empty value is a gap.\n";

struct opts {
	const char *signals[MAX_SIGNAL_FILES];
	size_t n_signals;
	const char *format, *kind, *jobs, *capacity, *placements, *protocol;
	const char *lengths, *slacks;
	int32_t step;
	enum files_resample resample;
	bool noise, json, one_by_one;
	double noise_e;
	uint64_t seed;
};

/* ---- signals ---------------------------------------------------------- */

struct signals {
	struct sig_set sets[MAX_SIGNAL_FILES];
	size_t n_sets;
	struct {
		const struct series *s;
		const char *zone;
	} * reg; /* one per region, in region order; borrowed from sets */
	size_t n, cap;
};

static void signals_release(struct signals *sg)
{
	for (size_t i = 0; i < sg->n_sets; i++)
		sig_set_release(&sg->sets[i]);
	free(sg->reg);
}

static int load_signals(const struct opts *o, struct signals *sg, struct err_detail *err)
{
	struct files_options fo = {.kind = o->kind, .step = o->step, .resample = o->resample};

	for (size_t i = 0; i < o->n_signals; i++) {
		int rc;

		if (!strcmp(o->format, "long")) {
			FILE *f = fopen(o->signals[i], "r");

			sig_set_init(&sg->sets[i]);
			if (!f)
				rc =
				    err_set(err, ERR_IO, "signals", "%s: %s", o->signals[i], strerror(errno));
			else {
				rc = sched_csv_read_long(f, o->signals[i], o->kind, &sg->sets[i], err);
				fclose(f);
			}
		} else {
			rc = files_read(o->signals[i], o->format, &fo, &sg->sets[i], err);
		}
		sg->n_sets = i + 1;
		if (rc)
			return rc;
		for (size_t k = 0; k < sg->sets[i].n; k++) {
			const struct sig_series *ss = &sg->sets[i].items[k];
			bool seen = false;

			if (strcmp(ss->kind, o->kind))
				continue;
			for (size_t z = 0; z < sg->n && !seen; z++)
				seen = !strcmp(sg->reg[z].zone, ss->zone);
			if (seen) /* another source of a zone already read */
				continue;
			sg->reg = xgrow(sg->reg, &sg->cap, sg->n + 1, sizeof(*sg->reg));
			sg->reg[sg->n].s = &ss->s;
			sg->reg[sg->n++].zone = ss->zone;
		}
	}
	if (!sg->n)
		return err_set(err, ERR_INVALID, "signals", "no '%s' series in the signal files", o->kind);
	return ERR_OK;
}

/* splitmix64 and xoshiro256** with a polar-method normal: small, fast and
 * reproducible everywhere (not numpy's stream). */
struct rng {
	uint64_t s[4];
	bool has_spare;
	double spare;
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
	r->has_spare = false;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static double rng_normal(struct rng *r)
{
	double u, v, q;

	if (r->has_spare) {
		r->has_spare = false;
		return r->spare;
	}
	do {
		u = (double)(rng_next(r) >> 11) * 0x1.0p-52 - 1;
		v = (double)(rng_next(r) >> 11) * 0x1.0p-52 - 1;
		q = u * u + v * v;
	} while (q >= 1 || q == 0);
	q = sqrt(-2 * log(q) / q);
	r->spare = v * q;
	r->has_spare = true;
	return u * q;
}

/* The truth model, and (with noise) the model the decisions see. */
static int build_models(const struct opts *o, const struct signals *sg, struct sched_model **ret_truth,
			struct sched_model **ret_fc, struct err_detail *err)
{
	int32_t step = o->step;
	int64_t start = INT64_MAX, end = INT64_MIN;

	for (size_t i = 0; i < sg->n; i++) {
		const struct series *s = sg->reg[i].s;

		if (!s->n)
			continue;
		if (!o->step && (!step || s->step < step))
			step = s->step;
		start = s->start < start ? s->start : start;
		end = series_end(s) > end ? series_end(s) : end;
	}
	if (start >= end)
		return err_set(err, ERR_INVALID, "signals", "the signal files hold no data");
	start = ts_floor(start, step);
	end = ts_ceil(end, step);

	struct sched_model *truth = sched_model_new(start, step, (size_t)((end - start) / step));
	for (size_t i = 0; i < sg->n; i++) {
		struct sched_region_spec spec = {.id = sg->reg[i].zone, .ci = {NULL, sg->reg[i].s, NULL}};
		size_t r;
		int rc = sched_model_add_region(truth, &spec, &r, err);

		if (rc) {
			err_prefix(err, "zone '%s': ", sg->reg[i].zone);
			sched_model_free(truth);
			return rc;
		}
	}
	if (!o->noise) {
		*ret_truth = truth;
		*ret_fc = truth;
		return ERR_OK;
	}
	struct sched_model *fc = sched_model_new(start, step, sched_model_steps(truth));
	struct rng rng = {0};

	rng_seed(&rng, o->seed);
	for (size_t r = 0; r < sched_model_regions(truth); r++) {
		const double *v = sched_region_intensity(truth, r, SCHED_P50);
		struct series *s = series_new(start, step, sched_model_steps(truth));
		double sum = 0;
		size_t k = 0, idx;

		for (size_t t = 0; t < s->n; t++)
			if (!isnan(v[t])) {
				sum += v[t];
				k++;
			}
		double sd = k ? o->noise_e * sum / k : 0;
		for (size_t t = 0; t < s->n; t++)
			s->v[t] = isnan(v[t]) ? NAN : v[t] + sd * rng_normal(&rng);
		struct sched_region_spec spec = {.id = sched_region_id(truth, r), .ci = {NULL, s, NULL}};
		int rc = sched_model_add_region(fc, &spec, &idx, err);
		series_free(s);
		if (rc) {
			sched_model_free(fc);
			sched_model_free(truth);
			return rc;
		}
	}
	*ret_truth = truth;
	*ret_fc = fc;
	return ERR_OK;
}

/* ---- jobs ------------------------------------------------------------- */

struct totals {
	size_t jobs;
	double baseline_g, scheduled_g;
};

/* Consecutive rows describing the same job, booked together as a job array
 * (only what the array needs is kept: one job, the ids for --placements). */
#define MAX_ARRAY 65536

struct pending {
	struct sched_job job;
	size_t *regions, regions_cap;
	size_t count, line;
	char first_id[SCHED_CSV_MAX_ID]; /* for messages */
	char **ids;			 /* the count ids, when writing placements */
	size_t ids_cap;
};

struct run {
	const struct opts *o;
	struct sched_model *truth, *fc;
	struct sched_capacity *cap;
	struct totals all, *per_region;
	size_t unplaced;
	FILE *placements;
	struct sched_result res;
	struct sched_batch batch;
	struct pending pend;
};

static void write_row(struct run *run, const char *id, size_t origin, const struct sched_placement *p,
		      const struct sched_segment *seg, double base, double sched)
{
	const struct sched_model *m = run->fc;
	char a[TS_BUFSZ], b[TS_BUFSZ];

	fprintf(run->placements, "%s,%s,%s,%s,%s,", id, sched_region_id(m, origin),
		p ? sched_region_id(m, p->region) : "", p ? ts_format(p->start, a) : "",
		p ? ts_format(p->end, b) : "");
	for (size_t s = 0; p && s < p->n_seg; s++)
		fprintf(run->placements, "%s%s/%s", s ? ";" : "", ts_format(seg[s].start, a),
			ts_format(seg[s].end, b));
	fprintf(run->placements, ",%.6f,%.6f\n", base, sched);
}

static void account(struct run *run, size_t origin, size_t copies, double base, double sched)
{
	struct totals *pr = &run->per_region[origin];

	run->all.jobs += copies;
	run->all.baseline_g += base * (double)copies;
	run->all.scheduled_g += sched * (double)copies;
	pr->jobs += copies;
	pr->baseline_g += base * (double)copies;
	pr->scheduled_g += sched * (double)copies;
}

/* Place, charge, book and count the pending job(s). */
static int place_pending(struct run *run, struct err_detail *err)
{
	struct pending *pd = &run->pend;
	struct sched_job *job = &pd->job;
	struct sched_result *res = &run->res;
	const struct opts *o = run->o;
	size_t origin = (size_t)job->origin;
	const char *id0 = pd->first_id;
	char tb[TS_BUFSZ];

	if (!pd->count)
		return ERR_OK;
	/* one job first: validation, errors and the baseline are the same for every copy */
	int prc = sched_place(run->fc, run->cap, job, res, err);
	if (prc && prc != ERR_NO_CAPACITY) {
		err_prefix(err, "%s:%zu: job '%.64s': %s%s", o->jobs, pd->line, id0, err->field,
			   *err->field ? ": " : "");
		return prc;
	}
	const double *t_origin = sched_region_intensity(run->truth, origin, SCHED_P50);
	double base =
	    isnan(res->baseline_g) ? NAN : sched_charge(run->fc, job, res, &res->baseline, t_origin);
	if (isnan(base))
		return err_set(err, ERR_UNPROCESSABLE, "submit",
			       "%s:%zu: job '%.64s': no signal in '%s' to run it at %s (the baseline)",
			       o->jobs, pd->line, id0, sched_region_id(run->fc, origin),
			       ts_format(job->submit, tb));

	if (pd->count == 1 || prc == ERR_NO_CAPACITY) {
		/* a single booking (or an array none of which fits) */
		for (size_t k = 0; k < pd->count; k++) {
			bool placed = prc == ERR_OK;
			double sched = placed ? sched_charge(run->fc, job, res, &res->best,
							     sched_region_intensity(
								 run->truth, res->best.region, SCHED_P50))
					      : base;

			if (placed && run->cap)
				sched_commit(run->fc, run->cap, job, res, &res->best);
			run->unplaced += !placed;
			account(run, origin, 1, base, sched);
			if (run->placements)
				write_row(run, pd->ids[k], origin, placed ? &res->best : NULL,
					  placed ? sched_segments(res, &res->best) : NULL, base, sched);
			if (k + 1 < pd->count)
				prc = sched_place(run->fc, run->cap, job, res, err);
		}
		return ERR_OK;
	}
	/* a job array: placed jointly */
	struct sched_batch *b = &run->batch;
	prc = sched_place_batch(run->fc, run->cap, job, pd->count, b, err);
	if (prc && prc != ERR_NO_CAPACITY) {
		err_prefix(err, "%s:%zu: job '%.64s': ", o->jobs, pd->line, id0);
		return prc;
	}
	if (run->cap)
		sched_commit_batch(run->fc, run->cap, job, b);
	size_t k = 0;
	for (size_t i = 0; i < b->n_blocks; i++) {
		const struct sched_block *bl = &b->blocks[i];
		struct sched_segment sg = {bl->start, bl->end};
		struct sched_placement pl = {
		    .region = bl->region, .start = bl->start, .end = bl->end, .n_seg = 1};
		double sched = sched_charge_segments(
		    run->fc, job, &sg, 1, sched_region_intensity(run->truth, bl->region, SCHED_P50));

		account(run, origin, bl->count, base, sched);
		for (size_t c = 0; run->placements && c < bl->count; c++)
			write_row(run, pd->ids[k + c], origin, &pl, &sg, base, sched);
		k += bl->count;
	}
	run->unplaced += pd->count - b->placed;
	account(run, origin, pd->count - b->placed, base, base);
	for (; run->placements && k < pd->count; k++)
		write_row(run, pd->ids[k], origin, NULL, NULL, base, base);
	return ERR_OK;
}

static int flush(struct run *run, struct err_detail *err)
{
	struct pending *pd = &run->pend;
	int rc = place_pending(run, err);

	for (size_t i = 0; pd->ids && i < pd->count; i++)
		free(pd->ids[i]);
	pd->count = 0;
	return rc;
}

static bool same_job(const struct sched_job *a, const struct sched_job *b)
{
	return a->origin == b->origin && a->submit == b->submit && a->earliest_start == b->earliest_start &&
	       a->deadline == b->deadline && a->duration == b->duration && a->power_kw == b->power_kw &&
	       a->interruptible == b->interruptible && a->min_segment == b->min_segment &&
	       a->max_segments == b->max_segments && a->n_regions == b->n_regions &&
	       !memcmp(a->regions, b->regions, a->n_regions * sizeof(*a->regions));
}

static void pending_release(struct pending *pd)
{
	free(pd->regions);
	free(pd->ids);
}

static int run_jobs(struct run *run, struct err_detail *err)
{
	const struct opts *o = run->o;
	FILE *f = !strcmp(o->jobs, "-") ? stdin : fopen(o->jobs, "r");
	struct sched_jobs_reader rd;
	struct sched_job job;
	size_t shown = 0;
	bool more = true, tty = isatty(STDERR_FILENO) && !o->json;
	int rc = ERR_OK;

	if (!f)
		return err_set(err, ERR_IO, "jobs", "%s: %s", o->jobs, strerror(errno));
	sched_jobs_reader_init(&rd, f, o->jobs, run->fc);
	while (!rc && (rc = sched_jobs_next(&rd, &job, &more, err)) == ERR_OK && more) {
		/* the same job again (an array): book it with the pending ones */
		struct pending *pd = &run->pend;
		bool arrays = run->cap && !o->one_by_one && !job.interruptible;

		if (!(arrays && pd->count && pd->count < MAX_ARRAY && same_job(&pd->job, &job))) {
			rc = flush(run, err);
			if (rc)
				break;
			pd->job = job;
			pd->regions =
			    xgrow(pd->regions, &pd->regions_cap, job.n_regions, sizeof(*pd->regions));
			memcpy(pd->regions, job.regions, job.n_regions * sizeof(*job.regions));
			pd->job.regions = pd->regions;
			pd->line = rd.line;
			snprintf(pd->first_id, sizeof(pd->first_id), "%s", rd.id);
		}
		if (run->placements) {
			pd->ids = xgrow(pd->ids, &pd->ids_cap, pd->count + 1, sizeof(*pd->ids));
			pd->ids[pd->count] = xstrdup(rd.id);
		}
		pd->count++;
		if (tty && run->all.jobs >= shown + 65536) {
			shown = run->all.jobs;
			fprintf(stderr, "\rsimulate: %zu jobs", run->all.jobs);
		}
	}
	if (!rc)
		rc = flush(run, err);
	if (tty && shown)
		fprintf(stderr, "\r\033[K");
	if (f != stdin)
		fclose(f);
	sched_jobs_reader_release(&rd);
	return rc;
}

static void add_totals_json(struct buf *b, const struct totals *t)
{
	buf_addf(b, "\"jobs\":%zu,\"baseline_g\":", t->jobs);
	buf_add_double(b, t->baseline_g);
	buf_adds(b, ",\"scheduled_g\":");
	buf_add_double(b, t->scheduled_g);
	buf_adds(b, ",\"saving_pct\":");
	buf_add_double(b, t->baseline_g > 0 ? 100 * (1 - t->scheduled_g / t->baseline_g) : NAN);
}

static void print_totals(const struct run *run)
{
	size_t nr = sched_model_regions(run->fc);

	if (run->o->json) {
		struct buf b;

		buf_init(&b, 0);
		buf_addc(&b, '{');
		add_totals_json(&b, &run->all);
		buf_addf(&b, ",\"unplaced\":%zu,\"per_region\":{", run->unplaced);
		for (size_t r = 0, k = 0; r < nr; r++) {
			if (!run->per_region[r].jobs)
				continue;
			if (k++)
				buf_addc(&b, ',');
			buf_add_json_string(&b, sched_region_id(run->fc, r));
			buf_addc(&b, ':');
			buf_addc(&b, '{');
			add_totals_json(&b, &run->per_region[r]);
			buf_addc(&b, '}');
		}
		buf_adds(&b, "}}\n");
		fputs(b.data, stdout);
		buf_release(&b);
		return;
	}
	printf("%-16s %10s %16s %16s %8s\n", "region", "jobs", "baseline_g", "scheduled_g", "saving");
	for (size_t r = 0; r < nr; r++) {
		const struct totals *t = &run->per_region[r];

		if (t->jobs)
			printf("%-16s %10zu %16.1f %16.1f %7.2f%%\n", sched_region_id(run->fc, r), t->jobs,
			       t->baseline_g, t->scheduled_g, 100 * (1 - t->scheduled_g / t->baseline_g));
	}
	printf("%-16s %10zu %16.1f %16.1f %7.2f%%\n", "all", run->all.jobs, run->all.baseline_g,
	       run->all.scheduled_g, 100 * (1 - run->all.scheduled_g / run->all.baseline_g));
	if (run->unplaced)
		printf("%zu jobs found no capacity before their deadline and were counted as run at submit\n",
		       run->unplaced);
}

/* ---- the temporal protocol -------------------------------------------- */

static int parse_hours(const char *s, const char *field, int32_t step, size_t *out, size_t max, size_t *ret_n,
		       struct err_detail *err)
{
	char *copy = xstrdup(s), *save = NULL;
	size_t n = 0;
	int rc = ERR_OK;

	for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		double h;

		if (n == max)
			rc = err_set(err, ERR_INVALID, field, "at most %zu values", max);
		else if (!csv_double(tok, &h) || h <= 0 || h > 1e6 || fmod(h * 3600, step) != 0)
			rc = err_set(err, ERR_INVALID, field,
				     "'%s' is not a positive number of hours on the %d s grid", tok,
				     (int)step);
		else
			out[n++] = (size_t)(h * 3600 / step);
	}
	free(copy);
	if (!rc && !n)
		rc = err_set(err, ERR_INVALID, field, "no value");
	if (!rc)
		*ret_n = n;
	return rc;
}

static int run_protocol(const struct opts *o, const struct sched_model *m, struct err_detail *err)
{
	size_t lens[32], slacks[32], nl, ns, nr = sched_model_regions(m), steps = sched_model_steps(m);
	int32_t step = sched_model_step(m);
	int64_t t0 = ts_mono_ms();
	struct buf b;
	int rc;

	if ((rc = parse_hours(o->lengths ? o->lengths : "1,6,12,24,48,96,168", "lengths", step, lens, 32, &nl,
			      err)))
		return rc;
	if ((rc = parse_hours(o->slacks ? o->slacks : "24,168,480,720,8760", "slacks", step, slacks, 32, &ns,
			      err)))
		return rc;
	for (size_t r = 0; r < nr; r++) {
		const double *c = sched_region_intensity(m, r, SCHED_P50);

		for (size_t t = 0; t < steps; t++)
			if (isnan(c[t])) {
				char tb[TS_BUFSZ];

				return err_set(
				    err, ERR_INVALID, "signals",
				    "zone '%s' has a gap at %s: the protocol needs complete series",
				    sched_region_id(m, r),
				    ts_format(sched_model_start(m) + (int64_t)t * step, tb));
			}
	}
	struct sched_bound *bd = xmalloc(nr * nl * ns * sizeof(*bd));
	for (size_t r = 0; r < nr; r++) {
		rc = sched_temporal_bounds(sched_region_intensity(m, r, SCHED_P50), steps, lens, nl, slacks,
					   ns, bd + r * nl * ns, err);
		if (rc) {
			err_prefix(err, "zone '%s': ", sched_region_id(m, r));
			free(bd);
			return rc;
		}
	}
	double secs = (double)(ts_mono_ms() - t0) / 1000;
	buf_init(&b, 0);
	if (o->json)
		buf_addf(&b, "{\"protocol\":\"temporal\",\"step_s\":%d,\"steps\":%zu,\"configs\":[",
			 (int)step, steps);
	else
		buf_addf(&b, "%-20s %8s %8s %8s %12s %14s %14s\n", "zone", "length_h", "slack_h", "arrivals",
			 "run_now", "deferrable_%", "interrupt_%");
	double hstep = step / 3600.0;
	for (size_t a = 0; a < nl; a++)
		for (size_t s = 0; s < ns; s++) {
			double sum_d = 0, sum_i = 0;

			if (o->json)
				buf_addf(&b, "%s{\"length_h\":%g,\"slack_h\":%g,\"zones\":{",
					 a + s ? "," : "", (double)lens[a] * hstep,
					 (double)slacks[s] * hstep);
			for (size_t r = 0; r < nr; r++) {
				const struct sched_bound *x = &bd[(r * nl + a) * ns + s];
				double pd = 100 * (1 - x->deferrable / x->run_now);
				double pi = 100 * (1 - x->interruptible / x->run_now);

				sum_d += pd;
				sum_i += pi;
				if (o->json) {
					buf_addf(&b, "%s", r ? "," : "");
					buf_add_json_string(&b, sched_region_id(m, r));
					buf_addf(&b, ":{\"arrivals\":%zu,\"run_now\":", x->arrivals);
					buf_add_double(&b, x->run_now);
					buf_adds(&b, ",\"deferrable\":");
					buf_add_double(&b, x->deferrable);
					buf_adds(&b, ",\"interruptible\":");
					buf_add_double(&b, x->interruptible);
					buf_adds(&b, ",\"deferrable_pct\":");
					buf_add_double(&b, pd);
					buf_adds(&b, ",\"interruptible_pct\":");
					buf_add_double(&b, pi);
					buf_addc(&b, '}');
				} else {
					buf_addf(&b, "%-20s %8g %8g %8zu %12.3f %14.3f %14.3f\n",
						 sched_region_id(m, r), (double)lens[a] * hstep,
						 (double)slacks[s] * hstep, x->arrivals, x->run_now, pd, pi);
				}
			}
			if (o->json) {
				buf_adds(&b, "},\"mean_deferrable_pct\":");
				buf_add_double(&b, sum_d / nr);
				buf_adds(&b, ",\"mean_interruptible_pct\":");
				buf_add_double(&b, sum_i / nr);
				buf_addc(&b, '}');
			} else {
				buf_addf(&b, "%-20s %8g %8g %8s %12s %14.3f %14.3f\n", "(mean of zones)",
					 (double)lens[a] * hstep, (double)slacks[s] * hstep, "", "",
					 sum_d / nr, sum_i / nr);
			}
		}
	free(bd);
	if (o->json)
		buf_adds(&b, "]}\n");
	fputs(b.data, stdout);
	buf_release(&b);
	fprintf(
	    stderr,
	    "simulate: temporal protocol, %zu zones x %zu lengths x %zu slacks, both variants, in %.2f s\n",
	    nr, nl, ns, secs);
	return ERR_OK;
}

/* ---- command ---------------------------------------------------------- */

static int parse_forecast(const char *s, struct opts *o, struct err_detail *err)
{
	char *end;

	if (!strcmp(s, "perfect")) {
		o->noise = false;
		return ERR_OK;
	}
	if (strncmp(s, "noise:", 6))
		return err_set(err, ERR_INVALID, "forecast", "--forecast must be perfect or noise:E:SEED");
	errno = 0;
	o->noise_e = strtod(s + 6, &end);
	if (end == s + 6 || *end != ':' || !(o->noise_e >= 0) || o->noise_e > 100)
		return err_set(err, ERR_INVALID, "forecast",
			       "noise:E:SEED needs E, a number >= 0 (0.05 = 5 %%)");
	const char *sd = end + 1;
	o->seed = strtoull(sd, &end, 10);
	if (end == sd || *end || errno)
		return err_set(err, ERR_INVALID, "forecast", "noise:E:SEED needs SEED, a whole number");
	o->noise = true;
	return ERR_OK;
}

static bool known_format(const char *f)
{
	if (!strcmp(f, "long"))
		return true;
	for (size_t i = 0; files_formats[i]; i++)
		if (!strcmp(files_formats[i], f))
			return true;
	return false;
}

int cmd_simulate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"signals", required_argument, NULL, 's'},	  {"signals-format", required_argument, NULL, 'f'},
	    {"kind", required_argument, NULL, 'k'},	  {"step", required_argument, NULL, 'S'},
	    {"resample", required_argument, NULL, 'R'},	  {"jobs", required_argument, NULL, 'j'},
	    {"capacity", required_argument, NULL, 'c'},	  {"forecast", required_argument, NULL, 'F'},
	    {"placements", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'J'},
	    {"protocol", required_argument, NULL, 'P'},	  {"lengths", required_argument, NULL, 'L'},
	    {"slacks", required_argument, NULL, 'K'},	  {"help", no_argument, NULL, 'h'},
	    {"one-by-one", no_argument, NULL, '1'},	  {NULL, 0, NULL, 0},
	};
	struct opts o = {.format = "wide", .kind = "carbon_intensity"};
	struct err_detail err = {0};
	struct signals sg = {0};
	struct sched_model *truth = NULL, *fc = NULL;
	struct run run = {.o = &o};

	sched_result_init(&run.res);
	sched_batch_init(&run.batch);
	int c, rc = ERR_OK;
	int64_t dur;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (o.n_signals == MAX_SIGNAL_FILES) {
				fprintf(stderr, "simulate: at most %d --signals files\n", MAX_SIGNAL_FILES);
				return EXIT_USAGE;
			}
			o.signals[o.n_signals++] = optarg;
			break;
		case 'f': o.format = optarg; break;
		case 'k': o.kind = optarg; break;
		case 'S':
			if (ts_parse_duration(optarg, "step", &dur, &err) || dur > TS_DAY) {
				fprintf(stderr, "simulate: --step: %s\n",
					*err.msg ? err.msg : "at most one day");
				return EXIT_USAGE;
			}
			o.step = (int32_t)dur;
			break;
		case 'R':
			if (!strcmp(optarg, "mean"))
				o.resample = FILES_RESAMPLE_MEAN;
			else if (!strcmp(optarg, "sample"))
				o.resample = FILES_RESAMPLE_SAMPLE;
			else {
				fprintf(stderr, "simulate: --resample must be mean or sample\n");
				return EXIT_USAGE;
			}
			break;
		case 'j': o.jobs = optarg; break;
		case 'c': o.capacity = optarg; break;
		case 'F':
			if (parse_forecast(optarg, &o, &err)) {
				fprintf(stderr, "simulate: %s\n", err.msg);
				return EXIT_USAGE;
			}
			break;
		case 'p': o.placements = optarg; break;
		case 'J': o.json = true; break;
		case 'P': o.protocol = optarg; break;
		case 'L': o.lengths = optarg; break;
		case 'K': o.slacks = optarg; break;
		case '1': o.one_by_one = true; break;
		case 'h':
			fputs(usage, stdout);
			printf("\nsignal formats: long");
			for (size_t i = 0; files_formats[i]; i++)
				printf(", %s", files_formats[i]);
			printf("\n");
			return 0;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc || !o.n_signals || (!o.jobs && !o.protocol)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (o.protocol && strcmp(o.protocol, "temporal")) {
		fprintf(stderr, "simulate: --protocol must be 'temporal'\n");
		return EXIT_USAGE;
	}
	if (!known_format(o.format)) {
		fprintf(stderr, "simulate: unknown --signals-format '%s' (see --help)\n", o.format);
		return EXIT_USAGE;
	}

	rc = load_signals(&o, &sg, &err);
	if (!rc)
		rc = build_models(&o, &sg, &truth, &fc, &err);
	if (!rc && o.protocol) {
		rc = run_protocol(&o, truth, &err);
		goto out;
	}
	if (!rc && o.capacity) {
		FILE *f = fopen(o.capacity, "r");

		run.cap = sched_capacity_new(fc, INFINITY);
		if (!f)
			rc = err_set(&err, ERR_IO, "capacity", "%s: %s", o.capacity, strerror(errno));
		else {
			rc = sched_csv_read_capacity(f, o.capacity, fc, run.cap, &err);
			fclose(f);
		}
	}
	if (!rc && o.placements) {
		run.placements = fopen(o.placements, "w");
		if (!run.placements)
			rc = err_set(&err, ERR_IO, "placements", "%s: %s", o.placements, strerror(errno));
		else
			fprintf(run.placements,
				"id,origin,region,start,end,segments,baseline_g,scheduled_g\n");
	}
	if (!rc) {
		run.truth = truth;
		run.fc = fc;
		run.per_region = xcalloc(sched_model_regions(fc), sizeof(*run.per_region));
		rc = run_jobs(&run, &err);
	}
	if (run.placements && fclose(run.placements) && !rc)
		rc = err_set(&err, ERR_IO, "placements", "%s: %s", o.placements, strerror(errno));
	if (!rc)
		print_totals(&run);
out:
	if (rc)
		fprintf(stderr, "carbonsched simulate: %s\n", err.msg);
	free(run.per_region);
	sched_result_release(&run.res);
	sched_batch_release(&run.batch);
	pending_release(&run.pend);
	sched_capacity_free(run.cap);
	if (fc != truth)
		sched_model_free(fc);
	sched_model_free(truth);
	signals_release(&sg);
	return rc ? 1 : 0;
}
