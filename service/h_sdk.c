/*
 * h_sdk.c - the Carbon Aware SDK WebAPI routes (/emissions/..., /locations,
 * /health), so that clients written for the Green Software Foundation's
 * SDK (v1.8) work against carbonsched unchanged.
 *
 * Same parameter names (matched without regard to case, as ASP.NET
 * does), field names, time format ("+00:00" offsets), defaults, rolling
 * windows, ties and status codes as the SDK; the arithmetic is in sdk.c.
 * A location is one of our regions, named by its id or, when exactly one
 * region has it, by its grid zone; the values are the zone's lifecycle
 * carbon intensity (grid figures: no PUE, as in the SDK), observed from
 * the signal store and forecast from the newest forecast run
 * (fcstore_latest, its p50).  Inside data points, 'location' is the grid
 * zone the value describes (the SDK answers so with WattTime: westus ->
 * CAISO_NORTH); the top-level 'location' of a forecast or an average
 * echoes the name asked for.
 *
 * Where the SDK is wrong we are not, and docs/interfaces.md lists each
 * difference: unknown parameters are refused (the SDK ignores them, so a
 * misspelt 'startTime' silently returns current data); a missing value is
 * left out (the SDK turns it into -1, which wins "best"); a dataEndAt past
 * the forecast is cut to its end and said so in a Warning header (the SDK
 * answers a bare 400); historical routes refuse a start in the future
 * (the SDK answers 204).  Errors are our problem+json with the SDK's
 * 'errors' map and 'traceId' added, so either kind of client reads them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsonh.h"
#include "core/time.h"
#include "service/app.h"
#include "service/fcstore.h"
#include "service/handlers.h"
#include "service/limits.h"
#include "service/sdk.h"
#include "service/store.h"

#define SDK_MAX_PARAMS	   300 /* above the largest limits.max_list_items */
#define SDK_MAX_LOCATIONS  256 /* the largest limits.max_list_items */
#define SDK_MAX_WINDOW_MIN (366 * 24 * 60)

/* --- errors ---------------------------------------------------------------------- */

/* Our problem+json with what SDK clients read added: "errors" {field:
 * [message]} and "traceId".  The route then reports success to the
 * router: the body is complete. */
static int sdk_problem(struct http_request *req, struct http_response *res, int code,
		       const struct err_detail *err)
{
	json_t *p = NULL, *errors = json_object();

	buf_reset(&res->body);
	reply_problem(req, res, code, err);
	if (jh_parse(res->body.data, res->body.len, &p, NULL)) {
		json_decref(errors);
		return ERR_OK;
	}
	if (err && err->field[0])
		json_object_set_new(errors, err->field, json_pack("[O]", json_object_get(p, "detail")));
	json_object_set_new(p, "errors", errors);
	json_object_set_new(p, "traceId", json_string(req->request_id));
	buf_reset(&res->body);
	jh_dump(p, &res->body);
	buf_addc(&res->body, '\n');
	json_decref(p);
	return ERR_OK;
}

/* --- query parameters ------------------------------------------------------------------ */

struct qparams {
	size_t n;
	bool overflow;
	const char *k[SDK_MAX_PARAMS], *v[SDK_MAX_PARAMS];
};

static int collect_cb(void *ctx, const char *key, const char *value)
{
	struct qparams *q = ctx;

	if (q->n == SDK_MAX_PARAMS) {
		q->overflow = true;
		return 1;
	}
	q->k[q->n] = key;
	q->v[q->n] = value;
	q->n++;
	return 0;
}

/* Every query parameter into q; ERR_INVALID naming the first one that is
 * not in 'allowed' (compared without case, as ASP.NET binds them). */
static int params(const struct http_request *req, struct qparams *q, const char *const *allowed,
		  struct err_detail *err)
{
	q->n = 0;
	q->overflow = false;
	http_query_each(req, collect_cb, q);
	if (q->overflow)
		return err_set(err, ERR_INVALID, NULL, "more than %d query parameters", SDK_MAX_PARAMS);
	for (size_t i = 0; i < q->n; i++) {
		const char *const *a = allowed;

		while (*a && strcasecmp(*a, q->k[i]))
			a++;
		if (*a)
			continue;
		struct buf list;
		buf_init(&list, 0);
		for (a = allowed; *a; a++)
			buf_addf(&list, "%s%s", a == allowed ? "" : ", ", *a);
		err_set(err, ERR_INVALID, q->k[i],
			"unknown parameter '%.64s'; this route takes: %s (carbonsched refuses unknown "
			"parameters where "
			"the Carbon Aware SDK ignores them)",
			q->k[i], list.len ? list.data : "no parameters");
		buf_release(&list);
		return ERR_INVALID;
	}
	return ERR_OK;
}

/* The one value of 'name' (NULL when absent or empty, as ASP.NET binds an
 * empty value to null); ERR_INVALID when it is given twice. */
static int param(const struct qparams *q, const char *name, const char **ret, struct err_detail *err)
{
	*ret = NULL;
	for (size_t i = 0; i < q->n; i++) {
		if (strcasecmp(q->k[i], name) || !*q->v[i])
			continue;
		if (*ret)
			return err_set(err, ERR_INVALID, name, "%s is given more than once", name);
		*ret = q->v[i];
	}
	return ERR_OK;
}

/* Every non-empty value of 'name', in order, into ret (room for max). */
static int param_all(const struct qparams *q, const char *name, const char **ret, size_t max, size_t *ret_n,
		     struct err_detail *err)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++) {
		if (strcasecmp(q->k[i], name) || !*q->v[i])
			continue;
		if (n == max)
			return err_set(err, ERR_LIMIT, name,
				       "'%s' is given more than %zu times (limits.max_list_items)", name,
				       max);
		ret[n++] = q->v[i];
	}
	*ret_n = n;
	return ERR_OK;
}

static int query_sdk_time(const char *v, const char *field, int64_t *ret, struct err_detail *err)
{
	return sdk_time_parse(v, true, field, ret, err);
}

/* --- locations -------------------------------------------------------------------------- */

/* The region a location name stands for: a region id (any case), else the
 * grid zone of exactly one region. */
static int find_location(const struct config *cfg, const char *name, const char *field,
			 const struct region_cfg **ret, struct err_detail *err)
{
	const struct region_cfg *zone_match = NULL;
	size_t nzone = 0;
	struct buf ids;

	for (size_t i = 0; i < cfg->nregions; i++) {
		if (!strcasecmp(cfg->regions[i].id, name)) {
			*ret = &cfg->regions[i];
			return ERR_OK;
		}
	}
	for (size_t i = 0; i < cfg->nregions; i++) {
		if (!strcasecmp(cfg->regions[i].zone, name)) {
			zone_match = &cfg->regions[i];
			nzone++;
		}
	}
	if (nzone == 1) {
		*ret = zone_match;
		return ERR_OK;
	}
	if (!nzone)
		return err_set(err, ERR_INVALID, field,
			       "Unknown Location: '%.64s' not found (GET /locations lists them)", name);
	buf_init(&ids, 0);
	for (size_t i = 0; i < cfg->nregions; i++)
		if (!strcasecmp(cfg->regions[i].zone, name))
			buf_addf(&ids, "%s%s", ids.len ? ", " : "", cfg->regions[i].id);
	err_set(err, ERR_INVALID, field,
		"location '%.64s' is the grid zone of %zu regions (%.200s): name one of them", name, nzone,
		ids.data);
	buf_release(&ids);
	return ERR_INVALID;
}

/* --- data ---------------------------------------------------------------------------------- */

struct pts {
	const struct region_cfg *r;
	struct sdk_point *p;
	size_t n;
};

/* Observed lifecycle intensity of r's zone: the points with t + dur > from
 * and t <= to (the SDK's filter), as known at the service's now.  No
 * series is no data, not an error. */
static int observed(struct http_request *req, struct db *db, const struct region_cfg *r, int64_t from,
		    int64_t to, struct pts *ret, struct err_detail *err)
{
	struct app *app = app_of(req);
	int64_t now = clock_now(&app->clock), lo, hi;
	struct store_series ser;
	struct series s;
	int rc;

	ret->r = r;
	ret->p = NULL;
	ret->n = 0;
	rc = sigcache_find_series(app->cache, db, r->zone, "carbon_intensity", NULL, r->sources, &ser, err);
	if (rc == ERR_NOT_FOUND)
		return ERR_OK;
	if (rc)
		return rc;
	lo = ts_floor(from, ser.step);
	hi = to < now ? to + 1 : now + 1;
	if (lo >= hi)
		return ERR_OK;
	if ((rc = sigcache_read(app->cache, db, &ser, lo, hi, &s, err)))
		return rc;
	ret->p = arena_alloc(req->arena, (s.n ? s.n : 1) * sizeof(*ret->p));
	ret->n = sdk_filter(ret->p, sdk_points_from_series(&s, ret->p), from, to);
	series_release(&s);
	return ERR_OK;
}

/* The newest observed point of r's zone at or before now (none: n = 0). */
static int newest(struct http_request *req, struct db *db, const struct region_cfg *r, struct pts *ret,
		  struct err_detail *err)
{
	struct app *app = app_of(req);
	struct store_series ser;
	int64_t ts;
	double v;
	int rc;

	ret->r = r;
	ret->n = 0;
	ret->p = arena_alloc(req->arena, sizeof(*ret->p));
	rc = sigcache_find_series(app->cache, db, r->zone, "carbon_intensity", NULL, r->sources, &ser, err);
	if (!rc)
		rc = sigcache_latest(app->cache, db, &ser, clock_now(&app->clock), &ts, &v, err);
	if (rc == ERR_NOT_FOUND)
		return ERR_OK;
	if (rc)
		return rc;
	ret->p[0] = (struct sdk_point){ts, ser.step, v};
	ret->n = 1;
	return ERR_OK;
}

/* --- JSON -------------------------------------------------------------------------------- */

/* Shortest text that reads back as v, as .NET writes a double. */
static void put_double(struct buf *b, double v)
{
	char tmp[40];

	if (!isfinite(v)) {
		buf_adds(b, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	buf_adds(b, tmp);
}

static void put_time(struct buf *b, const char *key, int64_t t)
{
	char ts[SDK_TIME_BUFSZ];

	buf_addf(b, "\"%s\":\"%s\"", key, sdk_time_format(t, ts));
}

/* EmissionsData: {location, time, rating, duration "hh:mm:ss"}. */
static void put_emissions(struct buf *b, const char *zone, const struct sdk_point *p)
{
	char d[32];

	buf_adds(b, "{\"location\":");
	buf_add_json_string(b, zone);
	buf_addc(b, ',');
	put_time(b, "time", p->t);
	buf_adds(b, ",\"rating\":");
	put_double(b, p->v);
	buf_addf(b, ",\"duration\":\"%s\"}", sdk_timespan_format(p->dur, d));
}

/* EmissionsDataDTO: {location, timestamp, duration (minutes), value}. */
static void put_dto_point(struct buf *b, const char *zone, const struct sdk_point *p)
{
	buf_adds(b, "{\"location\":");
	buf_add_json_string(b, zone);
	buf_addc(b, ',');
	put_time(b, "timestamp", p->t);
	buf_addf(b, ",\"duration\":%lld,\"value\":", (long long)(p->dur / 60));
	put_double(b, p->v);
	buf_addc(b, '}');
}

/* --- /emissions/bylocation(s)[/best] ----------------------------------------------------------- */

enum emissions_mode { EM_ONE, EM_MANY, EM_BEST };

struct tied {
	const char *zone;
	struct sdk_point p;
	size_t order;
};

static int tied_cmp(const void *a, const void *b)
{
	const struct tied *x = a, *y = b;

	if (x->p.t != y->p.t)
		return x->p.t < y->p.t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int emissions(struct http_request *req, struct http_response *res, enum emissions_mode mode,
		     struct err_detail *err)
{
	static const char *const allowed[] = {"location", "time", "toTime", "durationMinutes", NULL};
	struct app *app = app_of(req);
	const struct config *cfg = app->cfg;
	int64_t now = clock_now(&app->clock), start = now, end;
	const char *names[SDK_MAX_LOCATIONS], *time_s, *to_s, *dm;
	struct pts data[SDK_MAX_LOCATIONS];
	char d1[TS_BUFSZ], d2[TS_BUFSZ], d3[32];
	size_t nloc, total = 0;
	struct db *db;
	int rc;

	struct qparams *q = arena_alloc(req->arena, sizeof(*q));

	if ((rc = params(req, q, allowed, err)) ||
	    (rc = param_all(q, "location", names, (size_t)app_of(req)->cfg->max_list_items, &nloc, err)) ||
	    (rc = param(q, "time", &time_s, err)) || (rc = param(q, "toTime", &to_s, err)) ||
	    (rc = param(q, "durationMinutes", &dm, err)))
		return rc;
	if (!nloc)
		return err_set(err, ERR_INVALID, "location", "location is not set");
	if (mode == EM_ONE && nloc > 1)
		return err_set(err, ERR_INVALID, "location",
			       "location is given %zu times; /emissions/bylocations takes several", nloc);
	if (dm && strcmp(dm, "0"))
		return err_set(
		    err, ERR_INVALID, "durationMinutes",
		    "durationMinutes is not supported (SDK v1.8 has no such parameter); leave it out");
	for (size_t i = 0; i < nloc; i++)
		if ((rc = find_location(cfg, names[i], "location", &data[i].r, err)))
			return rc;
	if ((time_s && (rc = query_sdk_time(time_s, "time", &start, err))) ||
	    (to_s && (rc = query_sdk_time(to_s, "toTime", &end, err))))
		return rc;
	if (to_s && !time_s)
		return err_set(err, ERR_INVALID, "toTime",
			       "toTime is set, so time (the start) must be set too");
	if (to_s && start >= end)
		return err_set(err, ERR_INVALID, "time", "time must be before toTime");
	if (!to_s)
		end = start;
	if (time_s && start > now)
		return err_set(err, ERR_INVALID, "time",
			       "time %s is after the service's now (%s): nothing is observed there yet; "
			       "/emissions/forecasts/current has the forecast",
			       ts_format(start, d1), ts_format(now, d2));
	if (end - start > cfg->max_range)
		return err_set(
		    err, ERR_RANGE_TOO_LARGE, "toTime",
		    "time to toTime spans %.1f days; at most %s (%.0f days) per request (limits.max_range)",
		    (double)(end - start) / TS_DAY, ts_format_duration(cfg->max_range, d3),
		    (double)cfg->max_range / TS_DAY);
	if ((rc = app_db(req, &db, err)))
		return rc;
	for (size_t i = 0; i < nloc; i++) {
		/* No time: the newest point (the SDK's "current" one). */
		rc = time_s ? observed(req, db, data[i].r, start, end, &data[i], err)
			    : newest(req, db, data[i].r, &data[i], err);
		if (rc)
			return rc;
		total += data[i].n;
	}
	if (!total) {
		res->status = 204;
		res->content_type = NULL;
		return ERR_OK;
	}
	reply_json_raw(res, 200);
	buf_addc(&res->body, '[');
	if (mode != EM_BEST) {
		bool first = true;

		for (size_t i = 0; i < nloc; i++) {
			for (size_t k = 0; k < data[i].n; k++) {
				if (!first)
					buf_addc(&res->body, ',');
				put_emissions(&res->body, data[i].r->zone, &data[i].p[k]);
				first = false;
			}
		}
	} else {
		/* Every point at the minimum, earliest first (then in the
		 * order of the locations asked for). */
		struct tied *t = arena_alloc(req->arena, total * sizeof(*t));
		double best = INFINITY;
		size_t nt = 0, order = 0;

		for (size_t i = 0; i < nloc; i++)
			for (size_t k = 0; k < data[i].n; k++)
				best = fmin(best, data[i].p[k].v);
		for (size_t i = 0; i < nloc; i++)
			for (size_t k = 0; k < data[i].n; k++, order++)
				if (data[i].p[k].v == best)
					t[nt++] = (struct tied){data[i].r->zone, data[i].p[k], order};
		qsort(t, nt, sizeof(*t), tied_cmp);
		for (size_t i = 0; i < nt; i++) {
			if (i)
				buf_addc(&res->body, ',');
			put_emissions(&res->body, t[i].zone, &t[i].p);
		}
	}
	buf_adds(&res->body, "]\n");
	return ERR_OK;
}

int h_sdk_bylocation(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = emissions(req, res, EM_ONE, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

int h_sdk_bylocations(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = emissions(req, res, EM_MANY, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

int h_sdk_best(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = emissions(req, res, EM_BEST, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

/* --- forecasts ------------------------------------------------------------------------------ */

struct fc_ask {
	const char *name; /* as asked for, echoed */
	const struct region_cfg *r;
	int64_t at;	      /* the newest forecast issued at or before this */
	int64_t requested_at; /* echoed */
	bool has_start, has_end;
	int64_t start, end;
	int64_t window_min; /* 0: no rolling average */
};

static const char *fieldname(char *out, size_t size, const char *path, const char *key)
{
	snprintf(out, size, "%s%s", path, key);
	return out;
}

/* One EmissionsForecastDTO into out; notes about cut ranges go to notes. */
static int forecast_one(struct http_request *req, struct db *db, const struct fc_ask *a, const char *path,
			struct buf *out, struct buf *notes, struct err_detail *err)
{
	char f[64], t1[TS_BUFSZ], t2[TS_BUFSZ], t3[TS_BUFSZ], t4[TS_BUFSZ];
	struct sdk_point *pts, *cand;
	struct fc_run run;
	int64_t issued, step, first, last, start, end;
	size_t n, nc, no, *idx;
	int rc;

	rc = fcstore_latest(db, a->r->zone, "carbon_intensity", NULL, a->at, &run, err);
	if (rc) {
		fc_run_release(&run);
		if (rc == ERR_NOT_FOUND)
			return err_set(
			    err, ERR_NOT_FOUND, fieldname(f, sizeof(f), path, "location"),
			    "no carbon-intensity forecast for location '%.64s' (zone '%s') issued by %s",
			    a->name, a->r->zone, ts_format(a->at, t1));
		return rc;
	}
	pts = arena_alloc(req->arena, (run.p50.n ? run.p50.n : 1) * sizeof(*pts));
	n = sdk_points_from_series(&run.p50, pts);
	issued = run.issued_at;
	fc_run_release(&run);
	if (!n)
		return err_set(err, ERR_NOT_FOUND, fieldname(f, sizeof(f), path, "location"),
			       "the forecast for location '%.64s' issued at %s has no values", a->name,
			       ts_format(issued, t1));
	step = pts[0].dur;
	first = pts[0].t;
	last = pts[n - 1].t + pts[n - 1].dur;

	/* Defaults: from the step holding 'at' (earlier steps are already
	 * past), to the end of the forecast. */
	start = a->has_start ? a->start : (a->at <= first ? first : first + (a->at - first) / step * step);
	end = a->has_end ? a->end : last;
	if (a->has_start && a->has_end && start >= end)
		return err_set(err, ERR_INVALID, fieldname(f, sizeof(f), path, "dataStartAt"),
			       "dataStartAt must be before dataEndAt");
	if (start >= last)
		return err_set(err, a->has_start ? ERR_INVALID : ERR_NOT_FOUND,
			       fieldname(f, sizeof(f), path, a->has_start ? "dataStartAt" : "location"),
			       "%s %s is not before the end of the newest forecast for '%.64s': issued at "
			       "%s, it covers %s "
			       "through %s",
			       a->has_start ? "dataStartAt" : "now", ts_format(start, t1), a->name,
			       ts_format(issued, t2), ts_format(first, t3), ts_format(last, t4));
	if (end <= first)
		return err_set(err, ERR_INVALID, fieldname(f, sizeof(f), path, "dataEndAt"),
			       "dataEndAt %s is not after the start of the newest forecast for '%.64s': "
			       "issued at %s, it "
			       "covers %s through %s",
			       ts_format(end, t1), a->name, ts_format(issued, t2), ts_format(first, t3),
			       ts_format(last, t4));
	if (start < first) {
		buf_addf(notes, "%s%s: dataStartAt %s is before the forecast, which starts at %s: cut",
			 notes->len ? "; " : "", a->name, ts_format(start, t1), ts_format(first, t2));
		start = first;
	}
	if (end > last) {
		buf_addf(notes, "%s%s: dataEndAt %s is past the forecast, which ends at %s: cut",
			 notes->len ? "; " : "", a->name, ts_format(end, t1), ts_format(last, t2));
		end = last;
	}

	n = sdk_filter(pts, n, start, end);
	if (a->window_min) {
		size_t cap = (size_t)((end - start) / step) + 2;

		cand = arena_alloc(req->arena, cap * sizeof(*cand));
		nc = sdk_rolling_average(pts, n, a->window_min * 60, start, end, cand, cap);
		if (nc > cap)
			nc = cap; /* cannot happen: one window per step at most */
	} else {
		cand = pts;
		nc = n;
	}
	idx = arena_alloc(req->arena, (nc ? nc : 1) * sizeof(*idx));
	no = sdk_optimal(cand, nc, idx);

	buf_addc(out, '{');
	put_time(out, "generatedAt", issued);
	buf_addc(out, ',');
	put_time(out, "requestedAt", a->requested_at);
	buf_adds(out, ",\"location\":");
	buf_add_json_string(out, a->name);
	buf_addc(out, ',');
	put_time(out, "dataStartAt", start);
	buf_addc(out, ',');
	put_time(out, "dataEndAt", end);
	buf_addf(out, ",\"windowSize\":%lld,\"optimalDataPoints\":[", (long long)a->window_min);
	for (size_t i = 0; i < no; i++) {
		if (i)
			buf_addc(out, ',');
		put_dto_point(out, a->r->zone, &cand[idx[i]]);
	}
	buf_adds(out, "],\"forecastData\":[");
	for (size_t i = 0; i < nc; i++) {
		if (i)
			buf_addc(out, ',');
		put_dto_point(out, a->r->zone, &cand[i]);
	}
	buf_adds(out, "]}");
	return ERR_OK;
}

/* Notes become one Warning header (RFC 9110 obsoletes it, but clients and
 * proxies still show it; the body stays exactly the SDK's). */
static void put_notes(struct http_request *req, struct http_response *res, struct buf *notes)
{
	if (notes->len) {
		char *v = arena_printf(req->arena, "199 carbonsched \"%s\"", notes->data);

		for (char *p = v + 17; p[1]; p++)
			if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
				*p = '\'';
		http_set_header(req, res, "Warning", v);
	}
	buf_release(notes);
}

static int window_param(const char *v, const char *field, int64_t *ret, struct err_detail *err)
{
	char *end;
	long long w;

	errno = 0;
	w = strtoll(v, &end, 10);
	if (*end || end == v || errno || w < 0 || w > SDK_MAX_WINDOW_MIN)
		return err_set(err, ERR_INVALID, field,
			       "%s must be a whole number of minutes from 0 to %d, not '%.32s'", field,
			       SDK_MAX_WINDOW_MIN, v);
	*ret = w;
	return ERR_OK;
}

static int forecasts_current(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {"location", "dataStartAt", "dataEndAt", "windowSize", NULL};
	struct app *app = app_of(req);
	int64_t now = clock_now(&app->clock);
	const char *names[SDK_MAX_LOCATIONS], *s_s, *e_s, *w_s;
	struct fc_ask a = {.at = now, .requested_at = now};
	struct qparams *q = arena_alloc(req->arena, sizeof(*q));
	const struct region_cfg *regions[SDK_MAX_LOCATIONS];
	struct buf out, notes;
	size_t nloc;
	struct db *db;
	int rc;

	if ((rc = params(req, q, allowed, err)) ||
	    (rc = param_all(q, "location", names, (size_t)app_of(req)->cfg->max_list_items, &nloc, err)) ||
	    (rc = param(q, "dataStartAt", &s_s, err)) || (rc = param(q, "dataEndAt", &e_s, err)) ||
	    (rc = param(q, "windowSize", &w_s, err)))
		return rc;
	if (!nloc)
		return err_set(err, ERR_INVALID, "location", "location is not set");
	for (size_t i = 0; i < nloc; i++)
		if ((rc = find_location(app->cfg, names[i], "location", &regions[i], err)))
			return rc;
	if ((s_s && (rc = query_sdk_time(s_s, "dataStartAt", &a.start, err))) ||
	    (e_s && (rc = query_sdk_time(e_s, "dataEndAt", &a.end, err))) ||
	    (w_s && (rc = window_param(w_s, "windowSize", &a.window_min, err))))
		return rc;
	a.has_start = s_s != NULL;
	a.has_end = e_s != NULL;
	if ((rc = app_db(req, &db, err)))
		return rc;
	buf_init(&out, 0);
	buf_init(&notes, 0);
	buf_addc(&out, '[');
	for (size_t i = 0; i < nloc; i++) {
		a.name = names[i];
		a.r = regions[i];
		if (i)
			buf_addc(&out, ',');
		if ((rc = forecast_one(req, db, &a, "", &out, &notes, err))) {
			buf_release(&out);
			buf_release(&notes);
			return rc;
		}
	}
	buf_adds(&out, "]\n");
	reply_json_raw(res, 200);
	buf_add(&res->body, out.data, out.len);
	buf_release(&out);
	put_notes(req, res, &notes);
	return ERR_OK;
}

int h_sdk_forecasts_current(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = forecasts_current(req, res, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

/* --- JSON bodies ------------------------------------------------------------------------------ */

static void decref(void *j)
{
	json_decref(j);
}

/* The request body as a JSON array of at most limits.max_batch_items objects. */
static int json_batch(struct http_request *req, json_t **ret, struct err_detail *err)
{
	const char *ct = http_header(req, "Content-Type");
	json_t *j;
	size_t i;
	json_t *item;
	int rc;

	if (ct && strncasecmp(ct, "application/json", 16) && !strstr(ct, "+json"))
		return err_set(err, ERR_MEDIA_TYPE, NULL, "send the body as application/json, not '%.64s'",
			       ct);
	if ((rc = jh_parse(req->body, req->body_len, &j, err)))
		return rc;
	if (!json_is_array(j)) {
		json_decref(j);
		return err_set(err, ERR_INVALID, NULL, "the body must be a JSON array of requests");
	}
	if ((rc = limits_count("body", json_array_size(j), (size_t)app_of(req)->cfg->max_batch_items,
			       "limits.max_batch_items", err))) {
		json_decref(j);
		return rc;
	}
	json_array_foreach (j, i, item) {
		if (!json_is_object(item)) {
			json_decref(j);
			return err_set(err, ERR_INVALID, NULL, "[%zu] must be an object", i);
		}
	}
	arena_defer(req->arena, decref, j);
	*ret = j;
	return ERR_OK;
}

/* The members of an item, matched to 'keys' without case (System.Text.Json
 * in ASP.NET does so); null counts as absent.  Unknown members are refused. */
static int item_fields(json_t *item, const char *path, const char *const *keys, json_t **vals,
		       struct err_detail *err)
{
	const char *k;
	json_t *v;
	size_t nkeys = 0;

	while (keys[nkeys])
		vals[nkeys++] = NULL;
	json_object_foreach (item, k, v) {
		size_t i = 0;

		while (keys[i] && strcasecmp(keys[i], k))
			i++;
		if (!keys[i]) {
			struct buf list;
			buf_init(&list, 0);
			for (size_t m = 0; keys[m]; m++)
				buf_addf(&list, "%s%s", m ? ", " : "", keys[m]);
			err_set(err, ERR_INVALID, path, "%s: unknown field '%.64s'; an item takes %s", path,
				k, list.data);
			buf_release(&list);
			return ERR_INVALID;
		}
		if (vals[i])
			return err_set(err, ERR_INVALID, path, "%s: %s is given twice", path, keys[i]);
		vals[i] = json_is_null(v) ? NULL : v;
	}
	return ERR_OK;
}

static int item_string(json_t *v, const char *field, bool required, const char **ret, struct err_detail *err)
{
	*ret = NULL;
	if (!v) {
		if (required)
			return err_set(err, ERR_INVALID, field, "%s is not set", field);
		return ERR_OK;
	}
	if (!json_is_string(v))
		return err_set(err, ERR_INVALID, field, "%s must be a string", field);
	if (!*json_string_value(v) && required)
		return err_set(err, ERR_INVALID, field, "%s is not set", field);
	*ret = *json_string_value(v) ? json_string_value(v) : NULL;
	return ERR_OK;
}

static int item_time(json_t *v, const char *field, bool required, bool *ret_has, int64_t *ret,
		     struct err_detail *err)
{
	const char *s;
	int rc = item_string(v, field, required, &s, err);

	*ret_has = false;
	if (rc || !s)
		return rc;
	if ((rc = sdk_time_parse(s, false, field, ret, err)))
		return rc;
	*ret_has = true;
	return ERR_OK;
}

static int forecasts_batch(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	static const char *const keys[] = {"requestedAt", "location",	"dataStartAt",
					   "dataEndAt",	  "windowSize", NULL};
	struct app *app = app_of(req);
	int64_t now = clock_now(&app->clock);
	struct qparams *q = arena_alloc(req->arena, sizeof(*q));
	struct fc_ask *asks;
	struct buf out, notes;
	json_t *body, *item, *v[5];
	size_t i, n;
	struct db *db;
	int rc;

	if ((rc = params(req, q, allowed, err)) || (rc = json_batch(req, &body, err)))
		return rc;
	n = json_array_size(body);
	asks = arena_alloc(req->arena, (n ? n : 1) * sizeof(*asks));
	json_array_foreach (body, i, item) {
		struct fc_ask *a = &asks[i];
		char path[24], f[64];
		bool has;

		memset(a, 0, sizeof(*a));
		snprintf(path, sizeof(path), "[%zu].", i);
		snprintf(f, sizeof(f), "[%zu]", i);
		if ((rc = item_fields(item, f, keys, v, err)) ||
		    (rc = item_time(v[0], fieldname(f, sizeof(f), path, "requestedAt"), true, &has,
				    &a->requested_at, err)) ||
		    (rc =
			 item_string(v[1], fieldname(f, sizeof(f), path, "location"), true, &a->name, err)) ||
		    (rc = find_location(app->cfg, a->name, fieldname(f, sizeof(f), path, "location"), &a->r,
					err)) ||
		    (rc = item_time(v[2], fieldname(f, sizeof(f), path, "dataStartAt"), false, &a->has_start,
				    &a->start, err)) ||
		    (rc = item_time(v[3], fieldname(f, sizeof(f), path, "dataEndAt"), false, &a->has_end,
				    &a->end, err)))
			return rc;
		if (v[4]) {
			if (!json_is_integer(v[4]) || json_integer_value(v[4]) < 0 ||
			    json_integer_value(v[4]) > SDK_MAX_WINDOW_MIN)
				return err_set(err, ERR_INVALID, fieldname(f, sizeof(f), path, "windowSize"),
					       "%s must be a whole number of minutes from 0 to %d", f,
					       SDK_MAX_WINDOW_MIN);
			a->window_min = json_integer_value(v[4]);
		}
		/* A forecast "as of" a time not reached yet does not exist: the
		 * newest one is what is known. */
		a->at = a->requested_at < now ? a->requested_at : now;
	}
	if ((rc = app_db(req, &db, err)))
		return rc;
	buf_init(&out, 0);
	buf_init(&notes, 0);
	buf_addc(&out, '[');
	for (i = 0; i < n; i++) {
		char path[24];

		snprintf(path, sizeof(path), "[%zu].", i);
		if (i)
			buf_addc(&out, ',');
		if ((rc = forecast_one(req, db, &asks[i], path, &out, &notes, err))) {
			buf_release(&out);
			buf_release(&notes);
			return rc;
		}
	}
	buf_adds(&out, "]\n");
	reply_json_raw(res, 200);
	buf_add(&res->body, out.data, out.len);
	buf_release(&out);
	put_notes(req, res, &notes);
	return ERR_OK;
}

int h_sdk_forecasts_batch(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = forecasts_batch(req, res, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

/* --- average carbon intensity ---------------------------------------------------------------- */

/* The time-weighted mean of the observed intensity of r over [start, end):
 * the data must cover the whole period, without a hole. */
static int average_one(struct http_request *req, struct db *db, const char *name, const struct region_cfg *r,
		       int64_t start, int64_t end, const char *path, double *ret, struct err_detail *err)
{
	const struct config *cfg = app_of(req)->cfg;
	int64_t now = clock_now(&app_of(req)->clock), hole, resume = 0;
	char f[64], t1[TS_BUFSZ], t2[TS_BUFSZ], d[32];
	struct pts p;
	int rc;

	if (start >= end)
		return err_set(err, ERR_INVALID, fieldname(f, sizeof(f), path, "startTime"),
			       "startTime must be before endTime");
	if (end - start > cfg->max_range)
		return err_set(err, ERR_RANGE_TOO_LARGE, fieldname(f, sizeof(f), path, "endTime"),
			       "startTime to endTime spans %.1f days; at most %s (%.0f days) per request "
			       "(limits.max_range)",
			       (double)(end - start) / TS_DAY, ts_format_duration(cfg->max_range, d),
			       (double)cfg->max_range / TS_DAY);
	if (end > now)
		return err_set(
		    err, ERR_INVALID, fieldname(f, sizeof(f), path, "endTime"),
		    "Period out of range: endTime %s is after the service's now (%s), where observed data "
		    "ends",
		    ts_format(end, t1), ts_format(now, t2));
	/* end - 1: the SDK's filter keeps t <= end, the mean needs t < end. */
	if ((rc = observed(req, db, r, start, end - 1, &p, err)))
		return rc;
	if (sdk_average(p.p, p.n, start, end, ret, &hole))
		return ERR_OK;
	for (size_t i = 0; i < p.n && !resume; i++)
		if (p.p[i].t > hole)
			resume = p.p[i].t;
	if (hole == start && !resume)
		return err_set(err, ERR_INVALID, fieldname(f, sizeof(f), path, "startTime"),
			       "Period out of range: no carbon-intensity data for '%.64s' (zone '%s') from "
			       "startTime %s to "
			       "endTime %s",
			       name, r->zone, ts_format(start, t1), ts_format(end, t2));
	if (!resume)
		return err_set(err, ERR_INVALID, fieldname(f, sizeof(f), path, "endTime"),
			       "Period out of range: the carbon-intensity data of '%.64s' (zone '%s') ends "
			       "at %s, before "
			       "endTime %s",
			       name, r->zone, ts_format(hole, t1), ts_format(end, t2));
	return err_set(err, ERR_INVALID,
		       fieldname(f, sizeof(f), path, hole == start ? "startTime" : "location"),
		       "Period out of range: the carbon-intensity data of '%.64s' (zone '%s') has no value "
		       "from %s to %s; "
		       "the mean would hide the gap",
		       name, r->zone, ts_format(hole, t1), ts_format(resume, t2));
}

/* CarbonIntensityDTO: {location, startTime, endTime, carbonIntensity}. */
static void put_average(struct buf *b, const char *name, int64_t start, int64_t end, double v)
{
	buf_adds(b, "{\"location\":");
	buf_add_json_string(b, name);
	buf_addc(b, ',');
	put_time(b, "startTime", start);
	buf_addc(b, ',');
	put_time(b, "endTime", end);
	buf_adds(b, ",\"carbonIntensity\":");
	put_double(b, v);
	buf_addc(b, '}');
}

static int average(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {"location", "startTime", "endTime", NULL};
	struct qparams *q = arena_alloc(req->arena, sizeof(*q));
	const char *name, *s_s, *e_s;
	const struct region_cfg *r;
	int64_t start, end;
	struct db *db;
	double v;
	int rc;

	if ((rc = params(req, q, allowed, err)) || (rc = param(q, "location", &name, err)) ||
	    (rc = param(q, "startTime", &s_s, err)) || (rc = param(q, "endTime", &e_s, err)))
		return rc;
	if (!name)
		return err_set(err, ERR_INVALID, "location", "location is not set");
	if ((rc = find_location(app_of(req)->cfg, name, "location", &r, err)) ||
	    (rc = query_sdk_time(s_s, "startTime", &start, err)) ||
	    (rc = query_sdk_time(e_s, "endTime", &end, err)) || (rc = app_db(req, &db, err)) ||
	    (rc = average_one(req, db, name, r, start, end, "", &v, err)))
		return rc;
	reply_json_raw(res, 200);
	put_average(&res->body, name, start, end, v);
	buf_addc(&res->body, '\n');
	return ERR_OK;
}

int h_sdk_average(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = average(req, res, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

/* One item of an average batch, read before any of them is looked up. */
struct avg_ask {
	const char *name;
	const struct region_cfg *r;
	int64_t start, end;
};

static int average_batch(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	static const char *const keys[] = {"location", "startTime", "endTime", NULL};
	struct qparams *q = arena_alloc(req->arena, sizeof(*q));
	struct avg_ask *asks;
	json_t *body, *item, *v[3];
	struct buf out;
	struct db *db;
	size_t i, n;
	int rc;

	if ((rc = params(req, q, allowed, err)) || (rc = json_batch(req, &body, err)))
		return rc;
	/* Every item is read first (as the forecasts batch does), so a
	 * malformed one is refused without touching the database. */
	n = json_array_size(body);
	asks = arena_alloc(req->arena, (n ? n : 1) * sizeof(*asks));
	json_array_foreach (body, i, item) {
		struct avg_ask *a = &asks[i];
		char path[24], f[64];
		bool has;

		snprintf(path, sizeof(path), "[%zu].", i);
		snprintf(f, sizeof(f), "[%zu]", i);
		if ((rc = item_fields(item, f, keys, v, err)) ||
		    (rc =
			 item_string(v[0], fieldname(f, sizeof(f), path, "location"), true, &a->name, err)) ||
		    (rc = find_location(app_of(req)->cfg, a->name, fieldname(f, sizeof(f), path, "location"),
					&a->r, err)) ||
		    (rc = item_time(v[1], fieldname(f, sizeof(f), path, "startTime"), true, &has, &a->start,
				    err)) ||
		    (rc =
			 item_time(v[2], fieldname(f, sizeof(f), path, "endTime"), true, &has, &a->end, err)))
			return rc;
	}
	if ((rc = app_db(req, &db, err)))
		return rc;
	buf_init(&out, 0);
	buf_addc(&out, '[');
	for (i = 0; i < n; i++) {
		const struct avg_ask *a = &asks[i];
		char path[24];
		double val;

		snprintf(path, sizeof(path), "[%zu].", i);
		if ((rc = average_one(req, db, a->name, a->r, a->start, a->end, path, &val, err))) {
			buf_release(&out);
			return rc;
		}
		if (i)
			buf_addc(&out, ',');
		put_average(&out, a->name, a->start, a->end, val);
	}
	buf_adds(&out, "]\n");
	reply_json_raw(res, 200);
	buf_add(&res->body, out.data, out.len);
	buf_release(&out);
	return ERR_OK;
}

int h_sdk_average_batch(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = average_batch(req, res, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

/* --- /locations, /health ------------------------------------------------------------------------ */

static int locations(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	const struct config *cfg = app_of(req)->cfg;
	struct qparams *q = arena_alloc(req->arena, sizeof(*q));
	int rc;

	if ((rc = params(req, q, allowed, err)))
		return rc;
	if (!cfg->nregions) {
		res->status = 204;
		res->content_type = NULL;
		return ERR_OK;
	}
	reply_json_raw(res, 200);
	buf_addc(&res->body, '{');
	for (size_t i = 0; i < cfg->nregions; i++) {
		const struct region_cfg *r = &cfg->regions[i];

		if (i)
			buf_addc(&res->body, ',');
		buf_add_json_string(&res->body, r->id);
		buf_adds(&res->body, ":{\"latitude\":");
		put_double(&res->body, r->latitude);
		buf_adds(&res->body, ",\"longitude\":");
		put_double(&res->body, r->longitude);
		buf_adds(&res->body, ",\"name\":");
		buf_add_json_string(&res->body, r->id);
		buf_addc(&res->body, '}');
	}
	buf_adds(&res->body, "}\n");
	return ERR_OK;
}

int h_sdk_locations(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc = locations(req, res, err);

	return rc ? sdk_problem(req, res, rc, err) : ERR_OK;
}

/* ASP.NET's default health check: the process answers.  Like /healthz it
 * never touches the database (/readyz does). */
int h_sdk_health(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	struct qparams *q = arena_alloc(req->arena, sizeof(*q));
	int rc;

	if ((rc = params(req, q, allowed, err)))
		return sdk_problem(req, res, rc, err);
	res->status = 200;
	res->content_type = "text/plain";
	buf_adds(&res->body, "Healthy");
	return ERR_OK;
}
