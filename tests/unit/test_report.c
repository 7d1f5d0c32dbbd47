/*
 * service/report: sums per day and region, the three renderings, the
 * atomic replacement of the output file.  Figures are worked out by hand
 * in the comments.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/time.h"
#include "service/report.h"
#include "tests/lib/testlib.h"

static int64_t at(const char *s)
{
	int64_t t = 0;

	ts_parse(s, NULL, &t, NULL);
	return t;
}

static void job(struct report *r, const char *id, const char *name, const char *state, const char *origin,
		const char *region, const char *start, double planned_kwh, double measured_kwh,
		double expected_g, double baseline_g, double realised_g, double realised_baseline_g)
{
	struct report_job j = {.name = (char *)name,
			       .start = at(start),
			       .planned_kwh = planned_kwh,
			       .measured_kwh = measured_kwh,
			       .expected_g = expected_g,
			       .baseline_g = baseline_g,
			       .realised_g = realised_g,
			       .realised_baseline_g = realised_baseline_g};

	snprintf(j.id, sizeof(j.id), "%s", id);
	snprintf(j.state, sizeof(j.state), "%s", state);
	snprintf(j.origin, sizeof(j.origin), "%s", origin);
	snprintf(j.region, sizeof(j.region), "%s", region);
	snprintf(j.model, sizeof(j.model), "ensemble");
	report_add(r, &j);
}

/* J1 completed with realised figures: 12 kWh measured (10 planned), 1440 g
 *    emitted (120 g/kWh; the plan expected 1000 g / 10 kWh = 100 g/kWh:
 *    forecast error (100 - 120) / 120 = -16.67 %), baseline 3600 g.
 * J2 scheduled: 5 kWh, 500 g planned, baseline 600 g.
 * J3 cancelled: listed, not counted.
 * J4 completed without realised figures nor baseline: 2 kWh, 300 g.
 * J5 failed without figures: not counted. */
static void sample(struct report *r)
{
	report_init(r, at("2021-11-01T00:00:00Z"), at("2021-11-03T00:00:00Z"), at("2021-11-03T00:05:00Z"));
	job(r, "j1", "train <model> & \"eval\"", "completed", "DE", "SE", "2021-11-01T02:00:00Z", 10, 12,
	    1000, 3000, 1440, 3600);
	job(r, "j2", "nightly, etl", "scheduled", "SE", "SE", "2021-11-01T20:00:00Z", 5, NAN, 500, 600, NAN,
	    NAN);
	job(r, "j3", "", "cancelled", "DE", "DE", "2021-11-02T01:00:00Z", 4, NAN, 400, 800, NAN, NAN);
	job(r, "j4", "backup", "completed", "DE", "DE", "2021-11-02T03:00:00Z", 2, NAN, 300, NAN, NAN, NAN);
	job(r, "j5", "oops", "failed", "DE", "DE", "2021-11-02T04:00:00Z", 1, NAN, 100, 200, NAN, NAN);
	report_finish(r);
}

static void test_sums(void)
{
	struct report r;

	sample(&r);
	TL_ASSERT_INT_EQ(r.total.jobs, 3);
	TL_ASSERT_INT_EQ(r.total.realised, 1);
	TL_ASSERT_DBL_EQ(r.total.energy_kwh, 12 + 5 + 2, 1e-9);
	TL_ASSERT_DBL_EQ(r.total.emissions_g, 1440 + 500 + 300, 1e-9);
	TL_ASSERT_DBL_EQ(r.total.baseline_g, 3600 + 600, 1e-9);
	TL_ASSERT_DBL_EQ(r.total.saving_g, 2160 + 100, 1e-9);
	TL_ASSERT_INT_EQ(r.total.nerr, 1);
	TL_ASSERT_DBL_EQ(r.total.err_sum, -100.0 / 6, 1e-9);
	TL_ASSERT_DBL_EQ(report_job_forecast_error(&r.jobs[0]), -100.0 / 6, 1e-9);
	TL_ASSERT(isnan(report_job_forecast_error(&r.jobs[1])));
	TL_ASSERT(!report_job_counts(&r.jobs[2]));
	TL_ASSERT(!report_job_counts(&r.jobs[4]));

	TL_ASSERT_INT_EQ(r.ndays, 2);
	TL_ASSERT_STR_EQ(r.days[0].key, "2021-11-01");
	TL_ASSERT_INT_EQ(r.days[0].sum.jobs, 2);
	TL_ASSERT_DBL_EQ(r.days[0].sum.emissions_g, 1940, 1e-9);
	TL_ASSERT_DBL_EQ(r.days[0].sum.saving_g, 2260, 1e-9);
	TL_ASSERT_STR_EQ(r.days[1].key, "2021-11-02");
	TL_ASSERT_INT_EQ(r.days[1].sum.jobs, 1);
	TL_ASSERT_DBL_EQ(r.days[1].sum.baseline_g, 0, 0);
	TL_ASSERT_INT_EQ(r.nregions, 2);
	TL_ASSERT_STR_EQ(r.regions[0].key, "DE");
	TL_ASSERT_DBL_EQ(r.regions[0].sum.emissions_g, 300, 1e-9);
	TL_ASSERT_STR_EQ(r.regions[1].key, "SE");
	TL_ASSERT_DBL_EQ(r.regions[1].sum.energy_kwh, 17, 1e-9);
	report_release(&r);
}

static void test_csv(void)
{
	struct report r;
	struct buf b;
	size_t lines = 0;

	sample(&r);
	buf_init(&b, 0);
	report_render(&r, REPORT_CSV, &b);
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	TL_ASSERT_INT_EQ(lines, 1 + 1 + 2 + 2 + 5);
	/* 2260 / 4200 = 53.810 %; mean error -16.667 % */
	TL_ASSERT_CONTAINS(b.data, "\ntotal,,,,,,,,3,1,19,2240,4200,2260,53.81,-16.667,16.667\n");
	TL_ASSERT_CONTAINS(b.data, "\nday,2021-11-02,,,,,,,1,0,2,300,0,0,,,\n");
	TL_ASSERT_CONTAINS(b.data, "\nregion,,SE,,,,,,2,1,17,1940,4200,2260,53.81,-16.667,16.667\n");
	/* Names are quoted when they need it. */
	TL_ASSERT_CONTAINS(b.data, "\njob,2021-11-01,SE,j1,\"train <model> & \"\"eval\"\"\",completed,"
				   "2021-11-01T02:00:00Z,realised,1,1,12,1440,3600,2160,60,-16.667,16.667\n");
	TL_ASSERT_CONTAINS(
	    b.data, "\njob,2021-11-01,SE,j2,\"nightly, etl\",scheduled,2021-11-01T20:00:00Z,planned,1,0,5,"
		    "500,600,100,16.667,,\n");
	TL_ASSERT_CONTAINS(b.data, ",cancelled,2021-11-02T01:00:00Z,planned,0,0,");
	buf_release(&b);
	report_release(&r);
}

static void test_json(void)
{
	struct report r;
	struct buf b;
	json_t *j, *job1;
	json_error_t e;

	sample(&r);
	buf_init(&b, 0);
	report_render(&r, REPORT_JSON, &b);
	j = json_loads(b.data, 0, &e);
	TL_ASSERT(j != NULL);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "from")), "2021-11-01T00:00:00Z");
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(json_object_get(j, "total"), "saving_g")), 2260,
			 1e-9);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "days")), 2);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "regions")), 2);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "jobs")), 5);
	job1 = json_array_get(json_object_get(j, "jobs"), 0);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(job1, "name")), "train <model> & \"eval\"");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(job1, "figures")), "realised");
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(job1, "saving_pct")), 60, 1e-9);
	/* unknown figures are null, not 0 */
	TL_ASSERT(json_is_null(json_object_get(json_array_get(json_object_get(j, "jobs"), 3), "baseline_g")));
	TL_ASSERT(json_is_null(json_object_get(json_array_get(json_object_get(j, "days"), 1), "saving_pct")));
	json_decref(j);
	buf_release(&b);
	report_release(&r);
}

static void test_html(void)
{
	struct report r;
	struct buf b;

	sample(&r);
	buf_init(&b, 0);
	report_render(&r, REPORT_HTML, &b);
	TL_ASSERT_CONTAINS(b.data, "<!DOCTYPE html>");
	TL_ASSERT_CONTAINS(b.data, "@media print");
	TL_ASSERT_CONTAINS(b.data, "aria-label=\"emissions and baseline per day\"");
	TL_ASSERT_CONTAINS(b.data, "aria-label=\"emissions and baseline per region\"");
	/* A job name is text, never markup. */
	TL_ASSERT_CONTAINS(b.data, "train &lt;model&gt; &amp; &quot;eval&quot;");
	TL_ASSERT(strstr(b.data, "<model>") == NULL);
	/* Stands alone: nothing loaded from elsewhere, no script. */
	TL_ASSERT(strstr(b.data, "<script") == NULL);
	TL_ASSERT(strstr(b.data, "src=") == NULL);
	TL_ASSERT(strstr(b.data, "url(") == NULL);
	TL_ASSERT(strstr(b.data, "nan") == NULL && strstr(b.data, "inf") == NULL);
	/* grams here: the largest figure is 4200 g */
	TL_ASSERT_CONTAINS(b.data, "<th>emitted g</th>");
	TL_ASSERT_CONTAINS(b.data, "+53.8&#8239;%");
	buf_release(&b);
	report_release(&r);

	/* An empty period says so. */
	report_init(&r, 0, 86400, 86400);
	report_finish(&r);
	buf_init(&b, 0);
	report_render(&r, REPORT_HTML, &b);
	TL_ASSERT_CONTAINS(b.data, "No job ran or was planned in this period.");
	buf_release(&b);
	report_release(&r);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_write_atomic(void)
{
	char dir[] = "/tmp/carbonsched-report-XXXXXX", path[128], text[64] = "";
	struct err_detail err = {{0}, {0}};
	struct stat st;
	FILE *f;

	TL_ASSERT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/report.csv", dir);
	TL_ASSERT_INT_EQ(report_write_atomic(path, "old\n", 4, &err), ERR_OK);
	TL_ASSERT_INT_EQ(report_write_atomic(path, "new\n", 4, &err), ERR_OK);
	f = fopen(path, "r");
	TL_ASSERT(f && fgets(text, sizeof(text), f));
	if (f)
		fclose(f);
	TL_ASSERT_STR_EQ(text, "new\n");
	/* As readable as any new file (mkstemp alone would make it 0600). */
	mode_t mask = umask(0);
	umask(mask);
	TL_ASSERT(stat(path, &st) == 0);
	TL_ASSERT_INT_EQ(st.st_mode & 0777, 0666 & ~mask);
	TL_ASSERT_INT_EQ(count_files(dir), 1); /* no temporary file left */
	/* A directory that does not exist: an error naming the path. */
	snprintf(path, sizeof(path), "%s/nope/report.csv", dir);
	TL_ASSERT_INT_EQ(report_write_atomic(path, "x", 1, &err), ERR_IO);
	TL_ASSERT_CONTAINS(err.msg, path);
	snprintf(path, sizeof(path), "%s/report.csv", dir);
	unlink(path);
	rmdir(dir);
}

static CU_TestInfo tests[] = {
    {"sums per day and region", test_sums}, {"csv", test_csv}, {"json", test_json}, {"html", test_html},
    {"atomic write", test_write_atomic},    CU_TEST_INFO_NULL,
};
TL_SUITE("report", NULL, NULL, tests)
