/* service/fcstore against a real PostgreSQL: write, replace, read back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "service/db.h"
#include "service/fcstore.h"
#include "service/migrate.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

static void test_roundtrip(void)
{
	char conninfo[512];
	struct db *db;
	struct err_detail err;
	struct series p10, p50, p90;
	struct fc_run run;
	int64_t t0 = 1625097600;

	itest_db_new("fcstore", conninfo, sizeof(conninfo));
	TL_ASSERT_INT_EQ(db_connect_raw(conninfo, &db, &err), ERR_OK);
	TL_ASSERT_INT_EQ(migrate_apply(db, NULL, &err), ERR_OK);
	TL_ASSERT_INT_EQ(db_prepare_all(db, &err), ERR_OK);

	TL_ASSERT_INT_EQ(fcstore_latest(db, "DE", "carbon_intensity", NULL, t0, &run, &err), ERR_NOT_FOUND);
	fc_run_release(&run);
	series_init(&p10, t0, 3600);
	series_init(&p50, t0, 3600);
	series_init(&p90, t0, 3600);
	for (int i = 0; i < 96; i++) {
		series_push(&p50, 300 + i);
		series_push(&p10, i == 5 ? NAN : 250 + i);
		series_push(&p90, 350 + i);
	}
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "ridge", t0, &p10, &p50, &p90, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "ensemble", t0, &p10, &p50, &p90, &err),
			 ERR_OK);
	/* Re-issuing replaces the points. */
	p50.v[0] = 1;
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "ensemble", t0, &p10, &p50, &p90, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(itest_sql_int(conninfo, "SELECT count(*) FROM forecast_points"), 192);

	TL_ASSERT_INT_EQ(fcstore_latest(db, "DE", "carbon_intensity", NULL, t0 + 10, &run, &err), ERR_OK);
	TL_ASSERT_STR_EQ(run.model, "ensemble"); /* preferred among runs issued together */
	TL_ASSERT_INT_EQ(run.issued_at, t0);
	TL_ASSERT_INT_EQ(run.horizon, 96 * 3600);
	TL_ASSERT_INT_EQ(run.p50.n, 96);
	TL_ASSERT_DBL_EQ(run.p50.v[0], 1, 0);
	TL_ASSERT_DBL_EQ(run.p50.v[95], 395, 0);
	TL_ASSERT(isnan(run.p10.v[5]));
	TL_ASSERT_DBL_EQ(run.p90.v[5], 355, 0);
	fc_run_release(&run);
	TL_ASSERT_INT_EQ(fcstore_latest(db, "DE", "carbon_intensity", "ridge", t0, &run, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(run.p50.v[0], 300, 0);
	fc_run_release(&run);
	/* Nothing issued before t0. */
	TL_ASSERT_INT_EQ(fcstore_latest(db, "DE", "carbon_intensity", NULL, t0 - 1, &run, &err),
			 ERR_NOT_FOUND);
	fc_run_release(&run);
	/* Grids must match. */
	series_push(&p90, 1);
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "x", t0, &p10, &p50, &p90, &err),
			 ERR_INVALID);
	series_release(&p10);
	series_release(&p50);
	series_release(&p90);
	db_close(db);
}

static void write_const(struct db *db, const char *model, int64_t issued, size_t n, double v)
{
	struct series p10, p50, p90;
	struct err_detail err;

	series_init(&p10, issued, 3600);
	series_init(&p50, issued, 3600);
	series_init(&p90, issued, 3600);
	for (size_t i = 0; i < n; i++) {
		series_push(&p10, v - 10);
		series_push(&p50, v);
		series_push(&p90, v + 10);
	}
	TL_ASSERT_INT_EQ(
	    fcstore_write_by(db, "test:1", "SE", "carbon_intensity", model, issued, &p10, &p50, &p90, &err),
	    ERR_OK);
	series_release(&p10);
	series_release(&p50);
	series_release(&p90);
}

static void add_skill(struct db *db, const char *model, int bucket, double mae, double w, int64_t at)
{
	struct fc_skill s = {.w = w, .sum_ae = mae * w, .sum_se = mae * mae * w, .n = (int64_t)w};
	struct err_detail err;

	TL_ASSERT_INT_EQ(
	    fcstore_skill_add(db, "SE", "carbon_intensity", model, bucket, &s, at, 7 * 86400.0, &err),
	    ERR_OK);
}

/* The default choice: ensemble without skill, the best score with it (on
 * the buckets all scored models share), a short winner extended. */
static void test_choice_follows_skill(void)
{
	char conninfo[512];
	struct db *db;
	struct err_detail err;
	struct fc_run run;
	int64_t t0 = 1635724800;

	itest_db_new("fcchoice", conninfo, sizeof(conninfo));
	TL_ASSERT_INT_EQ(db_connect_raw(conninfo, &db, &err), ERR_OK);
	TL_ASSERT_INT_EQ(migrate_apply(db, NULL, &err), ERR_OK);
	TL_ASSERT_INT_EQ(db_prepare_all(db, &err), ERR_OK);
	/* one round: ours at t0 (96 h), a provider 20 min later (24 h), an
	 * older run of a model not in the round */
	write_const(db, "ensemble", t0, 96, 100);
	write_const(db, "ridge", t0, 96, 110);
	write_const(db, "dshw", t0 - 2 * 3600, 96, 120);
	write_const(db, "prov", t0 + 1200, 24, 200);

	TL_ASSERT_INT_EQ(fcstore_latest(db, "SE", "carbon_intensity", NULL, t0 + 3600, &run, &err), ERR_OK);
	TL_ASSERT_STR_EQ(run.model, "ensemble");
	TL_ASSERT_STR_EQ(run.chosen_by, "default");
	TL_ASSERT_INT_EQ(run.nchoices, 3); /* dshw is of an older round */
	TL_ASSERT_INT_EQ(run.extended_from, 0);
	fc_run_release(&run);

	/* skill: ridge beats the ensemble on 1-6 h and 7-24 h; the provider
	 * only has 1-24 h, where it is best; below min weight it does not count */
	add_skill(db, "ensemble", 0, 20, 50, t0);
	add_skill(db, "ensemble", 1, 30, 50, t0);
	add_skill(db, "ensemble", 2, 10, 50, t0); /* 25-48 h: not shared with the provider */
	add_skill(db, "ridge", 0, 15, 50, t0);
	add_skill(db, "ridge", 1, 25, 50, t0);
	add_skill(db, "ridge", 2, 90, 50, t0);
	add_skill(db, "prov", 0, 5, 10, t0); /* too little weight */
	TL_ASSERT_INT_EQ(fcstore_latest(db, "SE", "carbon_intensity", NULL, t0 + 3600, &run, &err), ERR_OK);
	TL_ASSERT_STR_EQ(run.model, "ensemble"); /* on 1-6, 7-24, 25-48 h: ensemble 20, ridge 43.3 */
	TL_ASSERT_STR_EQ(run.chosen_by, "skill");
	TL_ASSERT_INT_EQ(run.skill_buckets, 7);
	fc_run_release(&run);

	add_skill(db, "prov", 0, 5, 40, t0);
	add_skill(db, "prov", 1, 6, 50, t0);
	TL_ASSERT_INT_EQ(fcstore_latest(db, "SE", "carbon_intensity", NULL, t0 + 3600, &run, &err), ERR_OK);
	TL_ASSERT_STR_EQ(run.model, "prov"); /* on 1-24 h: prov 5.5, ridge 20, ensemble 25 */
	TL_ASSERT_INT_EQ(run.skill_buckets, 3);
	for (size_t i = 0; i < run.nchoices; i++)
		if (!strcmp(run.choices[i].model, "ridge"))
			TL_ASSERT_DBL_EQ(run.choices[i].score, 20, 1e-9);
	/* off the ensemble's grid: not extended */
	TL_ASSERT_INT_EQ(run.extended_from, 0);
	TL_ASSERT_INT_EQ(run.issued_at, t0 + 1200);
	TL_ASSERT_DBL_EQ(series_at(&run.p50, t0 + 1200), 200, 0);
	TL_ASSERT(isnan(series_at(&run.p50, t0 + 1200 + 24 * 3600)));
	fc_run_release(&run);

	/* on the same grid: the provider issued on the next hour (our runs
	 * of an hour before are still of its round), extended by the ensemble
	 * from the end of its 24 h to the end of the ensemble's 96 h */
	itest_sql(conninfo, "DELETE FROM forecast_runs WHERE model = 'prov'");
	write_const(db, "prov", t0 + 3600, 24, 200);
	TL_ASSERT_INT_EQ(fcstore_latest(db, "SE", "carbon_intensity", NULL, t0 + 3600, &run, &err), ERR_OK);
	TL_ASSERT_STR_EQ(run.model, "prov");
	TL_ASSERT_INT_EQ(run.extended_from, t0 + 25 * 3600);
	TL_ASSERT_INT_EQ(run.issued_at + run.horizon, t0 + 96 * 3600);
	TL_ASSERT_DBL_EQ(series_at(&run.p50, t0 + 24 * 3600), 200, 0);
	TL_ASSERT_DBL_EQ(series_at(&run.p50, t0 + 25 * 3600), 100, 0);
	TL_ASSERT_DBL_EQ(series_at(&run.p90, t0 + 95 * 3600), 110, 0);
	fc_run_release(&run);
	/* asked by name: no choice, no extension */
	TL_ASSERT_INT_EQ(fcstore_latest(db, "SE", "carbon_intensity", "prov", t0 + 3600, &run, &err), ERR_OK);
	TL_ASSERT_STR_EQ(run.chosen_by, "model");
	TL_ASSERT_INT_EQ(run.horizon, 24 * 3600);
	TL_ASSERT_INT_EQ(run.extended_from, 0);
	fc_run_release(&run);

	/* skill rows decay: a week later, the old weight counts half */
	add_skill(db, "ridge", 0, 15, 50, t0 + 7 * 86400);
	TL_ASSERT_INT_EQ(itest_sql_int(conninfo,
				       "SELECT round(weight) FROM forecast_skill WHERE model = 'ridge'"
				       " AND horizon_h = 6"),
			 75);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(conninfo, "SELECT n FROM forecast_skill WHERE model = 'ridge' AND horizon_h = 6"),
	    100);
	db_close(db);
}

static void count_cb(void *ctx, const struct fcstore_point *p)
{
	int *n = ctx;

	TL_ASSERT(p->ts >= p->issued_at);
	(*n)++;
}

/* Each point is handed out for scoring once. */
static void test_score_pending_once(void)
{
	char conninfo[512];
	struct db *db;
	struct err_detail err;
	int64_t t0 = 1635724800;
	int n = 0;

	itest_db_new("fcscore", conninfo, sizeof(conninfo));
	TL_ASSERT_INT_EQ(db_connect_raw(conninfo, &db, &err), ERR_OK);
	TL_ASSERT_INT_EQ(migrate_apply(db, NULL, &err), ERR_OK);
	TL_ASSERT_INT_EQ(db_prepare_all(db, &err), ERR_OK);
	write_const(db, "ensemble", t0, 96, 100);
	write_const(db, "ensemble", t0 + 3600, 96, 100);
	TL_ASSERT_INT_EQ(fcstore_score_pending(db, "SE", "carbon_intensity", t0 - 86400, t0 + 3 * 3600,
					       count_cb, &n, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(n, 3 + 2);
	n = 0;
	TL_ASSERT_INT_EQ(fcstore_score_pending(db, "SE", "carbon_intensity", t0 - 86400, t0 + 3 * 3600,
					       count_cb, &n, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(n, 0);
	TL_ASSERT_INT_EQ(fcstore_score_pending(db, "SE", "carbon_intensity", t0 - 86400, t0 + 5 * 3600,
					       count_cb, &n, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(n, 4);
	/* a re-issued run starts over */
	write_const(db, "ensemble", t0 + 3600, 96, 100);
	n = 0;
	TL_ASSERT_INT_EQ(fcstore_score_pending(db, "SE", "carbon_intensity", t0 - 86400, t0 + 5 * 3600,
					       count_cb, &n, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(n, 4);
	int64_t deleted = 0;
	TL_ASSERT_INT_EQ(fcstore_prune(db, t0 + 1, &deleted, &err), ERR_OK);
	TL_ASSERT_INT_EQ(deleted, 1);
	TL_ASSERT_INT_EQ(itest_sql_int(conninfo, "SELECT count(*) FROM forecast_points"), 96);
	db_close(db);
}

static CU_TestInfo tests[] = {
    {"write, replace, read back", test_roundtrip},
    {"the default choice follows skill, short runs extended", test_choice_follows_skill},
    {"pending points are scored once", test_score_pending_once},
    CU_TEST_INFO_NULL,
};
TL_SUITE("fcstore", NULL, NULL, tests)
