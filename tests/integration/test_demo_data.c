/*
 * The bundled demo data through the real binary: what 'make run' serves
 * must equal the files in data/demo, value for value.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "connectors/files.h"
#include "core/time.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

static const char *config =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2021-11-01T00:00:00Z\"},"
    "\"regions\":[{\"id\":\"SE\",\"name\":\"Sweden\",\"latitude\":59.33,\"longitude\":18.07,"
    "\"jurisdictions\":[\"EU\"],\"pue\":1.08,\"capacity_kw\":600}]}";

static void check_kind(const struct itest_server *s, const struct sig_set *file, const char *kind)
{
	const struct sig_series *want = sig_set_find(file, "SE", kind);
	char path[256];
	long status;
	json_t *j, *pts;
	size_t compared = 0;

	TL_ASSERT(want != NULL);
	if (!want)
		return;
	/* Two 60-day windows: the first days of the data and the weeks before the replay clock's now. */
	static const char *const windows[][2] = {{"2020-01-01T00:00:00Z", "2020-03-01T00:00:00Z"},
						 {"2021-09-01T00:00:00Z", "2021-11-01T00:00:00Z"}};
	for (int w = 0; w < 2; w++) {
		snprintf(path, sizeof(path), "/v1/regions/SE/signals?kind=%s&from=%s&to=%s", kind,
			 windows[w][0], windows[w][1]);
		j = itest_get_json(s, path, &status);
		TL_ASSERT_INT_EQ(status, 200);
		pts = json_object_get(j, "points");
		for (size_t i = 0; i < json_array_size(pts); i++) {
			json_t *p = json_array_get(pts, i);
			int64_t t = 0;

			ts_parse(json_string_value(json_object_get(p, "ts")), NULL, &t, NULL);
			TL_ASSERT_DBL_EQ(json_number_value(json_object_get(p, "value")),
					 series_at(&want->s, t), 0);
			compared++;
		}
		/* Nothing the file has in the window is missing from the answer. */
		int64_t a, b;
		ts_parse(windows[w][0], NULL, &a, NULL);
		ts_parse(windows[w][1], NULL, &b, NULL);
		size_t expected = 0;
		for (int64_t t = a; t < b; t += want->s.step)
			expected += !isnan(series_at(&want->s, t));
		TL_ASSERT_INT_EQ(json_array_size(pts), expected);
		json_decref(j);
	}
	TL_ASSERT(compared > 2000);
}

static void test_demo_file_served_as_is(void)
{
	const char *file = "data/demo/SE_direct_emissions.csv.gz";
	const char *args[] = {"ingest", "--format", "dacf", "--file", file, NULL};
	char db[512], env0[600];
	const char *env[] = {env0, NULL};
	struct itest_server s;
	struct sig_set set;
	struct err_detail err;
	char *out = NULL;

	TL_ASSERT_INT_EQ(files_read(file, "dacf", NULL, &set, &err), ERR_OK);
	itest_db_new("demo", db, sizeof(db));
	snprintf(env0, sizeof(env0), "CARBONSCHED_DATABASE_URL=%s", db);
	const char *margs[] = {"migrate", NULL};
	TL_ASSERT_INT_EQ(itest_run(margs, env, NULL, NULL), 0);
	TL_ASSERT_INT_EQ(itest_run(args, env, &out, NULL), 0);
	free(out);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM signals"), (long long)sig_set_points(&set));
	itest_serve(config, db, NULL, &s);
	check_kind(&s, &set, "carbon_intensity_direct");
	check_kind(&s, &set, "carbon_intensity");
	check_kind(&s, &set, "generation:wind");
	check_kind(&s, &set, "temperature");
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
	sig_set_release(&set);
}

static CU_TestInfo tests[] = {
    {"demo file served as is", test_demo_file_served_as_is},
    CU_TEST_INFO_NULL,
};
TL_SUITE("demo data", NULL, NULL, tests)
