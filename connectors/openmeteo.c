/*
 * openmeteo.c - Open-Meteo forecast API: wind speed at hub height,
 * short-wave radiation, cloud cover and temperature for a region's
 * coordinates.  No key.
 *
 * The answer is a set of parallel arrays under 'hourly', with units under
 * 'hourly_units'.  Times are local to 'timezone' unless 'timeformat' was
 * unixtime; 'utc_offset_seconds' brings ISO times to UTC (we ask for GMT,
 * but read any).  Units are converted from what the answer says, not from
 * what we asked: km/h, mph and knots to m/s, Fahrenheit to Celsius.
 * Radiation is the mean over the PRECEDING hour, so its value stamped T
 * belongs to the step starting T - 1 h; the other variables are instants
 * and keep their time.  Wind: the first present of 100 m, 120 m, 80 m,
 * 10 m - hub height first.
 *
 * Past hours (before the fetch's hour) become series; the rest is the
 * provider's forecast, issued at the fetch's hour (Open-Meteo does not say
 * which model run it served).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "connectors/conn_json.h"
#include "connectors/connector.h"
#include "core/mem.h"
#include "core/time.h"

enum conv { CONV_NONE, CONV_SPEED, CONV_TEMP };

static const struct {
	const char *var, *kind;
	enum conv conv;
	int32_t shift; /* seconds added to the time: -3600 for preceding-hour means */
} vars[] = {
    {"wind_speed_100m", "wind_speed", CONV_SPEED, 0},
    {"wind_speed_120m", "wind_speed", CONV_SPEED, 0},
    {"wind_speed_80m", "wind_speed", CONV_SPEED, 0},
    {"wind_speed_10m", "wind_speed", CONV_SPEED, 0},
    {"shortwave_radiation", "solar_irradiance", CONV_NONE, -3600},
    {"cloud_cover", "cloud_cover", CONV_NONE, 0},
    {"temperature_2m", "temperature", CONV_TEMP, 0},
};

static const struct {
	const char *unit;
	enum conv conv;
	double factor, offset; /* ours = (v + offset) * factor */
} units[] = {
    {"km/h", CONV_SPEED, 1 / 3.6, 0},
    {"m/s", CONV_SPEED, 1, 0},
    {"ms", CONV_SPEED, 1, 0},
    {"mph", CONV_SPEED, 0.44704, 0},
    {"kn", CONV_SPEED, 0.514444, 0},
    {"knots", CONV_SPEED, 0.514444, 0},
    {"\xc2\xb0"
     "C",
     CONV_TEMP, 1, 0},
    {"\xc2\xb0"
     "F",
     CONV_TEMP, 5.0 / 9, -32},
    {"W/m\xc2\xb2", CONV_NONE, 1, 0},
    {"%", CONV_NONE, 1, 0},
};

static int conversion(json_t *hunits, const char *var, enum conv conv, double *ret_factor, double *ret_offset,
		      struct err_detail *err)
{
	const char *u = json_string_value(json_object_get(hunits, var));

	if (!u) /* the API's defaults */
		u = conv == CONV_SPEED	? "km/h"
		    : conv == CONV_TEMP ? "\xc2\xb0"
					  "C"
					: NULL;
	if (!u) {
		*ret_factor = 1;
		*ret_offset = 0;
		return ERR_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (units[i].conv == conv && !strcmp(u, units[i].unit)) {
			*ret_factor = units[i].factor;
			*ret_offset = units[i].offset;
			return ERR_OK;
		}
	return err_set(err, ERR_MALFORMED, "hourly_units", "hourly_units.%s: unit '%.20s' is not supported",
		       var, u);
}

static int parse_forecast(const struct conn_parse_ctx *p, const char *data, size_t len,
			  struct conn_result *ret, struct err_detail *err)
{
	json_t *root, *hourly, *hunits, *times, *tv;
	double offset = 0;
	int64_t *t = NULL, now_h = p->now ? ts_floor(p->now, TS_HOUR) : INT64_MAX;
	int32_t step = 3600;
	bool wind_done = false;
	size_t n, i;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if (!json_is_object(root)) {
		rc = err_set(err, ERR_MALFORMED, "body", "expected one location (an object)");
		goto out;
	}
	if ((rc = cj_num(root, "utc_offset_seconds", NULL, 0, false, &offset, err)) ||
	    (rc = cj_object(root, "hourly", NULL, 0, &hourly, err)) ||
	    (rc = cj_array(hourly, "time", "hourly", SIZE_MAX, &times, err)))
		goto out;
	if (isnan(offset))
		offset = 0;
	if (fabs(offset) > 18 * 3600) {
		rc = err_set(err, ERR_MALFORMED, "utc_offset_seconds",
			     "utc_offset_seconds: %g is not an offset", offset);
		goto out;
	}
	hunits = json_object_get(root, "hourly_units");
	n = json_array_size(times);
	t = xmalloc((n ? n : 1) * sizeof(*t));
	json_array_foreach (times, i, tv) {
		if (json_is_integer(tv)) {
			t[i] = json_integer_value(tv); /* unixtime: already UTC */
		} else if (json_is_string(tv) &&
			   conn_parse_time(json_string_value(tv), json_string_length(tv), &t[i])) {
			t[i] -= (int64_t)offset;
		} else {
			rc = err_set(err, ERR_MALFORMED, "hourly.time", "hourly.time[%zu]: expected a time",
				     i);
			goto out;
		}
		if (t[i] < -(INT64_C(1) << 40) || t[i] > (INT64_C(1) << 40)) {
			rc = err_set(err, ERR_MALFORMED, "hourly.time", "hourly.time[%zu]: out of range", i);
			goto out;
		}
	}
	if (n >= 2) {
		int64_t d = t[1] - t[0];
		if (d <= 0 || d > TS_DAY || d % 60) {
			rc = err_set(err, ERR_MALFORMED, "hourly.time",
				     "hourly.time: steps of %lld s are not supported", (long long)d);
			goto out;
		}
		step = (int32_t)d;
	}
	for (size_t v = 0; v < ARRAY_SIZE(vars); v++) {
		json_t *arr = json_object_get(hourly, vars[v].var), *x;
		double factor = 1, off = 0;
		bool wind = !strcmp(vars[v].kind, "wind_speed");
		if (!arr || (wind && wind_done))
			continue;
		if (!json_is_array(arr) || json_array_size(arr) != n) {
			rc = err_set(err, ERR_MALFORMED, vars[v].var,
				     "hourly.%s: expected an array of %zu values", vars[v].var, n);
			goto out;
		}
		if ((rc = conversion(hunits, vars[v].var, vars[v].conv, &factor, &off, err)))
			goto out;
		wind_done |= wind;
		struct series *past = NULL, *ahead = NULL;
		json_array_foreach (arr, i, x) {
			double val;
			if (json_is_null(x))
				continue;
			if (!json_is_number(x)) {
				rc = err_set(err, ERR_MALFORMED, vars[v].var,
					     "hourly.%s[%zu]: expected a number", vars[v].var, i);
				goto out;
			}
			val = (json_number_value(x) + off) * factor;
			int64_t at = t[i] + vars[v].shift;
			struct series **s = at < now_h ? &past : &ahead;
			if (!*s)
				*s = at < now_h
					 ? sig_set_get(&ret->sigs, p->zone, vars[v].kind, p->source, step)
					 : &conn_result_forecast(ret, p->zone, vars[v].kind, p->source,
								 "openmeteo", now_h, step)
						->p50;
			if ((rc = conn_series_set(*s, at, val, false, "hourly.time", err)))
				goto out;
			/* Forecast pointers move when the next one is created. */
			if (*s == ahead)
				ahead = NULL;
		}
	}
out:
	free(t);
	json_decref(root);
	return rc;
}

static const struct conn_endpoint endpoints[] = {
    {"forecast", "json", parse_forecast,
     "hourly weather for the coordinates, a day back and days ahead (default)"},
    {NULL, NULL, NULL, NULL},
};

static int om_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
		    struct err_detail *err)
{
	char url[1024], window[96];
	struct conn_parse_ctx p;

	if (!q->has_coords || isnan(q->lat) || isnan(q->lon) || fabs(q->lat) > 90 || fabs(q->lon) > 180)
		return err_set(err, ERR_INVALID, "zone", "%s: '%s' needs coordinates (lat, lon)", c->source,
			       q->zone);
	conn_parse_ctx_init(&p, c, q);
	if (!q->from && !q->to) {
		int days = q->horizon_h ? (q->horizon_h + 23) / 24 : 4;
		snprintf(window, sizeof(window), "past_days=1&forecast_days=%d", days > 16 ? 16 : days);
	} else {
		char a[TS_BUFSZ], b[TS_BUFSZ];
		ts_format(q->from, a);
		ts_format(q->to - 1, b);
		snprintf(window, sizeof(window), "start_date=%.10s&end_date=%.10s", a, b);
	}
	snprintf(
	    url, sizeof(url),
	    "%s/v1/"
	    "forecast?latitude=%.4f&longitude=%.4f&hourly=wind_speed_100m,shortwave_radiation,cloud_cover,"
	    "temperature_2m&wind_speed_unit=ms&timezone=GMT&%s",
	    c->base_url, q->lat, q->lon, window);
	return conn_get_parse(c, conn_endpoint(c->conn, "forecast"), url, NULL, NULL, &p, ret, err);
}

const struct connector conn_openmeteo = {
    .name = "openmeteo",
    .summary =
	"Open-Meteo: hourly wind at hub height, radiation, cloud cover, temperature for coordinates (no key)",
    .default_base_url = "https://api.open-meteo.com",
    .auth = CONN_AUTH_NONE,
    .endpoints = endpoints,
    .fetch = om_fetch,
};
