/* connectors: each provider's parser against the documented example
 * responses (tests/data/providers/): units, time zones, nulls,
 * estimations, forecasts, "no data" documents and bad input.
 *
 * Expected numbers are read off the fixture files and the reference's
 * emission factors (computed by hand, not by the code under test). */
#include <math.h>
#include <stdlib.h>

#include "connectors/connector.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"
#include "tests/lib/testlib.h"

static char *slurp(const char *name, size_t *ret_len)
{
	char path[512];
	FILE *fp;
	struct buf b;
	char chunk[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s", tl_testdata(name));
	fp = fopen(path, "rb");
	if (!fp)
		tl_fail(__LINE__, __FILE__, true, "cannot open %s", path);
	buf_init(&b, 0);
	while (fp && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	if (fp)
		fclose(fp);
	return buf_detach(&b, ret_len);
}

static int64_t T(const char *s)
{
	int64_t t = 0;

	if (ts_parse(s, "t", &t, NULL))
		tl_fail(__LINE__, __FILE__, true, "bad time in test: %s", s);
	return t;
}

/* Parse fixture 'file' as connector/endpoint into r (initialised here). */
static int parse(const char *conn, const char *endpoint, const char *file, const struct conn_parse_ctx *p,
		 struct conn_result *r, struct err_detail *err)
{
	size_t len;
	char *data = slurp(file, &len);
	int rc;

	conn_result_init(r);
	rc = conn_parse(conn_find(conn), endpoint, p, data, len, r, err);
	free(data);
	return rc;
}

static const struct series *get(const struct conn_result *r, const char *zone, const char *kind)
{
	const struct sig_series *s = sig_set_find(&r->sigs, zone, kind);

	return s ? &s->s : NULL;
}

static const struct conn_forecast *fc(const struct conn_result *r, const char *kind)
{
	for (size_t i = 0; i < r->nfc; i++)
		if (!strcmp(r->fc[i].kind, kind))
			return &r->fc[i];
	return NULL;
}

static bool est_at(const struct series *s, int64_t t)
{
	size_t i;

	return series_index(s, t, &i) && series_is_estimated(s, i);
}

#define REQUIRE(x)                                                    \
	do {                                                          \
		if (!(x)) {                                           \
			tl_fail(__LINE__, __FILE__, false, "%s", #x); \
			goto out;                                     \
		}                                                     \
	} while (0)

/* ------------------------------------------------------------------ */

static void test_em_history_nulls_and_estimates(void)
{
	struct conn_parse_ctx p = {.zone = "DE", .source = "electricitymaps"};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;

	TL_ASSERT_INT_EQ(
	    parse("electricitymaps", "history", "providers/electricitymaps/history.json", &p, &r, &err),
	    ERR_OK);
	REQUIRE((s = get(&r, "DE", "carbon_intensity")));
	TL_ASSERT_INT_EQ(s->step, 3600);
	TL_ASSERT_INT_EQ(s->start, T("2024-03-05T20:00:00Z"));
	TL_ASSERT_INT_EQ(s->n, 24); /* 20:00 .. 19:00 the next day, gaps between */
	TL_ASSERT_INT_EQ(series_count_valid(s), 3);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-03-05T20:00:00Z")), 599, 0);
	TL_ASSERT(isnan(series_at(s, T("2024-03-05T21:00:00Z")))); /* null is a gap, not 0 */
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-03-05T22:00:00Z")), 612, 0);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-03-06T19:00:00Z")), 689, 0);
	TL_ASSERT(!est_at(s, T("2024-03-05T20:00:00Z")));
	TL_ASSERT(est_at(s, T("2024-03-06T19:00:00Z")));
	TL_ASSERT_STR_EQ(r.sigs.items[0].source, "electricitymaps");
out:
	conn_result_release(&r);
}

static void test_em_latest_past_range_forecast(void)
{
	struct conn_parse_ctx p = {.zone = "US-CAR-DUK", .source = "electricitymaps"};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	const struct conn_forecast *f;

	TL_ASSERT_INT_EQ(
	    parse("electricitymaps", "latest", "providers/electricitymaps/latest.json", &p, &r, &err),
	    ERR_OK);
	REQUIRE((s = get(&r, "US-CAR-DUK", "carbon_intensity")));
	TL_ASSERT_INT_EQ(s->n, 1);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-03-06T19:00:00Z")), 216, 0);
	TL_ASSERT(est_at(s, T("2024-03-06T19:00:00Z")));
	conn_result_release(&r);

	p.zone = "DK-DK2";
	TL_ASSERT_INT_EQ(
	    parse("electricitymaps", "past-range", "providers/electricitymaps/past-range.json", &p, &r, &err),
	    ERR_OK);
	REQUIRE((s = get(&r, "DK-DK2", "carbon_intensity")));
	TL_ASSERT_INT_EQ(s->n, 2);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-03-18T02:00:00Z")), 161, 0);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-03-18T03:00:00Z")), 167, 0);
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(
	    parse("electricitymaps", "forecast", "providers/electricitymaps/forecast.json", &p, &r, &err),
	    ERR_OK);
	TL_ASSERT_INT_EQ(r.sigs.n, 0); /* a forecast is not an observation */
	REQUIRE((f = fc(&r, "carbon_intensity")));
	TL_ASSERT_STR_EQ(f->model, "electricitymaps");
	TL_ASSERT_INT_EQ(f->issued_at, T("2018-11-26T17:25:24Z"));
	TL_ASSERT_INT_EQ(f->p50.n, 49);
	TL_ASSERT_INT_EQ(series_count_valid(&f->p50), 3);
	TL_ASSERT_DBL_EQ(series_at(&f->p50, T("2018-11-26T17:00:00Z")), 326, 0);
	TL_ASSERT_DBL_EQ(series_at(&f->p50, T("2018-11-28T17:00:00Z")), 194, 0);
	TL_ASSERT_INT_EQ(f->p10.n, 0); /* no interval from this provider */
	conn_result_release(&r);

	/* Asked for direct factors: the forecast (which does not echo the
	 * factor type) is filed as direct intensity. */
	p.factors = FACTORS_DIRECT;
	TL_ASSERT_INT_EQ(
	    parse("electricitymaps", "forecast", "providers/electricitymaps/forecast.json", &p, &r, &err),
	    ERR_OK);
	TL_ASSERT(fc(&r, "carbon_intensity_direct") != NULL);
out:
	conn_result_release(&r);
}

static void test_em_power_breakdown(void)
{
	struct conn_parse_ctx p = {.zone = "DE", .source = "electricitymaps"};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	int64_t t = T("2024-03-06T19:00:00Z");

	TL_ASSERT_INT_EQ(parse("electricitymaps", "power-latest",
			       "providers/electricitymaps/power-latest.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "DE", "generation:coal")));
	TL_ASSERT_DBL_EQ(series_at(s, t), 23339, 0); /* production, not consumption (23893) */
	TL_ASSERT(est_at(s, t));
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "generation:gas"), t), 9602, 0);
	/* "hydro discharge" 1496 + "battery discharge" null */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "generation:storage"), t), 1496, 0);
	TL_ASSERT(get(&r, "DE", "generation:nuclear") == NULL); /* null only */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "renewable_share"), t), 33, 0);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "low_carbon_share"), t), 34, 0);
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("electricitymaps", "power-history",
			       "providers/electricitymaps/power-history.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "DE", "generation:storage")));
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-03-05T21:00:00Z")), -1219, 0); /* charging kept */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "generation:wind"), T("2024-03-05T20:00:00Z")), 12590, 0);
	TL_ASSERT(!est_at(get(&r, "DE", "generation:wind"), T("2024-03-05T20:00:00Z")));
	TL_ASSERT(est_at(get(&r, "DE", "generation:wind"), T("2024-03-05T21:00:00Z")));
out:
	conn_result_release(&r);
}

static void test_em_bad_input(void)
{
	static const struct {
		const char *endpoint, *body, *msg;
	} cases[] = {
	    {"history", "{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":1,\"datetime\":\"yesterday\"}]}",
	     "history[0].datetime: 'yesterday' is not a time"},
	    {"history",
	     "{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":\"x\",\"datetime\":\"2024-03-05T20:00:00Z\"}"
	     "]}",
	     "history[0].carbonIntensity: expected a number"},
	    {"history",
	     "{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":-5,\"datetime\":\"2024-03-05T20:00:00Z\"}]}",
	     "is negative"},
	    {"history", "{\"zone\":\"DE\",\"data\":[]}", "history: is missing"},
	    {"history", "{\"zone\":\"DE\",\"history\":[", "malformed JSON at line 1"},
	    {"history",
	     "{\"history\":[{\"carbonIntensity\":1,\"datetime\":\"2024-03-05T20:00:00Z\"},"
	     "{\"carbonIntensity\":1,\"datetime\":\"2024-03-05T20:30:00Z\"}]}",
	     "not on the 3600-second grid"},
	    {"history",
	     "{\"history\":[{\"carbonIntensity\":1,\"datetime\":\"1900-01-01T00:00:00Z\"},"
	     "{\"carbonIntensity\":1,\"datetime\":\"2199-01-01T00:00:00Z\"}]}",
	     "span more than"},
	    {"latest", "[]", "body: expected an object"},
	    {"latest", "{\"carbonIntensity\":5}", "datetime: is missing"},
	    {"power-latest",
	     "{\"datetime\":\"2024-03-05T20:00:00Z\",\"powerProductionBreakdown\":{\"coal\":\"many\"}}",
	     "powerProductionBreakdown.coal: expected a number"},
	    {"history", "{\"temporalGranularity\":\"daily\",\"history\":[]}", "temporalGranularity"},
	};
	struct conn_parse_ctx p = {.zone = "DE", .source = "electricitymaps"};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct conn_result r;
		struct err_detail err = {0};
		conn_result_init(&r);
		int rc = conn_parse(&conn_electricitymaps, cases[i].endpoint, &p, cases[i].body,
				    strlen(cases[i].body), &r, &err);
		TL_ASSERT_INT_EQ(rc, ERR_MALFORMED);
		TL_ASSERT_CONTAINS(err.msg, cases[i].msg);
		conn_result_release(&r);
	}
}

/* ------------------------------------------------------------------ */

static void test_watttime(void)
{
	struct conn_parse_ctx p = {
	    .zone = "CAISO_NORTH", .source = "watttime", .now = T("2022-07-15T00:02:00Z")};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	const struct conn_forecast *f;
	const double lb = 0.45359237; /* lbs/MWh -> g/kWh */

	TL_ASSERT_INT_EQ(parse("watttime", "forecast", "providers/watttime/forecast.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((f = fc(&r, "marginal_intensity")));
	TL_ASSERT_STR_EQ(f->model, "watttime:2023-03-01");
	TL_ASSERT_INT_EQ(f->issued_at, T("2022-07-15T00:00:00Z"));
	TL_ASSERT_INT_EQ(f->p50.step, 300);
	TL_ASSERT_INT_EQ(f->p50.n, 3);
	TL_ASSERT_DBL_EQ(series_at(&f->p50, T("2022-07-15T00:10:00Z")), 870 * lb, 1e-9);
	TL_ASSERT_DBL_EQ(series_at(&f->p50, T("2022-07-15T00:00:00Z")), 394.6253619, 1e-6);
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("watttime", "historical", "providers/watttime/historical.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "CAISO_NORTH", "marginal_intensity")));
	TL_ASSERT_INT_EQ(s->n, 2);
	TL_ASSERT_DBL_EQ(series_at(s, T("2022-07-15T00:05:00Z")), 860 * lb, 1e-9);
	TL_ASSERT(est_at(s, T("2022-07-15T00:05:00Z"))); /* imputed_data_used */
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("watttime", "forecast-historical",
			       "providers/watttime/forecast-historical.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((f = fc(&r, "marginal_intensity")));
	TL_ASSERT_INT_EQ(r.nfc, 1);
	TL_ASSERT_INT_EQ(f->issued_at, T("2022-07-15T00:00:00Z"));
	TL_ASSERT_INT_EQ(f->p50.n, 2);
	conn_result_release(&r);

	p.zone = "PSCO";
	TL_ASSERT_INT_EQ(
	    parse("watttime", "signal-index", "providers/watttime/signal-index.json", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "PSCO", "marginal_index")));
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-06-18T18:40:00Z")), 96, 0); /* a percentile: not converted */
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(
	    parse("watttime", "region-from-loc", "providers/watttime/region-from-loc.json", &p, &r, &err),
	    ERR_OK);
	conn_result_release(&r);

	static const struct {
		const char *endpoint, *body, *msg;
	} bad[] = {
	    {"historical",
	     "{\"data\":[],\"meta\":{\"signal_type\":\"co2_moer\",\"units\":\"tons\",\"data_point_period_"
	     "seconds\":300}}",
	     "meta.units: 'tons' is not a known unit"},
	    {"historical",
	     "{\"data\":[],\"meta\":{\"signal_type\":\"health_damage\",\"units\":\"x\",\"data_point_period_"
	     "seconds\":300}}",
	     "'health_damage' is not supported"},
	    {"historical",
	     "{\"data\":[],\"meta\":{\"signal_type\":\"co2_moer\",\"units\":\"lbs_co2_per_mwh\",\"data_point_"
	     "period_seconds\":7}}",
	     "data_point_period_seconds: 7"},
	    {"signal-index",
	     "{\"data\":[],\"meta\":{\"signal_type\":\"co2_moer\",\"units\":\"lbs_co2_per_mwh\",\"data_point_"
	     "period_seconds\":300}}",
	     "expected 'percentile'"},
	    {"historical", "{\"data\":[{\"point_time\":\"2022-07-15T00:00:00+00:00\"}],\"meta\":{}}",
	     "meta.signal_type: is missing"},
	    {"region-from-loc", "{\"region\":\"../../etc\"}", "is not a region name"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		conn_result_init(&r);
		TL_ASSERT_INT_EQ(conn_parse(&conn_watttime, bad[i].endpoint, &p, bad[i].body,
					    strlen(bad[i].body), &r, &err),
				 ERR_MALFORMED);
		TL_ASSERT_CONTAINS(err.msg, bad[i].msg);
		conn_result_release(&r);
	}
out:
	conn_result_release(&r);
}

/* ------------------------------------------------------------------ */

static void test_ukgrid_national(void)
{
	struct conn_parse_ctx p = {.zone = "GB", .source = "ukgrid", .now = T("2020-05-24T20:41:00Z")};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	const struct conn_forecast *f;

	TL_ASSERT_INT_EQ(parse("ukgrid", "intensity", "providers/ukgrid/intensity-range.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "GB", "carbon_intensity_direct")));
	TL_ASSERT_INT_EQ(s->step, 1800);
	TL_ASSERT_INT_EQ(s->n, 1);					   /* 12:30 has no actual yet */
	TL_ASSERT_DBL_EQ(series_at(s, T("2018-01-20T12:00:00Z")), 263, 0); /* actual, not forecast 266 */
	TL_ASSERT(get(&r, "GB", "carbon_intensity") == NULL); /* GB numbers are direct emissions */
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("ukgrid", "fw48h", "providers/ukgrid/intensity-fw48h.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((f = fc(&r, "carbon_intensity_direct")));
	TL_ASSERT_STR_EQ(f->model, "ukgrid");
	TL_ASSERT_INT_EQ(f->issued_at, T("2020-05-24T20:30:00Z")); /* the current half hour */
	TL_ASSERT_DBL_EQ(series_at(&f->p50, T("2020-05-24T20:30:00Z")), 146, 0);
	TL_ASSERT_DBL_EQ(series_at(&f->p50, T("2020-05-24T21:00:00Z")), 148, 0);
	TL_ASSERT_INT_EQ(r.sigs.n, 0);
	conn_result_release(&r);

	/* /generation: 'data' is an object.  Lifecycle intensity from the mix,
	 * production-based (imports 10.6 % left out): 243.168 g/kWh by hand. */
	int64_t t = T("2026-04-06T09:30:00Z");
	TL_ASSERT_INT_EQ(
	    parse("ukgrid", "generation", "providers/ukgrid/generation-latest.json", &p, &r, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "GB", "carbon_intensity"), t), 243.16797, 1e-4);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "GB", "renewable_share"), t), 35.38634, 1e-4);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "GB", "low_carbon_share"), t), 55.20717, 1e-4);
	TL_ASSERT(get(&r, "GB", "carbon_intensity_direct") == NULL);
	conn_result_release(&r);

	/* The range form: 'data' is an array. */
	TL_ASSERT_INT_EQ(
	    parse("ukgrid", "generation", "providers/ukgrid/generation-range.json", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "GB", "carbon_intensity")));
	TL_ASSERT_INT_EQ(s->start, T("2018-01-20T12:00:00Z"));
	TL_ASSERT_INT_EQ(s->step, 1800);
out:
	conn_result_release(&r);
}

static void test_ukgrid_regions(void)
{
	struct conn_parse_ctx p = {
	    .zone = "GB-NW", .key = "3", .source = "ukgrid", .now = T("2018-01-20T12:10:00Z")};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	const struct conn_forecast *f;

	TL_ASSERT_INT_EQ(
	    parse("ukgrid", "regional-fw48h", "providers/ukgrid/regional-fw48h.json", &p, &r, &err), ERR_OK);
	REQUIRE((f = fc(&r, "carbon_intensity_direct")));
	TL_ASSERT_STR_EQ(f->zone, "GB-NW");
	TL_ASSERT_INT_EQ(f->issued_at, T("2018-01-20T12:00:00Z"));
	TL_ASSERT_DBL_EQ(series_at(&f->p50, T("2018-01-20T12:30:00Z")), 250, 0);
	REQUIRE((f = fc(&r, "carbon_intensity"))); /* lifecycle, from the forecast mix */
	TL_ASSERT_INT_EQ(f->p50.n, 2);
	conn_result_release(&r);

	/* Over past periods the regional numbers are estimates. */
	TL_ASSERT_INT_EQ(
	    parse("ukgrid", "regional-range", "providers/ukgrid/regional-fw48h.json", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "GB-NW", "carbon_intensity_direct")));
	TL_ASSERT_DBL_EQ(series_at(s, T("2018-01-20T12:00:00Z")), 266, 0);
	TL_ASSERT(est_at(s, T("2018-01-20T12:00:00Z")));
	TL_ASSERT(est_at(get(&r, "GB-NW", "carbon_intensity"), T("2018-01-20T12:00:00Z")));
	conn_result_release(&r);

	/* Another region's id: nothing of region 3 is taken. */
	p.key = "5";
	TL_ASSERT_INT_EQ(
	    parse("ukgrid", "regional-fw48h", "providers/ukgrid/regional-fw48h.json", &p, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(conn_result_points(&r), 0);
	conn_result_release(&r);

	/* /regional lists every region; London (13) by name. */
	p.key = "London";
	p.zone = "GB-LON";
	TL_ASSERT_INT_EQ(parse("ukgrid", "regional", "providers/ukgrid/regional.json", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "GB-LON", "carbon_intensity_direct")));
	TL_ASSERT_DBL_EQ(series_at(s, T("2019-08-25T12:30:00Z")), 210, 0);
	TL_ASSERT_INT_EQ(series_count_valid(s), 1);
out:
	conn_result_release(&r);
}

/* ------------------------------------------------------------------ */

static void test_entsoe_a75(void)
{
	struct conn_parse_ctx p = {.zone = "DE", .source = "entsoe"};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	int64_t t0 = T("2017-02-04T12:00:00Z"), t14 = t0 + 14 * 900, t33 = t0 + 33 * 900;

	TL_ASSERT_INT_EQ(parse("entsoe", "A75", "providers/entsoe/a75.xml", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "DE", "generation:oil")));
	TL_ASSERT_INT_EQ(s->step, 900);
	TL_ASSERT_INT_EQ(s->n, 34);
	TL_ASSERT_DBL_EQ(series_at(s, t0), 310, 0);
	TL_ASSERT_DBL_EQ(series_at(s, t0 + 900), 311, 0);
	/* Wind = onshore (A01) + offshore (A03: positions 1, 11, 21 sent,
	 * the others repeat the previous value). */
	REQUIRE((s = get(&r, "DE", "generation:wind")));
	TL_ASSERT_DBL_EQ(series_at(s, t0), 9000 + 1200, 0);
	TL_ASSERT_DBL_EQ(series_at(s, t14), 9133 + 1250, 0);
	TL_ASSERT_DBL_EQ(series_at(s, t33), 9124 + 1300, 0);
	/* Lignite (B02) is coal. */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "generation:coal"), t14), 14720, 0);
	/* Pumping (B10 on outBiddingZone) is consumption, not generation. */
	TL_ASSERT(get(&r, "DE", "generation:storage") == NULL);
	/* Lifecycle and direct intensity from the mix at 12:00: oil 310,
	 * wind 10200, solar 1301, gas 4000, coal 15000 -> 474.903 / 422.117. */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "carbon_intensity"), t0), 474.90328, 1e-4);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "carbon_intensity_direct"), t0), 422.11743, 1e-4);
	TL_ASSERT_INT_EQ(series_count_valid(get(&r, "DE", "carbon_intensity")), 34);
	TL_ASSERT_INT_EQ(r.nfc, 0);
out:
	conn_result_release(&r);
}

static void test_entsoe_mixed_and_forecasts(void)
{
	struct conn_parse_ctx p = {.zone = "DE", .source = "entsoe"};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	const struct conn_forecast *f;

	/* PT15M gas next to PT60M nuclear: hourly means. */
	TL_ASSERT_INT_EQ(parse("entsoe", "A75", "providers/entsoe/a75-mixed.xml", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "DE", "generation:gas")));
	TL_ASSERT_INT_EQ(s->step, 3600);
	TL_ASSERT_DBL_EQ(series_at(s, T("2017-02-04T12:00:00Z")), 1150, 1e-9);
	TL_ASSERT_DBL_EQ(series_at(s, T("2017-02-04T13:00:00Z")), 1550, 1e-9);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "carbon_intensity"), T("2017-02-04T12:00:00Z")), 72.07650,
			 1e-4);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "DE", "carbon_intensity"), T("2017-02-04T13:00:00Z")), 88.77720,
			 1e-4);
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("entsoe", "A69", "providers/entsoe/a69.xml", &p, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(r.sigs.n, 0);
	REQUIRE((f = fc(&r, "generation:solar")));
	TL_ASSERT_STR_EQ(f->model, "entsoe:day-ahead");
	TL_ASSERT_INT_EQ(f->issued_at, T("2026-05-05T10:15:02Z"));
	TL_ASSERT_INT_EQ(f->p50.n, 96);
	TL_ASSERT_INT_EQ(f->p50.start, T("2026-05-05T22:00:00Z"));
	REQUIRE((f = fc(&r, "generation:wind")));
	TL_ASSERT_INT_EQ(series_count_valid(&f->p50), 96);
	conn_result_release(&r);

	p.zone = "CZ";
	TL_ASSERT_INT_EQ(parse("entsoe", "A65", "providers/entsoe/a65.xml", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "CZ", "load")));
	TL_ASSERT_INT_EQ(s->n, 12);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-08-01T00:00:00Z")), 4985, 0);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-08-01T00:15:00Z")), 4958, 0);
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("entsoe", "A65-forecast", "providers/entsoe/a65-forecast.xml", &p, &r, &err),
			 ERR_OK);
	REQUIRE((f = fc(&r, "load")));
	TL_ASSERT_INT_EQ(r.sigs.n, 0);
	TL_ASSERT_INT_EQ(f->issued_at, T("2024-09-11T20:01:30Z"));
out:
	conn_result_release(&r);
}

static void test_entsoe_no_data_and_bad_xml(void)
{
	struct conn_parse_ctx p = {.zone = "DE", .source = "entsoe"};
	struct conn_result r;
	struct err_detail err;

	TL_ASSERT_INT_EQ(parse("entsoe", "A75", "providers/entsoe/ack-nodata.xml", &p, &r, &err),
			 ERR_NOT_FOUND);
	TL_ASSERT_CONTAINS(err.msg, "No matching data found for Data item");
	TL_ASSERT_CONTAINS(err.msg, "(reason 999)");
	conn_result_release(&r);

	static const struct {
		const char *body, *msg;
	} bad[] = {
	    {"<GL_MarketDocument><type>A75</type><TimeSeries>", "malformed XML at line 1"},
	    {"", "malformed XML"},
	    {"<Publication_MarketDocument/>", "expected a GL_MarketDocument"},
	    {"<GL_MarketDocument><type>A44</type></GL_MarketDocument>",
	     "document type 'A44' is not supported"},
	    {"<GL_MarketDocument><type>A75</type><TimeSeries><MktPSRType><psrType>B99</psrType></MktPSRType>"
	     "</TimeSeries></GL_MarketDocument>",
	     "unknown psrType 'B99'"},
	    {"<GL_MarketDocument><type>A75</type><TimeSeries><Period><timeInterval><start>2017-02-04T12:00Z</"
	     "start>"
	     "<end>2017-02-04T13:00Z</end></timeInterval><resolution>P1M</resolution></Period></TimeSeries>"
	     "</GL_MarketDocument>",
	     "resolution 'P1M' is not supported"},
	    {"<GL_MarketDocument><type>A75</type><TimeSeries><Period><timeInterval><start>2017-02-04T12:00Z</"
	     "start>"
	     "<end>2017-02-04T13:00Z</end></timeInterval><resolution>PT15M</resolution><Point><position>5</"
	     "position>"
	     "<quantity>1</quantity></Point></Period></TimeSeries></GL_MarketDocument>",
	     "position '5' is not between 1 and 4"},
	    {"<GL_MarketDocument><type>A75</type><TimeSeries><Period><timeInterval><start>2017-02-04T12:00Z</"
	     "start>"
	     "<end>2017-02-04T13:00Z</end></timeInterval><resolution>PT15M</resolution><Point><position>1</"
	     "position>"
	     "<quantity>lots</quantity></Point></Period></TimeSeries></GL_MarketDocument>",
	     "quantity 'lots' is not a number"},
	    {"<GL_MarketDocument><type>A75</type><TimeSeries><quantity_Measure_Unit.name>MWH</"
	     "quantity_Measure_Unit.name>"
	     "</TimeSeries></GL_MarketDocument>",
	     "unit 'MWH' is not supported"},
	    {"<!DOCTYPE x [<!ENTITY e SYSTEM "
	     "\"file:///etc/passwd\">]><GL_MarketDocument><type>&e;</type></GL_MarketDocument>",
	     "is not supported"}, /* external entities are not loaded */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		conn_result_init(&r);
		TL_ASSERT_INT_EQ(
		    conn_parse(&conn_entsoe, "A75", &p, bad[i].body, strlen(bad[i].body), &r, &err),
		    ERR_MALFORMED);
		TL_ASSERT_CONTAINS(err.msg, bad[i].msg);
		TL_ASSERT(!strstr(err.msg, "root:"));
		conn_result_release(&r);
	}
}

/* ------------------------------------------------------------------ */

static void test_eia(void)
{
	struct conn_parse_ctx p = {.zone = "US-CAL-CISO", .source = "eia", .key = "CISO"};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;

	/* The documented page: string values, sorted newest first. */
	TL_ASSERT_INT_EQ(parse("eia", "fuel-type-data", "providers/eia/documented.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "US-CAL-CISO", "generation:solar")));
	TL_ASSERT_INT_EQ(s->step, 3600);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-06-01T02:00:00Z")), 15, 0);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-06-01T01:00:00Z")), 0, 0);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "US-CAL-CISO", "generation:gas"), T("2024-06-01T00:00:00Z")), 8120,
			 0);
	/* Neither hour has every fuel of the answer: no intensity is made up. */
	TL_ASSERT(get(&r, "US-CAL-CISO", "carbon_intensity") == NULL);
	conn_result_release(&r);

	/* 2023: numbers, not strings; another respondent (no key given). */
	p.key = NULL;
	p.zone = "AVA";
	TL_ASSERT_INT_EQ(parse("eia", "fuel-type-data", "providers/eia/numbers-2023.json", &p, &r, &err),
			 ERR_OK);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "AVA", "generation:wind"), T("2023-09-02T07:00:00Z")), 0, 0);
	conn_result_release(&r);

	/* Warnings at the top level are read past. */
	TL_ASSERT_INT_EQ(parse("eia", "fuel-type-data", "providers/eia/warning-top.json", &p, &r, &err),
			 ERR_OK);
	conn_result_release(&r);

	/* A key filters respondents. */
	p.key = "ERCO";
	TL_ASSERT_INT_EQ(parse("eia", "fuel-type-data", "providers/eia/documented.json", &p, &r, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(conn_result_points(&r), 0);
	conn_result_release(&r);

	static const struct {
		const char *body, *msg;
	} bad[] = {
	    {"{\"response\":{\"total\":\"1\",\"data\":[{\"period\":\"2024-06-01T00\",\"fueltype\":\"NG\","
	     "\"value\":\"abc\"}]}}",
	     "response.data[0].value: expected a number"},
	    {"{\"response\":{\"total\":\"1\",\"data\":[{\"period\":\"June "
	     "1st\",\"fueltype\":\"NG\",\"value\":\"1\"}]}}",
	     "response.data[0].period: 'June 1st' is not an hour"},
	    {"{\"response\":{\"total\":\"-3\",\"data\":[]}}", "response.total: -3 is not a row count"},
	    {"{\"response\":{\"data\":[{\"period\":\"2024-06-01T00\",\"fueltype\":\"NG\",\"value\":\"1\","
	     "\"value-units\":\"percent\"}]}}",
	     "is not megawatthours"},
	    {"{\"error\":\"Invalid facet 'None' provided.\",\"code\":400}", "response: is missing"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		conn_result_init(&r);
		TL_ASSERT_INT_EQ(
		    conn_parse(&conn_eia, "fuel-type-data", &p, bad[i].body, strlen(bad[i].body), &r, &err),
		    ERR_MALFORMED);
		TL_ASSERT_CONTAINS(err.msg, bad[i].msg);
		conn_result_release(&r);
	}
out:
	conn_result_release(&r);
}

/* ------------------------------------------------------------------ */

static void test_openmeteo(void)
{
	struct conn_parse_ctx p = {.zone = "eu-central-1", .source = "openmeteo"};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;
	const struct conn_forecast *f;

	/* now = 0: everything is an observation. */
	TL_ASSERT_INT_EQ(parse("openmeteo", "forecast", "providers/openmeteo/forecast.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "eu-central-1", "wind_speed")));
	TL_ASSERT_DBL_EQ(series_at(s, T("2025-09-08T00:00:00Z")), 18.4 / 3.6, 1e-9); /* km/h -> m/s */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "eu-central-1", "temperature"), T("2025-09-08T02:00:00Z")), 14.8,
			 1e-9);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "eu-central-1", "cloud_cover"), T("2025-09-08T01:00:00Z")), 87, 0);
	/* Radiation is the mean of the preceding hour: stamped 00:00 -> the
	 * step starting 23:00 the day before. */
	REQUIRE((s = get(&r, "eu-central-1", "solar_irradiance")));
	TL_ASSERT_INT_EQ(s->start, T("2025-09-07T23:00:00Z"));
	conn_result_release(&r);

	/* now = 01:30: 00:00 observed, 01:00 and 02:00 forecast (issued 01:00). */
	p.now = T("2025-09-08T01:30:00Z");
	TL_ASSERT_INT_EQ(parse("openmeteo", "forecast", "providers/openmeteo/forecast.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "eu-central-1", "wind_speed")));
	TL_ASSERT_INT_EQ(series_count_valid(s), 1);
	REQUIRE((f = fc(&r, "wind_speed")));
	TL_ASSERT_INT_EQ(f->issued_at, T("2025-09-08T01:00:00Z"));
	TL_ASSERT_STR_EQ(f->model, "openmeteo");
	TL_ASSERT_INT_EQ(series_count_valid(&f->p50), 2);
	TL_ASSERT(fc(&r, "temperature") != NULL);
	conn_result_release(&r);

	/* unixtime (already UTC: the offset is not applied again), m/s,
	 * Fahrenheit, nulls. */
	p.now = 0;
	TL_ASSERT_INT_EQ(
	    parse("openmeteo", "forecast", "providers/openmeteo/local-unixtime.json", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "eu-central-1", "wind_speed")));
	TL_ASSERT_INT_EQ(s->start, T("2025-09-07T22:00:00Z"));
	TL_ASSERT_DBL_EQ(series_at(s, T("2025-09-07T22:00:00Z")), 5.0, 1e-9);
	TL_ASSERT(isnan(series_at(s, T("2025-09-07T23:00:00Z"))));
	TL_ASSERT_DBL_EQ(series_at(get(&r, "eu-central-1", "temperature"), T("2025-09-07T23:00:00Z")), 15.0,
			 1e-9);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "eu-central-1", "temperature"), T("2025-09-08T00:00:00Z")), 20.0,
			 1e-9);
	conn_result_release(&r);

	/* Local ISO times: 00:00 at +02:00 is 22:00Z. */
	TL_ASSERT_INT_EQ(parse("openmeteo", "forecast", "providers/openmeteo/local-iso.json", &p, &r, &err),
			 ERR_OK);
	REQUIRE((s = get(&r, "eu-central-1", "wind_speed")));
	TL_ASSERT_INT_EQ(s->start, T("2025-09-07T22:00:00Z"));
	TL_ASSERT_DBL_EQ(series_at(s, T("2025-09-07T22:00:00Z")), 10.0, 1e-9);
	conn_result_release(&r);

	static const struct {
		const char *body, *msg;
	} bad[] = {
	    {"{\"hourly_units\":{\"wind_speed_100m\":\"furlongs\"},\"hourly\":{\"time\":[\"2025-09-08T00:"
	     "00\"],"
	     "\"wind_speed_100m\":[1]}}",
	     "unit 'furlongs' is not supported"},
	    {"{\"hourly\":{\"time\":[\"2025-09-08T00:00\"],\"temperature_2m\":[1,2]}}",
	     "expected an array of 1 values"},
	    {"{\"hourly\":{\"time\":[\"noon\"]}}", "hourly.time[0]: expected a time"},
	    {"[{\"hourly\":{}}]", "expected one location"},
	    {"{\"error\":true,\"reason\":\"bad\"}", "hourly: is missing"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		conn_result_init(&r);
		TL_ASSERT_INT_EQ(
		    conn_parse(&conn_openmeteo, "forecast", &p, bad[i].body, strlen(bad[i].body), &r, &err),
		    ERR_MALFORMED);
		TL_ASSERT_CONTAINS(err.msg, bad[i].msg);
		conn_result_release(&r);
	}
out:
	conn_result_release(&r);
}

/* ------------------------------------------------------------------ */

static void test_pue_gsf(void)
{
	struct conn_parse_ctx p = {
	    .zone = "*", .source = "pue", .from = T("2024-06-01T00:00:00Z"), .to = T("2024-06-01T03:00:00Z")};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;

	TL_ASSERT_INT_EQ(parse("pue", "feed", "providers/pue/gsf.csv", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "ex-north-1", "pue")));
	TL_ASSERT_INT_EQ(s->n, 3);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-06-01T02:00:00Z")), 1.12, 1e-12);
	/* 2024 blank: the latest earlier year (2023) serves. */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "ex-west-2", "pue"), T("2024-06-01T00:00:00Z")), 1.20, 1e-12);
	/* Twin sites under one name in 2023: averaged, and carried into 2024. */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "ex-twin", "pue"), T("2024-06-01T00:00:00Z")), 1.25, 1e-12);
	TL_ASSERT(get(&r, "ex-blank", "pue") == NULL); /* no figure at all */
	conn_result_release(&r);

	/* In 2023 the 2023 figure; before the first year, nothing. */
	p.from = T("2023-03-01T00:00:00Z");
	p.to = p.from + 3600;
	TL_ASSERT_INT_EQ(parse("pue", "feed", "providers/pue/gsf.csv", &p, &r, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "ex-north-1", "pue"), p.from), 1.14, 1e-12);
	conn_result_release(&r);
	p.from = T("2022-03-01T00:00:00Z");
	p.to = p.from + 3600;
	TL_ASSERT_INT_EQ(parse("pue", "feed", "providers/pue/gsf.csv", &p, &r, &err), ERR_OK);
	TL_ASSERT(isnan(series_at(get(&r, "ex-north-1", "pue"), p.from)));
	conn_result_release(&r);

	/* One region only. */
	p.zone = "ex-west-2";
	p.from = T("2024-06-01T00:00:00Z");
	p.to = p.from + 7200;
	TL_ASSERT_INT_EQ(parse("pue", "feed", "providers/pue/gsf.csv", &p, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(r.sigs.n, 1);
	TL_ASSERT_STR_EQ(r.sigs.items[0].zone, "ex-west-2");
out:
	conn_result_release(&r);
}

static void test_pue_constant_series_json(void)
{
	struct conn_parse_ctx p = {
	    .zone = "*", .source = "pue", .from = T("2024-07-01T00:00:00Z"), .to = T("2024-07-01T04:00:00Z")};
	struct conn_result r;
	struct err_detail err;
	const struct series *s;

	TL_ASSERT_INT_EQ(parse("pue", "feed", "providers/pue/constant.csv", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "dc-paris", "pue")));
	TL_ASSERT_INT_EQ(series_count_valid(s), 4);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-07-01T03:00:00Z")), 1.35, 1e-12);
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("pue", "feed", "providers/pue/series.csv", &p, &r, &err), ERR_OK);
	REQUIRE((s = get(&r, "dc-paris", "pue")));
	TL_ASSERT_INT_EQ(series_count_valid(s), 3);
	TL_ASSERT_DBL_EQ(series_at(s, T("2024-07-01T02:00:00Z")), 1.41, 1e-12);
	TL_ASSERT_INT_EQ(series_count_valid(get(&r, "dc-oslo", "pue")), 1);
	conn_result_release(&r);

	TL_ASSERT_INT_EQ(parse("pue", "feed", "providers/pue/feed.json", &p, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(series_count_valid(get(&r, "dc-paris", "pue")), 2);
	TL_ASSERT_INT_EQ(series_count_valid(get(&r, "dc-oslo", "pue")), 4);
	TL_ASSERT_DBL_EQ(series_at(get(&r, "dc-oslo", "pue"), T("2024-07-01T01:00:00Z")), 1.08, 1e-12);
	conn_result_release(&r);

	static const struct {
		const char *body, *msg;
	} bad[] = {
	    {"region,pue\nx,0.9\n", "line 2: PUE 0.9 of 'x' is not between 1.0 and 5.0"},
	    {"region,pue\nx,abc\n", "line 2: PUE 'abc' is not a number"},
	    {"name,value\nx,1.2\n", "line 1: the header needs a region column"},
	    {"region,pue\nx,1.2,extra\n", "line 2: 3 fields, the header has 2"},
	    {"time,region,pue\nnoon,x,1.2\n", "line 2: 'noon' is not a time"},
	    {"time,region,pue\n2024-07-01T00:30:00Z,x,1.2\n", "not on the feed's 3600-second step"},
	    {"year,region,pue\n20x4,x,1.2\n", "line 2: year '20x4' is not a year"},
	    {"region,pue\n\"x,1.2\n", "line 2: unterminated quote"},
	    {"", "no header line"},
	    {"{\"regions\":[{\"region\":\"x\"}]}", "regions[0].pue: is missing"},
	    {"{\"regions\":{}}", "regions: expected an array"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		conn_result_init(&r);
		TL_ASSERT_INT_EQ(
		    conn_parse(&conn_pue, "feed", &p, bad[i].body, strlen(bad[i].body), &r, &err),
		    ERR_MALFORMED);
		TL_ASSERT_CONTAINS(err.msg, bad[i].msg);
		conn_result_release(&r);
	}
out:
	conn_result_release(&r);
}

/* The real GSF file, when the shared data are there. */
static void test_pue_real_gsf_file(void)
{
	const char *dir = tl_shared_data();
	char path[1024];
	size_t len;
	struct conn_parse_ctx p = {.zone = "us-east-1",
				   .source = "pue",
				   .from = T("2024-06-01T00:00:00Z"),
				   .to = T("2024-06-01T01:00:00Z")};
	struct conn_result r;
	struct err_detail err;

	if (!dir) {
		printf("\n  (skipped: shared data not found; set CARBONSCHED_SHARED_DATA)\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/real-time-cloud/Cloud_Region_Metadata.csv", dir);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		printf("\n  (skipped: %s not found)\n", path);
		return;
	}
	struct buf b;
	char chunk[8192];
	size_t n;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	len = b.len;
	conn_result_init(&r);
	int rc = conn_parse(&conn_pue, "feed", &p, b.data, len, &r, &err);
	if (rc)
		tl_fail(__LINE__, __FILE__, false, "%s", err.msg);
	/* The reference quotes this row: 2024,Amazon Web Services,us-east-1,...,1.15 */
	TL_ASSERT_DBL_EQ(series_at(get(&r, "us-east-1", "pue"), p.from), 1.15, 1e-12);
	conn_result_release(&r);
	buf_release(&b);
}

static CU_TestInfo tests[] = {
    {"electricitymaps history: nulls, estimates", test_em_history_nulls_and_estimates},
    {"electricitymaps latest, past-range, forecast", test_em_latest_past_range_forecast},
    {"electricitymaps power breakdown", test_em_power_breakdown},
    {"electricitymaps bad input", test_em_bad_input},
    {"watttime: units, imputed, forecasts, index", test_watttime},
    {"ukgrid national: actuals, fw48h, mix", test_ukgrid_national},
    {"ukgrid regions", test_ukgrid_regions},
    {"entsoe A75: A03 fill, fuels, intensity", test_entsoe_a75},
    {"entsoe mixed resolutions, A69, A65", test_entsoe_mixed_and_forecasts},
    {"entsoe no-data document, bad XML", test_entsoe_no_data_and_bad_xml},
    {"eia: strings, numbers, nulls, completeness", test_eia},
    {"openmeteo: units, time zones, split", test_openmeteo},
    {"pue: GSF annual figures", test_pue_gsf},
    {"pue: constants, series, JSON, bad input", test_pue_constant_series_json},
    {"pue: the real GSF file", test_pue_real_gsf_file},
    CU_TEST_INFO_NULL,
};

TL_SUITE("conn_parse", NULL, NULL, tests)
