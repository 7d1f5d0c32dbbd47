/*
 * fcstore.c - forecast runs in and out of PostgreSQL.
 *
 * Points go in with binary COPY (a 96-hour run of a few regions and kinds
 * is thousands of rows per refresh); a re-issued run replaces its points.
 */
#include "service/fcstore.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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
		  const struct series *p10, const struct series *p50, const struct series *p90, struct err_detail *err)
{
	char issued[24], step[16], horizon[24], id[24];
	struct db_copy *c;
	struct db_res *r;
	int rc;

	if (!same_grid(p50, p10) || !same_grid(p50, p90) || !p50->n)
		return err_set(err, ERR_INVALID, "forecast", "p10, p50 and p90 must share one non-empty grid");
	snprintf(step, sizeof(step), "%d", (int)p50->step);
	snprintf(horizon, sizeof(horizon), "%lld", (long long)(series_end(p50) - issued_at));
	const char *p[6] = {zone, kind, model, db_param_time(issued_at, issued), step, horizon};
	if ((rc = db_exec(db, DB_FORECAST_RUN_UPSERT, p, 6, &r, err)))
		return rc;
	snprintf(id, sizeof(id), "%s", db_res_get(r, 0, 0));
	int64_t run = db_res_int64(r, 0, 0);
	db_res_free(r);
	const char *pd[1] = {id};
	if ((rc = db_exec(db, DB_FORECAST_POINTS_DELETE, pd, 1, NULL, err)))
		return rc;
	if ((rc = db_copy_begin(db, "COPY forecast_points (run_id, ts, p10, p50, p90) FROM STDIN (FORMAT binary)", &c,
				err)))
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

int fcstore_latest(struct db *db, const char *zone, const char *kind, const char *model, int64_t at,
		   struct fc_run *ret, struct err_detail *err)
{
	char t[24], id[24];
	const char *p[4] = {zone, kind, model, db_param_time(at, t)};
	struct db_res *r;
	int rc;

	fc_run_init(ret);
	if ((rc = db_exec(db, DB_FORECAST_LATEST_RUN, p, 4, &r, err)))
		return rc;
	if (!db_res_rows(r)) {
		db_res_free(r);
		return err_set(err, ERR_NOT_FOUND, "kind", "no '%s' forecast for zone '%s'%s%s", kind, zone,
			       model ? " from model " : "", model ? model : "");
	}
	ret->id = db_res_int64(r, 0, 0);
	snprintf(ret->model, sizeof(ret->model), "%s", db_res_get(r, 0, 1));
	ret->issued_at = db_res_int64(r, 0, 2);
	int32_t step = (int32_t)db_res_int64(r, 0, 3);
	ret->horizon = db_res_int64(r, 0, 4);
	snprintf(id, sizeof(id), "%s", db_res_get(r, 0, 0));
	db_res_free(r);

	const char *pp[1] = {id};
	if ((rc = db_exec(db, DB_FORECAST_POINTS, pp, 1, &r, err)))
		return rc;
	size_t n = (size_t)((ret->horizon + step - 1) / step);
	struct series *all[3] = {&ret->p10, &ret->p50, &ret->p90};
	for (int k = 0; k < 3; k++) {
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
