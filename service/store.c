/*
 * store.c - signals in and out of PostgreSQL.
 *
 * Ingest has two paths, chosen per call inside one transaction:
 *  - nothing stored yet in the ranges being written: binary COPY straight
 *    into 'signals' (the fast path: a first load of a data set);
 *  - some rows exist: binary COPY into the session's temporary stage, then
 *    one INSERT ... ON CONFLICT that changes only rows whose value differs,
 *    so a re-ingest writes nothing.
 * Both end with the series statistics updated and a NOTIFY, so replicas
 * drop their caches.
 */
#include "service/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonh.h"
#include "core/mem.h"
#include "core/time.h"

struct item_state {
	int id;
	int64_t lo, hi;
	size_t points;
};

static int upsert_series(struct db *db, const struct sig_series *it, struct item_state *st,
			 struct err_detail *err)
{
	const char *unit = sig_kind_string_unit(it->kind);
	char step[16];
	const char *p[5];
	struct db_res *r;
	int rc;

	if (!unit)
		return err_set(err, ERR_INVALID, "kind", "unknown signal kind '%s'", it->kind);
	snprintf(step, sizeof(step), "%d", (int)it->s.step);
	p[0] = it->zone;
	p[1] = it->kind;
	p[2] = it->source;
	p[3] = unit;
	p[4] = step;
	if ((rc = db_exec(db, DB_SERIES_UPSERT, p, 5, &r, err)))
		return rc;
	st->id = (int)db_res_int64(r, 0, 0);
	int32_t have = (int32_t)db_res_int64(r, 0, 1);
	db_res_free(r);
	if (have != it->s.step)
		return err_set(
		    err, ERR_CONFLICT, "step",
		    "series %s/%s/%s is stored with %d-second steps; this data has %d-second steps", it->zone,
		    it->kind, it->source, (int)have, (int)it->s.step);
	return ERR_OK;
}

static void bounds(const struct series *s, struct item_state *st)
{
	st->lo = st->hi = 0;
	st->points = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (isnan(s->v[i]))
			continue;
		int64_t t = series_ts(s, i);
		if (!st->points)
			st->lo = t;
		st->hi = t;
		st->points++;
	}
}

static int has_points(struct db *db, const struct item_state *st, bool *ret, struct err_detail *err)
{
	char id[16], lo[24], hi[24];
	const char *p[3] = {id, db_param_time(st->lo, lo), db_param_time(st->hi, hi)};
	struct db_res *r;
	int rc;

	snprintf(id, sizeof(id), "%d", st->id);
	if ((rc = db_exec(db, DB_SERIES_HAS_POINTS, p, 3, &r, err)))
		return rc;
	*ret = db_res_bool(r, 0, 0);
	db_res_free(r);
	return ERR_OK;
}

static int copy_points(struct db *db, const char *table, const struct sig_set *set,
		       const struct item_state *st, struct err_detail *err)
{
	char sql[128];
	struct db_copy *c;
	int rc;

	snprintf(sql, sizeof(sql), "COPY %s (series_id, ts, value, estimated) FROM STDIN (FORMAT binary)",
		 table);
	if ((rc = db_copy_begin(db, sql, &c, err)))
		return rc;
	for (size_t k = 0; k < set->n; k++) {
		const struct series *s = &set->items[k].s;

		for (size_t i = 0; i < s->n; i++) {
			if (isnan(s->v[i]))
				continue;
			db_copy_row(c, 4);
			db_copy_int4(c, st[k].id);
			db_copy_time(c, series_ts(s, i));
			db_copy_float8(c, s->v[i]);
			db_copy_bool(c, series_is_estimated(s, i));
		}
	}
	return db_copy_end(c, false, err);
}

/* Statistics: exact recount after a merge; arithmetic after a fresh COPY
 * (no rows existed in the written range, so nothing was double counted). */
static int update_stats(struct db *db, const struct item_state *st, bool merged, struct err_detail *err)
{
	char id[16], lo[24], hi[24], n[24];
	int rc;

	snprintf(id, sizeof(id), "%d", st->id);
	if (merged) {
		const char *p[1] = {id};
		return db_exec(db, DB_SERIES_REFRESH_STATS, p, 1, NULL, err);
	}
	snprintf(n, sizeof(n), "%zu", st->points);
	const char *p[4] = {id, db_param_time(st->lo, lo), db_param_time(st->hi, hi), n};
	rc = db_exec(db, DB_SERIES_ADD_STATS, p, 4, NULL, err);
	return rc;
}

int store_ingest(struct db *db, const struct sig_set *set, struct store_ingest_stats *ret,
		 struct err_detail *err)
{
	struct item_state *st = xcalloc(set->n ? set->n : 1, sizeof(*st));
	struct store_ingest_stats stats = {.series = set->n};
	bool existing = false;
	struct buf ids;
	int rc;

	buf_init(&ids, 7900); /* NOTIFY payloads must stay under 8000 bytes */
	if ((rc = db_begin(db, err)))
		goto out;
	for (size_t k = 0; k < set->n && !rc; k++) {
		rc = upsert_series(db, &set->items[k], &st[k], err);
		bounds(&set->items[k].s, &st[k]);
		stats.points += st[k].points;
		if (!rc && st[k].points && !existing)
			rc = has_points(db, &st[k], &existing, err);
	}
	if (rc)
		goto rollback;
	if (!existing) {
		rc = copy_points(db, "signals", set, st, err);
		stats.written = stats.points;
	} else {
		struct db_res *r;

		rc = copy_points(db, "signals_stage", set, st, err);
		if (!rc && !(rc = db_exec(db, DB_SIGNALS_MERGE_STAGE, NULL, 0, &r, err))) {
			stats.written = (size_t)db_res_affected(r);
			db_res_free(r);
		}
		stats.merged = true;
	}
	for (size_t k = 0; k < set->n && !rc; k++) {
		if (!st[k].points)
			continue;
		rc = update_stats(db, &st[k], existing, err);
		if (ids.len < 7800)
			buf_addf(&ids, "%s%d", ids.len ? "," : "", st[k].id);
	}
	if (!rc && stats.written) {
		const char *p[1] = {ids.data};
		rc = db_exec(db, DB_NOTIFY_SIGNALS, p, 1, NULL, err);
	}
	if (!rc)
		rc = db_commit(db, err);
	if (!rc) {
		if (ret)
			*ret = stats;
		goto out;
	}
rollback:
	db_rollback(db);
out:
	buf_release(&ids);
	free(st);
	return rc;
}

int store_list_series(struct db *db, const char *zone, const char *kind, struct store_series **ret,
		      size_t *ret_n, struct err_detail *err)
{
	const char *p[2] = {zone, kind};
	struct db_res *r;
	int rc;

	if ((rc = db_exec(db, DB_SERIES_FOR_ZONE_KIND, p, 2, &r, err)))
		return rc;
	size_t n = db_res_rows(r);
	struct store_series *rows = xcalloc(n ? n : 1, sizeof(*rows));
	for (size_t i = 0; i < n; i++) {
		rows[i].id = (int)db_res_int64(r, i, 0);
		snprintf(rows[i].source, sizeof(rows[i].source), "%s", db_res_get(r, i, 1));
		snprintf(rows[i].unit, sizeof(rows[i].unit), "%s", db_res_get(r, i, 2));
		rows[i].step = (int32_t)db_res_int64(r, i, 3);
		rows[i].last_ts = db_res_int64(r, i, 4);
	}
	db_res_free(r);
	*ret = rows;
	*ret_n = n;
	return ERR_OK;
}

int store_pick_series(const struct store_series *rows, size_t n, const char *zone, const char *kind,
		      const char *source, char *const *prefer, struct store_series *ret,
		      struct err_detail *err)
{
	size_t pick = SIZE_MAX;

	/* Rows come newest data first. */
	for (size_t i = 0; i < n && source && pick == SIZE_MAX; i++)
		if (!strcmp(rows[i].source, source))
			pick = i;
	/* Fallback down the preference order: healthy before failing before
	 * stale (unjudged rows are healthy). */
	for (int tier = 0; tier < 2 && !source && pick == SIZE_MAX; tier++) {
		for (char *const *s = prefer; s && *s && pick == SIZE_MAX; s++)
			for (size_t i = 0; i < n && pick == SIZE_MAX; i++)
				if (!strcmp(rows[i].source, *s) && !rows[i].stale &&
				    (tier || !rows[i].failing))
					pick = i;
		for (size_t i = 0; i < n && pick == SIZE_MAX; i++)
			if (!rows[i].stale && (tier || !rows[i].failing))
				pick = i;
	}
	if (!source && pick == SIZE_MAX && n)
		pick = 0;
	if (pick != SIZE_MAX) {
		*ret = rows[pick];
		return ERR_OK;
	}
	if (source)
		return err_set(err, ERR_NOT_FOUND, "source", "no '%s' data from source '%s' for zone '%s'",
			       kind, source, zone);
	return err_set(err, ERR_NOT_FOUND, "kind", "no '%s' data for zone '%s'", kind, zone);
}

int store_find_series(struct db *db, const char *zone, const char *kind, const char *source,
		      char *const *prefer, struct store_series *ret, struct err_detail *err)
{
	struct store_series *rows;
	size_t n;
	int rc;

	if ((rc = store_list_series(db, zone, kind, &rows, &n, err)))
		return rc;
	rc = store_pick_series(rows, n, zone, kind, source, prefer, ret, err);
	free(rows);
	return rc;
}

int store_read(struct db *db, const struct store_series *ser, int64_t from, int64_t to, struct series *ret,
	       struct err_detail *err)
{
	char id[16], a[24], b[24];
	int64_t start = ts_ceil(from, ser->step);
	const char *p[3] = {id, db_param_time(start, a), db_param_time(to, b)};
	struct db_res *r;
	int rc;

	snprintf(id, sizeof(id), "%d", ser->id);
	if ((rc = db_exec(db, DB_SIGNALS_RANGE, p, 3, &r, err)))
		return rc;
	series_init(ret, start, ser->step);
	if (to > start)
		series_resize(ret, (size_t)((to - start + ser->step - 1) / ser->step));
	for (size_t i = 0, n = db_res_rows(r); i < n; i++)
		series_set(ret, db_res_int64(r, i, 0), db_res_double(r, i, 1), db_res_bool(r, i, 2));
	db_res_free(r);
	return ERR_OK;
}

int store_latest(struct db *db, int series_id, int64_t at, int64_t *ret_ts, double *ret_value,
		 struct err_detail *err)
{
	char id[16], a[24];
	const char *p[2] = {id, db_param_time(at, a)};
	struct db_res *r;
	int rc;

	snprintf(id, sizeof(id), "%d", series_id);
	if ((rc = db_exec(db, DB_SIGNAL_LATEST, p, 2, &r, err)))
		return rc;
	if (!db_res_rows(r)) {
		db_res_free(r);
		return err_set(err, ERR_NOT_FOUND, NULL, "no data");
	}
	*ret_ts = db_res_int64(r, 0, 0);
	*ret_value = db_res_double(r, 0, 1);
	db_res_free(r);
	return ERR_OK;
}

/* Postgres array literal of strings: {"a","b"}. */
static void pg_array(struct buf *b, char *const *v)
{
	buf_addc(b, '{');
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			buf_addc(b, ',');
		buf_addc(b, '"');
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(b, '\\');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	}
	buf_addc(b, '}');
}

int store_sync_regions(struct db *db, const struct config *cfg, struct err_detail *err)
{
	struct buf all;
	int rc;

	buf_init(&all, 0);
	if ((rc = db_begin(db, err)))
		goto out;
	char **ids = xcalloc(cfg->nregions + 1, sizeof(char *));
	for (size_t i = 0; i < cfg->nregions && !rc; i++) {
		const struct region_cfg *r = &cfg->regions[i];
		char lat[32], lon[32], pue[32], cap[32], model[128];
		struct buf jur;

		ids[i] = r->id;
		buf_init(&jur, 0);
		pg_array(&jur, r->jurisdictions);
		snprintf(lat, sizeof(lat), "%.6f", r->latitude);
		snprintf(lon, sizeof(lon), "%.6f", r->longitude);
		snprintf(pue, sizeof(pue), "%.4f", r->pue);
		snprintf(cap, sizeof(cap), "%.3f", r->capacity_kw);
		if (r->pue_kind == PUE_TEMPERATURE)
			snprintf(model, sizeof(model), "{\"base\":%.4f,\"k\":%.5f,\"t0\":%.2f}", r->pue,
				 r->pue_k, r->pue_t0);
		const char *p[9] = {r->id, r->name,  r->zone, lat,
				    lon,   jur.data, pue,     r->pue_kind == PUE_TEMPERATURE ? model : NULL,
				    cap};
		rc = db_exec(db, DB_REGION_UPSERT, p, 9, NULL, err);
		buf_release(&jur);
	}
	if (!rc) {
		pg_array(&all, ids);
		const char *p[1] = {all.data};
		rc = db_exec(db, DB_REGION_DEACTIVATE_OTHERS, p, 1, NULL, err);
	}
	free(ids);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	buf_release(&all);
	return rc;
}

int store_has_data(struct db *db, bool *ret, struct err_detail *err)
{
	struct db_res *r;
	int rc = db_exec(db, DB_SERIES_ANY, NULL, 0, &r, err);

	if (rc)
		return rc;
	*ret = db_res_bool(r, 0, 0);
	db_res_free(r);
	return ERR_OK;
}
