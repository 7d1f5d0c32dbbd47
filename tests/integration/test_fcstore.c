/* service/fcstore against a real PostgreSQL: write, replace, read back. */
#include <math.h>
#include <stdlib.h>

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
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "ridge", t0, &p10, &p50, &p90, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "ensemble", t0, &p10, &p50, &p90, &err), ERR_OK);
	/* Re-issuing replaces the points. */
	p50.v[0] = 1;
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "ensemble", t0, &p10, &p50, &p90, &err), ERR_OK);
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
	TL_ASSERT_INT_EQ(fcstore_latest(db, "DE", "carbon_intensity", NULL, t0 - 1, &run, &err), ERR_NOT_FOUND);
	fc_run_release(&run);
	/* Grids must match. */
	series_push(&p90, 1);
	TL_ASSERT_INT_EQ(fcstore_write(db, "DE", "carbon_intensity", "x", t0, &p10, &p50, &p90, &err), ERR_INVALID);
	series_release(&p10);
	series_release(&p50);
	series_release(&p90);
	db_close(db);
}

static CU_TestInfo tests[] = {
	{"write, replace, read back", test_roundtrip},
	CU_TEST_INFO_NULL,
};
TL_SUITE("fcstore", NULL, NULL, tests)
