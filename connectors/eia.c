/*
 * eia.c - US EIA Open Data API v2, electricity/rto/fuel-type-data: hourly
 * net generation by fuel for each balancing authority (EIA-930).
 *
 * EIA gives only the mix, so the intensity comes from it through
 * sig_intensity_from_mix (core/signal.h: the one place for emission
 * factors); this file only maps EIA's fuel codes to the project's fuels.
 * Values are MWh per hour, i.e. average MW.  Since API 2.1.6 values and
 * 'total' are strings ("8120"); older answers had numbers; both are read.
 * A value may be null (a missing report: a gap) or negative (storage
 * charging: kept in generation:storage, left out of the intensity).
 *
 * Pages: at most 5000 rows per answer; 'response.total' says how many
 * match, 'offset' pages through them.  Rows of one hour can straddle two
 * pages, so pages are gathered per fuel code first and the mix, intensity
 * and shares are computed once at the end, for hours where every fuel code
 * of the answer reported.  'period' is hour-beginning UTC ("2024-06-01T00");
 * the local-hourly form with an offset ("2023-06-23T20-04") is read too.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "connectors/conn_json.h"
#include "connectors/connector.h"
#include "core/mem.h"
#include "core/time.h"

#define PAGE_ROWS 5000
#define MAX_PAGES 400

static const struct {
	const char *code;
	enum sig_fuel fuel;
} codes[] = {
    {"COL", FUEL_COAL},	   {"NG", FUEL_GAS},	  {"NUC", FUEL_NUCLEAR}, {"OIL", FUEL_OIL},
    {"WAT", FUEL_HYDRO},   {"SUN", FUEL_SOLAR},	  {"WND", FUEL_WIND},	 {"GEO", FUEL_GEOTHERMAL},
    {"OTH", FUEL_UNKNOWN}, {"UNK", FUEL_UNKNOWN}, {"PS", FUEL_STORAGE},	 {"BAT", FUEL_STORAGE},
    {"SNB", FUEL_STORAGE}, {"UES", FUEL_STORAGE},
};
#define NCODES (ARRAY_SIZE(codes) + 1) /* last slot: codes EIA adds later, counted as unknown */

static enum sig_fuel code_fuel(size_t k)
{
	return k < ARRAY_SIZE(codes) ? codes[k].fuel : FUEL_UNKNOWN;
}

static size_t code_slot(const char *code)
{
	for (size_t k = 0; k < ARRAY_SIZE(codes); k++)
		if (!strcmp(codes[k].code, code))
			return k;
	return ARRAY_SIZE(codes);
}

/* Rows gathered across pages, per fuel code. */
struct acc {
	struct series v[NCODES];
	bool seen[NCODES];
};

static void acc_init(struct acc *a)
{
	for (size_t k = 0; k < NCODES; k++) {
		series_init(&a->v[k], 0, 3600);
		a->seen[k] = false;
	}
}

static void acc_release(struct acc *a)
{
	for (size_t k = 0; k < NCODES; k++)
		series_release(&a->v[k]);
}

/* "YYYY-MM-DDTHH" or "YYYY-MM-DDTHH-04" / "+05". */
static bool period_time(const char *s, int64_t *ret)
{
	char iso[40];
	size_t n = strlen(s);

	if (n == 13)
		snprintf(iso, sizeof(iso), "%.13s:00Z", s);
	else if (n == 16 && (s[13] == '-' || s[13] == '+'))
		snprintf(iso, sizeof(iso), "%.13s:00%.3s:00", s, s + 13);
	else
		return false;
	return conn_parse_time(iso, strlen(iso), ret);
}

/* One page into the accumulator; *ret_rows rows read, *ret_total the
 * answer's total (rows when absent). */
static int parse_page(const struct conn_parse_ctx *p, const char *data, size_t len, struct acc *a,
		      size_t *ret_rows, size_t *ret_total, struct err_detail *err)
{
	json_t *root, *resp, *rows, *row;
	double total;
	size_t i;
	int rc = cj_parse(data, len, &root, err);

	if (rc)
		return rc;
	if ((rc = cj_object(root, "response", NULL, 0, &resp, err)) ||
	    (rc = cj_array(resp, "data", "response", SIZE_MAX, &rows, err)) ||
	    (rc = cj_num(resp, "total", "response", SIZE_MAX, false, &total, err)))
		goto out;
	if (!isnan(total) && (total < 0 || total > 1e12 || total != floor(total))) {
		rc = err_set(err, ERR_MALFORMED, "response.total", "response.total: %g is not a row count",
			     total);
		goto out;
	}
	json_array_foreach (rows, i, row) {
		const char *period, *fuel, *resp_id, *units;
		int64_t t;
		double v;
		if ((rc = cj_str(row, "period", "response.data", i, true, &period, err)) ||
		    (rc = cj_str(row, "fueltype", "response.data", i, true, &fuel, err)) ||
		    (rc = cj_str(row, "respondent", "response.data", i, false, &resp_id, err)) ||
		    (rc = cj_str(row, "value-units", "response.data", i, false, &units, err)) ||
		    (rc = cj_num(row, "value", "response.data", i, false, &v, err)))
			goto out;
		if (!period_time(period, &t)) {
			rc =
			    err_set(err, ERR_MALFORMED, "period",
				    "response.data[%zu].period: '%.20s' is not an hour such as 2024-06-01T00",
				    i, period);
			goto out;
		}
		if (units && strcmp(units, "megawatthours")) {
			rc =
			    err_set(err, ERR_MALFORMED, "value-units",
				    "response.data[%zu].value-units: '%.20s' is not megawatthours", i, units);
			goto out;
		}
		if (p->key && resp_id && strcmp(resp_id, p->key))
			continue; /* another balancing authority than asked for */
		size_t k = code_slot(fuel);
		a->seen[k] = true;
		if (isnan(v))
			continue;
		if ((rc = conn_series_set(&a->v[k], t, v, false, "period", err)))
			goto out;
	}
	*ret_rows = json_array_size(rows);
	*ret_total = isnan(total) ? json_array_size(rows) : (size_t)total;
out:
	json_decref(root);
	return rc;
}

/* Fuels, intensity and shares per hour from the gathered codes. */
static int finish(const struct conn_parse_ctx *p, const struct acc *a, struct conn_result *ret,
		  struct err_detail *err)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	char kind[48];
	int rc;

	for (size_t k = 0; k < NCODES; k++)
		if (a->v[k].n) {
			lo = a->v[k].start < lo ? a->v[k].start : lo;
			hi = series_end(&a->v[k]) > hi ? series_end(&a->v[k]) : hi;
		}
	if (lo == INT64_MAX)
		return ERR_OK;
	if ((uint64_t)(hi - lo) / 3600 >= CONN_MAX_STEPS)
		return err_set(err, ERR_MALFORMED, "period", "periods span more than %zu hours",
			       CONN_MAX_STEPS);
	for (int64_t t = lo; t < hi; t += 3600) {
		double mix[FUEL__COUNT];
		bool complete = true;

		for (int f = 0; f < FUEL__COUNT; f++)
			mix[f] = NAN;
		for (size_t k = 0; k < NCODES; k++) {
			if (!a->seen[k])
				continue;
			double v = series_at(&a->v[k], t);
			if (isnan(v)) {
				complete = false;
				continue;
			}
			enum sig_fuel f = code_fuel(k);
			mix[f] = isnan(mix[f]) ? v : mix[f] + v;
		}
		for (int f = 0; f < FUEL__COUNT; f++) {
			if (isnan(mix[f]))
				continue;
			struct series *s =
			    sig_set_get(&ret->sigs, p->zone, conn_generation_kind((enum sig_fuel)f, kind),
					p->source, 3600);
			if ((rc = conn_series_set(s, t, mix[f], false, "period", err)))
				return rc;
		}
		if (complete && (rc = conn_add_mix_signals(ret, p, 3600, t, mix, true, false, err)))
			return rc;
	}
	return ERR_OK;
}

static int parse_fuel_type_data(const struct conn_parse_ctx *p, const char *data, size_t len,
				struct conn_result *ret, struct err_detail *err)
{
	struct acc a;
	size_t rows, total;
	int rc;

	acc_init(&a);
	rc = parse_page(p, data, len, &a, &rows, &total, err);
	if (!rc)
		rc = finish(p, &a, ret, err);
	acc_release(&a);
	return rc;
}

static const struct conn_endpoint endpoints[] = {
    {"fuel-type-data", "json", parse_fuel_type_data,
     "hourly generation by fuel per balancing authority (default)"},
    {NULL, NULL, NULL, NULL},
};

static void fmt_hour(int64_t t, char out[TS_BUFSZ])
{
	ts_format(t, out);
	out[13] = '\0'; /* YYYY-MM-DDTHH */
}

/* The respondent code: the key, or the last part of a US zone name
 * ("US-CAL-CISO" -> "CISO"), or the zone itself. */
static const char *respondent_of(const struct conn_query *q)
{
	const char *dash;

	if (q->key)
		return q->key;
	if (!strncmp(q->zone, "US-", 3) && (dash = strrchr(q->zone, '-')) && dash[1])
		return dash + 1;
	return q->zone;
}

static int eia_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
		     struct err_detail *err)
{
	char url[1400], key[600], resp[64], sa[TS_BUFSZ], sb[TS_BUFSZ];
	const char *secrets[] = {c->creds.token, key, NULL};
	bool live = !q->from && !q->to;
	struct conn_parse_ctx p;
	struct acc a;
	size_t offset = 0, total = 0;
	int rc = ERR_OK;

	conn_parse_ctx_init(&p, c, q);
	p.key = respondent_of(q);
	conn_urlencode(c->creds.token, key, sizeof(key));
	conn_urlencode(p.key, resp, sizeof(resp));
	int64_t hour = ts_floor(p.now, TS_HOUR);
	fmt_hour(live ? hour - 2 * TS_DAY : q->from, sa);
	fmt_hour(live ? hour - TS_HOUR : ts_ceil(q->to, TS_HOUR) - TS_HOUR, sb); /* 'end' is inclusive */
	acc_init(&a);
	for (int page = 0; page < MAX_PAGES; page++) {
		struct fetch_response res = {0};
		size_t rows = 0;
		snprintf(
		    url, sizeof(url),
		    "%s/v2/electricity/rto/fuel-type-data/data/"
		    "?api_key=%s&frequency=hourly&data%%5B0%%5D=value"
		    "&facets%%5Brespondent%%5D%%5B%%5D=%s&start=%s&end=%s&sort%%5B0%%5D%%5Bcolumn%%5D=period"
		    "&sort%%5B0%%5D%%5Bdirection%%5D=asc&offset=%zu&length=%d",
		    c->base_url, key, resp, sa, sb, offset, PAGE_ROWS);
		struct fetch_request rq = {
		    .source = c->source, .url = url, .accept = "json", .secrets = secrets};
		if ((rc = fetch_get(c->fetch, &rq, &res, err)))
			break;
		rc = parse_page(&p, res.body, res.len, &a, &rows, &total, err);
		fetch_response_release(&res);
		if (rc) {
			err_prefix(err, "%s: fuel-type-data page at offset %zu: ", c->source, offset);
			break;
		}
		offset += rows;
		if (offset >= total)
			break;
		if (!rows) {
			rc = err_set(err, ERR_UPSTREAM, "offset",
				     "%s: the page at offset %zu is empty although %zu rows match", c->source,
				     offset, total);
			break;
		}
		if (page + 1 == MAX_PAGES)
			rc = err_set(err, ERR_RANGE_TOO_LARGE, "from",
				     "%s: more than %d pages of %d rows: ask for a shorter range", c->source,
				     MAX_PAGES, PAGE_ROWS);
	}
	if (!rc)
		rc = finish(&p, &a, ret, err);
	acc_release(&a);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(url, sizeof(url));
	return rc;
}

const struct connector conn_eia = {
    .name = "eia",
    .summary =
	"US EIA API v2 (EIA-930): hourly generation by fuel per balancing authority; intensity from the mix",
    .default_base_url = "https://api.eia.gov",
    .auth = CONN_AUTH_TOKEN,
    .token_env = "CARBONSCHED_EIA_KEY",
    .endpoints = endpoints,
    .fetch = eia_fetch,
};
