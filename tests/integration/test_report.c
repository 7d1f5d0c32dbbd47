/*
 * 'carbonsched report' against a real PostgreSQL: jobs rows as the
 * scheduler writes them (inserted here in SQL), the three formats, the
 * atomic replacement of the output file, quiet success and loud failure.
 * The expected sums are computed by SQL, with the report's rule written a
 * second time: realised figures where a job has both, planned otherwise;
 * cancelled jobs and failed ones without realised figures do not count.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

static char db[512], env0[600];
static const char *env[] = {env0, NULL};

#define COUNTED                                                                                            \
	"(state IN ('scheduled', 'running', 'completed') OR (state = 'failed' AND realised_g IS NOT NULL " \
	"AND realised_baseline_g IS NOT NULL))"
#define IN_PERIOD                                                                            \
	"coalesce(started_at, planned_start, earliest_start) >= '2021-11-01T00:00:00Z' AND " \
	"coalesce(started_at, planned_start, earliest_start) < '2021-11-04T00:00:00Z'"
#define REALISED "(realised_g IS NOT NULL AND realised_baseline_g IS NOT NULL)"

static int suite_init(void)
{
	const char *migrate[] = {"migrate", NULL};
	char *r;

	if (!itest_have_db()) {
		fprintf(stderr, "integration tests need the throwaway PostgreSQL of 'make test'\n");
		return 1;
	}
	itest_db_new("report", db, sizeof(db));
	snprintf(env0, sizeof(env0), "CARBONSCHED_DATABASE_URL=%s", db);
	if (itest_run(migrate, env, NULL, NULL))
		return 1;
	r = itest_sql(db, "INSERT INTO regions (id, name, zone, latitude, longitude, pue) VALUES"
			  " ('SE', 'Sweden', 'SE', 59, 18, 1.08), ('DE', 'Germany', 'DE', 50, 8, 1.2),"
			  " ('GB', 'Britain', 'GB', 51, 0, 1.1) RETURNING 1");
	free(r);
	/* Three days of jobs: completed with realised figures, completed
	 * without, running, scheduled, cancelled, failed; one outside the
	 * period on each side.  (Keys: 001's unique (tenant, key) treats NULLs
	 * as equal.) */
	r = itest_sql(
	    db, "INSERT INTO jobs (idempotency_key, name, state, origin, region, request, power_kw, "
		"duration_s, earliest_start, deadline,"
		" planned_start, started_at, expected_g, baseline_g, measured_kwh, realised_g, "
		"realised_baseline_g,"
		" forecast_model) VALUES"
		" ('k0', 'train-a', 'completed', 'DE', 'SE', '{}', 10, 7200, '2021-11-01T00:00Z', "
		"'2021-11-01T12:00Z',"
		"  '2021-11-01T03:00Z', '2021-11-01T03:00Z', 700, 8000, 21, 840, 8400, 'ensemble'),"
		" ('k1', 'train-b', 'completed', 'DE', 'DE', '{}', 10, 3600, '2021-11-01T00:00Z', "
		"'2021-11-01T12:00Z',"
		"  '2021-11-01T05:00Z', '2021-11-01T05:00Z', 3000, 4500, 10, 3300, 4400, 'ensemble'),"
		" ('k2', 'etl \"nightly\", v2', 'completed', 'GB', 'GB', '{}', 2, 3600, '2021-11-02T00:00Z',"
		"  '2021-11-02T08:00Z', '2021-11-02T01:00Z', '2021-11-02T01:00Z', 400, 500, NULL, NULL, "
		"NULL, 'ridge'),"
		" ('k3', 'render', 'running', 'SE', 'SE', '{}', 5, 3600, '2021-11-02T10:00Z', "
		"'2021-11-02T20:00Z',"
		"  '2021-11-02T11:00Z', '2021-11-02T11:00Z', 150, 200, NULL, NULL, NULL, 'ensemble'),"
		" ('k4', 'batch', 'scheduled', 'DE', 'SE', '{}', 8, 7200, '2021-11-03T00:00Z', "
		"'2021-11-03T23:00Z',"
		"  '2021-11-03T13:00Z', NULL, 500, 2500, NULL, NULL, NULL, 'ensemble'),"
		" ('k5', 'dropped', 'cancelled', 'DE', 'DE', '{}', 8, 3600, '2021-11-03T00:00Z', "
		"'2021-11-03T23:00Z',"
		"  '2021-11-03T02:00Z', NULL, 900, 1000, NULL, NULL, NULL, 'ensemble'),"
		" ('k6', 'crashed', 'failed', 'DE', 'DE', '{}', 8, 3600, '2021-11-03T00:00Z', "
		"'2021-11-03T23:00Z',"
		"  '2021-11-03T04:00Z', '2021-11-03T04:00Z', 900, 1000, NULL, NULL, NULL, 'ensemble'),"
		" ('k7', 'before', 'completed', 'DE', 'DE', '{}', 8, 3600, '2021-10-31T00:00Z', "
		"'2021-10-31T23:00Z',"
		"  '2021-10-31T22:00Z', '2021-10-31T22:00Z', 900, 1000, 8, 950, 1000, 'ensemble'),"
		" ('k8', 'after', 'scheduled', 'DE', 'DE', '{}', 8, 3600, '2021-11-04T00:00Z', "
		"'2021-11-04T23:00Z',"
		"  '2021-11-04T00:00Z', NULL, 900, 1000, NULL, NULL, NULL, 'ensemble')"
		" RETURNING 1");
	free(r);
	return 0;
}

static double sql_num(const char *sql)
{
	char *v = itest_sql(db, sql);
	double d = v ? strtod(v, NULL) : NAN;

	free(v);
	return d;
}

static void test_json_matches_sql(void)
{
	char path[600];
	const char *args[] = {"report", "--from", "2021-11-01", "--to", "2021-11-04T00:00:00Z",
			      "--out",	path,	  NULL};
	char *out = NULL, *err = NULL, *text;
	json_t *j, *total;

	snprintf(path, sizeof(path), "%s/report.json", itest_tmpdir());
	TL_ASSERT_INT_EQ(itest_run(args, env, &out, &err), 0);
	/* Quiet when it works. */
	TL_ASSERT_STR_EQ(out, "");
	TL_ASSERT_STR_EQ(err, "");
	text = itest_slurp(path);
	j = json_loads(text ? text : "", 0, NULL);
	TL_ASSERT(j != NULL);
	total = json_object_get(j, "total");
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(total, "jobs")),
			 (long long)sql_num("SELECT count(*) FROM jobs WHERE " COUNTED " AND " IN_PERIOD));
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(total, "realised_jobs")),
			 (long long)sql_num("SELECT count(*) FROM jobs WHERE " COUNTED " AND " REALISED
					    " AND " IN_PERIOD));
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(total, "emissions_g")),
			 sql_num("SELECT sum(CASE WHEN " REALISED
				 " THEN realised_g ELSE expected_g END) FROM jobs WHERE " COUNTED
				 " AND " IN_PERIOD),
			 1e-6);
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(total, "baseline_g")),
			 sql_num("SELECT sum(CASE WHEN " REALISED
				 " THEN realised_baseline_g ELSE baseline_g END) FROM jobs "
				 "WHERE " COUNTED " AND " IN_PERIOD),
			 1e-6);
	TL_ASSERT_DBL_EQ(
	    json_number_value(json_object_get(total, "energy_kwh")),
	    sql_num(
		"SELECT sum(coalesce(measured_kwh, power_kw * duration_s / 3600.0)) FROM jobs WHERE " COUNTED
		" AND " IN_PERIOD),
	    1e-6);
	/* Forecast error: the intensity planned (expected / planned energy)
	 * against the realised one (realised / measured energy). */
	TL_ASSERT_DBL_EQ(
	    json_number_value(json_object_get(total, "forecast_error_pct")),
	    sql_num(
		"SELECT avg(((expected_g / (power_kw * duration_s / 3600.0)) - realised_g / measured_kwh) /"
		" (realised_g / measured_kwh) * 100) FROM jobs WHERE " COUNTED " AND " IN_PERIOD
		" AND realised_g IS NOT NULL AND measured_kwh > 0"),
	    1e-3);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "days")), 3);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "regions")), 3);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "jobs")),
			 (long long)sql_num("SELECT count(*) FROM jobs WHERE " IN_PERIOD));
	/* per region: SE */
	json_t *se = json_array_get(json_object_get(j, "regions"), 2);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(se, "region")), "SE");
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(se, "saving_g")),
			 sql_num("SELECT sum(CASE WHEN " REALISED
				 " THEN realised_baseline_g - realised_g ELSE baseline_g -"
				 " expected_g END) FROM jobs WHERE region = 'SE' AND " COUNTED
				 " AND " IN_PERIOD),
			 1e-6);
	json_decref(j);
	free(text);
	free(out);
	free(err);
}

static void test_csv_to_stdout_and_html(void)
{
	char path[600];
	const char *csv[] = {"report", "--from", "2021-11-01", "--to", "2021-11-04", "--format", "csv", NULL};
	const char *html[] = {"report", "--from", "2021-11-01", "--to", "2021-11-04", "--out", path, NULL};
	char *out = NULL, *err = NULL, *text;

	TL_ASSERT_INT_EQ(itest_run(csv, env, &out, &err), 0);
	TL_ASSERT(!strncmp(out, "scope,day,region,job_id,name,state,start,figures,", 49));
	TL_ASSERT_CONTAINS(out, "\"etl \"\"nightly\"\", v2\"");
	TL_ASSERT_CONTAINS(out, "\nday,2021-11-03,");
	free(out);
	free(err);

	/* The format follows the extension of --out. */
	snprintf(path, sizeof(path), "%s/report.html", itest_tmpdir());
	TL_ASSERT_INT_EQ(itest_run(html, env, &out, &err), 0);
	text = itest_slurp(path);
	TL_ASSERT_CONTAINS(text, "<svg class=\"chart\"");
	TL_ASSERT_CONTAINS(text, "etl &quot;nightly&quot;, v2");
	/* An artefact to look at. */
	mkdir("tests/out", 0755);
	FILE *f = fopen("tests/out/report.html", "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(text);
	free(out);
	free(err);
}

static void test_failures_leave_the_old_file(void)
{
	char path[600];
	const char *args[] = {"report", "--from", "2021-11-01", "--to", "2021-11-04", "--out", path, NULL};
	const char *bad_env[] = {"CARBONSCHED_DATABASE_URL=host=/nonexistent dbname=nope", NULL};
	char *out = NULL, *err = NULL, *text;

	snprintf(path, sizeof(path), "%s/kept.csv", itest_tmpdir());
	itest_write_file("kept.csv", "the previous report\n");
	TL_ASSERT(itest_run(args, bad_env, &out, &err) == 1);
	TL_ASSERT_CONTAINS(err, "carbonsched database:");
	text = itest_slurp(path);
	TL_ASSERT_STR_EQ(text, "the previous report\n");
	free(text);
	free(out);
	free(err);

	/* Usage errors: exit status 2 and what is wrong. */
	static const struct {
		const char *args[10];
		const char *says;
	} usage[] = {
	    {{"report", "--from", "2021-11-01", NULL}, "--from and --to are required"},
	    {{"report", "--from", "last week", "--to", "2021-11-04", NULL},
	     "--from: 'last week' is not a time"},
	    {{"report", "--from", "2021-11-01", "--to", "2021-13-01", NULL},
	     "--to: '2021-13-01' is not a time"},
	    {{"report", "--from", "2021-11-04", "--to", "2021-11-01", NULL}, "must be before --to"},
	    {{"report", "--from", "2021-11-01", "--to", "2021-11-04", "--format", "pdf", NULL},
	     "csv, json or html"},
	};
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
		TL_ASSERT_INT_EQ(itest_run(usage[i].args, env, &out, &err), 2);
		TL_ASSERT_CONTAINS(err, usage[i].says);
		free(out);
		free(err);
	}
	/* A database without the schema. */
	char fresh[512], fenv[600];
	const char *fresh_env[] = {fenv, NULL};
	itest_db_new("report_empty", fresh, sizeof(fresh));
	snprintf(fenv, sizeof(fenv), "CARBONSCHED_DATABASE_URL=%s", fresh);
	TL_ASSERT_INT_EQ(itest_run(args, fresh_env, &out, &err), 1);
	TL_ASSERT_CONTAINS(err, "carbonsched migrate");
	free(out);
	free(err);
}

/* The report commands of deploy/ (the cron file, the CronJob's args) run
 * as written, with the output file moved into the scratch directory. */
static void run_example(const char *what, char **argv, int argc)
{
	char out_path[600];
	const char *args[32];
	char *out = NULL, *err = NULL;
	int n = 0;

	snprintf(out_path, sizeof(out_path), "%s/example-%d", itest_tmpdir(), argc);
	for (int i = 0; i < argc && n < 30; i++) {
		args[n++] = argv[i];
		if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			args[n++] = out_path;
			i++;
		}
	}
	args[n] = NULL;
	int rc = itest_run(args, env, &out, &err);
	if (rc)
		fprintf(stderr, "%s: %s\n", what, err);
	TL_ASSERT_INT_EQ(rc, 0);
	TL_ASSERT_STR_EQ(err, "");
	free(out);
	free(err);
}

static void test_deploy_examples(void)
{
	char *cron = itest_slurp("deploy/cron/carbonsched"),
	     *k8s = itest_slurp("deploy/kubernetes/report-cronjob.yaml");
	int found = 0;

	TL_ASSERT(cron && k8s);
	for (const char *line = cron; line && *line;) {
		size_t len = strcspn(line, "\n");
		char copy[1024], *p, *save = NULL, *argv[32];
		int argc = 0;

		snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
		line += len + (line[len] == '\n');
		if (copy[0] == '#' || !(p = strstr(copy, "carbonsched report ")))
			continue;
		for (char *a = strtok_r(p + strlen("carbonsched "), " ", &save); a && argc < 31;
		     a = strtok_r(NULL, " ", &save))
			argv[argc++] = a;
		run_example("deploy/cron/carbonsched", argv, argc);
		found++;
	}
	char *args = k8s ? strstr(k8s, "args: [") : NULL;
	TL_ASSERT(args != NULL);
	if (args) {
		json_t *a = json_loadb(args + 6, strcspn(args + 6, "\n"), 0, NULL);
		char *argv[32];
		size_t i;
		json_t *v;

		TL_ASSERT(json_is_array(a));
		json_array_foreach (a, i, v)
			if (i < 31)
				argv[i] = (char *)json_string_value(v);
		run_example("deploy/kubernetes/report-cronjob.yaml", argv, (int)json_array_size(a));
		json_decref(a);
		found++;
	}
	TL_ASSERT_INT_EQ(found, 3);
	free(cron);
	free(k8s);
}

static CU_TestInfo tests[] = {
    {"json sums match SQL", test_json_matches_sql},
    {"csv on stdout, html by extension", test_csv_to_stdout_and_html},
    {"failures leave the old file", test_failures_leave_the_old_file},
    {"the deploy examples run", test_deploy_examples},
    CU_TEST_INFO_NULL,
};
TL_SUITE("report", suite_init, NULL, tests)
