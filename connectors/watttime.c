/*
 * watttime.c - WattTime API v3: marginal emissions (MOER) history and
 * forecasts, the signal index, and region lookup by coordinates.
 *
 * Auth is two-step: GET /login with HTTP Basic returns a bearer token that
 * lives 30 minutes.  The token is cached in the source's context (under its
 * lock) for 25 minutes and fetched again early, or at once when a data call
 * answers 401 - the call is then repeated once with the new token.
 *
 * Units: co2_moer and co2_aoer come in lbs CO2 per MWh; x 0.45359237 gives
 * kg/MWh = g/kWh.  Data are 5-minute (300 s) for MOER, hourly for AOER, as
 * 'meta.data_point_period_seconds' says; timestamps carry an offset
 * ("+00:00").  'end' is inclusive on the API, so ranges end one second
 * before our exclusive 'to'.  historical accepts at most 32 days per call
 * (we ask 30), forecast/historical one day.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "connectors/conn_json.h"
#include "connectors/connector.h"
#include "core/mem.h"
#include "core/time.h"

#define LBS_PER_MWH_TO_G_PER_KWH 0.45359237
#define TOKEN_LIFETIME		 (25 * TS_MINUTE) /* the API's is 30 minutes */
#define HISTORICAL_MAX		 (30 * TS_DAY)

static const struct {
	const char *signal_type, *kind;
} signal_kinds[] = {
    {"co2_moer", "marginal_intensity"},
    {"co2_aoer", "carbon_intensity_direct"},
};

static const struct {
	const char *units;
	double factor;
} unit_factors[] = {
    {"lbs_co2_per_mwh", LBS_PER_MWH_TO_G_PER_KWH},
    {"kg_co2_per_mwh", 1.0},
    {"g_co2_per_kwh", 1.0},
};

/* What 'meta' says about the values. */
struct meta {
	const char *kind;
	double factor;
	int32_t step;
	char model[64];
	int64_t generated_at; /* 0 when absent */
};

static int read_meta(json_t *root, bool index, struct meta *m, struct err_detail *err)
{
	json_t *meta;
	const char *signal, *units, *date = NULL;
	double period;
	int rc;

	if ((rc = cj_object(root, "meta", NULL, 0, &meta, err)) ||
	    (rc = cj_str(meta, "signal_type", "meta", SIZE_MAX, true, &signal, err)) ||
	    (rc = cj_str(meta, "units", "meta", SIZE_MAX, true, &units, err)) ||
	    (rc = cj_num(meta, "data_point_period_seconds", "meta", SIZE_MAX, true, &period, err)))
		return rc;
	if (period < 60 || period > TS_DAY || fmod(period, 60) != 0)
		return err_set(
		    err, ERR_MALFORMED, "meta.data_point_period_seconds",
		    "meta.data_point_period_seconds: %g is not a whole number of minutes up to a day",
		    period);
	m->step = (int32_t)period;
	m->kind = NULL;
	if (index) {
		if (strcmp(units, "percentile"))
			return err_set(err, ERR_MALFORMED, "meta.units",
				       "meta.units: expected 'percentile', got '%.40s'", units);
		m->kind = "marginal_index";
		m->factor = 1;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(signal_kinds); i++)
			if (!strcmp(signal, signal_kinds[i].signal_type))
				m->kind = signal_kinds[i].kind;
		if (!m->kind)
			return err_set(err, ERR_MALFORMED, "meta.signal_type",
				       "meta.signal_type: '%.40s' is not supported (co2_moer, co2_aoer)",
				       signal);
		m->factor = NAN;
		for (size_t i = 0; i < ARRAY_SIZE(unit_factors); i++)
			if (!strcmp(units, unit_factors[i].units))
				m->factor = unit_factors[i].factor;
		if (isnan(m->factor))
			return err_set(err, ERR_MALFORMED, "meta.units",
				       "meta.units: '%.40s' is not a known unit", units);
	}
	json_t *model = json_object_get(meta, "model");
	if (json_is_object(model) && (rc = cj_str(model, "date", "meta.model", SIZE_MAX, false, &date, err)))
		return rc;
	snprintf(m->model, sizeof(m->model), "watttime:%s", date ? date : "unknown");
	m->generated_at = 0;
	if (json_object_get(meta, "generated_at") &&
	    (rc = cj_time(meta, "generated_at", "meta", SIZE_MAX, &m->generated_at, err)))
		return rc;
	return ERR_OK;
}

/* data[] points {point_time, value[, imputed_data_used]} into series s. */
static int points(json_t *arr, const char *name, const struct meta *m, struct series *s,
		  struct err_detail *err)
{
	json_t *item;
	size_t i;
	int rc;

	json_array_foreach (arr, i, item) {
		int64_t t;
		double v;
		bool imputed;
		if ((rc = cj_time(item, "point_time", name, i, &t, err)) ||
		    (rc = cj_num(item, "value", name, i, false, &v, err)) ||
		    (rc = cj_bool(item, "imputed_data_used", name, i, false, &imputed, err)))
			return rc;
		if (isnan(v))
			continue;
		if ((rc = conn_series_set(s, t, v * m->factor, imputed, "point_time", err)))
			return rc;
	}
	return ERR_OK;
}

static int parse_series(const struct conn_parse_ctx *p, const char *data, size_t len, bool index,
			struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr;
	struct meta m;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!(rc = read_meta(root, index, &m, err)) && !(rc = cj_array(root, "data", NULL, 0, &arr, err)))
		rc =
		    points(arr, "data", &m, sig_set_get(&ret->sigs, p->zone, m.kind, p->source, m.step), err);
	json_decref(root);
	return rc;
}

static int parse_historical(const struct conn_parse_ctx *p, const char *data, size_t len,
			    struct conn_result *ret, struct err_detail *err)
{
	return parse_series(p, data, len, false, ret, err);
}

static int parse_index(const struct conn_parse_ctx *p, const char *data, size_t len, struct conn_result *ret,
		       struct err_detail *err)
{
	return parse_series(p, data, len, true, ret, err);
}

static int parse_forecast(const struct conn_parse_ctx *p, const char *data, size_t len,
			  struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr;
	struct meta m;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!(rc = read_meta(root, false, &m, err)) && !(rc = cj_array(root, "data", NULL, 0, &arr, err)) &&
	    json_array_size(arr)) {
		struct conn_forecast *f =
		    conn_result_forecast(ret, p->zone, m.kind, p->source, m.model,
					 m.generated_at ? m.generated_at : p->now, m.step);
		rc = points(arr, "data", &m, &f->p50, err);
	}
	json_decref(root);
	return rc;
}

static int parse_forecast_historical(const struct conn_parse_ctx *p, const char *data, size_t len,
				     struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr, *item, *fc;
	struct meta m;
	size_t i;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if ((rc = read_meta(root, false, &m, err)) || (rc = cj_array(root, "data", NULL, 0, &arr, err)))
		goto out;
	json_array_foreach (arr, i, item) {
		int64_t issued;
		if ((rc = cj_time(item, "generated_at", "data", i, &issued, err)) ||
		    (rc = cj_array(item, "forecast", "data", i, &fc, err)))
			goto out;
		if (!json_array_size(fc))
			continue;
		struct conn_forecast *f =
		    conn_result_forecast(ret, p->zone, m.kind, p->source, m.model, issued, m.step);
		if ((rc = points(fc, "data[].forecast", &m, &f->p50, err)))
			goto out;
	}
out:
	json_decref(root);
	return rc;
}

/* {"region": ..., "region_full_name": ..., "signal_type": ...} */
static int region_of(const char *data, size_t len, char *out, size_t size, struct err_detail *err)
{
	json_t *root;
	const char *region;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!(rc = cj_str(root, "region", NULL, 0, true, &region, err))) {
		if (!*region || strlen(region) >= size ||
		    strspn(region, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
			strlen(region))
			rc = err_set(err, ERR_MALFORMED, "region", "region: '%.40s' is not a region name",
				     region);
		else
			snprintf(out, size, "%s", region);
	}
	json_decref(root);
	return rc;
}

static int parse_region(const struct conn_parse_ctx *p, const char *data, size_t len, struct conn_result *ret,
			struct err_detail *err)
{
	char region[64];

	(void)p;
	(void)ret;
	return region_of(data, len, region, sizeof(region), err);
}

static const struct conn_endpoint endpoints[] = {
    {"historical", "json", parse_historical,
     "marginal (or average) emissions, the last 24 h or a range (default)"},
    {"forecast", "json", parse_forecast, "the most recent forecast, 24 h ahead by default (default)"},
    {"forecast-historical", "json", parse_forecast_historical, "forecasts as issued in the past"},
    {"signal-index", "json", parse_index, "the current MOER percentile (marginal_index)"},
    {"region-from-loc", "json", parse_region, "the region at coordinates (used when no key is configured)"},
    {NULL, NULL, NULL, NULL},
};

/* ------------------------------------------------------------------ */
/* Token and calls                                                     */

static int login(struct conn_ctx *c, bool refresh, char *out, size_t size, struct err_detail *err)
{
	char url[600];
	const char *secrets[] = {c->creds.password, NULL};
	struct fetch_response res = {0};
	json_t *root;
	const char *tok;
	int64_t now = conn_now(c);
	int rc;

	pthread_mutex_lock(&c->lock);
	if (!refresh && c->token && now < c->token_expires) {
		snprintf(out, size, "%s", c->token);
		pthread_mutex_unlock(&c->lock);
		return ERR_OK;
	}
	pthread_mutex_unlock(&c->lock);
	snprintf(url, sizeof(url), "%s/login", c->base_url);
	struct fetch_request rq = {.source = c->source,
				   .url = url,
				   .user = c->creds.username,
				   .password = c->creds.password,
				   .accept = "json",
				   .secrets = secrets};
	if ((rc = fetch_get(c->fetch, &rq, &res, err)))
		return rc;
	rc = cj_parse(res.body, res.len, &root, err);
	if (!rc) {
		rc = cj_str(root, "token", NULL, 0, true, &tok, err);
		if (!rc && (!*tok || strlen(tok) >= size))
			rc = err_set(err, ERR_MALFORMED, "token", "token: empty or longer than %zu bytes",
				     size - 1);
		if (!rc) {
			pthread_mutex_lock(&c->lock);
			if (c->token)
				explicit_bzero(c->token, strlen(c->token));
			free(c->token);
			c->token = xstrdup(tok);
			c->token_expires = now + TOKEN_LIFETIME;
			snprintf(out, size, "%s", tok);
			pthread_mutex_unlock(&c->lock);
		}
		json_decref(root);
	}
	explicit_bzero(res.body, res.len);
	fetch_response_release(&res);
	if (rc && err)
		err_prefix(err, "%s: login response: ", c->source);
	return rc;
}

/* GET with the bearer token; on 401 log in again and repeat once. */
static int call(struct conn_ctx *c, const char *endpoint, const char *url, const struct conn_parse_ctx *p,
		struct conn_result *ret, struct err_detail *err)
{
	char tok[512], hdr[600];
	const char *headers[] = {hdr, NULL};
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = login(c, attempt > 0, tok, sizeof(tok), err)))
			break;
		const char *secrets[] = {tok, c->creds.password, NULL};
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
		rc = conn_get_parse(c, conn_endpoint(c->conn, endpoint), url, headers, secrets, p, ret, err);
		if (rc != ERR_UNAUTHORIZED)
			break;
	}
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(hdr, sizeof(hdr));
	return rc;
}

static int region_from_loc(struct conn_ctx *c, double lat, double lon, const char *signal, char *out,
			   size_t size, struct err_detail *err)
{
	char url[600], tok[512], hdr[600];
	const char *headers[] = {hdr, NULL};
	struct fetch_response res = {0};
	int rc;

	snprintf(url, sizeof(url), "%s/v3/region-from-loc?latitude=%.6f&longitude=%.6f&signal_type=%s",
		 c->base_url, lat, lon, signal);
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = login(c, attempt > 0, tok, sizeof(tok), err)))
			break;
		const char *secrets[] = {tok, c->creds.password, NULL};
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
		struct fetch_request rq = {.source = c->source,
					   .url = url,
					   .headers = headers,
					   .accept = "json",
					   .secrets = secrets};
		rc = fetch_get(c->fetch, &rq, &res, err);
		if (rc != ERR_UNAUTHORIZED)
			break;
	}
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(hdr, sizeof(hdr));
	if (rc)
		return rc;
	rc = region_of(res.body, res.len, out, size, err);
	fetch_response_release(&res);
	if (rc && err)
		err_prefix(err, "%s: region-from-loc response: ", c->source);
	return rc;
}

static int wt_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
		    struct err_detail *err)
{
	char region[64], url[1024], sa[TS_BUFSZ], sb[TS_BUFSZ];
	const char *signal = q->signal_type ? q->signal_type : "co2_moer";
	struct conn_parse_ctx p;
	struct conn_nodata nd = {0};
	bool live = !q->from && !q->to, known = false;
	int rc = ERR_OK;

	for (size_t i = 0; i < ARRAY_SIZE(signal_kinds); i++)
		known |= !strcmp(signal, signal_kinds[i].signal_type);
	if (!known)
		return err_set(err, ERR_INVALID, "signal_type",
			       "%s: signal_type '%s' is not supported (co2_moer, co2_aoer)", c->source,
			       signal);
	conn_parse_ctx_init(&p, c, q);
	if (q->key) {
		conn_urlencode(q->key, region, sizeof(region));
	} else if (q->has_coords) {
		char found[64];
		if ((rc = region_from_loc(c, q->lat, q->lon, signal, found, sizeof(found), err)))
			return rc;
		conn_urlencode(found, region, sizeof(region));
	} else {
		conn_urlencode(q->zone, region, sizeof(region));
	}
	int64_t now5 = ts_floor(p.now, 5 * TS_MINUTE);
	if (conn_wants(q, "historical", true)) {
		int64_t from = live ? now5 - TS_DAY : q->from, to = live ? now5 : q->to;
		for (int64_t a = from; a < to && !rc; a += HISTORICAL_MAX) {
			int64_t b = a + HISTORICAL_MAX < to ? a + HISTORICAL_MAX : to;
			snprintf(url, sizeof(url),
				 "%s/v3/historical?region=%s&signal_type=%s&start=%s&end=%s", c->base_url,
				 region, signal, ts_format(a, sa), ts_format(b - 1, sb));
			rc = conn_soft(&nd, call(c, "historical", url, &p, ret, err), err);
		}
	}
	if (!rc && conn_wants(q, "forecast", live)) {
		snprintf(url, sizeof(url), "%s/v3/forecast?region=%s&signal_type=%s&horizon_hours=%d",
			 c->base_url, region, signal, q->horizon_h ? q->horizon_h : 24);
		rc = conn_soft(&nd, call(c, "forecast", url, &p, ret, err), err);
	}
	if (!rc && conn_wants(q, "forecast-historical", false)) {
		int64_t from = live ? now5 - TS_HOUR : q->from, to = live ? now5 : q->to;
		for (int64_t a = from; a < to && !rc; a += TS_DAY) {
			int64_t b = a + TS_DAY < to ? a + TS_DAY : to;
			snprintf(url, sizeof(url),
				 "%s/v3/forecast/"
				 "historical?region=%s&signal_type=%s&start=%s&end=%s&horizon_hours=%d",
				 c->base_url, region, signal, ts_format(a, sa), ts_format(b - 1, sb),
				 q->horizon_h ? q->horizon_h : 24);
			rc = conn_soft(&nd, call(c, "forecast-historical", url, &p, ret, err), err);
		}
	}
	if (!rc && conn_wants(q, "signal-index", false)) {
		snprintf(url, sizeof(url), "%s/v3/signal-index?region=%s&signal_type=co2_moer", c->base_url,
			 region);
		rc = conn_soft(&nd, call(c, "signal-index", url, &p, ret, err), err);
	}
	return rc ? rc : conn_finish(&nd, ret, err);
}

const struct connector conn_watttime = {
    .name = "watttime",
    .summary = "WattTime API v3: marginal emissions (MOER) history, forecasts and signal index per region",
    .default_base_url = "https://api.watttime.org",
    .auth = CONN_AUTH_LOGIN,
    .username_env = "CARBONSCHED_WATTTIME_USERNAME",
    .password_env = "CARBONSCHED_WATTTIME_PASSWORD",
    .endpoints = endpoints,
    .fetch = wt_fetch,
};
