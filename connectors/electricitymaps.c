/*
 * electricitymaps.c - Electricity Maps API v3: carbon intensity (latest,
 * history, past-range, forecast) and power breakdown (latest, history).
 *
 * The API already speaks our units: gCO2eq/kWh, MW, UTC, 'datetime' the
 * start of the hour.  What needs care: intensities and powers may be null
 * (a gap, never a zero), recent hours are 'isEstimated' (kept as the
 * series' estimated flag), the wrapper key differs per endpoint ('history',
 * 'data', 'forecast'), storage keys have spaces ("hydro discharge") and
 * production values may be negative (charging).  The token travels in the
 * 'auth-token' header, never in the URL.
 *
 * Plan of a fetch: without a range, history and power-breakdown history
 * (the last 24 h, on every plan); with a range, past-range in windows of
 * at most ten days (the API's limit).  latest, forecast (commercial) and
 * power-latest are opt-in endpoints.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "connectors/conn_json.h"
#include "connectors/connector.h"
#include "core/mem.h"
#include "core/time.h"

#define PAST_RANGE_MAX (10 * TS_DAY)

/* Production breakdown keys -> fuels (several keys may add up to one). */
static const struct {
	const char *key;
	enum sig_fuel fuel;
} fuel_keys[] = {
    {"nuclear", FUEL_NUCLEAR},
    {"geothermal", FUEL_GEOTHERMAL},
    {"biomass", FUEL_BIOMASS},
    {"coal", FUEL_COAL},
    {"wind", FUEL_WIND},
    {"solar", FUEL_SOLAR},
    {"hydro", FUEL_HYDRO},
    {"gas", FUEL_GAS},
    {"oil", FUEL_OIL},
    {"unknown", FUEL_UNKNOWN},
    {"hydro discharge", FUEL_STORAGE},
    {"battery discharge", FUEL_STORAGE},
};

static enum sig_fuel fuel_of_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(fuel_keys); i++)
		if (!strcmp(fuel_keys[i].key, key))
			return fuel_keys[i].fuel;
	return FUEL_UNKNOWN; /* a new key: counted, conservatively, as unknown */
}

/* Step from the optional "temporalGranularity". */
static int step_of(json_t *root, int32_t *ret, struct err_detail *err)
{
	static const struct {
		const char *name;
		int32_t step;
	} steps[] = {{"5_minutes", 300}, {"15_minutes", 900}, {"hourly", 3600}};
	json_t *g = json_object_get(root, "temporalGranularity");

	*ret = 3600;
	if (!g || json_is_null(g))
		return ERR_OK;
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (json_is_string(g) && !strcmp(json_string_value(g), steps[i].name)) {
			*ret = steps[i].step;
			return ERR_OK;
		}
	return err_set(err, ERR_MALFORMED, "temporalGranularity",
		       "temporalGranularity: expected 5_minutes, 15_minutes or hourly");
}

static const char *kind_of(json_t *item, const struct conn_parse_ctx *p)
{
	json_t *t = json_object_get(item, "emissionFactorType");

	if (json_is_string(t))
		return strcmp(json_string_value(t), "direct") ? "carbon_intensity"
							      : "carbon_intensity_direct";
	return p->factors == FACTORS_DIRECT ? "carbon_intensity_direct" : "carbon_intensity";
}

/* One carbon-intensity item: {carbonIntensity, datetime, isEstimated}. */
static int ci_item(const struct conn_parse_ctx *p, json_t *item, const char *arr, size_t i, int32_t step,
		   struct conn_result *ret, struct err_detail *err)
{
	int64_t t;
	double v;
	bool est;
	int rc;

	if (!json_is_object(item) && !arr)
		return err_set(err, ERR_MALFORMED, "body", "body: expected an object");
	if (!json_is_object(item))
		return err_set(err, ERR_MALFORMED, arr, "%s[%zu]: expected an object", arr, i);
	if ((rc = cj_time(item, "datetime", arr, i, &t, err)) ||
	    (rc = cj_num(item, "carbonIntensity", arr, i, false, &v, err)) ||
	    (rc = cj_bool(item, "isEstimated", arr, i, false, &est, err)))
		return rc;
	if (!isnan(v) && v < 0)
		return err_set(err, ERR_MALFORMED, "carbonIntensity",
			       "%s[%zu].carbonIntensity: %g is negative", arr ? arr : "body", i, v);
	struct series *s = sig_set_get(&ret->sigs, p->zone, kind_of(item, p), p->source, step);
	return isnan(v) ? ERR_OK : conn_series_set(s, t, v, est, "datetime", err);
}

static int parse_ci_list(const struct conn_parse_ctx *p, const char *data, size_t len, const char *key,
			 struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr, *item;
	int32_t step;
	size_t i;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!(rc = step_of(root, &step, err)) && !(rc = cj_array(root, key, NULL, 0, &arr, err)))
		json_array_foreach (arr, i, item) {
			if ((rc = ci_item(p, item, key, i, step, ret, err)))
				break;
		}
	json_decref(root);
	return rc;
}

static int parse_history(const struct conn_parse_ctx *p, const char *data, size_t len,
			 struct conn_result *ret, struct err_detail *err)
{
	return parse_ci_list(p, data, len, "history", ret, err);
}

static int parse_past_range(const struct conn_parse_ctx *p, const char *data, size_t len,
			    struct conn_result *ret, struct err_detail *err)
{
	return parse_ci_list(p, data, len, "data", ret, err);
}

static int parse_latest(const struct conn_parse_ctx *p, const char *data, size_t len, struct conn_result *ret,
			struct err_detail *err)
{
	json_t *root;
	int32_t step;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!(rc = step_of(root, &step, err)))
		rc = ci_item(p, root, NULL, 0, step, ret, err);
	json_decref(root);
	return rc;
}

static int parse_forecast(const struct conn_parse_ctx *p, const char *data, size_t len,
			  struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr, *item;
	int64_t issued = p->now, t;
	int32_t step;
	double v;
	size_t i;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if ((rc = step_of(root, &step, err)) || (rc = cj_array(root, "forecast", NULL, 0, &arr, err)))
		goto out;
	if (json_object_get(root, "updatedAt") && (rc = cj_time(root, "updatedAt", NULL, 0, &issued, err)))
		goto out;
	struct conn_forecast *f = NULL;
	json_array_foreach (arr, i, item) {
		if ((rc = cj_time(item, "datetime", "forecast", i, &t, err)) ||
		    (rc = cj_num(item, "carbonIntensity", "forecast", i, false, &v, err)))
			goto out;
		if (isnan(v))
			continue;
		if (!f) /* created on the first value: an empty forecast is no forecast */
			f = conn_result_forecast(ret, p->zone, kind_of(item, p), p->source, "electricitymaps",
						 issued, step);
		if ((rc = conn_series_set(&f->p50, t, v, false, "forecast.datetime", err)))
			goto out;
	}
out:
	json_decref(root);
	return rc;
}

/* One power-breakdown object: generation per fuel and the two shares. */
static int power_item(const struct conn_parse_ctx *p, json_t *item, const char *arr, size_t i,
		      struct conn_result *ret, struct err_detail *err)
{
	double mix[FUEL__COUNT], v;
	bool seen[FUEL__COUNT] = {false}, est;
	json_t *prod, *val;
	const char *key;
	int64_t t;
	int rc;

	if (!json_is_object(item) && !arr)
		return err_set(err, ERR_MALFORMED, "body", "body: expected an object");
	if (!json_is_object(item))
		return err_set(err, ERR_MALFORMED, arr, "%s[%zu]: expected an object", arr, i);
	if ((rc = cj_time(item, "datetime", arr, i, &t, err)) ||
	    (rc = cj_bool(item, "isEstimated", arr, i, false, &est, err)) ||
	    (rc = cj_object(item, "powerProductionBreakdown", arr, i, &prod, err)))
		return rc;
	for (int f = 0; f < FUEL__COUNT; f++)
		mix[f] = NAN;
	json_object_foreach (prod, key, val) {
		enum sig_fuel f = fuel_of_key(key);
		if ((rc = cj_num(prod, key, "powerProductionBreakdown", SIZE_MAX, false, &v, err)))
			return rc;
		seen[f] = true;
		if (!isnan(v))
			mix[f] = isnan(mix[f]) ? v : mix[f] + v;
	}
	for (int f = 0; f < FUEL__COUNT; f++) {
		char kind[48];
		if (!seen[f] || isnan(mix[f]))
			continue;
		struct series *s = sig_set_get(&ret->sigs, p->zone,
					       conn_generation_kind((enum sig_fuel)f, kind), p->source, 3600);
		if ((rc = conn_series_set(s, t, mix[f], est, "datetime", err)))
			return rc;
	}
	static const struct {
		const char *key, *kind;
	} shares[] = {{"renewablePercentage", "renewable_share"},
		      {"fossilFreePercentage", "low_carbon_share"}};
	for (size_t k = 0; k < ARRAY_SIZE(shares); k++) {
		if ((rc = cj_num(item, shares[k].key, arr, i, false, &v, err)))
			return rc;
		if (isnan(v))
			continue;
		if (v < 0 || v > 100)
			return err_set(err, ERR_MALFORMED, shares[k].key, "%s: %g is not a percentage",
				       shares[k].key, v);
		struct series *s = sig_set_get(&ret->sigs, p->zone, shares[k].kind, p->source, 3600);
		if ((rc = conn_series_set(s, t, v, est, "datetime", err)))
			return rc;
	}
	return ERR_OK;
}

static int parse_power_latest(const struct conn_parse_ctx *p, const char *data, size_t len,
			      struct conn_result *ret, struct err_detail *err)
{
	json_t *root;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	rc = power_item(p, root, NULL, 0, ret, err);
	json_decref(root);
	return rc;
}

static int parse_power_history(const struct conn_parse_ctx *p, const char *data, size_t len,
			       struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr, *item;
	size_t i;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!(rc = cj_array(root, "history", NULL, 0, &arr, err)))
		json_array_foreach (arr, i, item) {
			if ((rc = power_item(p, item, "history", i, ret, err)))
				break;
		}
	json_decref(root);
	return rc;
}

static const struct conn_endpoint endpoints[] = {
    {"latest", "json", parse_latest, "carbon intensity of the current hour"},
    {"history", "json", parse_history, "carbon intensity of the last 24 hours (default without a range)"},
    {"past-range", "json", parse_past_range, "carbon intensity over a range (default with one; commercial)"},
    {"forecast", "json", parse_forecast, "the provider's carbon-intensity forecast (commercial)"},
    {"power-latest", "json", parse_power_latest, "generation by fuel and shares, current hour"},
    {"power-history", "json", parse_power_history, "generation by fuel and shares, last 24 hours (default)"},
    {NULL, NULL, NULL, NULL},
};

static int em_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
		    struct err_detail *err)
{
	char zone[160], url[1024], hdr[600];
	const char *headers[] = {hdr, NULL};
	const char *secrets[] = {c->creds.token, NULL};
	const char *factors = q->factors == FACTORS_DIRECT ? "&emissionFactorType=direct" : "";
	struct conn_parse_ctx p;
	struct conn_nodata nd = {0};
	bool live = !q->from && !q->to;
	int rc = ERR_OK;

	conn_parse_ctx_init(&p, c, q);
	conn_urlencode(q->key ? q->key : q->zone, zone, sizeof(zone));
	snprintf(hdr, sizeof(hdr), "auth-token: %s", c->creds.token);
	static const struct {
		const char *endpoint, *path;
		bool live_default, ci; /* 'ci': takes emissionFactorType */
	} simple[] = {
	    {"latest", "/v3/carbon-intensity/latest", false, true},
	    {"history", "/v3/carbon-intensity/history", true, true},
	    {"forecast", "/v3/carbon-intensity/forecast", false, true},
	    {"power-latest", "/v3/power-breakdown/latest", false, false},
	    {"power-history", "/v3/power-breakdown/history", true, false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(simple) && !rc; i++) {
		if (!conn_wants(q, simple[i].endpoint, live && simple[i].live_default))
			continue;
		snprintf(url, sizeof(url), "%s%s?zone=%s%s", c->base_url, simple[i].path, zone,
			 simple[i].ci ? factors : "");
		if (!strcmp(simple[i].endpoint, "forecast") && q->horizon_h)
			snprintf(url + strlen(url), sizeof(url) - strlen(url), "&horizonHours=%d",
				 q->horizon_h);
		rc = conn_soft(&nd,
			       conn_get_parse(c, conn_endpoint(c->conn, simple[i].endpoint), url, headers,
					      secrets, &p, ret, err),
			       err);
	}
	if (!rc && conn_wants(q, "past-range", !live)) {
		int64_t from = live ? ts_floor(p.now, TS_HOUR) - TS_DAY : q->from;
		int64_t to = live ? ts_floor(p.now, TS_HOUR) : q->to;
		for (int64_t a = from; a < to && !rc; a += PAST_RANGE_MAX) {
			char sa[TS_BUFSZ], sb[TS_BUFSZ];
			int64_t b = a + PAST_RANGE_MAX < to ? a + PAST_RANGE_MAX : to;
			snprintf(url, sizeof(url),
				 "%s/v3/carbon-intensity/past-range?zone=%s&start=%s&end=%s%s", c->base_url,
				 zone, ts_format(a, sa), ts_format(b, sb), factors);
			rc = conn_soft(&nd,
				       conn_get_parse(c, conn_endpoint(c->conn, "past-range"), url, headers,
						      secrets, &p, ret, err),
				       err);
		}
	}
	explicit_bzero(hdr, sizeof(hdr));
	return rc ? rc : conn_finish(&nd, ret, err);
}

const struct connector conn_electricitymaps = {
    .name = "electricitymaps",
    .summary = "Electricity Maps API v3: carbon intensity, forecast and power breakdown per zone",
    .default_base_url = "https://api.electricitymap.org",
    .auth = CONN_AUTH_TOKEN,
    .token_env = "CARBONSCHED_ELECTRICITYMAPS_TOKEN",
    .endpoints = endpoints,
    .fetch = em_fetch,
};
