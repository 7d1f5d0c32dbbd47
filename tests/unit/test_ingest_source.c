/* service/ingest_source: zone arguments, one pull through a fake, and the
 * dry-run JSON read back. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "core/time.h"
#include "service/ingest_source.h"
#include "tests/lib/fake_provider.h"
#include "tests/lib/testlib.h"

static void test_zone_arguments(void)
{
	static const struct {
		const char *arg, *zone;
		bool coords;
		double lat, lon;
		int rc;
	} cases[] = {
	    {"DE", "DE", false, 0, 0, ERR_OK},
	    {"US-CAL-CISO", "US-CAL-CISO", false, 0, 0, ERR_OK},
	    {"3", "3", false, 0, 0, ERR_OK},
	    {"eu-central-1@50.11,8.68", "eu-central-1", true, 50.11, 8.68, ERR_OK},
	    {"52.52,-13.41", "52.52,-13.41", true, 52.52, -13.41, ERR_OK},
	    {"x@91,0", NULL, false, 0, 0, ERR_INVALID},
	    {"x@1,200", NULL, false, 0, 0, ERR_INVALID},
	    {"x@", NULL, false, 0, 0, ERR_INVALID},
	    {"x@abc", NULL, false, 0, 0, ERR_INVALID},
	    {"@1,2", NULL, false, 0, 0, ERR_INVALID},
	    {"52.5,north", NULL, false, 0, 0, ERR_INVALID},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conn_query q = {0};
		struct err_detail err = {0};
		char buf[64];
		int rc = ingest_parse_zone(cases[i].arg, buf, sizeof(buf), &q, &err);

		TL_ASSERT_INT_EQ(rc, cases[i].rc);
		if (rc) {
			TL_ASSERT_CONTAINS(err.msg, cases[i].arg);
			continue;
		}
		TL_ASSERT_STR_EQ(q.zone, cases[i].zone);
		TL_ASSERT_INT_EQ(q.has_coords, cases[i].coords);
		if (cases[i].coords) {
			TL_ASSERT_DBL_EQ(q.lat, cases[i].lat, 1e-12);
			TL_ASSERT_DBL_EQ(q.lon, cases[i].lon, 1e-12);
		}
	}
}

static void test_pull_and_print(void)
{
	struct fake_options fo = {.provider = "ukgrid"};
	struct err_detail err = {0};
	struct fake *fk = fake_start(&fo, &err);
	struct fetch *f = fetch_new(NULL);
	struct conn_result r;
	struct buf b;
	json_t *j, *series, *fc;

	struct ingest_source_opts o = {
	    .source = "ukgrid", .zone = "GB", .base_url = fake_url(fk), .dry_run = true};
	TL_ASSERT_INT_EQ(ingest_source(&o, f, &r, &err), ERR_OK);
	buf_init(&b, 0);
	ingest_dry_run_json(&r, &b);
	j = json_loadb(b.data, b.len, 0, NULL);
	TL_ASSERT(j != NULL);
	series = json_object_get(j, "series");
	fc = json_object_get(j, "forecasts");
	TL_ASSERT_INT_EQ(json_array_size(series), r.sigs.n);
	TL_ASSERT_INT_EQ(json_array_size(fc), r.nfc);
	/* Find the actual: 263 gCO2eq/kWh at 2018-01-20T12:00:00Z, step 1800. */
	bool found = false;
	size_t i;
	json_t *s;
	json_array_foreach (series, i, s) {
		if (strcmp(json_string_value(json_object_get(s, "kind")), "carbon_intensity_direct"))
			continue;
		found = true;
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(s, "unit")), "gCO2eq/kWh");
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(s, "source")), "ukgrid");
		TL_ASSERT_INT_EQ(json_integer_value(json_object_get(s, "step_s")), 1800);
		json_t *pt = json_array_get(json_object_get(s, "points"), 0);
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(pt, "ts")), "2018-01-20T12:00:00Z");
		TL_ASSERT_DBL_EQ(json_number_value(json_object_get(pt, "value")), 263, 0);
	}
	TL_ASSERT(found);
	json_t *f0 = json_array_get(fc, 0);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(f0, "model")), "ukgrid");
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(f0, "points")), 2);
	TL_ASSERT_DBL_EQ(
	    json_number_value(json_object_get(json_array_get(json_object_get(f0, "points"), 0), "p50")), 146,
	    0);
	json_decref(j);
	buf_release(&b);
	conn_result_release(&r);

	/* Unknown source: the known ones are listed. */
	o.source = "co2signal";
	TL_ASSERT_INT_EQ(ingest_source(&o, f, &r, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(
	    err.msg, "unknown source 'co2signal' (known: electricitymaps, watttime, ukgrid, entsoe, eia, "
		     "openmeteo, pue)");
	conn_result_release(&r);
	fetch_free(f);
	fake_stop(fk);
}

/* A forecast with an interval prints p10 and p90; gaps are left out. */
static void test_print_interval_and_gaps(void)
{
	struct conn_result r;
	struct buf b;

	conn_result_init(&r);
	struct series *s = sig_set_get(&r.sigs, "DE", "carbon_intensity", "x", 3600);
	series_set(s, 0, 100, true);
	series_set(s, 7200, 120, false); /* 3600 is a gap */
	struct conn_forecast *f = conn_result_forecast(&r, "DE", "carbon_intensity", "x", "m", 3600, 3600);
	series_set(&f->p50, 7200, 110, false);
	series_set(&f->p10, 7200, 90, false);
	series_set(&f->p90, 7200, 130, false);
	buf_init(&b, 0);
	ingest_dry_run_json(&r, &b);
	TL_ASSERT_CONTAINS(b.data,
			   "\"points\":[{\"ts\":\"1970-01-01T00:00:00Z\",\"value\":100,\"estimated\":true},"
			   "{\"ts\":\"1970-01-01T02:00:00Z\",\"value\":120}]");
	TL_ASSERT_CONTAINS(b.data,
			   "\"model\":\"m\",\"issued_at\":\"1970-01-01T01:00:00Z\",\"points\":[{\"ts\":"
			   "\"1970-01-01T02:00:00Z\",\"p50\":110,\"p10\":90,\"p90\":130}]");
	TL_ASSERT_CONTAINS(b.data, "\"unit\":\"gCO2eq/kWh\"");
	buf_release(&b);
	conn_result_release(&r);
}

static int suite_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : 1;
}

static int suite_clean(void)
{
	curl_global_cleanup();
	return 0;
}

static CU_TestInfo tests[] = {
    {"zone arguments", test_zone_arguments},
    {"pull from a fake and print", test_pull_and_print},
    {"print intervals, estimates, gaps", test_print_interval_and_gaps},
    CU_TEST_INFO_NULL,
};

TL_SUITE("ingest_source", suite_init, suite_clean, tests)
