/*
 * bench_parse.c - parse throughput of each provider's response, in MB/s,
 * against the generic parser of the same bytes measured in the same run:
 * jansson's json_loads (+ json_decref) for JSON, libxml2's xmlReadMemory
 * (+ xmlFreeDoc, same options) for ENTSO-E's XML, and a plain split +
 * strtod for the PUE CSV.  The ratio ours/reference is the figure (goal
 * >= 0.5): it says what our walking, unit conversion and series building
 * cost on top of reading the syntax.
 *
 * Responses are generated in the documented formats at realistic sizes:
 * a week of 5-minute WattTime data, a full 5000-row EIA page (a month of
 * hourly data for seven fuels), a week of ENTSO-E A75 at 15 minutes for
 * 15 production types, and so on.  Best of several rounds; asserts
 * nothing.
 */
#include <jansson.h>
#include <libxml/parser.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/connector.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"

#define ROUNDS	    7
#define MIN_SECONDS 0.1 /* per round */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void iso(int64_t t, char out[TS_BUFSZ])
{
	ts_format(t, out);
}

/* ------------------------------------------------------------------ */
/* Generators                                                          */

#define T0 INT64_C(1717200000) /* 2024-06-01T00:00:00Z */

static void gen_em_past_range(struct buf *b)
{
	char ts[TS_BUFSZ], up[TS_BUFSZ];

	buf_adds(b, "{\n  \"zone\": \"DE\",\n  \"data\": [\n");
	for (int i = 0; i < 240; i++) { /* ten days, the API's window */
		iso(T0 + i * 3600, ts);
		iso(T0 + i * 3600 + 86400 * 30, up);
		ts[19] = '\0';
		up[19] = '\0';
		buf_addf(b,
			 "%s    {\n      \"zone\": \"DE\",\n      \"carbonIntensity\": %d,\n      "
			 "\"datetime\": \"%s.000Z\",\n"
			 "      \"updatedAt\": \"%s.622Z\",\n      \"createdAt\": \"%s.492Z\",\n"
			 "      \"emissionFactorType\": \"lifecycle\",\n      \"isEstimated\": %s,\n"
			 "      \"estimationMethod\": %s\n    }",
			 i ? ",\n" : "", 300 + (i * 37) % 250, ts, up, up, i > 236 ? "true" : "false",
			 i > 236 ? "\"TIME_SLICER_AVERAGE\"" : "null");
	}
	buf_adds(b, "\n  ]\n}\n");
}

static void gen_em_power_history(struct buf *b)
{
	static const char *const keys[] = {"nuclear", "geothermal", "biomass",	       "coal",
					   "wind",    "solar",	    "hydro",	       "gas",
					   "oil",     "unknown",    "hydro discharge", "battery discharge"};
	static const char *const zones[] = {"AT", "BE", "CH", "CZ",	"DK-DK1", "DK-DK2",
					    "FR", "LU", "NL", "NO-NO2", "PL",	  "SE-SE4"};
	char ts[TS_BUFSZ];

	buf_adds(b, "{\n  \"zone\": \"DE\",\n  \"history\": [\n");
	for (int i = 0; i < 24; i++) {
		iso(T0 + i * 3600, ts);
		ts[19] = '\0';
		buf_addf(b, "%s    {\n      \"zone\": \"DE\",\n      \"datetime\": \"%s.000Z\",\n",
			 i ? ",\n" : "", ts);
		buf_addf(b, "      \"updatedAt\": \"%s.012Z\",\n      \"createdAt\": \"%s.346Z\",\n", ts, ts);
		for (int part = 0; part < 2; part++) {
			buf_addf(b, "      \"%s\": {",
				 part ? "powerProductionBreakdown" : "powerConsumptionBreakdown");
			for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
				buf_addf(b, "%s \"%s\": %d", k ? "," : "", keys[k],
					 100 + (int)((i * 131 + k * 977) % 20000));
			buf_adds(b, " },\n");
		}
		for (int part = 0; part < 2; part++) {
			buf_addf(b, "      \"%s\": {",
				 part ? "powerExportBreakdown" : "powerImportBreakdown");
			for (size_t k = 0; k < ARRAY_SIZE(zones); k++)
				buf_addf(b, "%s \"%s\": %d", k ? "," : "", zones[k],
					 (int)((i * 71 + k * 313) % 2000));
			buf_adds(b, " },\n");
		}
		buf_addf(b,
			 "      \"fossilFreePercentage\": %d,\n      \"renewablePercentage\": %d,\n"
			 "      \"powerConsumptionTotal\": 53879,\n      \"powerProductionTotal\": 53837,\n"
			 "      \"powerImportTotal\": 5242,\n      \"powerExportTotal\": 5200,\n"
			 "      \"isEstimated\": false,\n      \"estimationMethod\": null\n    }",
			 40 + i % 20, 38 + i % 20);
	}
	buf_adds(b, "\n  ]\n}\n");
}

static void gen_wt_historical(struct buf *b)
{
	char ts[TS_BUFSZ], up[TS_BUFSZ];

	buf_adds(b, "{\n  \"data\": [\n");
	for (int i = 0; i < 7 * 288; i++) { /* a week of 5-minute data */
		iso(T0 + i * 300, ts);
		iso(T0 + i * 300 + 600, up);
		ts[19] = up[19] = '\0';
		buf_addf(b,
			 "%s    {\n      \"point_time\": \"%s+00:00\",\n      \"value\": %d,\n"
			 "      \"last_updated\": \"%s+00:00\",\n      \"imputed_data_used\": %s\n    }",
			 i ? ",\n" : "", ts, 700 + (i * 53) % 400, up, i % 97 ? "false" : "true");
	}
	buf_adds(b, "\n  ],\n  \"meta\": {\n    \"data_point_period_seconds\": 300,\n    \"region\": "
		    "\"CAISO_NORTH\",\n"
		    "    \"warnings\": [],\n    \"signal_type\": \"co2_moer\",\n"
		    "    \"model\": { \"type\": \"binned_regression\", \"date\": \"2023-03-01\" },\n"
		    "    \"units\": \"lbs_co2_per_mwh\"\n  }\n}\n");
}

static void gen_gb_intensity(struct buf *b)
{
	static const char *const idx[] = {"very low", "low", "moderate", "high", "very high"};
	char a[TS_BUFSZ], z[TS_BUFSZ];

	buf_adds(b, "{\n  \"data\": [\n");
	for (int i = 0; i < 14 * 48; i++) { /* 14 days, the range limit */
		iso(T0 + i * 1800, a);
		iso(T0 + i * 1800 + 1800, z);
		a[16] = z[16] = '\0';
		buf_addf(b,
			 "%s    {\n      \"from\": \"%sZ\",\n      \"to\": \"%sZ\",\n      \"intensity\": { "
			 "\"forecast\": %d, "
			 "\"actual\": %d, \"index\": \"%s\" }\n    }",
			 i ? ",\n" : "", a, z, 100 + (i * 7) % 200, 98 + (i * 7) % 200, idx[i % 5]);
	}
	buf_adds(b, "\n  ]\n}\n");
}

static void gen_gb_regional(struct buf *b)
{
	static const char *const fuels[] = {"biomass", "coal",	"imports", "gas", "nuclear",
					    "other",   "hydro", "solar",   "wind"};
	char a[TS_BUFSZ], z[TS_BUFSZ];

	buf_adds(b, "{\n  \"data\": [\n    {\n      \"regionid\": 3,\n      \"dnoregion\": \"Electricity "
		    "North West\",\n"
		    "      \"shortname\": \"North West England\",\n      \"data\": [\n");
	for (int i = 0; i < 96; i++) {
		iso(T0 + i * 1800, a);
		iso(T0 + i * 1800 + 1800, z);
		a[16] = z[16] = '\0';
		buf_addf(b,
			 "%s        {\n          \"from\": \"%sZ\",\n          \"to\": \"%sZ\",\n"
			 "          \"intensity\": { \"forecast\": %d, \"index\": \"moderate\" },\n"
			 "          \"generationmix\": [\n",
			 i ? ",\n" : "", a, z, 150 + i % 100);
		for (size_t k = 0; k < ARRAY_SIZE(fuels); k++)
			buf_addf(b, "            { \"fuel\": \"%s\", \"perc\": %.1f }%s\n", fuels[k],
				 (double)((i * 13 + k * 29) % 300) / 10,
				 k + 1 < ARRAY_SIZE(fuels) ? "," : "");
		buf_adds(b, "          ]\n        }");
	}
	buf_adds(b, "\n      ]\n    }\n  ]\n}\n");
}

static void gen_entsoe_a75(struct buf *b)
{
	static const int psrs[] = {1, 2, 4, 5, 6, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19};
	const int n = 7 * 96; /* a week at 15 minutes */
	char a[TS_BUFSZ], z[TS_BUFSZ];

	iso(T0, a);
	iso(T0 + (int64_t)n * 900, z);
	a[16] = z[16] = '\0';
	buf_addf(
	    b,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<GL_MarketDocument xmlns=\"urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0\">\n"
	    "  <mRID>731ff11ed02a40a88d8e35c6daec9254</mRID>\n  <revisionNumber>1</revisionNumber>\n"
	    "  <type>A75</type>\n  <process.processType>A16</process.processType>\n"
	    "  <sender_MarketParticipant.mRID "
	    "codingScheme=\"A01\">10X1001A1001A450</sender_MarketParticipant.mRID>\n"
	    "  <sender_MarketParticipant.marketRole.type>A32</sender_MarketParticipant.marketRole.type>\n"
	    "  <receiver_MarketParticipant.mRID "
	    "codingScheme=\"A01\">10X1001A1001A450</receiver_MarketParticipant.mRID>\n"
	    "  <receiver_MarketParticipant.marketRole.type>A33</receiver_MarketParticipant.marketRole.type>\n"
	    "  <createdDateTime>2024-06-08T21:01:42Z</createdDateTime>\n"
	    "  <time_Period.timeInterval>\n    <start>%sZ</start>\n    <end>%sZ</end>\n  "
	    "</time_Period.timeInterval>\n",
	    a, z);
	for (size_t k = 0; k < ARRAY_SIZE(psrs); k++) {
		buf_addf(b,
			 "  <TimeSeries>\n    <mRID>%zu</mRID>\n    <businessType>A01</businessType>\n"
			 "    <objectAggregation>A08</objectAggregation>\n"
			 "    <inBiddingZone_Domain.mRID "
			 "codingScheme=\"A01\">10Y1001A1001A82H</inBiddingZone_Domain.mRID>\n"
			 "    <quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>\n    "
			 "<curveType>A01</curveType>\n"
			 "    <MktPSRType>\n      <psrType>B%02d</psrType>\n    </MktPSRType>\n    <Period>\n"
			 "      <timeInterval>\n        <start>%sZ</start>\n        <end>%sZ</end>\n      "
			 "</timeInterval>\n"
			 "      <resolution>PT15M</resolution>\n",
			 k + 1, psrs[k], a, z);
		for (int i = 0; i < n; i++)
			buf_addf(b,
				 "      <Point>\n        <position>%d</position>\n        "
				 "<quantity>%d</quantity>\n      </Point>\n",
				 i + 1, 100 + (int)((i * 37 + k * 1009) % 9000));
		buf_adds(b, "    </Period>\n  </TimeSeries>\n");
	}
	buf_adds(b, "</GL_MarketDocument>\n");
}

static void gen_eia_page(struct buf *b)
{
	static const struct {
		const char *code, *name;
	} fuels[] = {{"COL", "Coal"},  {"NG", "Natural Gas"}, {"NUC", "Nuclear"}, {"WAT", "Hydro"},
		     {"SUN", "Solar"}, {"WND", "Wind"},	      {"OTH", "Other"}};
	char ts[TS_BUFSZ];
	int rows = 0;

	buf_adds(b, "{\"response\":{\"total\":\"5040\",\"dateFormat\":\"YYYY-MM-DD\\\"T\\\"HH24\","
		    "\"frequency\":\"hourly\",\"data\":[");
	for (int h = 0; h < 30 * 24 && rows < 5000; h++)
		for (size_t k = 0; k < ARRAY_SIZE(fuels) && rows < 5000; k++, rows++) {
			iso(T0 + h * 3600, ts);
			ts[13] = '\0';
			buf_addf(
			    b,
			    "%s{\"period\":\"%s\",\"respondent\":\"CISO\",\"respondent-name\":\"California "
			    "Independent "
			    "System Operator\",\"fueltype\":\"%s\",\"type-name\":\"%s\",\"value\":\"%d\","
			    "\"value-units\":\"megawatthours\"}",
			    rows ? "," : "", ts, fuels[k].code, fuels[k].name,
			    (int)((h * 97 + k * 1301) % 9000));
		}
	buf_adds(
	    b,
	    "],\"description\":\"Hourly net generation by balancing authority and energy source.\"},"
	    "\"request\":{\"command\":\"/v2/electricity/rto/fuel-type-data/data/\",\"params\":{\"frequency\":"
	    "\"hourly\",\"data\":[\"value\"],\"facets\":{\"respondent\":[\"CISO\"]},\"start\":\"2024-06-"
	    "01T00\","
	    "\"end\":\"2024-06-30T23\",\"sort\":[{\"column\":\"period\",\"direction\":\"asc\"}],\"offset\":0,"
	    "\"length\":5000}},\"apiVersion\":\"2.1.8\"}");
}

static void gen_openmeteo(struct buf *b)
{
	static const char *const vars[] = {"wind_speed_100m", "shortwave_radiation", "cloud_cover",
					   "temperature_2m"};
	const int n = (92 + 16) * 24; /* the most past and forecast days the API gives */
	char ts[TS_BUFSZ];

	buf_adds(
	    b,
	    "{\"latitude\":52.52,\"longitude\":13.419998,\"generationtime_ms\":0.2,\"utc_offset_seconds\":0,"
	    "\"timezone\":\"GMT\",\"timezone_abbreviation\":\"GMT\",\"elevation\":38.0,\"hourly_units\":{"
	    "\"time\":"
	    "\"iso8601\",\"wind_speed_100m\":\"km/h\",\"shortwave_radiation\":\"W/"
	    "m\xc2\xb2\",\"cloud_cover\":\"%\","
	    "\"temperature_2m\":\"\xc2\xb0"
	    "C\"},\"hourly\":{\"time\":[");
	for (int i = 0; i < n; i++) {
		iso(T0 + i * 3600, ts);
		ts[16] = '\0';
		buf_addf(b, "%s\"%s\"", i ? "," : "", ts);
	}
	buf_adds(b, "]");
	for (size_t v = 0; v < ARRAY_SIZE(vars); v++) {
		buf_addf(b, ",\"%s\":[", vars[v]);
		for (int i = 0; i < n; i++)
			buf_addf(b, "%s%.1f", i ? "," : "", (double)((i * 31 + v * 7) % 400) / 10);
		buf_adds(b, "]");
	}
	buf_adds(b, "}}");
}

static void gen_pue_series(struct buf *b)
{
	char ts[TS_BUFSZ];

	buf_adds(b, "time,region,pue\n");
	for (int r = 0; r < 10; r++) /* ten sites, a year of hourly readings */
		for (int i = 0; i < 8760; i++)
			buf_addf(b, "%s,dc-%02d,%.3f\n", ts_format(T0 + (int64_t)i * 3600, ts), r,
				 1.1 + (double)((i * 7 + r) % 300) / 1000);
}

/* ------------------------------------------------------------------ */
/* References and timing                                               */

enum ref { REF_JSON, REF_XML, REF_CSV };

static void ref_parse(enum ref ref, const struct buf *b)
{
	if (ref == REF_JSON) {
		json_t *j = json_loadb(b->data, b->len, 0, NULL);
		if (!j)
			abort();
		json_decref(j);
	} else if (ref == REF_XML) {
		xmlParserCtxtPtr ctx = xmlNewParserCtxt();
		xmlDocPtr d = xmlCtxtReadMemory(ctx, b->data, (int)b->len, "x.xml", NULL,
						XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
						    XML_PARSE_NOBLANKS);
		if (!d)
			abort();
		xmlFreeDoc(d);
		xmlFreeParserCtxt(ctx);
	} else {
		/* split + strtod of every field after the first line */
		char *copy = xmalloc(b->len + 1), *fields[8], *line;
		double sum = 0;
		memcpy(copy, b->data, b->len + 1);
		line = strchr(copy, '\n');
		while (line && *++line) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			int k = csv_split(line, fields, 8);
			for (int i = 0; i < k; i++)
				sum += strtod(fields[i], NULL);
			line = nl;
		}
		free(copy);
		if (sum == 42.4242)
			abort(); /* keep the work */
	}
}

struct item {
	const char *name, *what, *conn, *endpoint;
	void (*gen)(struct buf *b);
	enum ref ref;
	struct conn_parse_ctx p;
};

/* MB/s of one round of at least MIN_SECONDS. */
static double round_mbs(const struct item *it, const struct buf *b, bool reference, size_t *ret_points)
{
	const struct connector *conn = conn_find(it->conn);
	double t0 = now_s(), t;
	long iters = 0;

	do {
		if (reference) {
			ref_parse(it->ref, b);
		} else {
			struct conn_result res;
			struct err_detail err;
			conn_result_init(&res);
			if (conn_parse(conn, it->endpoint, &it->p, b->data, b->len, &res, &err)) {
				fprintf(stderr, "bench_parse: %s: %s\n", it->name, err.msg);
				exit(1);
			}
			*ret_points = conn_result_points(&res);
			conn_result_release(&res);
		}
		iters++;
		t = now_s() - t0;
	} while (t < MIN_SECONDS);
	return (double)b->len * iters / t / 1e6;
}

/* Best of ROUNDS for ours and the reference, rounds interleaved so that
 * both see the same load on a shared machine. */
static void measure(const struct item *it, const struct buf *b, double *ret_ours, double *ret_ref,
		    size_t *ret_points)
{
	size_t dummy;

	*ret_ours = *ret_ref = 0;
	for (int r = 0; r < ROUNDS; r++) {
		double o = round_mbs(it, b, false, ret_points), f = round_mbs(it, b, true, &dummy);
		*ret_ours = o > *ret_ours ? o : *ret_ours;
		*ret_ref = f > *ret_ref ? f : *ret_ref;
	}
}

int main(void)
{
	const struct item items[] = {
	    {"electricitymaps past-range",
	     "240 hours",
	     "electricitymaps",
	     "past-range",
	     gen_em_past_range,
	     REF_JSON,
	     {.zone = "DE", .source = "electricitymaps"}},
	    {"electricitymaps power-history",
	     "24 hours",
	     "electricitymaps",
	     "power-history",
	     gen_em_power_history,
	     REF_JSON,
	     {.zone = "DE", .source = "electricitymaps"}},
	    {"watttime historical",
	     "a week at 5 min",
	     "watttime",
	     "historical",
	     gen_wt_historical,
	     REF_JSON,
	     {.zone = "CAISO_NORTH", .source = "watttime"}},
	    {"ukgrid intensity",
	     "14 days at 30 min",
	     "ukgrid",
	     "intensity",
	     gen_gb_intensity,
	     REF_JSON,
	     {.zone = "GB", .source = "ukgrid"}},
	    {"ukgrid regional fw48h",
	     "96 periods with mix",
	     "ukgrid",
	     "regional-fw48h",
	     gen_gb_regional,
	     REF_JSON,
	     {.zone = "GB-NW", .key = "3", .source = "ukgrid", .now = T0}},
	    {"entsoe A75",
	     "a week at 15 min, 15 types",
	     "entsoe",
	     "A75",
	     gen_entsoe_a75,
	     REF_XML,
	     {.zone = "DE", .source = "entsoe"}},
	    {"eia fuel-type-data",
	     "one 5000-row page",
	     "eia",
	     "fuel-type-data",
	     gen_eia_page,
	     REF_JSON,
	     {.zone = "US-CAL-CISO", .key = "CISO", .source = "eia"}},
	    {"openmeteo forecast",
	     "108 days x 4 variables",
	     "openmeteo",
	     "forecast",
	     gen_openmeteo,
	     REF_JSON,
	     {.zone = "DE", .source = "openmeteo"}},
	    {"pue time-series CSV",
	     "10 sites x 8760 hours",
	     "pue",
	     "feed",
	     gen_pue_series,
	     REF_CSV,
	     {.zone = "*", .source = "pue", .from = T0, .to = T0 + 1}},
	};

	xmlInitParser();
	printf("provider response parsing (best of %d interleaved rounds of >= %.2f s each):\n", ROUNDS,
	       MIN_SECONDS);
	for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
		struct buf b;
		size_t points = 0;
		double ours, ref;
		buf_init(&b, 0);
		items[i].gen(&b);
		measure(&items[i], &b, &ours, &ref, &points);
		printf("  %-30s %-26s %8.1f KB %7zu points: %6.1f MB/s; %s %6.1f MB/s; ratio %.2f (goal >= "
		       "0.5)\n",
		       items[i].name, items[i].what, b.len / 1024.0, points, ours,
		       items[i].ref == REF_JSON	 ? "json_loads"
		       : items[i].ref == REF_XML ? "xmlReadMemory"
						 : "split+strtod",
		       ref, ours / ref);
		buf_release(&b);
	}
	return 0;
}
