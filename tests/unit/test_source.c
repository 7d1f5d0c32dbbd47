/* service/source and the read path's choice: staleness, fallback order,
 * relabelling, and the fake's fresh recordings that the poller tests use. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "service/config.h"
#include "service/source.h"
#include "service/store.h"
#include "tests/lib/fake_provider.h"
#include "tests/lib/testlib.h"

static struct store_series row(int id, const char *source, int64_t last_ts, bool stale, bool failing)
{
	struct store_series s = {
	    .id = id, .step = 3600, .last_ts = last_ts, .stale = stale, .failing = failing};

	snprintf(s.source, sizeof(s.source), "%s", source);
	return s;
}

/* Which row store_pick_series takes, as an id (0 = none). */
static int pick(const struct store_series *rows, size_t n, const char *source, char *const *prefer)
{
	struct store_series got;
	struct err_detail err;

	if (store_pick_series(rows, n, "Z", "carbon_intensity", source, prefer, &got, &err))
		return 0;
	return got.id;
}

static void test_pick_order(void)
{
	char *ab[] = {"a", "b", NULL}, *none[] = {NULL};
	/* Rows come newest data first, as the database lists them. */
	struct store_series healthy[] = {row(1, "x", 300, false, false), row(2, "b", 200, false, false),
					 row(3, "a", 100, false, false)};
	struct store_series a_failing[] = {row(1, "x", 300, true, false), row(2, "b", 200, false, false),
					   row(3, "a", 100, false, true)};
	struct store_series a_stale[] = {row(2, "b", 200, false, false), row(3, "a", 100, true, false)};
	struct store_series both_failing[] = {row(2, "b", 200, false, true), row(3, "a", 100, false, true)};
	struct store_series other_healthy[] = {row(1, "x", 300, false, false), row(2, "b", 200, false, true),
					       row(3, "a", 100, true, false)};
	struct store_series all_bad[] = {row(1, "x", 300, true, true), row(2, "b", 200, true, false),
					 row(3, "a", 100, true, true)};

	/* Unjudged rows: the first preferred source, else the newest data. */
	TL_ASSERT_INT_EQ(pick(healthy, 3, NULL, ab), 3);
	TL_ASSERT_INT_EQ(pick(healthy, 3, NULL, none), 1);
	TL_ASSERT_INT_EQ(pick(healthy, 3, NULL, NULL), 1);
	/* The first preferred source fails: the next preferred one serves. */
	TL_ASSERT_INT_EQ(pick(a_failing, 3, NULL, ab), 2);
	TL_ASSERT_INT_EQ(pick(a_stale, 2, NULL, ab), 2);
	/* All preferred sources fail but none is stale: the first preferred. */
	TL_ASSERT_INT_EQ(pick(both_failing, 2, NULL, ab), 3);
	/* A healthy source outside the list beats failing and stale ones. */
	TL_ASSERT_INT_EQ(pick(other_healthy, 3, NULL, ab), 1);
	/* Nothing healthy, nothing fresh: the newest data, rather than none. */
	TL_ASSERT_INT_EQ(pick(all_bad, 3, NULL, ab), 1);
	/* An explicit source is served whatever its state. */
	TL_ASSERT_INT_EQ(pick(all_bad, 3, "a", ab), 3);
	TL_ASSERT_INT_EQ(pick(all_bad, 3, "c", ab), 0);
	TL_ASSERT_INT_EQ(pick(all_bad, 0, NULL, ab), 0);
}

static void test_stale_after(void)
{
	const char *json =
	    "{\"database_url\":\"x\",\"regions\":[{\"id\":\"GB\",\"latitude\":51,\"longitude\":0,"
	    "\"pue\":1.1}],\"sources\":[{\"name\":\"gb\",\"type\":\"ukgrid\",\"zones\":[\"GB\"],"
	    "\"interval\":\"PT2H\"},{\"name\":\"em\",\"type\":\"electricitymaps\",\"zones\":[\"GB\"],"
	    "\"interval\":\"PT5M\",\"stale_after\":\"PT90M\"}]}";
	struct config *c;
	struct err_detail err;

	TL_ASSERT_INT_EQ(config_parse("t.json", json, strlen(json), &c, &err), ERR_OK);
	if (!c)
		return;
	TL_ASSERT_INT_EQ(source_stale_after(c, "gb", 1800), 3 * 7200);	 /* the interval is the longer */
	TL_ASSERT_INT_EQ(source_stale_after(c, "em", 3600), 90 * 60);	 /* configured */
	TL_ASSERT_INT_EQ(source_stale_after(c, "file", 3600), 3 * 3600); /* not configured: 3 steps */
	TL_ASSERT_INT_EQ(source_stale_after(NULL, "gb", 300), 900);
	config_free(c);
}

static void test_relabel(void)
{
	struct conn_result r;

	conn_result_init(&r);
	series_set(sig_set_get(&r.sigs, "GB", "carbon_intensity", "ukgrid", 1800), 0, 1, false);
	struct conn_forecast *f =
	    conn_result_forecast(&r, "GB", "carbon_intensity", "ukgrid", "ukgrid:fw48h", 0, 1800);
	series_set(&f->p50, 1800, 2, false);
	source_relabel(&r, "gb-mirror");
	TL_ASSERT_STR_EQ(r.sigs.items[0].source, "gb-mirror");
	TL_ASSERT_STR_EQ(r.fc[0].source, "gb-mirror");
	TL_ASSERT_STR_EQ(r.fc[0].model, "gb-mirror");
	conn_result_release(&r);
}

/* The fake's --fresh: the newest observation of each recording lands in
 * the current hour (less the age), the grid of every series is kept. */
static void test_fresh_recordings(void)
{
	struct fake_options fo = {.provider = "ukgrid", .fresh = true};
	struct err_detail err = {{0}, {0}};
	struct fake *fk = fake_start(&fo, &err);
	struct fetch *f = fetch_new(NULL);
	struct conn_ctx ctx;
	struct conn_query q = {.zone = "GB"};
	struct conn_result r;
	int64_t hour = ts_floor(ts_now(), TS_HOUR);

	TL_ASSERT(fk != NULL);
	if (!fk)
		return;
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_ukgrid, NULL, fake_url(fk), f, NULL, &err), ERR_OK);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	struct sig_series *ci = sig_set_find(&r.sigs, "GB", "carbon_intensity_direct");
	TL_ASSERT(ci != NULL);
	/* Recorded at 2018-01-20T12:00Z, 263 g/kWh: now in this hour (or the
	 * next, when the hour turned between the fake's start and here). */
	if (ci) {
		int64_t t = series_ts(&ci->s, ci->s.n - 1);
		TL_ASSERT(t == hour || t == hour - TS_HOUR);
		TL_ASSERT_DBL_EQ(series_at(&ci->s, t), 263, 0);
	}
	TL_ASSERT(r.nfc == 1);
	if (r.nfc == 1) /* the forecast's first step, recorded 20:30Z: half an hour into the hour */
		TL_ASSERT_INT_EQ(r.fc[0].p50.start % TS_HOUR, 1800);
	conn_result_release(&r);
	conn_ctx_release(&ctx);
	fake_stop(fk);

	/* Aged: the newest point four hours back. */
	fo.age_s = 4 * TS_HOUR;
	fk = fake_start(&fo, &err);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_ukgrid, NULL, fake_url(fk), f, NULL, &err), ERR_OK);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	ci = sig_set_find(&r.sigs, "GB", "carbon_intensity_direct");
	if (ci) {
		int64_t t = series_ts(&ci->s, ci->s.n - 1);
		TL_ASSERT(t == hour - 4 * TS_HOUR || t == hour - 5 * TS_HOUR);
	}
	TL_ASSERT(ci != NULL);
	conn_result_release(&r);
	conn_ctx_release(&ctx);
	fake_stop(fk);
	fetch_free(f);
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
    {"the read path's choice of source", test_pick_order},
    {"stale_after", test_stale_after},
    {"series and forecasts carry the source's name", test_relabel},
    {"the fake's fresh recordings", test_fresh_recordings},
    CU_TEST_INFO_NULL,
};
TL_SUITE("service/source", suite_init, suite_clean, tests)
