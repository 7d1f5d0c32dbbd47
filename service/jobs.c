/*
 * jobs.c - advice, bookings and the job lifecycle (see jobs.h).
 *
 * A booking is one transaction: lock the candidate regions' rows (id
 * order), read what they have booked over the window, place the job (or
 * the job array) on the planner's snapshot within what remains, and insert
 * the job rows, their segments, their reservations and their first plan
 * in one statement.  Two bookings touching a common region run one after
 * the other; bookings on disjoint regions run in parallel and share
 * commits.  A unique index makes an idempotency key book once: a retry
 * that loses the race finds the winner's job and answers it.
 *
 * Times: the service clock decides "now" (the demo replays history), and
 * every placement starts on the scheduler grid at or after now, so advice
 * never says "start an hour ago".  The baseline runs from now, snapped to
 * the grid, in the origin region.
 *
 * Answers are written straight into the response buffer: the advice route
 * is the hot path and builds no JSON tree.
 */
#include "service/jobs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/jsonh.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/callback.h"

#define BOOK_ATTEMPTS	      8
#define REPLAN_BATCH	      5000
#define CALLBACK_MAX_ATTEMPTS 5

/* ---- small helpers ------------------------------------------------------ */

void jobs_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

bool jobs_is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

/* A PostgreSQL array literal, built element by element. */
struct pgarr {
	struct buf b;
	bool any;
};

static void arr_init(struct pgarr *a)
{
	buf_init(&a->b, 0);
	buf_addc(&a->b, '{');
	a->any = false;
}

static void arr_sep(struct pgarr *a)
{
	if (a->any)
		buf_addc(&a->b, ',');
	a->any = true;
}

static void arr_text(struct pgarr *a, const char *s)
{
	arr_sep(a);
	if (!s) {
		buf_adds(&a->b, "NULL");
		return;
	}
	buf_addc(&a->b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(&a->b, '\\');
		buf_addc(&a->b, *s);
	}
	buf_addc(&a->b, '"');
}

static void arr_int(struct pgarr *a, int64_t v)
{
	arr_sep(a);
	buf_addf(&a->b, "%lld", (long long)v);
}

static void arr_time(struct pgarr *a, int64_t t) /* 0 = NULL */
{
	arr_sep(a);
	if (t)
		buf_addf(&a->b, "%lld", (long long)t);
	else
		buf_adds(&a->b, "NULL");
}

static void arr_double(struct pgarr *a, double v)
{
	arr_sep(a);
	if (isfinite(v))
		buf_addf(&a->b, "%.17g", v);
	else
		buf_adds(&a->b, "NULL");
}

static const char *arr_end(struct pgarr *a)
{
	buf_addc(&a->b, '}');
	return a->b.data;
}

static void arr_release(struct pgarr *a)
{
	buf_release(&a->b);
}

/* JSON output: ",\"key\":value" pieces. */
static void put_key(struct buf *b, const char *key) /* keys are plain ASCII */
{
	size_t n = strlen(key);

	buf_add(b, ",\"", 2);
	buf_add(b, key, n);
	buf_add(b, "\":", 2);
}

static void put_str(struct buf *b, const char *key, const char *v)
{
	put_key(b, key);
	if (v && *v)
		buf_add_json_string(b, v);
	else
		buf_adds(b, "null");
}

/* Times are formatted without printf: answers hold many of them. */
static _Thread_local struct ts_fmt_cache tcache;

static void add_time(struct buf *b, int64_t t)
{
	char s[TS_BUFSZ];

	buf_addc(b, '"');
	buf_add(b, ts_format_cached(&tcache, t, s), TS_BUFSZ - 1);
	buf_addc(b, '"');
}

static void put_time(struct buf *b, const char *key, int64_t t) /* 0 = null */
{
	put_key(b, key);
	if (t)
		add_time(b, t);
	else
		buf_adds(b, "null");
}

static double round3(double v)
{
	return isfinite(v) ? round(v * 1000) / 1000 : v;
}

static void put_num(struct buf *b, const char *key, double v)
{
	put_key(b, key);
	buf_add_double(b, round3(v));
}

static double saving_pct(double expected, double baseline)
{
	if (!(baseline > 0) || !isfinite(expected))
		return NAN;
	return round((1 - expected / baseline) * 10000) / 100;
}

static void put_segments(struct buf *b, const char *key, const struct sched_segment *seg, size_t n)
{
	put_key(b, key);
	buf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, i ? ",{\"start\":" : "{\"start\":");
		add_time(b, seg[i].start);
		buf_adds(b, ",\"end\":");
		add_time(b, seg[i].end);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

static const char *risk_name(enum sched_quantile q)
{
	return q == SCHED_P90 ? "p90" : "p50";
}

/* ---- a request against a snapshot ---------------------------------------- */

static void list_regions(const struct sched_model *m, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sched_model_regions(m) && n + 1 < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", sched_region_id(m, i));
	if (n >= size && size > 4)
		memcpy(out + size - 4, "...", 4);
}

int jobs_prepare(const struct jobs_env *env, const struct planner_snap *s, const struct job_req *rq,
		 int64_t now, struct jobs_plan *ret, struct err_detail *err)
{
	const struct sched_model *m = s->model;
	struct jobs_plan jp = {.now = now};
	size_t nr = sched_model_regions(m);
	char a[TS_BUFSZ], b[TS_BUFSZ], d[32], known[400];
	int origin = sched_model_find(m, rq->origin);
	int64_t earliest;

	(void)env;
	if (origin < 0) {
		list_regions(m, known, sizeof(known));
		return err_set(err, ERR_INVALID, "origin",
			       "unknown region '%s' in 'origin'; the regions are: %s", rq->origin, known);
	}
	jp.cand = xcalloc(nr ? nr : 1, sizeof(size_t));
	for (size_t i = 0; i < (rq->regions ? rq->nregions : nr); i++) {
		int r = rq->regions ? sched_model_find(m, rq->regions[i]) : (int)i;
		bool ok = true, dup = false;
		char f[32];

		if (r < 0) {
			free(jp.cand);
			list_regions(m, known, sizeof(known));
			snprintf(f, sizeof(f), "regions[%zu]", i);
			return err_set(err, ERR_INVALID, f,
				       "unknown region '%s' in 'regions'; the regions are: %s",
				       rq->regions[i], known);
		}
		for (size_t k = 0; k < rq->nresidency && ok; k++)
			ok = sched_region_has_tag(m, (size_t)r, rq->residency[k]);
		for (size_t k = 0; k < jp.ncand && !dup; k++)
			dup = jp.cand[k] == (size_t)r;
		if (ok && !dup)
			jp.cand[jp.ncand++] = (size_t)r;
	}
	if (!jp.ncand) {
		char tags[200] = "";
		size_t n = 0;

		for (size_t k = 0; k < rq->nresidency && n < sizeof(tags); k++)
			n += (size_t)snprintf(tags + n, sizeof(tags) - n, "%s%s", k ? ", " : "",
					      rq->residency[k]);
		free(jp.cand);
		return err_set(err, ERR_UNPROCESSABLE, "residency", "residency [%s] excludes every %s region",
			       tags, rq->regions ? "listed" : "configured");
	}
	if (rq->deadline <= now) {
		free(jp.cand);
		return err_set(err, ERR_INVALID, "deadline",
			       "'deadline' (%s) has passed: the service clock says %s",
			       ts_format(rq->deadline, a), ts_format(now, b));
	}
	if (rq->deadline > s->end) {
		free(jp.cand);
		return err_set(
		    err, ERR_UNPROCESSABLE, "deadline",
		    "the window reaches beyond the forecast horizon: forecasts reach %s (forecast.horizon "
		    "%s from %s); 'deadline' is %s",
		    ts_format(s->end, a), ts_format_duration(s->end - s->start, d),
		    ts_format(s->start, known), ts_format(rq->deadline, b));
	}
	earliest = rq->earliest_start == INT64_MIN || rq->earliest_start < now ? now : rq->earliest_start;
	earliest = ts_ceil(earliest, s->step);
	if (rq->deadline - earliest < rq->duration) {
		free(jp.cand);
		return err_set(
		    err, ERR_INVALID, "duration",
		    "'duration' (%s) is longer than the window from %s (the earliest start on the %d-minute "
		    "grid) to the deadline %s",
		    ts_format_duration(rq->duration, d), ts_format(earliest, a), (int)(s->step / 60),
		    ts_format(rq->deadline, b));
	}
	sched_job_init(&jp.job);
	jp.job.submit = now;
	jp.job.earliest_start = earliest;
	jp.job.deadline = rq->deadline;
	jp.job.duration = rq->duration;
	jp.job.power_kw = rq->power_kw;
	jp.job.interruptible = rq->interruptible;
	jp.job.min_segment = rq->min_segment;
	jp.job.max_segments = rq->max_segments;
	jp.job.risk = rq->risk;
	jp.job.origin = origin;
	jp.job.regions = jp.cand;
	jp.job.n_regions = jp.ncand;
	jp.job.max_alternatives = 3;
	*ret = jp;
	return ERR_OK;
}

void jobs_plan_release(struct jobs_plan *p)
{
	free(p->cand);
	p->cand = NULL;
}

/* ---- advice ---------------------------------------------------------------- */

static void put_forecast(struct buf *b, const struct planner_snap *s, size_t r)
{
	put_key(b, "forecast");
	buf_adds(b, s->regions[r].forecast_json);
}

static void put_placement(struct buf *b, const struct planner_snap *s, const struct sched_result *res,
			  const struct sched_placement *p, double baseline_g)
{
	buf_adds(b, "{\"region\":");
	buf_add_json_string(b, sched_region_id(s->model, p->region));
	put_time(b, "start", p->start);
	put_time(b, "end", p->end);
	put_segments(b, "segments", sched_segments(res, p), p->n_seg);
	put_num(b, "expected_g", p->expected_g);
	put_num(b, "saving_pct", saving_pct(p->expected_g, baseline_g));
	put_forecast(b, s, p->region);
	buf_addc(b, '}');
}

int jobs_advise(const struct jobs_env *env, const struct planner_snap *s, const struct job_req *rq,
		struct buf *out, struct err_detail *err)
{
	int64_t now = clock_now(env->clock);
	const struct sched_capacity *cap;
	struct planner_advice *held;
	struct sched_result res;
	struct jobs_plan jp;
	int rc;

	if ((rc = jobs_prepare(env, s, rq, now, &jp, err)))
		return rc;
	cap = planner_advice_acquire(env->planner, s, &held);
	sched_result_init(&res);
	rc = sched_place(s->model, cap, &jp.job, &res, err);
	if (!rc) {
		const struct sched_placement *best = &res.best;
		bool seen[256] = {false};

		buf_adds(out, "{\"region\":");
		buf_add_json_string(out, sched_region_id(s->model, best->region));
		put_time(out, "start", best->start);
		put_time(out, "end", best->end);
		put_segments(out, "segments", sched_segments(&res, best), best->n_seg);
		put_num(out, "power_kw", rq->power_kw);
		put_num(out, "energy_kwh", rq->energy_kwh);
		put_num(out, "expected_g", best->expected_g);
		buf_adds(out, ",\"expected_range_g\":{\"p10\":");
		buf_add_double(out, round3(best->low_g));
		buf_adds(out, ",\"p90\":");
		buf_add_double(out, round3(best->high_g));
		buf_addc(out, '}');
		put_str(out, "risk", risk_name(rq->risk));
		put_num(out, "decision_g", best->decision_g);
		put_num(out, "baseline_g", res.baseline_g);
		put_num(out, "saving_pct", saving_pct(best->expected_g, res.baseline_g));
		put_key(out, "baseline");
		if (isnan(res.baseline_g)) {
			buf_adds(out, "null");
		} else {
			buf_adds(out, "{\"region\":");
			buf_add_json_string(out, sched_region_id(s->model, res.baseline.region));
			put_time(out, "start", res.baseline.start);
			put_time(out, "end", res.baseline.end);
			buf_addc(out, '}');
		}
		put_forecast(out, s, best->region);
		put_key(out, "pue");
		buf_adds(out, "{\"source\":");
		buf_add_json_string(out, s->regions[best->region].pue_source);
		put_num(out, "min", s->regions[best->region].pue_min);
		put_num(out, "max", s->regions[best->region].pue_max);
		buf_addc(out, '}');
		put_key(out, "alternatives");
		buf_addc(out, '[');
		for (size_t i = 0; i < res.n_alternatives; i++) {
			if (i)
				buf_addc(out, ',');
			put_placement(out, s, &res, &res.alternatives[i], res.baseline_g);
		}
		buf_addc(out, ']');
		/* Where every input came from: the candidates and the origin. */
		put_key(out, "inputs");
		buf_addc(out, '[');
		bool first = true;
		for (size_t i = 0; i <= jp.ncand; i++) {
			size_t r = i < jp.ncand ? jp.cand[i] : (size_t)jp.job.origin;

			if (r < sizeof(seen) && seen[r])
				continue;
			if (r < sizeof(seen))
				seen[r] = true;
			if (!first)
				buf_addc(out, ',');
			first = false;
			buf_adds(out, s->regions[r].inputs_json);
		}
		buf_addc(out, ']');
		put_time(out, "as_of", now);
		put_time(out, "horizon", s->end);
		buf_addf(out, ",\"step_s\":%d}\n", (int)s->step);
	}
	sched_result_release(&res);
	planner_advice_release(env->planner, held);
	jobs_plan_release(&jp);
	return rc;
}

/* ---- jobs as rows ----------------------------------------------------------- */

enum job_col {
	JC_ID,
	JC_NAME,
	JC_STATE,
	JC_ORIGIN,
	JC_REGION,
	JC_POWER,
	JC_DURATION,
	JC_INTERRUPTIBLE,
	JC_EARLIEST,
	JC_DEADLINE,
	JC_START,
	JC_END,
	JC_EXPECTED,
	JC_BASELINE,
	JC_FC_MODEL,
	JC_FC_ISSUED,
	JC_CB_URL,
	JC_CB_SENT,
	JC_CB_ATTEMPTS,
	JC_CB_ERROR,
	JC_CB_STATUS,
	JC_STARTED,
	JC_COMPLETED,
	JC_MEASURED,
	JC_REALISED,
	JC_REALISED_BASE,
	JC_CREATED,
	JC_SUBMITTED,
	JC_RISK,
	JC_MIN_SEG,
	JC_MAX_SEG,
	JC_CANDIDATES,
	JC_ARRAY_ID,
	JC_ARRAY_INDEX,
	JC_ARRAY_COUNT,
	JC_REQUEST_HASH,
	JC_IDEM_KEY,
};

/* A job as stored; strings are borrowed (from a result or the caller). */
struct job_row {
	const char *id, *name, *state, *origin, *region, *fc_model, *cb_url, *cb_error, *risk, *candidates,
	    *array_id, *request_hash, *idem_key;
	double power_kw, expected_g, baseline_g, measured_kwh, realised_g, realised_baseline_g;
	int64_t duration, earliest, deadline, start, end, fc_issued, cb_sent, started, completed, created,
	    submitted, min_segment;
	int cb_attempts, cb_status, max_segments, array_index, array_count;
	bool interruptible;
	const struct sched_segment *seg;
	size_t nseg;
};

static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

static void row_read(const struct db_res *r, size_t i, struct job_row *j)
{
	memset(j, 0, sizeof(*j));
	j->id = db_res_get(r, i, JC_ID);
	j->name = nz(db_res_get(r, i, JC_NAME));
	j->state = db_res_get(r, i, JC_STATE);
	j->origin = db_res_get(r, i, JC_ORIGIN);
	j->region = db_res_get(r, i, JC_REGION);
	j->power_kw = db_res_double(r, i, JC_POWER);
	j->duration = db_res_int64(r, i, JC_DURATION);
	j->interruptible = db_res_bool(r, i, JC_INTERRUPTIBLE);
	j->earliest = db_res_int64(r, i, JC_EARLIEST);
	j->deadline = db_res_int64(r, i, JC_DEADLINE);
	j->start = db_res_int64(r, i, JC_START);
	j->end = db_res_int64(r, i, JC_END);
	j->expected_g = db_res_double(r, i, JC_EXPECTED);
	j->baseline_g = db_res_double(r, i, JC_BASELINE);
	j->fc_model = nz(db_res_get(r, i, JC_FC_MODEL));
	j->fc_issued = db_res_int64(r, i, JC_FC_ISSUED);
	j->cb_url = nz(db_res_get(r, i, JC_CB_URL));
	j->cb_sent = db_res_int64(r, i, JC_CB_SENT);
	j->cb_attempts = (int)db_res_int64(r, i, JC_CB_ATTEMPTS);
	j->cb_error = nz(db_res_get(r, i, JC_CB_ERROR));
	j->cb_status = (int)db_res_int64(r, i, JC_CB_STATUS);
	j->started = db_res_int64(r, i, JC_STARTED);
	j->completed = db_res_int64(r, i, JC_COMPLETED);
	j->measured_kwh = db_res_double(r, i, JC_MEASURED);
	j->realised_g = db_res_double(r, i, JC_REALISED);
	j->realised_baseline_g = db_res_double(r, i, JC_REALISED_BASE);
	j->created = db_res_int64(r, i, JC_CREATED);
	j->submitted = db_res_int64(r, i, JC_SUBMITTED);
	j->risk = db_res_get(r, i, JC_RISK);
	j->min_segment = db_res_int64(r, i, JC_MIN_SEG);
	j->max_segments = (int)db_res_int64(r, i, JC_MAX_SEG);
	j->candidates = db_res_get(r, i, JC_CANDIDATES);
	j->array_id = nz(db_res_get(r, i, JC_ARRAY_ID));
	j->array_index = (int)db_res_int64(r, i, JC_ARRAY_INDEX);
	j->array_count = (int)db_res_int64(r, i, JC_ARRAY_COUNT);
	j->request_hash = nz(db_res_get(r, i, JC_REQUEST_HASH));
	j->idem_key = nz(db_res_get(r, i, JC_IDEM_KEY));
}

/* The job's JSON; 'plans' (a rendered array, may be NULL) is inserted. */
static void put_job(struct buf *b, const struct job_row *j, const char *plans)
{
	char d[32];

	buf_adds(b, "{\"id\":");
	buf_add_json_string(b, j->id);
	put_str(b, "name", j->name);
	put_str(b, "state", j->state);
	put_str(b, "origin", j->origin);
	put_str(b, "region", j->region);
	put_time(b, "start", j->start);
	put_time(b, "end", j->end);
	put_segments(b, "segments", j->seg, j->nseg);
	put_str(b, "duration", ts_format_duration(j->duration, d));
	put_num(b, "power_kw", j->power_kw);
	put_num(b, "energy_kwh", j->power_kw * (double)j->duration / 3600.0);
	put_key(b, "interruptible");
	buf_adds(b, j->interruptible ? "true" : "false");
	put_str(b, "risk", j->risk);
	put_time(b, "earliest_start", j->earliest);
	put_time(b, "deadline", j->deadline);
	put_num(b, "expected_g", j->expected_g);
	put_num(b, "baseline_g", j->baseline_g);
	put_num(b, "saving_pct", saving_pct(j->expected_g, j->baseline_g));
	put_key(b, "forecast");
	buf_adds(b, "{\"model\":");
	if (j->fc_model)
		buf_add_json_string(b, j->fc_model);
	else
		buf_adds(b, "null");
	put_time(b, "issued_at", j->fc_issued);
	buf_addc(b, '}');
	put_key(b, "callback");
	if (j->cb_url) {
		buf_adds(b, "{\"url\":");
		buf_add_json_string(b, j->cb_url);
		put_time(b, "sent_at", j->cb_sent);
		buf_addf(b, ",\"attempts\":%d", j->cb_attempts);
		put_key(b, "status");
		if (j->cb_status)
			buf_addf(b, "%d", j->cb_status);
		else
			buf_adds(b, "null");
		put_str(b, "error", j->cb_error);
		buf_addc(b, '}');
	} else {
		buf_adds(b, "null");
	}
	put_time(b, "submitted_at", j->submitted);
	put_time(b, "started_at", j->started);
	put_time(b, "completed_at", j->completed);
	put_num(b, "measured_kwh", j->measured_kwh);
	put_key(b, "realised");
	if (j->completed && !isnan(j->measured_kwh)) {
		buf_adds(b, "{\"emissions_g\":");
		buf_add_double(b, round3(j->realised_g));
		put_num(b, "baseline_g", j->realised_baseline_g);
		put_num(b, "saving_pct", saving_pct(j->realised_g, j->realised_baseline_g));
		put_num(b, "saved_g", j->realised_baseline_g - j->realised_g);
		buf_addc(b, '}');
	} else {
		buf_adds(b, "null");
	}
	put_key(b, "array");
	if (j->array_id)
		buf_addf(b, "{\"id\":\"%s\",\"index\":%d,\"count\":%d}", j->array_id, j->array_index,
			 j->array_count);
	else
		buf_adds(b, "null");
	if (plans) {
		put_key(b, "plans");
		buf_adds(b, plans);
	}
	buf_addc(b, '}');
}

/* Segments of the jobs with these ids, grouped per job in the order of
 * 'ids' (n of them): *ret_seg holds them all, off[i]/cnt[i] each job's. */
static int load_segments(struct db *db, const char *const *ids, size_t n, struct sched_segment **ret_seg,
			 size_t *off, size_t *cnt, struct err_detail *err)
{
	struct pgarr a;
	struct db_res *r;
	int rc;

	arr_init(&a);
	for (size_t i = 0; i < n; i++)
		arr_text(&a, ids[i]);
	const char *p[1] = {arr_end(&a)};
	rc = db_exec(db, DB_JOB_SEGMENTS, p, 1, &r, err);
	arr_release(&a);
	if (rc)
		return rc;
	size_t rows = db_res_rows(r);
	struct sched_segment *seg = xcalloc(rows ? rows : 1, sizeof(*seg));
	for (size_t i = 0; i < n; i++)
		off[i] = cnt[i] = 0;
	/* Rows come ordered by job id; the caller's order may differ. */
	for (size_t k = 0; k < rows; k++) {
		seg[k].start = db_res_int64(r, k, 1);
		seg[k].end = db_res_int64(r, k, 2);
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < rows; k++)
			if (!strcmp(db_res_get(r, k, 0), ids[i])) {
				if (!cnt[i])
					off[i] = k;
				cnt[i]++;
			}
	}
	db_res_free(r);
	*ret_seg = seg;
	return ERR_OK;
}

static int put_plans(struct db *db, const char *id, struct buf *out, struct err_detail *err)
{
	const char *p[1] = {id};
	struct db_res *r;
	int rc = db_exec(db, DB_JOB_PLANS, p, 1, &r, err);

	if (rc)
		return rc;
	buf_addc(out, '[');
	for (size_t i = 0, n = db_res_rows(r); i < n; i++) {
		buf_addf(out, "%s{\"planned_at\":", i ? "," : "");
		char t[TS_BUFSZ];
		buf_addf(out, "\"%s\"", ts_format(db_res_int64(r, i, 0), t));
		put_time(out, "clock_at", db_res_int64(r, i, 1));
		put_str(out, "region", db_res_get(r, i, 2));
		put_key(out, "segments");
		buf_adds(out, db_res_get(r, i, 3));
		put_num(out, "expected_g", db_res_double(r, i, 4));
		put_str(out, "reason", db_res_get(r, i, 5));
		buf_adds(out, ",\"forecast\":{\"model\":");
		if (nz(db_res_get(r, i, 6)))
			buf_add_json_string(out, db_res_get(r, i, 6));
		else
			buf_adds(out, "null");
		put_time(out, "issued_at", db_res_int64(r, i, 7));
		buf_adds(out, "}}");
	}
	buf_addc(out, ']');
	db_res_free(r);
	return ERR_OK;
}

/* Render the first nmax jobs of a result, with their segments; with
 * plans for a single job when 'with_plans'; as {"array_id","count","jobs"}
 * when 'as_array'. */
static int render_rows(struct db *db, const struct db_res *r, size_t nmax, bool with_plans, bool as_array,
		       struct buf *out, struct err_detail *err)
{
	size_t n = db_res_rows(r) < nmax ? db_res_rows(r) : nmax;
	const char **ids = xcalloc(n ? n : 1, sizeof(char *));
	size_t *off = xcalloc(n ? n : 1, sizeof(size_t)), *cnt = xcalloc(n ? n : 1, sizeof(size_t));
	struct sched_segment *seg = NULL;
	struct buf plans;
	int rc;

	buf_init(&plans, 0);
	for (size_t i = 0; i < n; i++)
		ids[i] = db_res_get(r, i, JC_ID);
	rc = load_segments(db, ids, n, &seg, off, cnt, err);
	if (!rc && with_plans && n == 1)
		rc = put_plans(db, ids[0], &plans, err);
	if (!rc) {
		struct job_row j;

		if (as_array) {
			row_read(r, 0, &j);
			buf_addf(out, "{\"array_id\":\"%s\",\"count\":%zu,\"jobs\":[",
				 j.array_id ? j.array_id : "", n);
		}
		for (size_t i = 0; i < n; i++) {
			row_read(r, i, &j);
			j.seg = seg + off[i];
			j.nseg = cnt[i];
			if (i)
				buf_addc(out, ',');
			put_job(out, &j, plans.len ? plans.data : NULL);
		}
		if (as_array)
			buf_adds(out, "]}");
	}
	buf_release(&plans);
	free(seg);
	free(ids);
	free(off);
	free(cnt);
	return rc;
}

static int check_id(const char *id, struct err_detail *err)
{
	if (!jobs_is_uuid(id))
		return err_set(err, ERR_INVALID, "id",
			       "'%.64s' is not a job id (a UUID such as "
			       "'1b4e28ba-2fa1-41d2-883f-0016d3cca427')",
			       id);
	return ERR_OK;
}

int jobs_get(const struct jobs_env *env, struct db *db, const char *id, struct buf *out,
	     struct err_detail *err)
{
	const char *p[2] = {id, env->tenant};
	struct db_res *r;
	int rc;

	if ((rc = check_id(id, err)) || (rc = db_exec(db, DB_JOB_GET, p, 2, &r, err)))
		return rc;
	if (!db_res_rows(r))
		rc = err_set(err, ERR_NOT_FOUND, "id", "no job '%s'", id);
	else if (!(rc = render_rows(db, r, 1, true, false, out, err)))
		buf_addc(out, '\n');
	db_res_free(r);
	return rc;
}

int jobs_cursor_parse(const char *cursor, int64_t *ret_ts, char ret_id[37], struct err_detail *err)
{
	char cid[40];
	long long v;
	int used = 0;

	if (!cursor || !*cursor)
		return ERR_OK;
	if (sscanf(cursor, "%lld_%36[0-9a-f-]%n", &v, cid, &used) != 2 || (size_t)used != strlen(cursor) ||
	    !jobs_is_uuid(cid))
		return err_set(err, ERR_INVALID, "cursor", "'cursor' is not one this service gave out");
	*ret_ts = v;
	memcpy(ret_id, cid, 37);
	return ERR_OK;
}

int jobs_list(const struct jobs_env *env, struct db *db, const char *state, int64_t from, int64_t to,
	      const char *cursor, int limit, struct buf *out, char *ret_next, size_t next_size,
	      struct err_detail *err)
{
	char f[24], t[24], ct[24], lim[16], cid[40] = "00000000-0000-0000-0000-000000000000";
	int64_t cts = -TS_DAY; /* before any job */
	struct db_res *r;
	int rc;

	if ((rc = jobs_cursor_parse(cursor, &cts, cid, err)))
		return rc;
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	const char *p[7] = {
	    state,	db_param_time(from, f), db_param_time(to, t), db_param_time(cts, ct), cid, lim,
	    env->tenant};
	if ((rc = db_exec(db, DB_JOBS_LIST, p, 7, &r, err)))
		return rc;
	size_t n = db_res_rows(r);
	ret_next[0] = '\0';
	buf_adds(out, "{\"jobs\":[");
	if (n)
		rc = render_rows(db, r, (size_t)limit, false, false, out, err);
	buf_adds(out, "]");
	if (!rc && n > (size_t)limit)
		snprintf(ret_next, next_size, "%lld_%s",
			 (long long)db_res_int64(r, (size_t)limit - 1, JC_START),
			 db_res_get(r, (size_t)limit - 1, JC_ID));
	db_res_free(r);
	return rc;
}

/* ---- booking ---------------------------------------------------------------- */

/* The job(s) an idempotency key booked, if any. */
static int replay_key(struct db *db, const char *tenant, const char *key, const char *fp, struct buf *out,
		      bool *ret_found, char ret_id[37], struct err_detail *err)
{
	const char *p[2] = {key, tenant};
	struct db_res *r, *jr;
	int rc;

	*ret_found = false;
	if ((rc = db_exec(db, DB_JOB_BY_KEY, p, 2, &r, err)))
		return rc;
	if (!db_res_rows(r)) {
		db_res_free(r);
		return ERR_OK;
	}
	if (strcmp(db_res_get(r, 0, 1), fp)) {
		rc = err_set(
		    err, ERR_CONFLICT, "Idempotency-Key",
		    "this Idempotency-Key was used for another request (job %s); a retry must send the same "
		    "body",
		    db_res_get(r, 0, 0));
		db_res_free(r);
		return rc;
	}
	char id[37], arr[37];
	snprintf(id, sizeof(id), "%.36s", db_res_get(r, 0, 0));
	snprintf(arr, sizeof(arr), "%.36s", db_res_get(r, 0, 2));
	db_res_free(r);
	const char *pj[2] = {arr[0] ? arr : id, tenant};
	if ((rc = db_exec(db, arr[0] ? DB_JOBS_OF_ARRAY : DB_JOB_GET, pj, arr[0] ? 1 : 2, &jr, err)))
		return rc;
	rc = render_rows(db, jr, SIZE_MAX, !arr[0], arr[0] != '\0', out, err);
	db_res_free(jr);
	if (!rc)
		buf_addc(out, '\n');
	if (!rc) {
		*ret_found = true;
		memcpy(ret_id, arr[0] ? arr : id, 37);
	}
	return rc;
}

/* Configured capacity minus what the locked regions have booked. */
static int read_capacity(const struct jobs_env *env, struct db *db, const struct planner_snap *s,
			 const char *cand_ids, struct sched_capacity *cap, struct err_detail *err)
{
	char a[24], b[24];
	const char *p[3] = {cand_ids, db_param_time(s->start, a), db_param_time(s->end, b)};
	struct db_res *r;
	int rc;

	for (size_t i = 0; i < cap->n_regions; i++) {
		double kw = env->cfg->regions[i].capacity_kw;

		sched_capacity_set(cap, i, kw > 0 ? kw : INFINITY);
	}
	if ((rc = db_exec(db, DB_RESERVED_FOR, p, 3, &r, err)))
		return rc;
	for (size_t i = 0, n = db_res_rows(r); i < n; i++) {
		int ri = sched_model_find(s->model, db_res_get(r, i, 0));
		int64_t t = (ts_floor(db_res_int64(r, i, 1), s->step) - s->start) / s->step;

		if (ri >= 0 && t >= 0 && (size_t)t < cap->n_steps)
			sched_capacity_row(cap, (size_t)ri)[t] -= db_res_double(r, i, 2);
	}
	db_res_free(r);
	return ERR_OK;
}

/* The candidate ids, sorted (the lock order), as an array literal. */
static void cand_literal(const struct planner_snap *s, const size_t *cand, size_t n, struct pgarr *a)
{
	const char **ids = xcalloc(n ? n : 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		ids[i] = sched_region_id(s->model, cand[i]);
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(ids[k - 1], ids[k]) > 0; k--) {
			const char *t = ids[k];
			ids[k] = ids[k - 1];
			ids[k - 1] = t;
		}
	arr_init(a);
	for (size_t i = 0; i < n; i++)
		arr_text(a, ids[i]);
	arr_end(a);
	free(ids);
}

static void segments_json(const struct sched_segment *seg, size_t n, struct buf *b)
{
	char s[TS_BUFSZ], e[TS_BUFSZ];

	buf_addc(b, '[');
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s{\"start\":\"%s\",\"end\":\"%s\"}", i ? "," : "", ts_format(seg[i].start, s),
			 ts_format(seg[i].end, e));
	buf_addc(b, ']');
}

/* One copy of a booked job, in memory. */
struct copy {
	char id[37];
	size_t region;
	int64_t start, end;
	double expected_g;
	const struct sched_segment *seg;
	size_t nseg;
};

struct book_args {
	const struct jobs_env *env;
	const struct planner_snap *s;
	const struct job_req *rq;
	const struct jobs_plan *jp;
	const char *key, *fp, *canonical;
	int64_t now;
};

/* The regions a placement uses, as a sorted array literal (the lock order). */
static void used_literal(const struct planner_snap *s, const struct copy *copies, size_t n, struct pgarr *a)
{
	size_t *idx = xcalloc(n ? n : 1, sizeof(size_t)), k = 0;

	for (size_t c = 0; c < n; c++) {
		bool seen = false;
		for (size_t i = 0; i < k && !seen; i++)
			seen = idx[i] == copies[c].region;
		if (!seen)
			idx[k++] = copies[c].region;
	}
	cand_literal(s, idx, k, a);
	free(idx);
}

/* One attempt at a booking.  Pessimistic: lock every candidate region,
 * read their capacity, place.  Optimistic (relocatable jobs): read the
 * candidates' capacity without locks, place, then lock only the regions the
 * placement uses and check, on what they hold now, that it still fits -
 * capacity elsewhere only shrinks meanwhile, so a placement that still
 * fits is still the best; when it no longer fits, ERR_CONFLICT and the
 * caller tries again.  Either way the capacity a booking takes is checked
 * under the lock of its region. */
static int book_once(const struct book_args *ba, struct db *db, bool optimistic, struct buf *out,
		     char ret_id[37], struct err_detail *err)
{
	const struct planner_snap *s = ba->s;
	const struct job_req *rq = ba->rq;
	const struct jobs_plan *jp = ba->jp;
	struct pgarr cands, a_id, a_key, a_region, a_s, a_e, a_g, a_fm, a_fi, a_idx, a_segs, s_job, s_seq,
	    s_s, s_e, r_region, r_ts, r_job;
	struct sched_capacity *cap = sched_capacity_new(s->model, INFINITY);
	struct sched_result res;
	struct sched_batch batch;
	struct copy *copies = NULL;
	struct sched_segment *bseg = NULL;
	size_t ncopies = 0;
	char array_id[37] = "";
	double baseline_g;
	bool in_txn = false;
	int rc;

	sched_result_init(&res);
	sched_batch_init(&batch);
	cand_literal(s, jp->cand, jp->ncand, &cands);
	if (optimistic) {
		if ((rc = read_capacity(ba->env, db, s, cands.b.data, cap, err)))
			goto out;
	} else {
		const char *pl[1] = {cands.b.data};

		if ((rc = db_begin(db, err)))
			goto out;
		in_txn = true;
		if ((rc = db_exec(db, DB_JOBS_LOCK_REGIONS, pl, 1, NULL, err)) ||
		    (rc = read_capacity(ba->env, db, s, cands.b.data, cap, err)))
			goto rollback;
	}
	/* The baseline does not depend on capacity; a single job's placement gives it. */
	rc = sched_place(s->model, rq->count > 1 ? NULL : cap, &jp->job, &res, err);
	if (rc)
		goto rollback;
	baseline_g = res.baseline_g;
	if (rq->count == 1) {
		copies = xcalloc(1, sizeof(*copies));
		copies[0] = (struct copy){.region = res.best.region,
					  .start = res.best.start,
					  .end = res.best.end,
					  .expected_g = res.best.expected_g,
					  .seg = sched_segments(&res, &res.best),
					  .nseg = res.best.n_seg};
		ncopies = 1;
	} else {
		rc = sched_place_batch(s->model, cap, &jp->job, (size_t)rq->count, &batch, err);
		if (rc == ERR_NO_CAPACITY) {
			char d[TS_BUFSZ];
			rc = err_set(err, ERR_NO_CAPACITY, "count",
				     "only %zu of the %lld copies fit in the capacity left before %s",
				     batch.placed, (long long)rq->count, ts_format(rq->deadline, d));
		}
		if (rc)
			goto rollback;
		copies = xcalloc((size_t)rq->count, sizeof(*copies));
		bseg = xcalloc((size_t)rq->count, sizeof(*bseg));
		for (size_t k = 0; k < batch.n_blocks; k++)
			for (size_t c = 0; c < batch.blocks[k].count; c++, ncopies++) {
				const struct sched_block *bl = &batch.blocks[k];

				bseg[ncopies] = (struct sched_segment){bl->start, bl->end};
				copies[ncopies] = (struct copy){.region = bl->region,
								.start = bl->start,
								.end = bl->end,
								.expected_g = bl->expected_g,
								.seg = &bseg[ncopies],
								.nseg = 1};
			}
		jobs_uuid(array_id);
	}
	if (optimistic) {
		struct pgarr used;

		used_literal(s, copies, ncopies, &used);
		const char *pl[1] = {used.b.data};
		if (!(rc = db_begin(db, err))) {
			in_txn = true;
			if (!(rc = db_exec(db, DB_JOBS_LOCK_REGIONS, pl, 1, NULL, err)))
				rc = read_capacity(ba->env, db, s, used.b.data, cap, err);
		}
		arr_release(&used);
		if (!rc && (rq->count == 1 ? sched_commit(s->model, cap, &jp->job, &res, &res.best)
					   : sched_commit_batch(s->model, cap, &jp->job, &batch)))
			rc = err_set(err, ERR_CONFLICT, NULL, "the capacity chosen was taken meanwhile");
		if (rc)
			goto rollback;
	}

	arr_init(&a_id), arr_init(&a_key), arr_init(&a_region), arr_init(&a_s), arr_init(&a_e),
	    arr_init(&a_g);
	arr_init(&a_fm), arr_init(&a_fi), arr_init(&a_idx), arr_init(&a_segs), arr_init(&s_job),
	    arr_init(&s_seq);
	arr_init(&s_s), arr_init(&s_e), arr_init(&r_region), arr_init(&r_ts), arr_init(&r_job);
	for (size_t c = 0; c < ncopies; c++) {
		struct copy *cp = &copies[c];
		const struct planner_source *src = &s->regions[cp->region].ci;
		const char *region = sched_region_id(s->model, cp->region);
		struct buf segs;

		jobs_uuid(cp->id);
		arr_text(&a_id, cp->id);
		arr_text(&a_key, c == 0 ? ba->key : NULL);
		arr_text(&a_region, region);
		arr_int(&a_s, cp->start);
		arr_int(&a_e, cp->end);
		arr_double(&a_g, cp->expected_g);
		arr_text(&a_fm, src->model);
		arr_time(&a_fi, src->issued_at);
		arr_int(&a_idx, (int64_t)c);
		buf_init(&segs, 0);
		segments_json(cp->seg, cp->nseg, &segs);
		arr_text(&a_segs, segs.data);
		buf_release(&segs);
		for (size_t k = 0; k < cp->nseg; k++) {
			arr_text(&s_job, cp->id);
			arr_int(&s_seq, (int64_t)k);
			arr_int(&s_s, cp->seg[k].start);
			arr_int(&s_e, cp->seg[k].end);
			for (int64_t t = cp->seg[k].start; t < cp->seg[k].end; t += s->step) {
				arr_text(&r_region, region);
				arr_int(&r_ts, ts_floor(t, s->step));
				arr_text(&r_job, cp->id);
			}
		}
	}
	{
		char power[32], dur[24], earliest[24], deadline[24], base[32], now[24], minseg[24],
		    maxseg[16], count[24];

		snprintf(power, sizeof(power), "%.17g", rq->power_kw);
		snprintf(dur, sizeof(dur), "%lld", (long long)rq->duration);
		snprintf(base, sizeof(base), "%.17g", isnan(baseline_g) ? 0.0 : baseline_g);
		snprintf(minseg, sizeof(minseg), "%lld", (long long)rq->min_segment);
		snprintf(maxseg, sizeof(maxseg), "%d", rq->max_segments);
		snprintf(count, sizeof(count), "%lld", (long long)rq->count);
		const char *p[37] = {NULL,
				     rq->name,
				     ba->fp,
				     rq->origin,
				     ba->canonical,
				     power,
				     dur,
				     rq->interruptible ? "t" : "f",
				     db_param_time(jp->job.earliest_start, earliest),
				     db_param_time(rq->deadline, deadline),
				     isnan(baseline_g) ? NULL : base,
				     rq->callback_url,
				     db_param_time(ba->now, now),
				     risk_name(rq->risk),
				     minseg,
				     maxseg,
				     cands.b.data,
				     array_id[0] ? array_id : NULL,
				     rq->count > 1 ? count : NULL,
				     arr_end(&a_id),
				     arr_end(&a_key),
				     arr_end(&a_region),
				     arr_end(&a_s),
				     arr_end(&a_e),
				     arr_end(&a_g),
				     arr_end(&a_fm),
				     arr_end(&a_fi),
				     arr_end(&a_idx),
				     arr_end(&a_segs),
				     arr_end(&s_job),
				     arr_end(&s_seq),
				     arr_end(&s_s),
				     arr_end(&s_e),
				     arr_end(&r_region),
				     arr_end(&r_ts),
				     arr_end(&r_job),
				     ba->env->tenant};
		rc = db_exec(db, DB_JOBS_BOOK, p + 1, 36, NULL, err);
	}
	if (!rc)
		rc = db_commit(db, err);
	if (!rc) {
		/* Answer from memory: what was just stored. */
		struct job_row j = {0};
		char d[TS_BUFSZ], plans[4096];

		if (rq->count > 1)
			buf_addf(out, "{\"array_id\":\"%s\",\"count\":%zu,\"jobs\":[", array_id, ncopies);
		for (size_t c = 0; c < ncopies; c++) {
			struct copy *cp = &copies[c];
			const struct planner_source *src = &s->regions[cp->region].ci;
			struct buf segs;

			j = (struct job_row){.id = cp->id,
					     .name = rq->name,
					     .state = "scheduled",
					     .origin = rq->origin,
					     .region = sched_region_id(s->model, cp->region),
					     .fc_model = src->model,
					     .cb_url = rq->callback_url,
					     .risk = risk_name(rq->risk),
					     .array_id = array_id[0] ? array_id : NULL,
					     .power_kw = rq->power_kw,
					     .expected_g = cp->expected_g,
					     .baseline_g = baseline_g,
					     .measured_kwh = NAN,
					     .realised_g = NAN,
					     .realised_baseline_g = NAN,
					     .duration = rq->duration,
					     .earliest = jp->job.earliest_start,
					     .deadline = rq->deadline,
					     .start = cp->start,
					     .end = cp->end,
					     .fc_issued = src->issued_at,
					     .submitted = ba->now,
					     .created = ba->now,
					     .interruptible = rq->interruptible,
					     .seg = cp->seg,
					     .nseg = cp->nseg,
					     .array_index = (int)c,
					     .array_count = (int)ncopies};
			buf_init(&segs, 0);
			segments_json(cp->seg, cp->nseg, &segs);
			char real[TS_BUFSZ], issued[TS_BUFSZ + 2] = "null";
			struct buf model;
			buf_init(&model, 0);
			buf_add_json_string(&model, src->model);
			if (src->issued_at)
				snprintf(issued, sizeof(issued), "\"%s\"", ts_format(src->issued_at, real));
			snprintf(
			    plans, sizeof(plans),
			    "[{\"planned_at\":\"%s\",\"clock_at\":\"%s\",\"region\":\"%s\",\"segments\":%s,"
			    "\"expected_g\":%.3f,\"reason\":\"booked\",\"forecast\":{\"model\":%s,\"issued_"
			    "at\":%s}}]",
			    ts_format(ts_now(), real), ts_format(ba->now, d), j.region, segs.data,
			    round3(cp->expected_g), model.data, issued);
			buf_release(&model);
			buf_release(&segs);
			if (c)
				buf_addc(out, ',');
			put_job(out, &j, rq->count > 1 ? NULL : plans);
		}
		if (rq->count > 1)
			buf_adds(out, "]}");
		buf_addc(out, '\n');
		snprintf(ret_id, 37, "%s", array_id[0] ? array_id : copies[0].id);
	}
	arr_release(&a_id), arr_release(&a_key), arr_release(&a_region), arr_release(&a_s), arr_release(&a_e);
	arr_release(&a_g), arr_release(&a_fm), arr_release(&a_fi), arr_release(&a_idx), arr_release(&a_segs);
	arr_release(&s_job), arr_release(&s_seq), arr_release(&s_s), arr_release(&s_e),
	    arr_release(&r_region);
	arr_release(&r_ts), arr_release(&r_job);
	if (!rc)
		goto out;
rollback:
	if (in_txn)
		db_rollback(db);
out:
	free(copies);
	free(bseg);
	arr_release(&cands);
	sched_batch_release(&batch);
	sched_result_release(&res);
	sched_capacity_free(cap);
	return rc;
}

/* Tell every replica that bookings changed (after the commit: see
 * db_stmts_jobs.h).  Best effort: a replica's advice may lag a moment. */
static void bump_version(const struct jobs_env *env, struct db *db)
{
	struct db_res *r;

	if (!db_exec(db, DB_JOBS_VERSION_BUMP, NULL, 0, &r, NULL))
		db_res_free(r);
	planner_jobs_changed(env->planner);
}

static bool is_unique_violation(const struct err_detail *err)
{
	return strstr(err->msg, "SQLSTATE 23505") != NULL;
}

int jobs_book(const struct jobs_env *env, struct db *db, const struct job_req *rq, const char *key,
	      struct buf *out, bool *ret_created, char ret_id[37], struct err_detail *err)
{
	struct planner_snap *s = NULL;
	struct jobs_plan jp = {0};
	struct callback_url cu;
	char fp[33], *canonical = NULL;
	bool found = false;
	int rc;

	jobreq_fingerprint(rq, fp);
	if (key && ((rc = replay_key(db, env->tenant, key, fp, out, &found, ret_id, err)) || found)) {
		*ret_created = false;
		return rc;
	}
	if (rq->callback_url && (rc = callback_check(env->cfg, rq->callback_url, "callback_url", &cu, err)))
		return rc;
	if ((rc = planner_acquire(env->planner, &s, err)))
		return rc;
	int64_t now = clock_now(env->clock);
	if ((rc = jobs_prepare(env, s, rq, now, &jp, err)))
		goto out;
	canonical = jobreq_canonical(rq);
	struct book_args ba = {env, s, rq, &jp, key, fp, canonical, now};
	for (int attempt = 0; attempt < BOOK_ATTEMPTS; attempt++) {
		size_t mark = out->len;

		/* Relocatable jobs book optimistically; the last attempt locks every candidate. */
		rc = book_once(&ba, db, jp.ncand > 1 && attempt < BOOK_ATTEMPTS - 1, out, ret_id, err);
		if (rc != ERR_CONFLICT)
			break;
		out->len = mark;
		if (key && is_unique_violation(err)) {
			/* Another request with this key won the race: its job is the answer. */
			if ((rc = replay_key(db, env->tenant, key, fp, out, &found, ret_id, err)) || found)
				break;
		}
		log_debug("booking: retrying after a conflict: %s", err->msg);
	}
	if (!rc && !found)
		bump_version(env, db);
	*ret_created = !found;
out:
	free(canonical);
	jobs_plan_release(&jp);
	planner_release(env->planner, s);
	return rc;
}

/* ---- lifecycle -------------------------------------------------------------- */

/* Lock and read a job; *ret (free with db_res_free) has one row. */
static int lock_job(struct db *db, const char *id, const char *tenant, struct db_res **ret,
		    struct err_detail *err)
{
	const char *p[2] = {id, tenant};
	struct db_res *r;
	int rc;

	if ((rc = check_id(id, err)) || (rc = db_exec(db, DB_JOB_GET_LOCKED, p, 2, &r, err)))
		return rc;
	if (!db_res_rows(r)) {
		db_res_free(r);
		return err_set(err, ERR_NOT_FOUND, "id", "no job '%s'", id);
	}
	*ret = r;
	return ERR_OK;
}

static int body_doc(const char *body, size_t len, const char *const *allowed, json_t **ret,
		    struct err_detail *err)
{
	json_t *doc;
	int rc;

	if (!len) {
		*ret = json_object();
		return ERR_OK;
	}
	if ((rc = jh_parse(body, len, &doc, err)))
		return rc;
	if (!json_is_object(doc)) {
		json_decref(doc);
		return err_set(err, ERR_INVALID, "body", "the body must be a JSON object");
	}
	if ((rc = jh_only_keys(doc, allowed, NULL, err))) {
		json_decref(doc);
		return rc;
	}
	*ret = doc;
	return ERR_OK;
}

/* Finish a lifecycle transaction: commit, then answer the job as stored. */
static int finish(const struct jobs_env *env, struct db *db, const char *id, struct buf *out,
		  struct err_detail *err)
{
	int rc = db_commit(db, err);

	if (rc)
		return rc;
	bump_version(env, db);
	return jobs_get(env, db, id, out, err);
}

static int lock_region(struct db *db, const char *region, struct err_detail *err)
{
	struct pgarr a;
	int rc;

	arr_init(&a);
	arr_text(&a, region);
	const char *p[1] = {arr_end(&a)};
	rc = db_exec(db, DB_JOBS_LOCK_REGIONS, p, 1, NULL, err);
	arr_release(&a);
	return rc;
}

static int64_t body_time(json_t *doc, const char *key, int64_t def, int64_t now, int *rc,
			 struct err_detail *err)
{
	int64_t t = def;
	char a[TS_BUFSZ], b[TS_BUFSZ];

	if (*rc || (*rc = jh_time(doc, key, NULL, false, &t, err)))
		return def;
	if (t > now + 60) {
		*rc = err_set(err, ERR_INVALID, key, "'%s' (%s) is in the future: the service clock says %s",
			      key, ts_format(t, a), ts_format(now, b));
		return def;
	}
	return t;
}

int jobs_start_body_parse(const char *body, size_t len, int64_t now, int64_t *ret_at, struct err_detail *err)
{
	static const char *const allowed[] = {"started_at", NULL};
	json_t *doc;
	int rc;

	if ((rc = body_doc(body, len, allowed, &doc, err)))
		return rc;
	*ret_at = body_time(doc, "started_at", now, now, &rc, err);
	json_decref(doc);
	return rc;
}

int jobs_start(const struct jobs_env *env, struct db *db, const char *id, const char *body, size_t len,
	       struct buf *out, struct err_detail *err)
{
	int64_t now = clock_now(env->clock), at;
	struct db_res *r = NULL;
	int rc;

	if ((rc = check_id(id, err)) || (rc = jobs_start_body_parse(body, len, now, &at, err)) ||
	    (rc = db_begin(db, err)))
		return rc;
	if ((rc = lock_job(db, id, env->tenant, &r, err)))
		goto fail;
	const char *state = db_res_get(r, 0, JC_STATE);
	if (strcmp(state, "scheduled")) {
		rc = err_set(err, ERR_CONFLICT, "state", "job '%s' is %s: only a scheduled job can start", id,
			     state);
		goto fail;
	}
	char t[24];
	const char *p[2] = {id, db_param_time(at, t)};
	if ((rc = db_exec(db, DB_JOB_SET_RUNNING, p, 2, NULL, err)))
		goto fail;
	db_res_free(r);
	return finish(env, db, id, out, err);
fail:
	db_res_free(r);
	db_rollback(db);
	return rc;
}

int jobs_cancel(const struct jobs_env *env, struct db *db, const char *id, struct buf *out,
		struct err_detail *err)
{
	int64_t now = clock_now(env->clock);
	struct db_res *r = NULL;
	char t[24];
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = lock_job(db, id, env->tenant, &r, err)))
		goto fail;
	const char *state = db_res_get(r, 0, JC_STATE);
	if (!strcmp(state, "cancelled")) {
		db_res_free(r);
		db_rollback(db);
		return jobs_get(env, db, id, out, err);
	}
	if (strcmp(state, "scheduled") && strcmp(state, "running")) {
		rc = err_set(err, ERR_CONFLICT, "state", "job '%s' is %s and cannot be cancelled", id, state);
		goto fail;
	}
	/* A running job keeps the steps it has used. */
	const char *p[2] = {
	    id, db_param_time(!strcmp(state, "running") ? ts_ceil(now, env->cfg->sched_step) : 0, t)};
	if ((rc = lock_region(db, db_res_get(r, 0, JC_REGION), err)) ||
	    (rc = db_exec(db, DB_RESERVATIONS_FREE_FROM, p, 2, NULL, err)) ||
	    (rc = db_exec(db, DB_JOB_SET_CANCELLED, p, 1, NULL, err)))
		goto fail;
	db_res_free(r);
	return finish(env, db, id, out, err);
fail:
	db_res_free(r);
	db_rollback(db);
	return rc;
}

/* Stored values of (zone of r, kind) over [from, to) on the signal's own
 * step; *ret released by the caller. */
static int actuals(const struct jobs_env *env, struct db *db, const struct region_cfg *r, const char *kind,
		   int64_t from, int64_t to, struct series *ret, struct err_detail *err)
{
	struct store_series ser;
	int rc = sigcache_find_series(env->cache, db, r->zone, kind, NULL, r->sources, &ser, err);

	if (rc)
		return rc;
	return sigcache_read(env->cache, db, &ser, ts_floor(from, ser.step), ts_ceil(to, ser.step), ret, err);
}

/* Emissions (g) of 'kwh' spread evenly over the intervals, in region r, on
 * the signals that really happened: carbon intensity × PUE (the constant,
 * or the temperature model on the stored temperatures).  ERR_NOT_FOUND
 * naming the first step without a value. */
static int realised(const struct jobs_env *env, struct db *db, const struct region_cfg *r,
		    const struct sched_segment *iv, size_t n, double kwh, double *ret_g,
		    struct err_detail *err)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, total = 0;
	struct series ci, temp;
	bool have_temp = false;
	double g = 0;
	char t[TS_BUFSZ];
	int rc;

	for (size_t i = 0; i < n; i++) {
		lo = iv[i].start < lo ? iv[i].start : lo;
		hi = iv[i].end > hi ? iv[i].end : hi;
		total += iv[i].end - iv[i].start;
	}
	if (total <= 0) {
		*ret_g = 0;
		return ERR_OK;
	}
	if ((rc = actuals(env, db, r, "carbon_intensity", lo, hi, &ci, err)))
		return err_set(err, ERR_NOT_FOUND, "region",
			       "no carbon_intensity signal for region '%s' (zone '%s')", r->id, r->zone);
	if (r->pue_kind == PUE_TEMPERATURE)
		have_temp = !actuals(env, db, r, "temperature", lo, hi, &temp, NULL);
	for (size_t i = 0; i < n && !rc; i++) {
		for (int64_t s = ts_floor(iv[i].start, ci.step); s < iv[i].end; s += ci.step) {
			int64_t a = s > iv[i].start ? s : iv[i].start,
				e = s + ci.step < iv[i].end ? s + ci.step : iv[i].end;
			double v = series_at(&ci, s), pue = r->pue;

			if (isnan(v)) {
				rc = err_set(
				    err, ERR_NOT_FOUND, "region",
				    "no carbon intensity for '%s' at %s yet (the signal has not arrived)",
				    r->zone, ts_format(s, t));
				break;
			}
			if (r->pue_kind == PUE_TEMPERATURE && have_temp) {
				double tc = series_at(&temp, ts_floor(s, temp.step));
				if (!isnan(tc))
					pue = r->pue + r->pue_k * fmax(0, tc - r->pue_t0);
			}
			g += kwh * (double)(e - a) / (double)total * v * pue;
		}
	}
	series_release(&ci);
	if (have_temp)
		series_release(&temp);
	if (!rc)
		*ret_g = g;
	return rc;
}

/* Realised emissions of the job in row 0 of r, which ran from 'began' to
 * 'done' with 'kwh' measured: from the start to completion, or for an
 * interruptible job its planned segments up to completion; and the
 * realised baseline: the same energy over the same run time from its
 * submission in the origin region.  Either is NAN (and logged) when the
 * signals do not cover it yet.  Errors: ERR_DB. */
static int job_realised(const struct jobs_env *env, struct db *db, const struct db_res *r, int64_t began,
			int64_t done, double kwh, double *ret_g, double *ret_base, struct err_detail *err)
{
	const char *id = db_res_get(r, 0, JC_ID);
	const struct region_cfg *region = config_region(env->cfg, db_res_get(r, 0, JC_REGION));
	const struct region_cfg *origin = config_region(env->cfg, db_res_get(r, 0, JC_ORIGIN));
	struct sched_segment *iv;
	struct err_detail why;
	size_t n = 0;
	int64_t ran = 0, submitted = db_res_int64(r, 0, JC_SUBMITTED);
	int rc;

	*ret_g = *ret_base = NAN;
	if (db_res_bool(r, 0, JC_INTERRUPTIBLE)) {
		const char *ids[1] = {id};
		struct sched_segment *seg;
		size_t off, cnt;

		if ((rc = load_segments(db, ids, 1, &seg, &off, &cnt, err)))
			return rc;
		iv = xcalloc(cnt ? cnt : 1, sizeof(*iv));
		for (size_t k = 0; k < cnt && seg[off + k].start < done; k++) {
			iv[n] = seg[off + k];
			if (iv[n].end > done)
				iv[n].end = done;
			n++;
		}
		free(seg);
	} else {
		iv = xmalloc(sizeof(*iv));
		iv[n++] = (struct sched_segment){began, done};
	}
	for (size_t k = 0; k < n; k++)
		ran += iv[k].end - iv[k].start;
	if (region && realised(env, db, region, iv, n, kwh, ret_g, &why))
		log_info("job '%s': realised emissions unknown: %s", id, why.msg);
	struct sched_segment bl = {submitted, submitted + ran};
	if (origin && ran > 0 && submitted && realised(env, db, origin, &bl, 1, kwh, ret_base, &why))
		log_info("job '%s': realised baseline unknown: %s", id, why.msg);
	free(iv);
	return ERR_OK;
}

int jobs_complete_body_parse(const char *body, size_t len, int64_t now, double *ret_kwh, int64_t *ret_done,
			     int64_t *ret_began, struct err_detail *err)
{
	static const char *const allowed[] = {"measured_kwh", "completed_at", "started_at", NULL};
	json_t *doc;
	int rc;

	*ret_kwh = NAN;
	if ((rc = body_doc(body, len, allowed, &doc, err)))
		return rc;
	rc = jh_number(doc, "measured_kwh", NULL, true, 0, 1e9, ret_kwh, err);
	*ret_done = body_time(doc, "completed_at", now, now, &rc, err);
	*ret_began = body_time(doc, "started_at", 0, now, &rc, err);
	json_decref(doc);
	return rc;
}

int jobs_complete(const struct jobs_env *env, struct db *db, const char *id, const char *body, size_t len,
		  struct buf *out, struct err_detail *err)
{
	int64_t now = clock_now(env->clock), done, began = 0;
	struct db_res *r = NULL;
	double kwh = NAN, g = NAN, base = NAN;
	int rc;

	if ((rc = check_id(id, err)) ||
	    (rc = jobs_complete_body_parse(body, len, now, &kwh, &done, &began, err)) ||
	    (rc = db_begin(db, err)))
		return rc;
	if ((rc = lock_job(db, id, env->tenant, &r, err)))
		goto fail;
	const char *state = db_res_get(r, 0, JC_STATE);
	if (strcmp(state, "scheduled") && strcmp(state, "running")) {
		rc = err_set(err, ERR_CONFLICT, "state",
			     "job '%s' is %s: only a scheduled or running job can complete", id, state);
		goto fail;
	}
	if (!began)
		began = db_res_int64(r, 0, JC_STARTED) ? db_res_int64(r, 0, JC_STARTED)
						       : db_res_int64(r, 0, JC_START);
	if (done <= began) {
		char a[TS_BUFSZ], b[TS_BUFSZ];
		rc = err_set(err, ERR_INVALID, "completed_at",
			     "'completed_at' (%s) must be after the start (%s)", ts_format(done, a),
			     ts_format(began, b));
		goto fail;
	}
	if ((rc = job_realised(env, db, r, began, done, kwh, &g, &base, err)))
		goto fail;
	char tb[24], td[24], tk[32], tg[32], tbase[32];
	snprintf(tk, sizeof(tk), "%.17g", kwh);
	snprintf(tg, sizeof(tg), "%.17g", g);
	snprintf(tbase, sizeof(tbase), "%.17g", base);
	const char *p[6] = {id, db_param_time(began, tb), db_param_time(done, td),
			    tk, isnan(g) ? NULL : tg,	  isnan(base) ? NULL : tbase};
	const char *pf[2] = {id, td};
	if ((rc = db_exec(db, DB_JOB_SET_COMPLETED, p, 6, NULL, err)) ||
	    (rc = lock_region(db, db_res_get(r, 0, JC_REGION), err)) ||
	    (rc = db_exec(db, DB_RESERVATIONS_FREE_FROM, pf, 2, NULL, err)))
		goto fail;
	db_res_free(r);
	return finish(env, db, id, out, err);
fail:
	db_res_free(r);
	db_rollback(db);
	return rc;
}

int jobs_fill_realised(const struct jobs_env *env, struct db *db, size_t *ret_filled, struct err_detail *err)
{
	int64_t now = clock_now(env->clock);
	char since[24];
	const char *p[1] = {db_param_time(now - 7 * TS_DAY, since)};
	struct db_res *ids;
	size_t filled = 0;
	int rc;

	if ((rc = db_exec(db, DB_REALISED_PENDING, p, 1, &ids, err)))
		return rc;
	for (size_t i = 0, n = db_res_rows(ids); i < n && !rc; i++) {
		const char *id = db_res_get(ids, i, 0);
		struct db_res *r = NULL;
		double g, base;

		if ((rc = db_begin(db, err)))
			break;
		if (!(rc = lock_job(db, id, env->tenant, &r, err)) &&
		    !strcmp(db_res_get(r, 0, JC_STATE), "completed") &&
		    !(rc = job_realised(env, db, r, db_res_int64(r, 0, JC_STARTED),
					db_res_int64(r, 0, JC_COMPLETED), db_res_double(r, 0, JC_MEASURED),
					&g, &base, err))) {
			char tg[32], tb[32];
			snprintf(tg, sizeof(tg), "%.17g", g);
			snprintf(tb, sizeof(tb), "%.17g", base);
			const char *pu[3] = {id, isnan(g) ? NULL : tg, isnan(base) ? NULL : tb};
			rc = db_exec(db, DB_REALISED_SET, pu, 3, NULL, err);
			filled += !isnan(g) && !isnan(base);
		}
		db_res_free(r);
		if (!rc)
			rc = db_commit(db, err);
		else
			db_rollback(db);
	}
	db_res_free(ids);
	if (ret_filled)
		*ret_filled = filled;
	return rc;
}

/* ---- re-planning ------------------------------------------------------------ */

/* Indices of the regions of a text[] literal "{a,b}" in the model. */
static size_t parse_candidates(const struct sched_model *m, const char *lit, size_t *out, size_t max)
{
	size_t n = 0;
	const char *p = lit;

	if (*p == '{')
		p++;
	while (*p && *p != '}' && n < max) {
		size_t len = strcspn(p, ",}");
		char id[72];
		int r;

		snprintf(id, sizeof(id), "%.*s", (int)(len < 71 ? len : 71), p);
		if ((r = sched_model_find(m, id)) >= 0)
			out[n++] = (size_t)r;
		p += len;
		if (*p == ',')
			p++;
	}
	return n;
}

/* Re-plan one job; *ret_moved when it moved. */
static int replan_one(const struct jobs_env *env, struct db *db, const struct planner_snap *s, const char *id,
		      int64_t now, bool *ret_moved, struct err_detail *err)
{
	const struct sched_model *m = s->model;
	struct db_res *r = NULL, *own = NULL;
	struct sched_capacity *cap = sched_capacity_new(m, INFINITY);
	struct sched_result res;
	struct sched_segment *seg = NULL;
	size_t *cand = xcalloc(sched_model_regions(m) + 1, sizeof(size_t)), ncand, off, cnt;
	struct pgarr cl;
	struct sched_job job;
	int rc;

	*ret_moved = false;
	sched_result_init(&res);
	arr_init(&cl);
	if ((rc = db_begin(db, err)))
		goto out;
	if ((rc = lock_job(db, id, env->tenant, &r, err)))
		goto rollback;
	if (strcmp(db_res_get(r, 0, JC_STATE), "scheduled") ||
	    db_res_int64(r, 0, JC_START) < s->start + s->step)
		goto rollback; /* started, cancelled, or about to start: leave it */
	ncand = parse_candidates(m, db_res_get(r, 0, JC_CANDIDATES), cand, sched_model_regions(m));
	int cur = sched_model_find(m, db_res_get(r, 0, JC_REGION));
	if (!ncand || cur < 0)
		goto rollback;
	arr_release(&cl);
	cand_literal(s, cand, ncand, &cl);
	const char *pl[1] = {cl.b.data}, *pid[1] = {id}, *ids[1] = {id};
	if ((rc = db_exec(db, DB_JOBS_LOCK_REGIONS, pl, 1, NULL, err)) ||
	    (rc = read_capacity(env, db, s, cl.b.data, cap, err)) ||
	    (rc = db_exec(db, DB_JOB_RESERVATIONS, pid, 1, &own, err)) ||
	    (rc = load_segments(db, ids, 1, &seg, &off, &cnt, err)))
		goto rollback;
	/* The job's own reservations are free for its new plan. */
	for (size_t i = 0, n = db_res_rows(own); i < n; i++) {
		int ri = sched_model_find(m, db_res_get(own, i, 0));
		int64_t t = (ts_floor(db_res_int64(own, i, 1), s->step) - s->start) / s->step;

		if (ri >= 0 && t >= 0 && (size_t)t < cap->n_steps)
			sched_capacity_row(cap, (size_t)ri)[t] += db_res_double(own, i, 2);
	}
	sched_job_init(&job);
	job.submit = now;
	job.earliest_start =
	    ts_ceil(db_res_int64(r, 0, JC_EARLIEST) > now ? db_res_int64(r, 0, JC_EARLIEST) : now, s->step);
	if (job.earliest_start < s->start + s->step)
		job.earliest_start = s->start + s->step;
	job.deadline = db_res_int64(r, 0, JC_DEADLINE);
	job.duration = db_res_int64(r, 0, JC_DURATION);
	job.power_kw = db_res_double(r, 0, JC_POWER);
	job.interruptible = db_res_bool(r, 0, JC_INTERRUPTIBLE);
	job.min_segment = db_res_int64(r, 0, JC_MIN_SEG);
	job.max_segments = (int)db_res_int64(r, 0, JC_MAX_SEG);
	job.risk = !strcmp(db_res_get(r, 0, JC_RISK), "p90") ? SCHED_P90 : SCHED_P50;
	job.origin = sched_model_find(m, db_res_get(r, 0, JC_ORIGIN));
	job.regions = cand;
	job.n_regions = ncand;
	job.max_alternatives = 0;
	if (job.deadline > s->end || job.deadline - job.earliest_start < job.duration)
		goto rollback;
	/* The current plan priced on the new inputs, on the job's risk quantile. */
	double old =
	    sched_charge_segments(m, &job, seg + off, cnt, sched_region_intensity(m, (size_t)cur, job.risk));
	if ((rc = sched_place(m, cap, &job, &res, err))) {
		rc = ERR_OK; /* nowhere to go: keep the plan */
		goto rollback;
	}
	double gain = isnan(old) ? INFINITY : (old - res.best.decision_g) / old * 100;
	if (!(gain > env->cfg->replan_min_gain_pct) || !isfinite(res.best.decision_g))
		goto rollback;

	const struct sched_placement *b = &res.best;
	const struct sched_segment *ns = sched_segments(&res, b);
	const struct planner_source *src = &s->regions[b->region].ci;
	const char *region = sched_region_id(m, b->region);
	struct pgarr a_seq, a_s, a_e, a_ts;
	struct buf segs, reason;
	char ts1[24], ts2[24], exp[32], fi[24], kw[32], clk[24], tt[TS_BUFSZ];

	arr_init(&a_seq), arr_init(&a_s), arr_init(&a_e), arr_init(&a_ts);
	for (size_t k = 0; k < b->n_seg; k++) {
		arr_int(&a_seq, (int64_t)k);
		arr_int(&a_s, ns[k].start);
		arr_int(&a_e, ns[k].end);
		for (int64_t t = ns[k].start; t < ns[k].end; t += s->step)
			arr_int(&a_ts, ts_floor(t, s->step));
	}
	buf_init(&segs, 0);
	segments_json(ns, b->n_seg, &segs);
	buf_init(&reason, 0);
	if (isnan(old))
		buf_addf(
		    &reason,
		    "re-planned on the '%s' forecast issued %s: the old plan can no longer be priced; now "
		    "%.1f g",
		    src->model, src->issued_at ? ts_format(src->issued_at, tt) : "(not a stored run)",
		    b->decision_g);
	else
		buf_addf(&reason,
			 "re-planned on the '%s' forecast issued %s: %.1f g -> %.1f g (%s, -%.1f %%)",
			 src->model, src->issued_at ? ts_format(src->issued_at, tt) : "(not a stored run)",
			 old, b->decision_g, risk_name(job.risk), gain);
	snprintf(exp, sizeof(exp), "%.17g", b->expected_g);
	snprintf(kw, sizeof(kw), "%.17g", job.power_kw);
	const char *pu[7] = {id,
			     region,
			     db_param_time(b->start, ts1),
			     db_param_time(b->end, ts2),
			     exp,
			     src->model,
			     src->issued_at ? db_param_time(src->issued_at, fi) : NULL};
	const char *pi[13] = {id,
			      arr_end(&a_seq),
			      arr_end(&a_s),
			      arr_end(&a_e),
			      region,
			      kw,
			      arr_end(&a_ts),
			      segs.data,
			      exp,
			      reason.data,
			      db_param_time(now, clk),
			      src->model,
			      src->issued_at ? fi : NULL};
	rc = db_exec(db, DB_JOB_REPLAN_SET, pu, 7, NULL, err);
	if (!rc)
		rc = db_exec(db, DB_JOB_SEGMENTS_DELETE, pid, 1, NULL, err);
	if (!rc)
		rc = db_exec(db, DB_RESERVATIONS_DELETE, pid, 1, NULL, err);
	if (!rc)
		rc = db_exec(db, DB_JOB_REPLAN_INSERT, pi, 13, NULL, err);
	arr_release(&a_seq), arr_release(&a_s), arr_release(&a_e), arr_release(&a_ts);
	buf_release(&segs);
	if (!rc)
		rc = db_commit(db, err);
	if (!rc) {
		log_info("job '%s' %s", id, reason.data);
		*ret_moved = true;
	}
	buf_release(&reason);
	if (!rc)
		goto out;
rollback:
	db_rollback(db);
out:
	db_res_free(r);
	db_res_free(own);
	free(seg);
	free(cand);
	arr_release(&cl);
	sched_result_release(&res);
	sched_capacity_free(cap);
	return rc;
}

int jobs_replan_all(const struct jobs_env *env, struct db *db, const struct planner_snap *s,
		    size_t *ret_checked, size_t *ret_moved, struct err_detail *err)
{
	int64_t now = clock_now(env->clock);
	char t[24], lim[16];
	const char *p[2] = {db_param_time(s->start + s->step, t), lim};
	struct db_res *r;
	size_t moved = 0, checked = 0;
	int rc;

	snprintf(lim, sizeof(lim), "%d", REPLAN_BATCH);
	if ((rc = db_exec(db, DB_REPLAN_CANDIDATES, p, 2, &r, err)))
		return rc;
	for (size_t i = 0, n = db_res_rows(r); i < n && !rc; i++) {
		bool m = false;
		int attempt = 0;

		do
			rc = replan_one(env, db, s, db_res_get(r, i, 0), now, &m, err);
		while (rc == ERR_CONFLICT && ++attempt < BOOK_ATTEMPTS);
		if (rc == ERR_NOT_FOUND)
			rc = ERR_OK; /* deleted meanwhile */
		checked++;
		moved += m;
	}
	db_res_free(r);
	if (moved)
		bump_version(env, db);
	if (ret_checked)
		*ret_checked = checked;
	if (ret_moved)
		*ret_moved = moved;
	return rc;
}

/* ---- start callbacks -------------------------------------------------------- */

int jobs_callbacks_due(const struct jobs_env *env, struct db *db, jobs_send_fn send, void *ctx,
		       size_t *ret_sent, struct err_detail *err)
{
	size_t sent = 0;
	int rc = ERR_OK;

	for (;;) {
		int64_t now = clock_now(env->clock);
		char t[24], max[8];
		const char *p[2] = {db_param_time(now, t), max};
		struct db_res *r;

		snprintf(max, sizeof(max), "%d", CALLBACK_MAX_ATTEMPTS);
		if ((rc = db_begin(db, err)))
			break;
		if ((rc = db_exec(db, DB_CALLBACKS_DUE, p, 2, &r, err))) {
			db_rollback(db);
			break;
		}
		if (!db_res_rows(r)) {
			db_res_free(r);
			db_rollback(db);
			break;
		}
		struct job_row j;
		struct sched_segment *seg = NULL;
		size_t off = 0, cnt = 0;
		struct buf body;
		struct err_detail why = {{0}, {0}};

		row_read(r, 0, &j);
		const char *ids[1] = {j.id};
		if ((rc = load_segments(db, ids, 1, &seg, &off, &cnt, err))) {
			db_res_free(r);
			db_rollback(db);
			break;
		}
		j.seg = seg + off;
		j.nseg = cnt;
		buf_init(&body, 0);
		buf_adds(&body, "{\"event\":\"job.start\",\"job\":");
		put_job(&body, &j, NULL);
		buf_adds(&body, "}\n");
		int status = send(ctx, j.cb_url, body.data, body.len, &why);
		char st[16], next[24];
		snprintf(st, sizeof(st), "%d", status > 0 ? status : 0);
		if (status >= 200 && status < 300) {
			const char *ps[3] = {j.id, db_param_time(now, t), st};
			rc = db_exec(db, DB_CALLBACK_SENT, ps, 3, NULL, err);
			sent++;
		} else {
			/* Back off: 30 s, 1 min, 2 min, ... on the service clock. */
			int64_t wait = (int64_t)30 << (j.cb_attempts < 10 ? j.cb_attempts : 10);
			const char *pf[4] = {j.id, status > 0 ? st : NULL, why.msg[0] ? why.msg : "failed",
					     db_param_time(now + wait, next)};
			log_warn("job '%s': callback to '%s' failed (attempt %d of %d): %s", j.id, j.cb_url,
				 j.cb_attempts + 1, CALLBACK_MAX_ATTEMPTS, why.msg);
			rc = db_exec(db, DB_CALLBACK_FAILED, pf, 4, NULL, err);
		}
		buf_release(&body);
		free(seg);
		db_res_free(r);
		if (!rc)
			rc = db_commit(db, err);
		else
			db_rollback(db);
		if (rc)
			break;
	}
	if (ret_sent)
		*ret_sent = sent;
	return rc;
}
