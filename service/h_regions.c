/*
 * h_regions.c - regions and their signals.
 *
 * Signals are what is known at the service clock's "now": a range
 * reaching into the future is cut at now (in a replay, the rest of the
 * data set is still "the future").  Every answer says how old the
 * newest known point is ("age_s") and whether that is older than its
 * source's cadence ("stale", service/source.h); a stale or failing source
 * gives way to the next one of the region's list (service/sigcache.c).
 */
#include <math.h>
#include <string.h>

#include "core/signal.h"
#include "core/jsonh.h"
#include "core/time.h"
#include "service/app.h"
#include "service/handlers.h"
#include "service/source.h"
#include "service/store.h"

static int find_region(struct http_request *req, const struct region_cfg **ret, struct err_detail *err)
{
	const struct region_cfg *r = config_region(app_of(req)->cfg, req->path_params[0]);

	if (!r)
		return err_set(err, ERR_NOT_FOUND, "id", "unknown region '%.64s'", req->path_params[0]);
	*ret = r;
	return ERR_OK;
}

/* Effective PUE now and where it came from. */
double region_pue_now(struct sigcache *cache, struct db *db, const struct region_cfg *r, int64_t now,
		      const char **ret_source)
{
	struct store_series ser;
	int64_t ts;
	double t;

	*ret_source = "constant";
	if (r->pue_kind == PUE_CONSTANT)
		return r->pue;
	if (sigcache_find_series(cache, db, r->zone, "temperature", NULL, r->sources, &ser, NULL) ||
	    sigcache_latest(cache, db, &ser, now, &ts, &t, NULL) || now - ts > 6 * TS_HOUR) {
		*ret_source = "temperature model, no recent temperature: base value";
		return r->pue;
	}
	*ret_source = "temperature model";
	return r->pue + r->pue_k * fmax(0, t - r->pue_t0);
}

/* Whether the newest point (at 'ts') of a chosen series is stale at 'now'. */
static bool is_stale(const struct config *cfg, const struct store_series *ser, int64_t ts, int64_t now)
{
	int64_t after = ser->stale_after ? ser->stale_after : source_stale_after(cfg, ser->source, ser->step);

	return now - ts > after;
}

static json_t *region_json(const struct config *cfg, struct sigcache *cache, struct db *db,
			   const struct region_cfg *r, int64_t now)
{
	json_t *j = json_object(), *jur = json_array(), *latest = json_null();
	struct store_series ser;
	const char *pue_source;
	int64_t ts;
	double v;

	json_object_set_new(j, "id", json_string(r->id));
	json_object_set_new(j, "name", json_string(r->name));
	json_object_set_new(j, "zone", json_string(r->zone));
	json_object_set_new(j, "latitude", json_real(r->latitude));
	json_object_set_new(j, "longitude", json_real(r->longitude));
	for (size_t i = 0; i < r->njurisdictions; i++)
		json_array_append_new(jur, json_string(r->jurisdictions[i]));
	json_object_set_new(j, "jurisdictions", jur);
	json_object_set_new(j, "pue", json_real(region_pue_now(cache, db, r, now, &pue_source)));
	json_object_set_new(j, "pue_source", json_string(pue_source));
	json_object_set_new(j, "capacity_kw", json_real(r->capacity_kw));
	if (!sigcache_find_series(cache, db, r->zone, "carbon_intensity", NULL, r->sources, &ser, NULL) &&
	    !sigcache_latest(cache, db, &ser, now, &ts, &v, NULL)) {
		latest = json_object();
		jh_set_time(latest, "ts", ts);
		json_object_set_new(latest, "carbon_intensity", json_real(v));
		json_object_set_new(latest, "unit", json_string(ser.unit));
		json_object_set_new(latest, "source", json_string(ser.source));
		json_object_set_new(latest, "age_s", json_integer(now - ts));
		json_object_set_new(latest, "stale", json_boolean(is_stale(cfg, &ser, ts, now)));
	}
	json_object_set_new(j, "latest", latest);
	return j;
}

int h_regions_list(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	struct app *app = app_of(req);
	int64_t now = clock_now(&app->clock);
	json_t *arr = json_array();
	struct db *db;
	int rc;

	if ((rc = query_only(req, allowed, err)) || (rc = app_db(req, &db, err))) {
		json_decref(arr);
		return rc;
	}
	for (size_t i = 0; i < app->cfg->nregions; i++)
		json_array_append_new(arr, region_json(app->cfg, app->cache, db, &app->cfg->regions[i], now));
	reply_json(req, res, 200, json_pack("{s:o}", "regions", arr));
	return ERR_OK;
}

int h_region_get(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	const struct region_cfg *r = NULL;
	struct db *db;
	int rc;

	if ((rc = query_only(req, allowed, err)) || (rc = find_region(req, &r, err)) ||
	    (rc = app_db(req, &db, err)))
		return rc;
	reply_json(req, res, 200,
		   region_json(app_of(req)->cfg, app_of(req)->cache, db, r, clock_now(&app_of(req)->clock)));
	return ERR_OK;
}

/* The points as CSV rows or JSON objects: the hot loop of the signals
 * route, written without printf. */
static void write_points(struct buf *b, const struct series *s, bool csv)
{
	struct ts_fmt_cache tc = {0};
	char ts[TS_BUFSZ];
	bool first = true;

	for (size_t i = 0; i < s->n; i++) {
		if (isnan(s->v[i]))
			continue;
		ts_format_cached(&tc, series_ts(s, i), ts);
		if (csv) {
			buf_add(b, ts, TS_BUFSZ - 1);
			buf_addc(b, ',');
			buf_add_double(b, s->v[i]);
			buf_addc(b, '\n');
			continue;
		}
		buf_add(b, first ? "{\"ts\":\"" : ",{\"ts\":\"", first ? 7 : 8);
		buf_add(b, ts, TS_BUFSZ - 1);
		buf_add(b, "\",\"value\":", 10);
		buf_add_double(b, s->v[i]);
		if (series_is_estimated(s, i))
			buf_add(b, ",\"estimated\":true", 17);
		buf_addc(b, '}');
		first = false;
	}
}

int h_region_signals(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {"kind", "from", "to", "source", "format", NULL};
	struct app *app = app_of(req);
	int64_t now = clock_now(&app->clock), to = now + 1, from, max = app->cfg->max_range;
	const char *kind = http_query(req, "kind"), *format = http_query(req, "format");
	const struct region_cfg *r = NULL;
	struct store_series ser;
	enum sig_kind k;
	struct series s;
	struct db *db;
	char ts[TS_BUFSZ], d1[32], d2[32], d3[32];
	int rc;

	if ((rc = query_only(req, allowed, err)) || (rc = find_region(req, &r, err)))
		return rc;
	if (!kind)
		kind = "carbon_intensity";
	if ((rc = sig_kind_parse(kind, "kind", &k, NULL, err)))
		return rc;
	if (format && strcmp(format, "csv") && strcmp(format, "json"))
		return err_set(err, ERR_INVALID, "format", "format must be 'json' or 'csv', not '%.32s'",
			       format);
	if ((rc = query_time(req, "to", false, &to, err)))
		return rc;
	from = to - TS_DAY;
	if ((rc = query_time(req, "from", false, &from, err)))
		return rc;
	if (from >= to)
		return err_set(err, ERR_INVALID, "from", "'from' (%s) must be before 'to'",
			       http_query(req, "from"));
	if (to - from > max)
		return err_set(
		    err, ERR_RANGE_TOO_LARGE, "to",
		    "from %s to %s spans %.1f days; at most %s (%.0f days) per request (limits.max_range)",
		    ts_format(from, d1), ts_format(to, d2), (double)(to - from) / TS_DAY,
		    ts_format_duration(max, d3), (double)max / TS_DAY);
	if (to > now + 1)
		to = now + 1; /* the future is not known yet */
	if ((rc = app_db(req, &db, err)))
		return rc;
	if ((rc = sigcache_find_series(app->cache, db, r->zone, kind, http_query(req, "source"), r->sources,
				       &ser, err)))
		return rc;

	/* How old the newest point known now is, whatever the window. */
	int64_t newest = 0;
	double newest_v;
	bool have_newest = !sigcache_latest(app->cache, db, &ser, now, &newest, &newest_v, NULL);

	if (wants_csv(req)) {
		res->status = 200;
		res->content_type = "text/csv; charset=utf-8";
		buf_adds(&res->body, "ts,value\n");
	} else {
		struct buf *b = &res->body;

		reply_json_raw(res, 200);
		buf_adds(b, "{\"region\":");
		buf_add_json_string(b, r->id);
		buf_adds(b, ",\"zone\":");
		buf_add_json_string(b, r->zone);
		buf_adds(b, ",\"kind\":");
		buf_add_json_string(b, kind);
		buf_adds(b, ",\"unit\":");
		buf_add_json_string(b, ser.unit);
		buf_addf(b, ",\"source\":\"%s\",\"step_s\":%d,\"as_of\":\"%s\"", ser.source, (int)ser.step,
			 ts_format(now, ts));
		if (have_newest)
			buf_addf(b, ",\"newest\":\"%s\",\"age_s\":%lld,\"stale\":%s", ts_format(newest, ts),
				 (long long)(now - newest),
				 is_stale(app->cfg, &ser, newest, now) ? "true" : "false");
		else
			buf_adds(b, ",\"newest\":null,\"age_s\":null,\"stale\":true");
		buf_adds(b, ",\"points\":[");
	}
	/* The rendered points are memoised per data version: dashboards poll
	 * the same windows over and over. */
	uint64_t version = sigcache_version(app->cache);
	char key[160];
	snprintf(key, sizeof(key), "pts:%d:%lld:%lld:%d", ser.id, (long long)from, (long long)to,
		 (int)wants_csv(req));
	if (!sigcache_memo_get(app->cache, key, version, &res->body)) {
		size_t mark = res->body.len;

		if (from >= to)
			series_init(&s, from, ser.step);
		else if ((rc = sigcache_read(app->cache, db, &ser, from, to, &s, err)))
			return rc;
		write_points(&res->body, &s, wants_csv(req));
		series_release(&s);
		sigcache_memo_put(app->cache, key, version, res->body.data + mark, res->body.len - mark);
	}
	if (!wants_csv(req))
		buf_adds(&res->body, "]}\n");
	return ERR_OK;
}
