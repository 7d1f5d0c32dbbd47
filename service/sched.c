/*
 * sched.c - the placement engine (DESIGN.md §4).
 *
 * Why it is shaped this way:
 *  - The model holds each region's effective intensity (CI × PUE) on one
 *    grid, with prefix sums per quantile, computed once.  A non-interruptible
 *    job of constant power then costs O(1) per candidate start, so the search
 *    is one linear pass over the window per region; the same pass tracks the
 *    run of eligible steps (no gap, enough capacity) ending at each step.
 *  - Interruptible jobs take the n cheapest eligible steps of the window:
 *    a quickselect on (value, index) keys, O(W) on average, never a sort of
 *    the window.  The key includes the index so ties go to earlier steps and
 *    the answer is deterministic.  With a minimum segment length or a cap on
 *    the number of segments the problem is no longer a selection; it is
 *    solved exactly by a dynamic programme over (step, steps taken,
 *    segments, in-run) with a size limit.
 *  - Costs come from prefix sums, whose rounding differs from a direct sum
 *    in the last bits; candidates within a relative 1e-9 are ties, and ties
 *    go to the earliest start, then to the origin region.
 *  - A job's run is ceil(duration / step) steps; the last one may be
 *    partial and is charged for the time actually run.  Grid times are the
 *    starts of steps; earliest start and submit are snapped down to the
 *    grid (a job may start anywhere in its first step).
 *  - Capacity is a separate plain array, so the same read-only model serves
 *    concurrent requests, each with the capacity its bookings left.
 */
#include "service/sched.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"

struct region {
	char *id, *zone;
	char **tags;
	size_t n_tags;
	double *eff[SCHED__NQ]; /* p10/p90 may alias p50 */
	double *pre[SCHED__NQ]; /* n + 1 prefix sums, gaps counted as 0 */
	int64_t horizon;
};

struct sched_model {
	int64_t start;
	int32_t step;
	size_t n;
	struct region *r;
	size_t nr, cap;
};

/* Tolerance of cost comparisons: prefix-sum rounding must not break ties. */
static inline double tol(double a, double b)
{
	return 1e-9 * fmax(fabs(a), fabs(b)) + 1e-12;
}

/* a clearly below b (b may be INFINITY) */
static inline bool less_tol(double a, double b)
{
	if (!(a < b))
		return false;
	return isinf(b) || b - a > tol(a, b);
}

/* ---- model ------------------------------------------------------------ */

struct sched_model *sched_model_new(int64_t start, int32_t step, size_t n)
{
	struct sched_model *m = xcalloc(1, sizeof(*m));

	m->start = start;
	m->step = step;
	m->n = n;
	return m;
}

static void region_release(struct region *r)
{
	free(r->id);
	free(r->zone);
	for (size_t i = 0; i < r->n_tags; i++)
		free(r->tags[i]);
	free(r->tags);
	for (int q = 0; q < SCHED__NQ; q++) {
		if (q != SCHED_P50 && r->eff[q] == r->eff[SCHED_P50])
			continue;
		free(r->eff[q]);
		free(r->pre[q]);
	}
}

void sched_model_free(struct sched_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr; i++)
		region_release(&m->r[i]);
	free(m->r);
	free(m);
}

/* Values of s on the model grid (n values into out). */
static int to_grid(const struct sched_model *m, const struct series *s, const char *field, double *out,
		   struct err_detail *err)
{
	struct series g;
	int rc;

	if (s->step <= 0)
		return err_set(err, ERR_INVALID, field, "series step must be positive");
	rc = series_resample(s, m->step, &g);
	if (rc)
		return err_set(err, ERR_INVALID, field, "series step %d s does not fit the grid step %d s",
			       (int)s->step, (int)m->step);
	if (g.n && (g.start - m->start) % m->step) {
		series_release(&g);
		return err_set(err, ERR_INVALID, field, "series is not aligned on the %d s grid",
			       (int)m->step);
	}
	for (size_t i = 0; i < m->n; i++)
		out[i] = series_at(&g, m->start + (int64_t)i * m->step);
	series_release(&g);
	return ERR_OK;
}

static double *prefix_sums(const double *v, size_t n)
{
	double *p = xmalloc((n + 1) * sizeof(*p));

	p[0] = 0;
	for (size_t i = 0; i < n; i++)
		p[i + 1] = p[i] + (isnan(v[i]) ? 0 : v[i]);
	return p;
}

int sched_model_add_region(struct sched_model *m, const struct sched_region_spec *spec, size_t *ret_index,
			   struct err_detail *err)
{
	static const char *const qname[SCHED__NQ] = {"p10", "p50", "p90"};
	struct region r = {0};
	double *pue = NULL;
	char field[64];
	int rc = ERR_OK;

	if (!spec->id || !*spec->id)
		return err_set(err, ERR_INVALID, "id", "region id is empty");
	if (sched_model_find(m, spec->id) >= 0)
		return err_set(err, ERR_CONFLICT, "id", "region '%s' is defined twice", spec->id);
	if (!spec->ci[SCHED_P50])
		return err_set(err, ERR_INVALID, "ci", "region '%s' has no p50 carbon intensity", spec->id);
	if (!spec->pue[SCHED_P50] && spec->pue_const < 0)
		return err_set(err, ERR_INVALID, "pue", "region '%s': pue must be positive", spec->id);

	r.eff[SCHED_P50] = xmalloc(m->n * sizeof(double));
	for (int q = 0; q < SCHED__NQ && !rc; q++) {
		bool own_ci = spec->ci[q] != NULL, own_pue = spec->pue[q] != NULL;

		if (q != SCHED_P50 && !own_ci && !own_pue) {
			r.eff[q] = r.eff[SCHED_P50]; /* filled below */
			continue;
		}
		if (q != SCHED_P50)
			r.eff[q] = xmalloc(m->n * sizeof(double));
		snprintf(field, sizeof(field), "ci.%s", qname[q]);
		rc = to_grid(m, spec->ci[own_ci ? q : SCHED_P50], field, r.eff[q], err);
		if (rc)
			break;
		const struct series *ps = spec->pue[own_pue ? q : SCHED_P50];
		if (ps) {
			if (!pue)
				pue = xmalloc(m->n * sizeof(double));
			snprintf(field, sizeof(field), "pue.%s", qname[q]);
			rc = to_grid(m, ps, field, pue, err);
			for (size_t i = 0; !rc && i < m->n; i++)
				r.eff[q][i] *= pue[i] > 0 ? pue[i] : NAN;
		} else {
			double k = spec->pue_const > 0 ? spec->pue_const : 1.0;

			for (size_t i = 0; i < m->n; i++)
				r.eff[q][i] *= k;
		}
	}
	free(pue);
	if (rc) {
		region_release(&r);
		return rc;
	}
	r.horizon = m->start;
	for (size_t i = m->n; i-- > 0;)
		if (!isnan(r.eff[SCHED_P50][i])) {
			r.horizon = m->start + (int64_t)(i + 1) * m->step;
			break;
		}
	for (int q = 0; q < SCHED__NQ; q++)
		r.pre[q] =
		    q != SCHED_P50 && r.eff[q] == r.eff[SCHED_P50] ? NULL : prefix_sums(r.eff[q], m->n);
	for (int q = 0; q < SCHED__NQ; q++)
		if (!r.pre[q])
			r.pre[q] = r.pre[SCHED_P50];
	r.id = xstrdup(spec->id);
	r.zone = xstrdup(spec->zone ? spec->zone : spec->id);
	r.n_tags = spec->n_tags;
	r.tags = xcalloc(spec->n_tags ? spec->n_tags : 1, sizeof(char *));
	for (size_t i = 0; i < spec->n_tags; i++)
		r.tags[i] = xstrdup(spec->tags[i]);
	m->r = xgrow(m->r, &m->cap, m->nr + 1, sizeof(*m->r));
	m->r[m->nr] = r;
	*ret_index = m->nr++;
	return ERR_OK;
}

size_t sched_model_regions(const struct sched_model *m)
{
	return m->nr;
}

int64_t sched_model_start(const struct sched_model *m)
{
	return m->start;
}

int32_t sched_model_step(const struct sched_model *m)
{
	return m->step;
}

size_t sched_model_steps(const struct sched_model *m)
{
	return m->n;
}

int sched_model_find(const struct sched_model *m, const char *id)
{
	for (size_t i = 0; i < m->nr; i++)
		if (!strcmp(m->r[i].id, id))
			return (int)i;
	return -1;
}

const char *sched_region_id(const struct sched_model *m, size_t r)
{
	return m->r[r].id;
}

const char *sched_region_zone(const struct sched_model *m, size_t r)
{
	return m->r[r].zone;
}

bool sched_region_has_tag(const struct sched_model *m, size_t r, const char *tag)
{
	for (size_t i = 0; i < m->r[r].n_tags; i++)
		if (!strcmp(m->r[r].tags[i], tag))
			return true;
	return false;
}

const double *sched_region_intensity(const struct sched_model *m, size_t r, enum sched_quantile q)
{
	return m->r[r].eff[q];
}

int64_t sched_region_horizon(const struct sched_model *m, size_t r)
{
	return m->r[r].horizon;
}

/* ---- capacity --------------------------------------------------------- */

struct sched_capacity *sched_capacity_new(const struct sched_model *m, double kw)
{
	struct sched_capacity *c = xcalloc(1, sizeof(*c));

	c->n_regions = m->nr;
	c->n_steps = m->n;
	size_t cells = m->nr * m->n;

	c->kw = xmalloc((cells > 0 ? cells : 1) * sizeof(double));
	for (size_t r = 0; r < m->nr; r++)
		sched_capacity_set(c, r, kw);
	return c;
}

void sched_capacity_free(struct sched_capacity *c)
{
	if (!c)
		return;
	free(c->kw);
	free(c);
}

void sched_capacity_set(struct sched_capacity *c, size_t r, double kw)
{
	double *row = sched_capacity_row(c, r);

	for (size_t t = 0; t < c->n_steps; t++)
		row[t] = kw;
}

/* ---- jobs ------------------------------------------------------------- */

void sched_job_init(struct sched_job *job)
{
	memset(job, 0, sizeof(*job));
	job->risk = SCHED_P50;
	job->origin = -1;
	job->max_alternatives = 3;
}

void sched_result_init(struct sched_result *res)
{
	memset(res, 0, sizeof(*res));
	res->baseline_g = NAN;
}

void sched_result_release(struct sched_result *res)
{
	free(res->segments);
	free(res->scratch);
	free(res->dp);
	sched_result_init(res);
}

/* What the search of one job needs, derived once. */
struct plan {
	const struct sched_model *m;
	const struct sched_job *job;
	const struct sched_capacity *cap;
	size_t n;	/* steps of the run */
	int64_t rem;	/* seconds run in the last step */
	double h_full;	/* hours of a full step */
	double h_last;	/* hours of the last step */
	int64_t a, b;	/* window [a, b) of step indices, unclipped */
	size_t lo, hi;	/* window clipped to the grid */
	size_t m_seg;	/* minimum segment, steps (≥ 1) */
	size_t max_seg; /* 0 = unlimited */
};

static void plan_init(struct plan *p, const struct sched_model *m, const struct sched_job *job,
		      const struct sched_capacity *cap)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->job = job;
	p->cap = cap;
	p->n = (size_t)((job->duration + m->step - 1) / m->step);
	p->rem = job->duration - (int64_t)(p->n - 1) * m->step;
	p->h_full = m->step / 3600.0;
	p->h_last = (double)p->rem / 3600.0;
}

/* plan_init, then the window of start steps [lo, hi) on the model's grid:
 * ERR_INVALID naming the field when the capacity does not fit the model
 * or the job is longer than its window. */
static int plan_window(struct plan *p, const struct sched_model *m, const struct sched_job *job,
		       const struct sched_capacity *cap, struct err_detail *err)
{
	if (cap && (cap->n_regions != m->nr || cap->n_steps != m->n))
		return err_set(err, ERR_INVALID, "capacity", "capacity does not match the model");
	plan_init(p, m, job, cap);
	p->a = ts_floor(job->earliest_start - m->start, m->step) / m->step;
	p->b = ts_floor(job->deadline - p->rem - m->start, m->step) / m->step + 1;
	if (p->b - p->a < (int64_t)p->n)
		return err_set(err, ERR_INVALID, "duration",
			       "duration is longer than the window before the deadline on the %d s grid",
			       (int)m->step);
	p->lo = p->a < 0 ? 0 : (size_t)p->a;
	p->hi = p->b < 0 ? 0 : (size_t)p->b > m->n ? m->n : (size_t)p->b;
	if (p->hi < p->lo)
		p->hi = p->lo;
	return ERR_OK;
}

static inline double step_kw(const struct plan *p, size_t k)
{
	return p->job->profile_kw ? p->job->profile_kw[k] : p->job->power_kw;
}

static inline double step_hours(const struct plan *p, size_t k)
{
	return k + 1 == p->n ? p->h_last : p->h_full;
}

static inline bool cap_ok(const struct plan *p, size_t r, size_t t, double kw)
{
	if (!p->cap)
		return true;
	return p->cap->kw[r * p->cap->n_steps + t] + 1e-9 >= kw;
}

static size_t *scratch(struct sched_result *res, size_t bytes)
{
	if (bytes > res->scratch_cap) {
		free(res->scratch);
		res->scratch = xmalloc(bytes);
		res->scratch_cap = bytes;
	}
	return res->scratch;
}

static size_t add_segment(struct sched_result *res, int64_t start, int64_t end)
{
	res->segments = xgrow(res->segments, &res->seg_cap, res->n_segments + 1, sizeof(*res->segments));
	res->segments[res->n_segments] = (struct sched_segment){start, end};
	return res->n_segments++;
}

/* Emissions of a placement on intensity v (grid values), its segments in
 * time order: the k-th step run carries the k-th step of the job. */
static double cost_of_segments(const struct plan *p, const struct sched_segment *seg, size_t n_seg,
			       const double *v)
{
	const struct sched_model *m = p->m;
	double g = 0;
	size_t k = 0;

	for (size_t s = 0; s < n_seg; s++) {
		const struct sched_segment *sg = &seg[s];
		int64_t i = (sg->start - m->start) / m->step;
		int64_t e = i + (sg->end - sg->start + m->step - 1) / m->step;

		if (i < 0 || e > (int64_t)m->n)
			return NAN;
		for (; i < e; i++, k++)
			g += step_kw(p, k) * step_hours(p, k) * v[i];
	}
	return g;
}

static double cost_of(const struct plan *p, const struct sched_result *res, const struct sched_placement *pl,
		      const double *v)
{
	return cost_of_segments(p, res->segments + pl->seg_off, pl->n_seg, v);
}

/* Decision cost of a placement found by a search. */
static void fill_decision(const struct plan *p, const struct sched_result *res, struct sched_placement *pl)
{
	pl->decision_g = cost_of(p, res, pl, p->m->r[pl->region].eff[p->job->risk]);
}

/* Emissions on p50, p10 and p90 (and the decision cost) of a placement. */
static void fill_costs(const struct plan *p, const struct sched_result *res, struct sched_placement *pl)
{
	const struct region *r = &p->m->r[pl->region];

	pl->expected_g = cost_of(p, res, pl, r->eff[SCHED_P50]);
	pl->low_g =
	    r->eff[SCHED_P10] == r->eff[SCHED_P50] ? pl->expected_g : cost_of(p, res, pl, r->eff[SCHED_P10]);
	pl->high_g =
	    r->eff[SCHED_P90] == r->eff[SCHED_P50] ? pl->expected_g : cost_of(p, res, pl, r->eff[SCHED_P90]);
	pl->decision_g = p->job->risk == SCHED_P90 ? pl->high_g : pl->expected_g;
}

/* Segment end of a run whose last step (index t) is the job's last. */
static int64_t run_end(const struct plan *p, size_t t, bool last)
{
	int64_t ts = p->m->start + (int64_t)t * p->m->step;

	return ts + (last ? p->rem : p->m->step);
}

/* Best contiguous start in region r; false when none fits. */
static bool search_block(const struct plan *p, size_t r, struct sched_result *res,
			 struct sched_placement *ret)
{
	const struct region *rg = &p->m->r[r];
	const double *v = rg->eff[p->job->risk], *pre = rg->pre[p->job->risk];
	size_t n = p->n, run = 0, best_s = SIZE_MAX;
	double best = INFINITY, kw = p->job->power_kw;
	bool constant = !p->job->profile_kw;

	if (constant) {
		/* The hot loop of advice: everything it reads is in locals, so the
		 * compiler keeps it in registers (the plan and the capacity are
		 * otherwise reloaded at every step). */
		const double *cr = p->cap ? p->cap->kw + r * p->cap->n_steps : NULL;
		const double hf = p->h_full, hl = p->h_last;
		const size_t hi = p->hi;

		for (size_t t = p->lo; t < hi; t++) {
			run = !isnan(v[t]) && (!cr || cr[t] + 1e-9 >= kw) ? run + 1 : 0;
			if (run < n)
				continue;
			size_t s = t + 1 - n;
			double c = kw * (hf * (pre[t] - pre[s]) + hl * v[t]);
			if (less_tol(c, best)) {
				best = c;
				best_s = s;
			}
		}
	}
	for (size_t t = p->lo; !constant && t < p->hi; t++) {
		/* an energy profile: its capacity is checked per start */
		run = !isnan(v[t]) ? run + 1 : 0;
		if (run < n)
			continue;
		size_t s = t + 1 - n;
		bool fits = true;
		double c = 0;

		for (size_t k = 0; k < n && fits; k++) {
			fits = cap_ok(p, r, s + k, p->job->profile_kw[k]);
			c += p->job->profile_kw[k] * step_hours(p, k) * v[s + k];
		}
		if (fits && less_tol(c, best)) {
			best = c;
			best_s = s;
		}
	}
	if (best_s == SIZE_MAX)
		return false;
	ret->region = r;
	ret->start = p->m->start + (int64_t)best_s * p->m->step;
	ret->end = run_end(p, best_s + n - 1, true);
	ret->seg_off = add_segment(res, ret->start, ret->end);
	ret->n_seg = 1;
	ret->decision_g = best;
	return true;
}

/* Key of the selection: value, then index (earlier wins ties). */
struct key {
	double v;
	size_t i;
};

static inline bool key_less(const struct key *a, const struct key *b)
{
	return a->v < b->v || (a->v == b->v && a->i < b->i);
}

static inline void key_swap(struct key *a, struct key *b)
{
	struct key t = *a;

	*a = *b;
	*b = t;
}

/* Partially order k[0..n) so that k[0..want) are the 'want' smallest:
 * quickselect with Hoare partitioning and a median-of-three pivot (keys
 * are distinct, so every round shrinks the range). */
static void select_smallest(struct key *k, size_t n, size_t want)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n, w = (ptrdiff_t)want;

	while (hi - lo > 1 && w > lo && w < hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2;

		if (key_less(&k[mid], &k[lo]))
			key_swap(&k[mid], &k[lo]);
		if (key_less(&k[hi - 1], &k[lo]))
			key_swap(&k[hi - 1], &k[lo]);
		if (key_less(&k[hi - 1], &k[mid]))
			key_swap(&k[hi - 1], &k[mid]);
		if (hi - lo <= 3)
			return; /* sorted by the three comparisons */
		struct key pivot = k[mid];
		ptrdiff_t i = lo - 1, j = hi;
		for (;;) {
			do
				i++;
			while (key_less(&k[i], &pivot));
			do
				j--;
			while (key_less(&pivot, &k[j]));
			if (i >= j)
				break;
			key_swap(&k[i], &k[j]);
		}
		/* k[lo..j] < k[j+1..hi), lo <= j < hi - 1 */
		if (w <= j + 1)
			hi = j + 1;
		else
			lo = j + 1;
	}
}

/* Turn marks over [lo, hi) into segments of placement ret. */
static void marks_to_segments(const struct plan *p, const unsigned char *mark, size_t r,
			      struct sched_result *res, struct sched_placement *ret)
{
	size_t taken = 0, first = SIZE_MAX;

	ret->region = r;
	ret->n_seg = 0;
	ret->seg_off = res->n_segments;
	for (size_t t = p->lo; t < p->hi; t++) {
		if (!mark[t - p->lo])
			continue;
		if (first == SIZE_MAX)
			first = t;
		taken++;
		bool last = taken == p->n;
		int64_t end = run_end(p, t, last);
		if (ret->n_seg &&
		    res->segments[res->n_segments - 1].end == p->m->start + (int64_t)t * p->m->step)
			res->segments[res->n_segments - 1].end = end;
		else {
			add_segment(res, p->m->start + (int64_t)t * p->m->step, end);
			ret->n_seg++;
		}
		if (last)
			break;
	}
	ret->start = p->m->start + (int64_t)first * p->m->step;
	ret->end = res->segments[res->n_segments - 1].end;
}

static bool search_select(const struct plan *p, size_t r, struct sched_result *res,
			  struct sched_placement *ret)
{
	const double *v = p->m->r[r].eff[p->job->risk];
	size_t w = p->hi - p->lo, cnt = 0;
	struct key *k = (struct key *)scratch(res, w * (sizeof(struct key) + 1) + 1);
	unsigned char *mark = (unsigned char *)(k + w);

	for (size_t t = p->lo; t < p->hi; t++) {
		if (!isnan(v[t]) && cap_ok(p, r, t, p->job->power_kw))
			k[cnt++] = (struct key){v[t], t};
	}
	if (cnt < p->n)
		return false;
	select_smallest(k, cnt, p->n);
	memset(mark, 0, w);
	for (size_t i = 0; i < p->n; i++)
		mark[k[i].i - p->lo] = 1;
	marks_to_segments(p, mark, r, res, ret);
	return true;
}

/* Dynamic programme for interruptible jobs with a minimum segment length
 * and/or a maximum number of segments.  State (t, j, k, in): steps < t
 * decided, j taken, k segments, 'in' = step t-1 taken in a run that is
 * already long enough.  Moves: skip t; extend the run by t; or (not 'in')
 * open a run of exactly m_seg steps at t.  Backpointers are one byte per
 * state; values live in a ring of m_seg + 1 layers. */
enum { BP_NONE, BP_SKIP0, BP_SKIP1, BP_EXT, BP_NEW };

static int search_dp(const struct plan *p, size_t r, struct sched_result *res, struct sched_placement *ret,
		     bool *ret_found, struct err_detail *err)
{
	const double *v = p->m->r[r].eff[p->job->risk];
	size_t w = p->hi - p->lo, n = p->n, ms = p->m_seg;
	size_t max_possible = n / ms;
	bool track = p->max_seg && p->max_seg < max_possible;
	size_t kd = track ? p->max_seg + 1 : 1;
	size_t layer = (n + 1) * kd * 2;
	size_t states = (w + 1) * layer;

	*ret_found = false;
	if (states > SCHED_MAX_DP_STATES)
		return err_set(err, ERR_RANGE_TOO_LARGE, "min_segment",
			       "segment constraints over %zu steps × %zu job steps are too large a problem",
			       w, n);
	if (states > res->dp_cap) {
		free(res->dp);
		res->dp = xmalloc(states);
		res->dp_cap = states;
	}
	unsigned char *bp = res->dp;
	/* scratch: ring of values, eligible-run lengths, window prefix sums, marks */
	size_t ring = ms + 1;
	size_t bytes =
	    ring * layer * sizeof(double) + (w + 1) * sizeof(size_t) + (w + 1) * sizeof(double) + w + 16;
	double *f = (double *)scratch(res, bytes);
	size_t *runlen = (size_t *)(f + ring * layer);
	double *pre = (double *)(runlen + w + 1);
	unsigned char *mark = (unsigned char *)(pre + w + 1);

	runlen[w] = 0;
	for (size_t t = w; t-- > 0;) {
		double x = v[p->lo + t];
		bool ok = !isnan(x) && cap_ok(p, r, p->lo + t, p->job->power_kw);

		runlen[t] = ok ? runlen[t + 1] + 1 : 0;
	}
	pre[0] = 0;
	for (size_t t = 0; t < w; t++)
		pre[t + 1] = pre[t] + (runlen[t] ? v[p->lo + t] : 0);
	for (size_t i = 0; i < ring * layer; i++)
		f[i] = INFINITY;
	memset(bp, BP_NONE, states);
#define IDX(j, k, in) ((((j)*kd) + (k)) * 2 + (in))
	f[IDX(0, 0, 0)] = 0;
	for (size_t t = 0; t < w; t++) {
		double *cur = f + (t % ring) * layer, *nx = f + ((t + 1) % ring) * layer;
		unsigned char *bnx = bp + (t + 1) * layer;

		for (size_t j = 0; j <= n; j++)
			for (size_t k = 0; k < kd; k++)
				for (int in = 0; in < 2; in++) {
					double c = cur[IDX(j, k, in)];

					if (c == INFINITY)
						continue;
					size_t to = IDX(j, k, 0);
					if (c < nx[to]) {
						nx[to] = c;
						bnx[to] = in ? BP_SKIP1 : BP_SKIP0;
					}
					if (in && j < n && runlen[t]) {
						double c2 = c + v[p->lo + t];

						to = IDX(j + 1, k, 1);
						if (c2 < nx[to]) {
							nx[to] = c2;
							bnx[to] = BP_EXT;
						}
					}
					if (!in && j + ms <= n && runlen[t] >= ms && (!track || k + 1 < kd)) {
						double c2 = c + pre[t + ms] - pre[t];
						size_t k2 = track ? k + 1 : 0;
						double *fx = f + ((t + ms) % ring) * layer;

						to = IDX(j + ms, k2, 1);
						if (c2 < fx[to]) {
							fx[to] = c2;
							bp[(t + ms) * layer + to] = BP_NEW;
						}
					}
				}
		for (size_t i = 0; i < layer; i++) /* layer t becomes t + ring */
			cur[i] = INFINITY;
	}
	double *last = f + (w % ring) * layer, best = INFINITY;
	size_t bk = 0;
	int bin = 0;
	for (size_t k = 0; k < kd; k++)
		for (int in = 0; in < 2; in++)
			if (last[IDX(n, k, in)] < best) {
				best = last[IDX(n, k, in)];
				bk = k;
				bin = in;
			}
	if (best == INFINITY)
		return ERR_OK;
	memset(mark, 0, w);
	size_t t = w, j = n, k = bk;
	int in = bin;
	while (t > 0) {
		unsigned char code = bp[t * layer + IDX(j, k, in)];

		if (code == BP_SKIP0 || code == BP_SKIP1) {
			in = code == BP_SKIP1;
			t--;
		} else if (code == BP_EXT) {
			mark[--t] = 1;
			j--;
		} else if (code == BP_NEW) {
			for (size_t i = 0; i < ms; i++)
				mark[--t] = 1;
			j -= ms;
			k = track ? k - 1 : 0;
			in = 0;
		} else {
			return err_set(err, ERR_INTERNAL, NULL, "segment search lost its path");
		}
	}
#undef IDX
	marks_to_segments(p, mark, r, res, ret);
	*ret_found = true;
	return ERR_OK;
}

/* Is a better than b?  Cost (within tolerance), then earlier start, then
 * the origin region, then the lower index. */
static bool better(const struct sched_placement *a, const struct sched_placement *b, int origin)
{
	if (less_tol(a->decision_g, b->decision_g))
		return true;
	if (less_tol(b->decision_g, a->decision_g))
		return false;
	if (a->start != b->start)
		return a->start < b->start;
	if ((int)a->region == origin || (int)b->region == origin)
		return (int)a->region == origin && (int)b->region != origin;
	return a->region < b->region;
}

static int validate(const struct sched_model *m, const struct sched_job *job, struct err_detail *err)
{
	if (job->duration <= 0)
		return err_set(err, ERR_INVALID, "duration", "duration must be positive");
	if (job->deadline <= job->earliest_start)
		return err_set(err, ERR_INVALID, "deadline", "deadline must be after the earliest start");
	if (job->deadline - job->earliest_start < job->duration)
		return err_set(err, ERR_INVALID, "duration",
			       "duration is longer than the window before the deadline");
	if (!job->profile_kw && !(job->power_kw > 0 && isfinite(job->power_kw)))
		return err_set(err, ERR_INVALID, "power_kw", "power must be a positive number");
	if (job->profile_kw) {
		size_t n = (size_t)((job->duration + m->step - 1) / m->step);

		if (job->interruptible)
			return err_set(err, ERR_INVALID, "profile",
				       "an energy profile is only supported for non-interruptible jobs");
		for (size_t k = 0; k < n; k++)
			if (!(job->profile_kw[k] >= 0 && isfinite(job->profile_kw[k])))
				return err_set(err, ERR_INVALID, "profile",
					       "power of step %zu is not a number >= 0", k);
	}
	if (job->risk != SCHED_P50 && job->risk != SCHED_P90)
		return err_set(err, ERR_INVALID, "risk", "risk must be p50 or p90");
	if (job->min_segment < 0)
		return err_set(err, ERR_INVALID, "min_segment", "minimum segment must not be negative");
	if (job->max_segments < 0)
		return err_set(err, ERR_INVALID, "max_segments",
			       "maximum number of segments must not be negative");
	if (job->origin >= 0 && (size_t)job->origin >= m->nr)
		return err_set(err, ERR_INVALID, "origin", "unknown origin region index %d", job->origin);
	for (size_t i = 0; i < job->n_regions; i++)
		if (job->regions[i] >= m->nr)
			return err_set(err, ERR_INVALID, "regions", "unknown region index %zu",
				       job->regions[i]);
	if (job->max_alternatives > SCHED_MAX_ALTERNATIVES)
		return err_set(err, ERR_INVALID, "alternatives", "at most %d alternatives",
			       SCHED_MAX_ALTERNATIVES);
	return ERR_OK;
}

/* Candidate i of the job's list appears earlier in it. */
static bool listed_before(const struct sched_job *job, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (job->regions[k] == job->regions[i])
			return true;
	return false;
}

static bool region_allowed(const struct sched_model *m, const struct sched_job *job, size_t r)
{
	for (size_t i = 0; i < job->n_residency; i++)
		if (!sched_region_has_tag(m, r, job->residency[i]))
			return false;
	return true;
}

static void baseline(const struct plan *p, struct sched_result *res)
{
	const struct sched_model *m = p->m;
	const struct sched_job *job = p->job;
	struct sched_placement *b = &res->baseline;

	memset(b, 0, sizeof(*b));
	res->baseline_g = NAN;
	if (job->origin < 0)
		return;
	int64_t s = ts_floor(job->submit - m->start, m->step) / m->step;
	if (s < 0 || (size_t)s + p->n > m->n)
		return;
	b->region = (size_t)job->origin;
	b->start = m->start + s * m->step;
	b->end = run_end(p, (size_t)s + p->n - 1, true);
	b->seg_off = add_segment(res, b->start, b->end);
	b->n_seg = 1;
	fill_costs(p, res, b);
	res->baseline_g = b->expected_g;
}

static int search_region(struct plan *p, size_t r, struct sched_result *res, struct sched_placement *ret,
			 bool *ret_found, struct err_detail *err)
{
	int rc = ERR_OK;

	ret->region = r;
	*ret_found = false;
	if (p->hi - p->lo < p->n)
		return ERR_OK;
	if (!p->job->interruptible)
		*ret_found = search_block(p, r, res, ret);
	else if (p->m_seg <= 1 && (!p->max_seg || p->max_seg >= p->n))
		*ret_found = search_select(p, r, res, ret);
	else
		rc = search_dp(p, r, res, ret, ret_found, err);
	if (!rc && *ret_found && p->job->interruptible)
		fill_decision(p, res, ret);
	return rc;
}

int sched_place(const struct sched_model *m, const struct sched_capacity *cap, const struct sched_job *job,
		struct sched_result *res, struct err_detail *err)
{
	struct plan p;
	int rc = validate(m, job, err);
	size_t n_cand = 0, found = 0;
	char a[TS_BUFSZ], b[TS_BUFSZ];

	if (rc)
		return rc;
	if ((rc = plan_window(&p, m, job, cap, err)))
		return rc;
	p.m_seg = job->min_segment > 0 ? (size_t)((job->min_segment + m->step - 1) / m->step) : 1;
	if (p.m_seg > p.n)
		p.m_seg = p.n;
	p.max_seg = (size_t)job->max_segments;

	res->n_segments = 0;
	res->n_alternatives = 0;
	baseline(&p, res);

	size_t nr = job->n_regions ? job->n_regions : m->nr;
	struct sched_placement *cand = xcalloc(nr ? nr : 1, sizeof(*cand));
	for (size_t i = 0; i < nr && !rc; i++) {
		size_t r = job->n_regions ? job->regions[i] : i;
		bool ok = false;

		if (!region_allowed(m, job, r) || (job->n_regions && listed_before(job, i)))
			continue;
		n_cand++;
		rc = search_region(&p, r, res, &cand[found], &ok, err);
		if (ok)
			found++;
	}
	if (rc)
		goto out;
	if (!n_cand) {
		rc = err_set(err, ERR_UNPROCESSABLE, job->n_residency ? "residency" : "regions",
			     job->n_residency ? "residency excludes every candidate region"
					      : "no candidate region");
		goto out;
	}
	if (!found && cap) {
		/* would it fit without the capacity booked by others? */
		p.cap = NULL;
		for (size_t i = 0; i < nr && !rc && !found; i++) {
			size_t r = job->n_regions ? job->regions[i] : i;
			bool ok = false;

			if (region_allowed(m, job, r))
				rc = search_region(&p, r, res, &cand[0], &ok, err);
			found += ok;
		}
		if (rc)
			goto out;
		if (found) {
			rc = err_set(err, ERR_NO_CAPACITY, "deadline",
				     "no capacity left for this job before %s", ts_format(job->deadline, a));
			goto out;
		}
	}
	if (!found) {
		int64_t horizon = m->start;
		for (size_t i = 0; i < nr; i++) {
			size_t r = job->n_regions ? job->regions[i] : i;

			if (region_allowed(m, job, r) && m->r[r].horizon > horizon)
				horizon = m->r[r].horizon;
		}
		if (job->deadline > horizon)
			rc = err_set(
			    err, ERR_UNPROCESSABLE, "deadline",
			    "no complete signal in the window: the forecast reaches only %s (deadline %s)",
			    ts_format(horizon, a), ts_format(job->deadline, b));
		else
			rc = err_set(err, ERR_UNPROCESSABLE, "deadline",
				     "no gap-free run of the job's length in the window before %s",
				     ts_format(job->deadline, a));
		goto out;
	}
	/* best, then the next best of the other regions */
	size_t bi = 0;
	for (size_t i = 1; i < found; i++)
		if (better(&cand[i], &cand[bi], job->origin))
			bi = i;
	res->best = cand[bi];
	fill_costs(&p, res, &res->best);
	cand[bi] = cand[--found];
	while (res->n_alternatives < job->max_alternatives && found) {
		bi = 0;
		for (size_t i = 1; i < found; i++)
			if (better(&cand[i], &cand[bi], job->origin))
				bi = i;
		fill_costs(&p, res, &cand[bi]);
		res->alternatives[res->n_alternatives++] = cand[bi];
		cand[bi] = cand[--found];
	}
out:
	free(cand);
	return rc;
}

int sched_commit(const struct sched_model *m, struct sched_capacity *cap, const struct sched_job *job,
		 const struct sched_result *res, const struct sched_placement *pl)
{
	double *row = sched_capacity_row(cap, pl->region);

	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;

		for (size_t s = 0; s < pl->n_seg; s++) {
			const struct sched_segment *sg = &res->segments[pl->seg_off + s];

			for (int64_t ts = sg->start; ts < sg->end; ts += m->step, k++) {
				int64_t t = (ts - m->start) / m->step;
				double kw = job->profile_kw ? job->profile_kw[k] : job->power_kw;

				if (pass == 0 && (t < 0 || (size_t)t >= m->n || row[t] + 1e-9 < kw))
					return ERR_NO_CAPACITY;
				if (pass == 1)
					row[t] -= kw;
			}
		}
	}
	return ERR_OK;
}

double sched_charge(const struct sched_model *m, const struct sched_job *job, const struct sched_result *res,
		    const struct sched_placement *pl, const double *truth)
{
	return sched_charge_segments(m, job, res->segments + pl->seg_off, pl->n_seg, truth);
}

double sched_charge_segments(const struct sched_model *m, const struct sched_job *job,
			     const struct sched_segment *seg, size_t n_seg, const double *truth)
{
	struct plan p;

	plan_init(&p, m, job, NULL);
	return cost_of_segments(&p, seg, n_seg, truth);
}

/* ---- job arrays ------------------------------------------------------- */

void sched_batch_init(struct sched_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void sched_batch_release(struct sched_batch *b)
{
	free(b->blocks);
	sched_batch_init(b);
}

/* Layers of one region whose free steps are alike: 'mult' layers, each a
 * set of free steps 'avail' (window-relative) holding disjoint runs. */
struct layer {
	size_t region;
	size_t mult;
	size_t maxm;		 /* most runs one layer holds (capped by the copies asked) */
	size_t st;		 /* row stride of h */
	double *h;		 /* (w + 1) × st: best cost of m runs from step t on */
	unsigned char *start_ok; /* w flags: a run may start here */
	size_t taken;		 /* copies given to these layers */
};

/* Marginal cost of one more copy in layer group L, INFINITY when full. */
static double layer_next(const struct layer *L)
{
	size_t l = L->taken / L->mult;

	if (l + 1 > L->maxm)
		return INFINITY;
	return L->h[l + 1] - L->h[l]; /* row t = 0 holds g(m) */
}

static bool layer_before(const struct layer *a, const struct layer *b, int origin)
{
	double x = layer_next(a), y = layer_next(b);

	if (less_tol(x, y))
		return true;
	if (less_tol(y, x) || isinf(x))
		return false;
	if ((int)a->region == origin || (int)b->region == origin)
		return (int)a->region == origin && (int)b->region != origin;
	return a->region < b->region;
}

static void heap_sift(struct layer **hp, size_t n, size_t i, int origin)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && layer_before(hp[l], hp[m], origin))
			m = l;
		if (r < n && layer_before(hp[r], hp[m], origin))
			m = r;
		if (m == i)
			return;
		struct layer *t = hp[i];
		hp[i] = hp[m];
		hp[m] = t;
		i = m;
	}
}

/* Backward DP over window steps: h[t][m] = best cost of m disjoint runs of
 * n steps starting at or after t (row-major, stride maxm + 1). */
static void layer_dp(struct layer *L, const double *c, size_t w, size_t n)
{
	size_t st = L->st;

	for (size_t m = 0; m <= L->maxm; m++)
		L->h[w * st + m] = m ? INFINITY : 0;
	for (size_t t = w; t-- > 0;)
		for (size_t m = 0; m <= L->maxm; m++) {
			double best = L->h[(t + 1) * st + m];

			if (m && L->start_ok[t] && t + n <= w) {
				double x = c[t] + L->h[(t + n) * st + m - 1];

				if (x < best)
					best = x;
			}
			L->h[t * st + m] = best;
		}
}

/* Starts (window-relative) of the best m runs, earliest first on ties. */
static size_t layer_starts(const struct layer *L, const double *c, size_t w, size_t n, size_t m, size_t *out)
{
	size_t st = L->st, k = 0;

	for (size_t t = 0; m > 0 && t < w;) {
		double here = L->h[t * st + m];

		if (L->start_ok[t] && t + n <= w && !less_tol(here, c[t] + L->h[(t + n) * st + m - 1]) &&
		    !isinf(here)) {
			out[k++] = t;
			t += n;
			m--;
		} else {
			t++;
		}
	}
	return k;
}

static void add_block(struct sched_batch *b, size_t region, int64_t start, size_t count)
{
	for (size_t i = 0; i < b->n_blocks; i++)
		if (b->blocks[i].region == region && b->blocks[i].start == start) {
			b->blocks[i].count += count;
			return;
		}
	b->blocks = xgrow(b->blocks, &b->cap, b->n_blocks + 1, sizeof(*b->blocks));
	b->blocks[b->n_blocks++] = (struct sched_block){.region = region, .start = start, .count = count};
}

static int cmp_block(const void *x, const void *y)
{
	const struct sched_block *a = x, *b = y;

	if (a->region != b->region)
		return a->region < b->region ? -1 : 1;
	return (a->start > b->start) - (a->start < b->start);
}

/* Candidate regions of a batch: free copies and run costs per window step. */
struct bregion {
	size_t region;
	size_t *units; /* w values */
	double *c;     /* w values: decision cost of a run starting there (INFINITY = none) */
};

/* One-by-one booking on the free copies 'units' (modified): each copy takes
 * the cheapest start that fits (ties: earliest, origin, index); a start is
 * filled as long as it fits, which is what successive single bookings of
 * identical jobs do.  Appends to b; returns the copies placed. */
static size_t greedy_fill(const struct plan *p, struct bregion *br, size_t nbr, size_t n, size_t count,
			  struct sched_batch *b, double *ret_cost)
{
	size_t w = p->hi - p->lo, placed = 0;
	const struct sched_model *m = p->m;

	while (placed < count) {
		size_t bi = SIZE_MAX, bs = 0, room = 0;
		double bc = INFINITY;

		for (size_t i = 0; i < nbr; i++)
			for (size_t s = 0; s + n <= w; s++) {
				size_t u = SIZE_MAX;

				if (isinf(br[i].c[s]))
					continue;
				for (size_t t = s; t < s + n && u; t++)
					u = br[i].units[t] < u ? br[i].units[t] : u;
				if (!u)
					continue;
				bool take = bi == SIZE_MAX || less_tol(br[i].c[s], bc);
				if (!take && !less_tol(bc, br[i].c[s])) { /* tie */
					if (s != bs)
						take = s < bs;
					else if ((int)br[i].region == p->job->origin)
						take = (int)br[bi].region != p->job->origin;
				}
				if (take) {
					bi = i;
					bs = s;
					bc = br[i].c[s];
					room = u;
				}
			}
		if (bi == SIZE_MAX)
			break;
		size_t k = count - placed < room ? count - placed : room;
		for (size_t t = bs; t < bs + n; t++)
			br[bi].units[t] -= k;
		add_block(b, br[bi].region, m->start + (int64_t)(p->lo + bs) * m->step, k);
		*ret_cost += bc * (double)k;
		placed += k;
	}
	return placed;
}

/* The layered allocation (see sched.h); appends to b, returns copies placed
 * and their decision cost in *ret_cost.  'units' are debited. */
static size_t layered_fill(const struct plan *p, struct bregion *br, size_t nbr, size_t n, size_t count,
			   struct sched_batch *b, double *ret_cost)
{
	const struct sched_model *m = p->m;
	size_t w = p->hi - p->lo, nl = 0, lcap = 0, placed = 0;
	size_t maxm_all = w / n, *levels = xmalloc((w + 1) * sizeof(size_t)),
	       *starts = xmalloc((w / n + 1) * sizeof(size_t));
	struct layer *layers = NULL;

	for (size_t i = 0; i < nbr; i++) {
		size_t nlev = 0, uniq = 0;

		for (size_t t = 0; t < w; t++) /* distinct positive levels, ascending */
			if (br[i].units[t])
				levels[nlev++] = br[i].units[t];
		for (size_t x = 1; x < nlev; x++)
			for (size_t y = x; y > 0 && levels[y - 1] > levels[y]; y--) {
				size_t tmp = levels[y];
				levels[y] = levels[y - 1];
				levels[y - 1] = tmp;
			}
		for (size_t x = 0; x < nlev; x++)
			if (!uniq || levels[uniq - 1] != levels[x])
				levels[uniq++] = levels[x];
		for (size_t j = 0, below = 0; j < uniq; below = levels[j++]) {
			struct layer L = {.region = i,
					  .mult = levels[j] - below}; /* region = index into br */

			L.start_ok = xmalloc(w);
			for (size_t t = 0, run = 0; t < w; t++) { /* steps k..k+n-1 free at this level */
				size_t k = w - 1 - t;

				run = br[i].units[k] >= levels[j] ? run + 1 : 0;
				L.start_ok[k] = run >= n && !isinf(br[i].c[k]);
			}
			L.maxm = maxm_all < count ? maxm_all : count;
			L.st = L.maxm + 1;
			L.h = xmalloc((w + 1) * L.st * sizeof(double));
			layer_dp(&L, br[i].c, w, n);
			while (L.maxm > 0 && isinf(L.h[L.maxm])) /* row 0 holds g(m) */
				L.maxm--;
			layers = xgrow(layers, &lcap, nl + 1, sizeof(*layers));
			layers[nl++] = L;
		}
	}
	/* the copies go to the smallest marginal costs (heap over layer groups) */
	struct layer **hp = xmalloc((nl ? nl : 1) * sizeof(*hp));
	size_t hn = 0;
	int origin = -1;
	for (size_t i = 0; i < nbr; i++)
		if ((int)br[i].region == p->job->origin)
			origin = (int)i;
	for (size_t i = 0; i < nl; i++)
		if (layers[i].maxm > 0)
			hp[hn++] = &layers[i];
	for (size_t i = hn / 2 + 1; i-- > 0;)
		heap_sift(hp, hn, i, origin);
	while (placed < count && hn > 0) {
		hp[0]->taken++;
		placed++;
		if (isinf(layer_next(hp[0])))
			hp[0] = hp[--hn];
		heap_sift(hp, hn, 0, origin);
	}
	free(hp);
	/* a group with taken = q·mult + rem: rem layers run q + 1 copies, the rest q */
	for (size_t i = 0; i < nl; i++) {
		struct layer *L = &layers[i];
		size_t q = L->taken / L->mult, rem = L->taken % L->mult;

		for (int part = 0; part < 2 && L->taken; part++) {
			size_t runs = part ? q + 1 : q, copies = part ? rem : L->mult - rem;

			if (!runs || !copies)
				continue;
			size_t k = layer_starts(L, br[L->region].c, w, n, runs, starts);
			for (size_t x = 0; x < k; x++) {
				for (size_t t = starts[x]; t < starts[x] + n; t++)
					br[L->region].units[t] -= copies;
				add_block(b, br[L->region].region,
					  m->start + (int64_t)(p->lo + starts[x]) * m->step, copies);
				*ret_cost += br[L->region].c[starts[x]] * (double)copies;
			}
		}
		free(L->h);
		free(L->start_ok);
	}
	free(layers);
	free(levels);
	free(starts);
	return placed;
}

int sched_place_batch(const struct sched_model *m, const struct sched_capacity *cap,
		      const struct sched_job *job, size_t count, struct sched_batch *b,
		      struct err_detail *err)
{
	struct plan p;
	int rc;

	b->placed = 0;
	b->expected_g = 0;
	b->n_blocks = 0;
	if ((rc = validate(m, job, err)))
		return rc;
	if (job->interruptible || job->profile_kw)
		return err_set(
		    err, ERR_INVALID, job->interruptible ? "interruptible" : "profile",
		    "job arrays are placed jointly only for non-interruptible jobs of constant power");
	if ((rc = plan_window(&p, m, job, cap, err)))
		return rc;
	if (count == 0)
		return ERR_OK;

	size_t w = p.hi - p.lo, n = p.n, nbr = 0;
	size_t nr = job->n_regions ? job->n_regions : m->nr;
	struct bregion *br = xcalloc(nr ? nr : 1, sizeof(*br));
	size_t cells = nr * w;
	size_t *save = xmalloc((cells > 0 ? cells : 1) * sizeof(size_t));

	for (size_t i = 0; i < nr && w >= n; i++) {
		size_t r = job->n_regions ? job->regions[i] : i;
		const struct region *rg = &m->r[r];
		const double *v = rg->eff[job->risk], *pre = rg->pre[job->risk];
		const double *row = cap ? cap->kw + r * cap->n_steps : NULL;
		struct bregion *x = &br[nbr];

		if (!region_allowed(m, job, r) || (job->n_regions && listed_before(job, i)))
			continue;
		x->region = r;
		x->units = xmalloc(w * sizeof(size_t));
		x->c = xmalloc(w * sizeof(double));
		for (size_t t = 0; t < w; t++) {
			size_t T = p.lo + t;
			double u = isnan(v[T])		   ? 0
				   : !row || isinf(row[T]) ? (double)count
							   : floor(row[T] / job->power_kw + 1e-9);

			x->units[t] = u <= 0 ? 0 : u >= (double)count ? count : (size_t)u;
			x->c[t] = INFINITY;
			if (t + n <= w) {
				double c = job->power_kw *
					   (p.h_full * (pre[T + n - 1] - pre[T]) + p.h_last * v[T + n - 1]);
				bool gap = false;

				for (size_t k = T; k < T + n && !gap; k++)
					gap = isnan(v[k]);
				x->c[t] = gap ? INFINITY : c;
			}
		}
		memcpy(save + nbr * w, x->units, w * sizeof(size_t));
		nbr++;
	}
	/* layered allocation, topped up one by one; and plain one-by-one
	 * booking: the better of the two (they agree when capacity is ample) */
	struct sched_batch alt;
	double cost_l = 0, cost_g = 0;
	sched_batch_init(&alt);
	size_t placed_l = layered_fill(&p, br, nbr, n, count, b, &cost_l);
	placed_l += greedy_fill(&p, br, nbr, n, count - placed_l, b, &cost_l);
	for (size_t i = 0; i < nbr; i++)
		memcpy(br[i].units, save + i * w, w * sizeof(size_t));
	size_t placed_g = greedy_fill(&p, br, nbr, n, count, &alt, &cost_g);
	if (placed_g > placed_l || (placed_g == placed_l && less_tol(cost_g, cost_l))) {
		struct sched_batch tmp = *b;

		*b = alt;
		alt = tmp;
		placed_l = placed_g;
	}
	sched_batch_release(&alt);
	b->placed = placed_l;
	for (size_t i = 0; i < nbr; i++) {
		free(br[i].units);
		free(br[i].c);
	}
	free(br);
	free(save);
	if (b->n_blocks)
		qsort(b->blocks, b->n_blocks, sizeof(*b->blocks), cmp_block);
	for (size_t i = 0; i < b->n_blocks; i++) {
		struct sched_block *bl = &b->blocks[i];
		struct sched_segment sg;

		bl->end = bl->start + (int64_t)(p.n - 1) * m->step + p.rem;
		sg = (struct sched_segment){bl->start, bl->end};
		bl->expected_g = cost_of_segments(&p, &sg, 1, m->r[bl->region].eff[SCHED_P50]);
		bl->decision_g = cost_of_segments(&p, &sg, 1, m->r[bl->region].eff[job->risk]);
		b->expected_g += bl->expected_g * (double)bl->count;
	}
	if (b->placed == count)
		return ERR_OK;
	if (b->placed == 0) { /* say why, as for one job */
		struct sched_result res;

		sched_result_init(&res);
		rc = sched_place(m, cap, job, &res, err);
		sched_result_release(&res);
		return rc ? rc : err_set(err, ERR_NO_CAPACITY, "count", "no capacity left for these jobs");
	}
	return err_set(err, ERR_NO_CAPACITY, "count", "capacity left for %zu of the %zu jobs", b->placed,
		       count);
}

int sched_commit_batch(const struct sched_model *m, struct sched_capacity *cap, const struct sched_job *job,
		       const struct sched_batch *b)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < b->n_blocks; i++) {
			const struct sched_block *bl = &b->blocks[i];
			double *row = sched_capacity_row(cap, bl->region),
			       kw = job->power_kw * (double)bl->count;

			for (int64_t ts = bl->start; ts < bl->end; ts += m->step) {
				int64_t t = (ts - m->start) / m->step;

				if (pass == 0 && (t < 0 || (size_t)t >= m->n))
					return ERR_NO_CAPACITY;
				if (pass == 1)
					row[t] -= kw;
			}
		}
	/* blocks of one region may share steps: check the sums */
	for (size_t i = 0; i < b->n_blocks; i++) {
		const struct sched_block *bl = &b->blocks[i];
		const double *row = sched_capacity_row(cap, bl->region);

		for (int64_t ts = bl->start; ts < bl->end; ts += m->step)
			if (row[(ts - m->start) / m->step] < -1e-9) {
				/* undo */
				for (size_t k = 0; k < b->n_blocks; k++) {
					const struct sched_block *x = &b->blocks[k];
					double *rw = sched_capacity_row(cap, x->region);

					for (int64_t u = x->start; u < x->end; u += m->step)
						rw[(u - m->start) / m->step] +=
						    job->power_kw * (double)x->count;
				}
				return ERR_NO_CAPACITY;
			}
	}
	return ERR_OK;
}
