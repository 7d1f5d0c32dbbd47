/*
 * ukgrid.c - the GB Carbon Intensity API (NESO): national actuals and
 * forecasts, the 17 regions' forecasts, and generation mixes.  No key.
 *
 * Units and meaning: intensities are gCO2/kWh of DIRECT (operational)
 * emissions, so they become 'carbon_intensity_direct'; the lifecycle
 * 'carbon_intensity' is computed from the generation mix with the project's
 * factors (core/signal.h), production-based: imports are left out of the
 * mix, as the reference's formula says.  Periods are half hours, 'from' is
 * the step start.  'actual' is null until a period closes (a gap, not a
 * zero).  Regions have forecasts only: over past periods those are the best
 * estimate there is, kept with the estimated flag; from fw48h they are the
 * provider's forecast, issued at the start of the current half hour.
 *
 * Quirks handled: /generation returns 'data' as an object, the range
 * endpoints as an array; range answers include the slot that ends at
 * 'from' (the range is clipped); duplicate periods overwrite each other.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/conn_json.h"
#include "connectors/connector.h"
#include "core/mem.h"
#include "core/time.h"

#define HALF_HOUR (30 * TS_MINUTE)
#define RANGE_MAX (14 * TS_DAY)
#define EXCLUDED  (-1)

/* Region ids of the API (docs table; 18 = GB appears in live answers). */
static const char *const regions[] = {
    "national",
    "North Scotland",
    "South Scotland",
    "North West England",
    "North East England",
    "Yorkshire",
    "North Wales & Merseyside",
    "South Wales",
    "West Midlands",
    "East Midlands",
    "East England",
    "South West England",
    "South England",
    "London",
    "South East England",
    "England",
    "Scotland",
    "Wales",
    "GB",
};

static const struct {
	const char *name;
	int fuel; /* enum sig_fuel, or EXCLUDED */
} gb_fuels[] = {
    {"biomass", FUEL_BIOMASS},
    {"coal", FUEL_COAL},
    {"gas", FUEL_GAS},
    {"nuclear", FUEL_NUCLEAR},
    {"hydro", FUEL_HYDRO},
    {"solar", FUEL_SOLAR},
    {"wind", FUEL_WIND},
    {"oil", FUEL_OIL},
    {"other", FUEL_UNKNOWN},
    {"storage", FUEL_STORAGE},
    {"pumped storage", FUEL_STORAGE},
    {"imports", EXCLUDED}, /* production-based intensity */
};

/* Region id of a key ("national", "GB", "3", "London"); -1 when unknown. */
static int region_id(const char *key)
{
	if (!key)
		return -1;
	if (!strcasecmp(key, "GB") || !strcasecmp(key, "national"))
		return 0;
	if (isdigit((unsigned char)key[0])) {
		char *end;
		long id = strtol(key, &end, 10);
		return !*end && id >= 1 && id <= 18 ? (int)id : -1;
	}
	for (size_t i = 1; i < ARRAY_SIZE(regions); i++)
		if (!strcasecmp(key, regions[i]))
			return (int)i;
	return -1;
}

/* generationmix[] -> mix (percentages as weights); false when empty. */
static int read_mix(json_t *obj, const char *arr, size_t i, double mix[FUEL__COUNT], bool *ret_any,
		    struct err_detail *err)
{
	json_t *list, *item;
	size_t k;
	int rc;

	*ret_any = false;
	for (int f = 0; f < FUEL__COUNT; f++)
		mix[f] = NAN;
	if ((rc = cj_array(obj, "generationmix", arr, i, &list, err)))
		return rc;
	json_array_foreach (list, k, item) {
		const char *fuel;
		double perc;
		int f = FUEL_UNKNOWN;
		if ((rc = cj_str(item, "fuel", "generationmix", k, true, &fuel, err)) ||
		    (rc = cj_num(item, "perc", "generationmix", k, false, &perc, err)))
			return rc;
		if (!isnan(perc) && (perc < 0 || perc > 100.5))
			return err_set(err, ERR_MALFORMED, "perc",
				       "generationmix[%zu].perc: %g is not a percentage", k, perc);
		for (size_t g = 0; g < ARRAY_SIZE(gb_fuels); g++)
			if (!strcasecmp(fuel, gb_fuels[g].name))
				f = gb_fuels[g].fuel;
		if (f == EXCLUDED || isnan(perc))
			continue;
		mix[f] = isnan(mix[f]) ? perc : mix[f] + perc;
		*ret_any = true;
	}
	return ERR_OK;
}

enum target { TO_SERIES, TO_SERIES_ESTIMATED, TO_FORECAST };

/* One period {from, to, intensity{forecast, actual}, generationmix?}. */
static int period(const struct conn_parse_ctx *p, json_t *item, const char *arr, size_t i, enum target to,
		  struct conn_result *ret, struct err_detail *err)
{
	json_t *in = json_object_get(item, "intensity");
	int64_t t, issued = ts_floor(p->now, HALF_HOUR);
	double fc = NAN, actual = NAN, mix[FUEL__COUNT];
	bool any;
	int rc;

	if ((rc = cj_time(item, "from", arr, i, &t, err)))
		return rc;
	if (in) {
		if (!json_is_object(in))
			return err_set(err, ERR_MALFORMED, "intensity",
				       "%s[%zu].intensity: expected an object", arr, i);
		if ((rc = cj_num(in, "forecast", arr, i, false, &fc, err)) ||
		    (rc = cj_num(in, "actual", arr, i, false, &actual, err)))
			return rc;
		if ((!isnan(fc) && fc < 0) || (!isnan(actual) && actual < 0))
			return err_set(err, ERR_MALFORMED, "intensity",
				       "%s[%zu].intensity: negative intensity", arr, i);
	}
	if (!isnan(actual)) {
		struct series *s =
		    sig_set_get(&ret->sigs, p->zone, "carbon_intensity_direct", p->source, HALF_HOUR);
		if ((rc = conn_series_set(s, t, actual, false, "from", err)))
			return rc;
	}
	if (!isnan(fc) && to != TO_SERIES) {
		struct series *s =
		    to == TO_FORECAST
			? &conn_result_forecast(ret, p->zone, "carbon_intensity_direct", p->source, "ukgrid",
						issued, HALF_HOUR)
			       ->p50
			: sig_set_get(&ret->sigs, p->zone, "carbon_intensity_direct", p->source, HALF_HOUR);
		/* A regional estimate never overwrites a national actual. */
		if ((to == TO_FORECAST || isnan(series_at(s, t))) &&
		    (rc = conn_series_set(s, t, fc, true, "from", err)))
			return rc;
	}
	if (!json_object_get(item, "generationmix"))
		return ERR_OK;
	if ((rc = read_mix(item, arr, i, mix, &any, err)) || !any)
		return rc;
	if (to != TO_FORECAST)
		return conn_add_mix_signals(ret, p, HALF_HOUR, t, mix, false, to == TO_SERIES_ESTIMATED, err);
	double ci = sig_intensity_from_mix(mix, FACTORS_LIFECYCLE);
	if (isnan(ci))
		return ERR_OK;
	struct conn_forecast *f =
	    conn_result_forecast(ret, p->zone, "carbon_intensity", p->source, "ukgrid", issued, HALF_HOUR);
	return conn_series_set(&f->p50, t, ci, false, "from", err);
}

static int periods(const struct conn_parse_ctx *p, json_t *arr, const char *name, enum target to,
		   struct conn_result *ret, struct err_detail *err)
{
	json_t *item;
	size_t i;
	int rc;

	json_array_foreach (arr, i, item) {
		if (!json_is_object(item))
			return err_set(err, ERR_MALFORMED, name, "%s[%zu]: expected an object", name, i);
		if ((rc = period(p, item, name, i, to, ret, err)))
			return rc;
	}
	return ERR_OK;
}

/* {"data": [periods]} */
static int parse_data_array(const struct conn_parse_ctx *p, const char *data, size_t len, enum target to,
			    struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!(rc = cj_array(root, "data", NULL, 0, &arr, err)))
		rc = periods(p, arr, "data", to, ret, err);
	json_decref(root);
	return rc;
}

static int parse_intensity(const struct conn_parse_ctx *p, const char *data, size_t len,
			   struct conn_result *ret, struct err_detail *err)
{
	return parse_data_array(p, data, len, TO_SERIES, ret, err);
}

static int parse_fw48h(const struct conn_parse_ctx *p, const char *data, size_t len, struct conn_result *ret,
		       struct err_detail *err)
{
	return parse_data_array(p, data, len, TO_FORECAST, ret, err);
}

/* /generation: 'data' is one period object; the range form an array. */
static int parse_generation(const struct conn_parse_ctx *p, const char *data, size_t len,
			    struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *d;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	d = json_object_get(root, "data");
	if (json_is_object(d))
		rc = period(p, d, "data", 0, TO_SERIES, ret, err);
	else if (json_is_array(d))
		rc = periods(p, d, "data", TO_SERIES, ret, err);
	else
		rc = err_set(err, ERR_MALFORMED, "data", "data: expected an object or an array");
	json_decref(root);
	return rc;
}

/* /regional/intensity/...: {"data": [{"regionid", ..., "data": [periods]}]} */
static int parse_regional_id(const struct conn_parse_ctx *p, const char *data, size_t len, enum target to,
			     struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr, *reg, *inner;
	int want = region_id(p->key ? p->key : p->zone);
	size_t i;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if ((rc = cj_array(root, "data", NULL, 0, &arr, err)))
		goto out;
	json_array_foreach (arr, i, reg) {
		double id;
		if ((rc = cj_num(reg, "regionid", "data", i, true, &id, err)) ||
		    (rc = cj_array(reg, "data", "data", i, &inner, err)))
			goto out;
		if (want > 0 && id != want)
			continue; /* not the region asked for */
		if ((rc = periods(p, inner, "data[].data", to, ret, err)))
			goto out;
	}
out:
	json_decref(root);
	return rc;
}

static int parse_regional_range(const struct conn_parse_ctx *p, const char *data, size_t len,
				struct conn_result *ret, struct err_detail *err)
{
	return parse_regional_id(p, data, len, TO_SERIES_ESTIMATED, ret, err);
}

static int parse_regional_fw48h(const struct conn_parse_ctx *p, const char *data, size_t len,
				struct conn_result *ret, struct err_detail *err)
{
	return parse_regional_id(p, data, len, TO_FORECAST, ret, err);
}

/* /regional: {"data": [{"from", "to", "regions": [{regionid, intensity, generationmix}]}]} */
static int parse_regional(const struct conn_parse_ctx *p, const char *data, size_t len,
			  struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *arr, *per, *regs, *reg;
	int want = region_id(p->key ? p->key : p->zone);
	size_t i, k;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if ((rc = cj_array(root, "data", NULL, 0, &arr, err)))
		goto out;
	json_array_foreach (arr, i, per) {
		json_t *from = json_object_get(per, "from");
		if ((rc = cj_array(per, "regions", "data", i, &regs, err)))
			goto out;
		json_array_foreach (regs, k, reg) {
			double id;
			if ((rc = cj_num(reg, "regionid", "regions", k, true, &id, err)))
				goto out;
			if (id != want || !json_is_object(reg))
				continue;
			/* The period's times live one level up. */
			json_t *copy = json_copy(reg);
			json_object_set(copy, "from", from ? from : json_null());
			rc = period(p, copy, "regions", k, TO_SERIES_ESTIMATED, ret, err);
			json_decref(copy);
			if (rc)
				goto out;
		}
	}
out:
	json_decref(root);
	return rc;
}

static const struct conn_endpoint endpoints[] = {
    {"intensity", "json", parse_intensity,
     "national actual intensity over the last 24 h or a range (default)"},
    {"fw48h", "json", parse_fw48h, "national forecast for the next 48 h (default without a range)"},
    {"generation", "json", parse_generation,
     "national generation mix over the last 24 h or a range (default)"},
    {"regional-range", "json", parse_regional_range,
     "a region's estimates over the last 24 h or a range (default)"},
    {"regional-fw48h", "json", parse_regional_fw48h, "a region's forecast for the next 48 h (default)"},
    {"regional", "json", parse_regional, "a region's current half hour"},
    {NULL, NULL, NULL, NULL},
};

static void fmt_gb(int64_t t, char out[TS_BUFSZ])
{
	ts_format(t, out);
	memcpy(out + 16, "Z", 2); /* YYYY-MM-DDThh:mmZ */
}

static int gb_get(struct conn_ctx *c, const char *endpoint, const char *url, const struct conn_parse_ctx *p,
		  struct conn_result *ret, struct conn_nodata *nd, struct err_detail *err)
{
	return conn_soft(
	    nd, conn_get_parse(c, conn_endpoint(c->conn, endpoint), url, NULL, NULL, p, ret, err), err);
}

static int gb_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
		    struct err_detail *err)
{
	char url[1024], sa[TS_BUFSZ], sb[TS_BUFSZ];
	int id = region_id(q->key ? q->key : q->zone);
	struct conn_parse_ctx p;
	struct conn_nodata nd = {0};
	bool live = !q->from && !q->to;
	int rc = ERR_OK;

	if (id < 0)
		return err_set(
		    err, ERR_INVALID, "key",
		    "%s: '%s' is not a GB region: use 'national' (or GB) or a region id 1-17 (or its name)",
		    c->source, q->key ? q->key : q->zone);
	conn_parse_ctx_init(&p, c, q);
	int64_t now = ts_floor(p.now, HALF_HOUR);
	int64_t from = live ? now - TS_DAY : q->from, to = live ? now : q->to;
	static const struct {
		const char *endpoint, *fmt; /* fmt: base, from, to[, id] */
		bool regional;
	} ranges[] = {
	    {"intensity", "%s/intensity/%s/%s", false},
	    {"generation", "%s/generation/%s/%s", false},
	    {"regional-range", "%s/regional/intensity/%s/%s/regionid/%d", true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ranges) && !rc; i++) {
		if ((id > 0) != ranges[i].regional || !conn_wants(q, ranges[i].endpoint, true))
			continue;
		for (int64_t a = from; a < to && !rc; a += RANGE_MAX) {
			int64_t b = a + RANGE_MAX < to ? a + RANGE_MAX : to;
			fmt_gb(a, sa);
			fmt_gb(b, sb);
			snprintf(url, sizeof(url), ranges[i].fmt, c->base_url, sa, sb, id);
			rc = gb_get(c, ranges[i].endpoint, url, &p, ret, &nd, err);
		}
	}
	fmt_gb(now, sa);
	if (!rc && id == 0 && conn_wants(q, "fw48h", live)) {
		snprintf(url, sizeof(url), "%s/intensity/%s/fw48h", c->base_url, sa);
		rc = gb_get(c, "fw48h", url, &p, ret, &nd, err);
	}
	if (!rc && id > 0 && conn_wants(q, "regional-fw48h", live)) {
		snprintf(url, sizeof(url), "%s/regional/intensity/%s/fw48h/regionid/%d", c->base_url, sa, id);
		rc = gb_get(c, "regional-fw48h", url, &p, ret, &nd, err);
	}
	if (!rc && id > 0 && conn_wants(q, "regional", false)) {
		snprintf(url, sizeof(url), "%s/regional", c->base_url);
		rc = gb_get(c, "regional", url, &p, ret, &nd, err);
	}
	return rc ? rc : conn_finish(&nd, ret, err);
}

const struct connector conn_ukgrid = {
    .name = "ukgrid",
    .summary = "GB Carbon Intensity API: national actuals and forecasts, 17 regions, generation mix (no key)",
    .default_base_url = "https://api.carbonintensity.org.uk",
    .auth = CONN_AUTH_NONE,
    .endpoints = endpoints,
    .fetch = gb_fetch,
};
