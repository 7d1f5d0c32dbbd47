/*
 * fcstore.c - forecast runs and their skill in and out of PostgreSQL.
 *
 * Points go in with binary COPY (a 96-hour run of a few regions and kinds
 * is thousands of rows per refresh); a re-issued run replaces its points.
 * The default choice of fcstore_latest is made here, in C, from two small
 * reads (the round's runs, the zone's skill rows) so that the rule is in
 * one place: forecasters/skill.h ranks, this file picks and extends.
 */
#include "service/fcstore.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

void fc_run_init(struct fc_run *r)
{
	memset(r, 0, sizeof(*r));
	series_init(&r->p10, 0, 3600);
	series_init(&r->p50, 0, 3600);
	series_init(&r->p90, 0, 3600);
}

void fc_run_release(struct fc_run *r)
{
	series_release(&r->p10);
	series_release(&r->p50);
	series_release(&r->p90);
}

static bool same_grid(const struct series *a, const struct series *b)
{
	return !b || (a->start == b->start && a->step == b->step && a->n == b->n);
}

int fcstore_write(struct db *db, const char *zone, const char *kind, const char *model, int64_t issued_at,
		  const struct series *p10, const struct series *p50, const struct series *p90,
		  struct err_detail *err)
{
	return fcstore_write_by(db, NULL, zone, kind, model, issued_at, p10, p50, p90, err);
}

int fcstore_write_by(struct db *db, const char *producer, const char *zone, const char *kind,
		     const char *model, int64_t issued_at, const struct series *p10, const struct series *p50,
		     const struct series *p90, struct err_detail *err)
{
	char issued[24], step[16], horizon[24], id[24];
	struct db_copy *c;
	struct db_res *r;
	int rc;

	if (!same_grid(p50, p10) || !same_grid(p50, p90) || !p50->n)
		return err_set(err, ERR_INVALID, "forecast",
			       "p10, p50 and p90 must share one non-empty grid");
	snprintf(step, sizeof(step), "%d", (int)p50->step);
	snprintf(horizon, sizeof(horizon), "%lld", (long long)(series_end(p50) - issued_at));
	const char *p[7] = {zone, kind, model, db_param_time(issued_at, issued), step, horizon, producer};
	if ((rc = db_exec(db, DB_FORECAST_RUN_UPSERT, p, 7, &r, err)))
		return rc;
	snprintf(id, sizeof(id), "%s", db_res_get(r, 0, 0));
	int64_t run = db_res_int64(r, 0, 0);
	db_res_free(r);
	const char *pd[1] = {id};
	if ((rc = db_exec(db, DB_FORECAST_POINTS_DELETE, pd, 1, NULL, err)))
		return rc;
	if ((rc = db_copy_begin(
		 db, "COPY forecast_points (run_id, ts, p10, p50, p90) FROM STDIN (FORMAT binary)", &c, err)))
		return rc;
	for (size_t i = 0; i < p50->n; i++) {
		if (isnan(p50->v[i]))
			continue;
		db_copy_row(c, 5);
		db_copy_int8(c, run);
		db_copy_time(c, series_ts(p50, i));
		if (p10 && !isnan(p10->v[i]))
			db_copy_float8(c, p10->v[i]);
		else
			db_copy_null(c);
		db_copy_float8(c, p50->v[i]);
		if (p90 && !isnan(p90->v[i]))
			db_copy_float8(c, p90->v[i]);
		else
			db_copy_null(c);
	}
	return db_copy_end(c, false, err);
}

/* Read the points of run 'id' onto the three series of ret (grid from
 * ret->issued_at, 'step', 'horizon'). */
static int read_points(struct db *db, int64_t id, int32_t step, struct fc_run *ret, struct err_detail *err)
{
	char ids[24];
	const char *pp[1] = {ids};
	struct series *all[3] = {&ret->p10, &ret->p50, &ret->p90};
	struct db_res *r;
	size_t n;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	if ((rc = db_exec(db, DB_FORECAST_POINTS, pp, 1, &r, err)))
		return rc;
	n = (size_t)((ret->horizon + step - 1) / step);
	for (int k = 0; k < 3; k++) {
		series_release(all[k]);
		series_init(all[k], ret->issued_at, step);
		series_resize(all[k], n);
	}
	for (size_t i = 0, rows = db_res_rows(r); i < rows; i++) {
		int64_t ts = db_res_int64(r, i, 0);
		for (int k = 0; k < 3; k++)
			series_set(all[k], ts, db_res_double(r, i, 1 + k), false);
	}
	db_res_free(r);
	return ERR_OK;
}

static int not_found(struct err_detail *err, const char *zone, const char *kind, const char *model)
{
	return err_set(err, ERR_NOT_FOUND, model ? "model" : "kind", "no '%s' forecast for zone '%s'%s%s%s",
		       kind, zone, model ? " from model '" : "", model ? model : "", model ? "'" : "");
}

struct cand {
	int64_t id;
	int32_t step;
};

/* Extend ret past its end (and through its gaps) with the run 'ext'. */
static int extend(struct db *db, struct fc_run *ret, const struct fc_choice *ext, const struct cand *ec,
		  struct err_detail *err)
{
	struct fc_run x;
	int64_t end = ext->issued_at + ext->horizon, first = 0;
	int rc;

	if (ec->step != ret->p50.step)
		return ERR_OK; /* another grid: leave the run as it is */
	fc_run_init(&x);
	x.issued_at = ext->issued_at;
	x.horizon = ext->horizon;
	if ((rc = read_points(db, ec->id, ec->step, &x, err))) {
		fc_run_release(&x);
		return rc;
	}
	for (int64_t t = ret->issued_at; t < end; t += ret->p50.step) {
		double v = series_at(&ret->p50, t), w = series_at(&x.p50, t);

		if (!isnan(v) || isnan(w))
			continue;
		if (!first || t < first)
			first = t;
		series_set(&ret->p10, t, series_at(&x.p10, t), false);
		series_set(&ret->p50, t, w, false);
		series_set(&ret->p90, t, series_at(&x.p90, t), false);
	}
	fc_run_release(&x);
	if (first) {
		snprintf(ret->extended_by, sizeof(ret->extended_by), "%s", ext->model);
		ret->extended_from = first;
		if (end > ret->issued_at + ret->horizon)
			ret->horizon = end - ret->issued_at;
	}
	return ERR_OK;
}

/* Scores of the candidates from the zone's skill rows. */
static int score(struct db *db, const char *zone, const char *kind, struct fc_run *ret,
		 struct err_detail *err)
{
	struct fcstore_skill_row *rows = NULL;
	struct fc_skill(*s)[FC_SKILL_NBUCKETS] = xcalloc(ret->nchoices, sizeof(*s));
	double sc[FCSTORE_MAX_CHOICES];
	size_t n = 0;
	int rc;

	if ((rc = fcstore_skill_read(db, zone, kind, &rows, &n, err))) {
		free(s);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < ret->nchoices; c++)
			if (!strcmp(rows[i].model, ret->choices[c].model))
				s[c][rows[i].bucket] = rows[i].s;
	fc_skill_rank((const struct fc_skill(*)[FC_SKILL_NBUCKETS])s, ret->nchoices, FCSTORE_MIN_SKILL_W, sc,
		      &ret->skill_buckets);
	for (size_t c = 0; c < ret->nchoices; c++) {
		struct fc_skill pool = {0};

		ret->choices[c].score = sc[c];
		for (int b = 0; b < FC_SKILL_NBUCKETS && !isnan(sc[c]); b++)
			if ((ret->skill_buckets >> b) & 1)
				fc_skill_pool(&pool, &s[c][b]);
		ret->choices[c].mape = isnan(sc[c]) ? NAN : fc_skill_mape(&pool);
	}
	free(rows);
	free(s);
	return ERR_OK;
}

int fcstore_latest(struct db *db, const char *zone, const char *kind, const char *model, int64_t at,
		   struct fc_run *ret, struct err_detail *err)
{
	char t[24], round[16];
	struct cand cands[FCSTORE_MAX_CHOICES];
	struct db_res *r;
	size_t best = 0, longest = 0, ext = SIZE_MAX;
	int rc;

	fc_run_init(ret);
	if (model) {
		const char *p[4] = {zone, kind, model, db_param_time(at, t)};

		if ((rc = db_exec(db, DB_FORECAST_LATEST_RUN, p, 4, &r, err)))
			return rc;
		if (!db_res_rows(r)) {
			db_res_free(r);
			return not_found(err, zone, kind, model);
		}
		ret->id = db_res_int64(r, 0, 0);
		snprintf(ret->model, sizeof(ret->model), "%s", db_res_get(r, 0, 1));
		ret->issued_at = db_res_int64(r, 0, 2);
		int32_t step = (int32_t)db_res_int64(r, 0, 3);
		ret->horizon = db_res_int64(r, 0, 4);
		snprintf(ret->chosen_by, sizeof(ret->chosen_by), "model");
		db_res_free(r);
		return read_points(db, ret->id, step, ret, err);
	}

	snprintf(round, sizeof(round), "%d", FCSTORE_ROUND_S);
	const char *p[4] = {zone, kind, db_param_time(at, t), round};
	if ((rc = db_exec(db, DB_FORECAST_CANDIDATES, p, 4, &r, err)))
		return rc;
	for (size_t i = 0, rows = db_res_rows(r); i < rows && ret->nchoices < FCSTORE_MAX_CHOICES; i++) {
		struct fc_choice *c = &ret->choices[ret->nchoices];

		snprintf(c->model, sizeof(c->model), "%s", db_res_get(r, i, 1));
		c->issued_at = db_res_int64(r, i, 2);
		c->horizon = db_res_int64(r, i, 4);
		c->score = c->mape = NAN;
		cands[ret->nchoices].id = db_res_int64(r, i, 0);
		cands[ret->nchoices].step = (int32_t)db_res_int64(r, i, 3);
		ret->nchoices++;
	}
	db_res_free(r);
	if (!ret->nchoices)
		return not_found(err, zone, kind, NULL);
	if (ret->nchoices > 1 && (rc = score(db, zone, kind, ret, err)))
		return rc;

	/* the lowest score; else the ensemble, the newest, the first by name */
	bool by_skill = false;
	for (size_t i = 0; i < ret->nchoices; i++) {
		const struct fc_choice *c = &ret->choices[i], *b = &ret->choices[best];

		if (c->issued_at + c->horizon >
		    ret->choices[longest].issued_at + ret->choices[longest].horizon)
			longest = i;
		if (!strcmp(c->model, "ensemble"))
			ext = i;
		if (i == best)
			continue;
		if (!isnan(c->score) && (isnan(b->score) || c->score < b->score))
			best = i;
		else if (isnan(b->score) && isnan(c->score) && strcmp(b->model, "ensemble") &&
			 (!strcmp(c->model, "ensemble") || c->issued_at > b->issued_at))
			best = i;
	}
	by_skill = !isnan(ret->choices[best].score);
	snprintf(ret->chosen_by, sizeof(ret->chosen_by), "%s", by_skill ? "skill" : "default");
	ret->id = cands[best].id;
	snprintf(ret->model, sizeof(ret->model), "%s", ret->choices[best].model);
	ret->issued_at = ret->choices[best].issued_at;
	ret->horizon = ret->choices[best].horizon;
	if ((rc = read_points(db, ret->id, cands[best].step, ret, err)))
		return rc;
	if (ext == SIZE_MAX)
		ext = longest;
	if (ext != best && ret->choices[ext].issued_at + ret->choices[ext].horizon > ret->issued_at)
		return extend(db, ret, &ret->choices[ext], &cands[ext], err);
	return ERR_OK;
}

/* --- skill ------------------------------------------------------------------ */

static int bucket_of_hours(int64_t h)
{
	for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
		if (fc_skill_bucket_hours[b] == h)
			return b;
	return -1;
}

int fcstore_skill_read(struct db *db, const char *zone, const char *kind, struct fcstore_skill_row **ret,
		       size_t *ret_n, struct err_detail *err)
{
	const char *p[2] = {zone, kind};
	struct fcstore_skill_row *rows;
	struct db_res *r;
	size_t n = 0;
	int rc;

	if ((rc = db_exec(db, DB_FORECAST_SKILL_ROWS, p, 2, &r, err)))
		return rc;
	rows = xcalloc(db_res_rows(r) + 1, sizeof(*rows));
	for (size_t i = 0, nr = db_res_rows(r); i < nr; i++) {
		struct fcstore_skill_row *x = &rows[n];
		int b = bucket_of_hours(db_res_int64(r, i, 2));

		if (b < 0)
			continue;
		snprintf(x->kind, sizeof(x->kind), "%s", db_res_get(r, i, 0));
		snprintf(x->model, sizeof(x->model), "%s", db_res_get(r, i, 1));
		x->bucket = b;
		x->s.n = db_res_int64(r, i, 3);
		x->s.w = db_res_double(r, i, 4);
		x->s.sum_ae = db_res_double(r, i, 5);
		x->s.sum_se = db_res_double(r, i, 6);
		x->s.sum_ape = db_res_double(r, i, 7);
		x->s.w_ape = db_res_double(r, i, 8);
		x->s.sum_cov = db_res_double(r, i, 9);
		x->s.w_cov = db_res_double(r, i, 10);
		x->s.as_of = db_res_int64(r, i, 11);
		x->mae = db_res_double(r, i, 12);
		x->mape = db_res_double(r, i, 13);
		x->rmse = db_res_double(r, i, 14);
		x->coverage80 = db_res_double(r, i, 15);
		n++;
	}
	db_res_free(r);
	*ret = rows;
	*ret_n = n;
	return ERR_OK;
}

/* A number as a statement parameter: NULL for NAN. */
static const char *num(double v, char out[32])
{
	if (!isfinite(v))
		return NULL;
	snprintf(out, 32, "%.17g", v);
	return out;
}

int fcstore_skill_add(struct db *db, const char *zone, const char *kind, const char *model, int bucket,
		      const struct fc_skill *batch, int64_t at, double half_life_s, struct err_detail *err)
{
	char hh[16], v[13][32], t[24];
	struct fc_skill s = {0};
	struct db_res *r;
	int rc;

	if (bucket < 0 || bucket >= FC_SKILL_NBUCKETS)
		return err_set(err, ERR_INVALID, "horizon", "no lead bucket %d", bucket);
	snprintf(hh, sizeof(hh), "%d", fc_skill_bucket_hours[bucket]);
	const char *k[4] = {zone, kind, model, hh};
	if ((rc = db_exec(db, DB_FORECAST_SKILL_ROW_LOCK, k, 4, &r, err)))
		return rc;
	if (db_res_rows(r)) {
		s.n = db_res_int64(r, 0, 0);
		s.w = db_res_double(r, 0, 1);
		s.sum_ae = db_res_double(r, 0, 2);
		s.sum_se = db_res_double(r, 0, 3);
		s.sum_ape = db_res_double(r, 0, 4);
		s.w_ape = db_res_double(r, 0, 5);
		s.sum_cov = db_res_double(r, 0, 6);
		s.w_cov = db_res_double(r, 0, 7);
		s.as_of = db_res_int64(r, 0, 8);
	}
	db_res_free(r);
	fc_skill_merge(&s, batch, at, half_life_s);
	snprintf(v[0], 32, "%lld", (long long)s.n);
	const char *p[17] = {zone,
			     kind,
			     model,
			     hh,
			     v[0],
			     num(s.w, v[1]),
			     num(s.sum_ae, v[2]),
			     num(s.sum_se, v[3]),
			     num(s.sum_ape, v[4]),
			     num(s.w_ape, v[5]),
			     num(s.sum_cov, v[6]),
			     num(s.w_cov, v[7]),
			     db_param_time(s.as_of, t),
			     num(fc_skill_mae(&s), v[8]),
			     num(fc_skill_mape(&s), v[9]),
			     num(fc_skill_rmse(&s), v[10]),
			     num(fc_skill_coverage(&s), v[11])};
	return db_exec(db, DB_FORECAST_SKILL_UPSERT, p, 17, NULL, err);
}

int fcstore_score_pending(struct db *db, const char *zone, const char *kind, int64_t since, int64_t until,
			  void (*cb)(void *ctx, const struct fcstore_point *p), void *ctx,
			  struct err_detail *err)
{
	char a[24], b[24];
	const char *p[4] = {zone, kind, db_param_time(since, a), db_param_time(until, b)};
	struct db_res *r;
	struct buf ids;
	int64_t last = -1;
	int rc;

	if ((rc = db_exec(db, DB_FORECAST_UNSCORED, p, 4, &r, err)))
		return rc;
	buf_init(&ids, 0);
	buf_addc(&ids, '{');
	for (size_t i = 0, n = db_res_rows(r); i < n; i++) {
		struct fcstore_point pt = {
		    .run_id = db_res_int64(r, i, 0),
		    .model = db_res_get(r, i, 1),
		    .issued_at = db_res_int64(r, i, 2),
		    .step = (int32_t)db_res_int64(r, i, 3),
		    .ts = db_res_int64(r, i, 4),
		    .p10 = db_res_double(r, i, 5),
		    .p50 = db_res_double(r, i, 6),
		    .p90 = db_res_double(r, i, 7),
		};

		if (pt.run_id != last) {
			buf_addf(&ids, "%s%lld", last < 0 ? "" : ",", (long long)pt.run_id);
			last = pt.run_id;
		}
		cb(ctx, &pt);
	}
	db_res_free(r);
	buf_addc(&ids, '}');
	if (last >= 0) {
		const char *q[2] = {ids.data, b};

		rc = db_exec(db, DB_FORECAST_MARK_SCORED, q, 2, NULL, err);
	}
	buf_release(&ids);
	return rc;
}

int fcstore_recent_models(struct db *db, const char *zone, const char *kind, int64_t from, int64_t to,
			  struct fc_choice *ret, size_t max, size_t *ret_n, struct err_detail *err)
{
	char a[24], b[24];
	const char *p[4] = {zone, kind, db_param_time(from, a), db_param_time(to, b)};
	struct db_res *r;
	size_t n = 0;
	int rc;

	if ((rc = db_exec(db, DB_FORECAST_RECENT_BY_MODEL, p, 4, &r, err)))
		return rc;
	for (size_t i = 0, rows = db_res_rows(r); i < rows && n < max; i++, n++) {
		memset(&ret[n], 0, sizeof(ret[n]));
		snprintf(ret[n].model, sizeof(ret[n].model), "%s", db_res_get(r, i, 1));
		ret[n].issued_at = db_res_int64(r, i, 2);
		ret[n].horizon = db_res_int64(r, i, 4);
		ret[n].score = ret[n].mape = NAN;
	}
	db_res_free(r);
	*ret_n = n;
	return ERR_OK;
}

int fcstore_prune(struct db *db, int64_t before, int64_t *ret_deleted, struct err_detail *err)
{
	char t[24];
	const char *p[1] = {db_param_time(before, t)};
	struct db_res *r;
	int rc;

	if ((rc = db_exec(db, DB_FORECAST_PRUNE, p, 1, &r, err)))
		return rc;
	if (ret_deleted)
		*ret_deleted = db_res_affected(r);
	db_res_free(r);
	return ERR_OK;
}

/* Column 0 of every row, joined with ", ". */
static void join(const struct db_res *r, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0, n = db_res_rows(r); i < n && len + 1 < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", db_res_get(r, i, 0));
}

int fcstore_models(struct db *db, const char *zone, const char *kind, char *out, size_t size,
		   struct err_detail *err)
{
	const char *p[2] = {zone, kind};
	struct db_res *r;
	int rc;

	if ((rc = db_exec(db, DB_FORECAST_MODELS, p, 2, &r, err)))
		return rc;
	join(r, out, size);
	db_res_free(r);
	return ERR_OK;
}

int fcstore_kinds(struct db *db, const char *zone, char *out, size_t size, struct err_detail *err)
{
	const char *p[1] = {zone};
	struct db_res *r;
	int rc;

	if ((rc = db_exec(db, DB_FORECAST_KINDS, p, 1, &r, err)))
		return rc;
	join(r, out, size);
	db_res_free(r);
	return ERR_OK;
}
