/*
 * The cron tools against the real service: run-when-green asks the real
 * POST /v1/schedule, waits for the start it was given and runs the
 * command; with --book it books the run and reports its start and its
 * completion; 'carbonsched report' then shows those bookings with the
 * figures the service holds for them.
 *
 * The fixture of the scheduling tests (jobsrun.h: closed-formula signals,
 * no forecasting worker) on a replay clock running 1200 times real time,
 * so that a start an hour away comes in three real seconds.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "tests/integration/jobsrun.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

#define SPEED 1200

static char db[512], env0[600];
static const char *env[] = {env0, NULL};
static struct itest_server srv;
static bool serving;
static char booked_id[64], scheduled_id[64];

static int suite_init(void)
{
	if (!itest_have_db()) {
		fprintf(stderr, "integration tests need the throwaway PostgreSQL of 'make test'\n");
		return 1;
	}
	return 0;
}

/* The service, started by the first test (the fixture asserts, which
 * CUnit allows only inside a test). */
static void up(void)
{
	char *cfg;

	if (serving)
		return;
	jobsrun_db("cron", db, sizeof(db));
	snprintf(env0, sizeof(env0), "CARBONSCHED_DATABASE_URL=%s", db);
	cfg = jobsrun_config(0, 0, SPEED, "");
	itest_serve(cfg, db, NULL, &srv);
	free(cfg);
	serving = true;
}

static int suite_clean(void)
{
	if (serving)
		itest_stop(&srv);
	return 0;
}

/* "… is 2022-01-05T01:00:00Z, in …; expected 123 g CO2eq, …" -> start and grams. */
static bool plan_of(const char *err, int64_t *ret_start, double *ret_g)
{
	const char *p = strstr(err ? err : "", "the greenest start in AA is ");
	const char *e = p ? strstr(p, "; expected ") : NULL;

	if (!p || !e)
		return false;
	p += strlen("the greenest start in AA is ");
	if (!ts_parse_loose(p, 20, ret_start))
		return false;
	*ret_g = strtod(e + strlen("; expected "), NULL);
	return true;
}

static void test_waits_for_the_service(void)
{
	const char *args[] = {"run-when-green",
			      "--server",
			      NULL,
			      "--origin",
			      "AA",
			      "--duration",
			      "PT2H",
			      "--deadline",
			      "2022-01-05T06:00:00Z",
			      "--",
			      "sh",
			      "-c",
			      "echo ran; exit 6",
			      NULL};
	char *out = NULL, *err = NULL;
	int64_t start = 0;
	double g = NAN;

	up();
	args[2] = srv.base;
	/* The key from the environment (scope schedule: advice). */
	char keyenv[200];
	const char *kenv[] = {keyenv, NULL};
	snprintf(keyenv, sizeof(keyenv), "CARBONSCHED_API_KEY=%s", srv.key);
	TL_ASSERT_INT_EQ(itest_run(args, kenv, &out, &err), 6);
	TL_ASSERT_STR_EQ(out, "ran\n");
	TL_ASSERT_CONTAINS(err, "(the service's clock runs at 1200x)");
	TL_ASSERT(plan_of(err, &start, &g));
	/* A start on the service's hourly grid, the job ending by the deadline,
	 * and the emissions of exactly that start (1 kW, 2 h, intensity x PUE). */
	TL_ASSERT_INT_EQ(start % 3600, 0);
	TL_ASSERT(start >= JR_T0 + 4 * 86400 + 3600 && start + 7200 <= JR_T0 + 4 * 86400 + 6 * 3600);
	TL_ASSERT_DBL_EQ(g, round(jobsrun_cost("AA", 1, 2, start)), 0.5);
	TL_ASSERT_CONTAINS(err, "'sh' exited with status 6");
	free(out);
	free(err);
}

static void test_book_then_report(void)
{
	const char *args[] = {"run-when-green",
			      "--server",
			      NULL,
			      "--origin",
			      "AA",
			      "--duration",
			      "PT1H",
			      "--deadline",
			      "2022-01-05T08:00:00Z",
			      "--power-kw",
			      "20",
			      "--book",
			      "--name",
			      "nightly",
			      "--key-file",
			      NULL,
			      "--",
			      "sh",
			      "-c",
			      "sleep 0.3",
			      NULL};
	char *out = NULL, *err = NULL, path[128], rpath[700];
	const char *id;
	json_t *job, *rep;
	long st;

	up();
	args[2] = srv.base;
	/* The key from a file this time. */
	args[15] = itest_write_file("cron.key", srv.key);
	TL_ASSERT_INT_EQ(itest_run(args, NULL, &out, &err), 0);
	id = strstr(err ? err : "", "(booked as job ");
	TL_ASSERT(id != NULL);
	if (!id) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	snprintf(booked_id, sizeof(booked_id), "%.36s", id + strlen("(booked as job "));
	TL_ASSERT_CONTAINS(err, "'sh' exited with status 0");
	free(out);
	free(err);

	/* The service has it completed, with the energy measured: 20 kW for at
	 * least the 0.3 s it slept. */
	snprintf(path, sizeof(path), "/v1/jobs/%s", booked_id);
	job = jobsrun_call(&srv, "GET", path, NULL, NULL, &st, NULL);
	TL_ASSERT_INT_EQ(st, 200);
	TL_ASSERT_STR_EQ(jr_str(job, "state"), "completed");
	TL_ASSERT_STR_EQ(jr_str(job, "name"), "nightly");
	TL_ASSERT(jr_num(job, "measured_kwh") >= 20 * 0.3 / 3600 * 0.999);
	TL_ASSERT(jr_time(job, "completed_at") > jr_time(job, "started_at"));

	/* A second booking, left scheduled. */
	json_t *other =
	    jobsrun_call(&srv, "POST", "/v1/jobs", NULL,
			 "{\"duration\":\"PT2H\",\"deadline\":\"2022-01-05T20:00:00Z\",\"origin\":\"AA\","
			 "\"regions\":[\"AA\",\"BB\"],\"power_kw\":5,\"name\":\"etl\"}",
			 &st, NULL);
	TL_ASSERT_INT_EQ(st, 201);
	snprintf(scheduled_id, sizeof(scheduled_id), "%s", jr_str(other, "id") ? jr_str(other, "id") : "");

	/* The report holds both, with the service's figures: realised where
	 * the job has them, planned otherwise. */
	snprintf(rpath, sizeof(rpath), "%s/cron.json", itest_tmpdir());
	const char *rargs[] = {"report", "--from", "2022-01-05", "--to", "2022-01-06", "--out", rpath, NULL};
	TL_ASSERT_INT_EQ(itest_run(rargs, env, &out, &err), 0);
	TL_ASSERT_STR_EQ(err, "");
	free(out);
	free(err);
	rep = json_load_file(rpath, 0, NULL);
	TL_ASSERT(rep != NULL);
	json_t *jobs = json_object_get(rep, "jobs"), *j;
	size_t i, found = 0;
	json_array_foreach (jobs, i, j) {
		json_t *svc = !strcmp(jr_str(j, "id"), booked_id)      ? job
			      : !strcmp(jr_str(j, "id"), scheduled_id) ? other
								       : NULL;
		json_t *real = svc ? json_object_get(svc, "realised") : NULL;

		if (!svc)
			continue;
		found++;
		TL_ASSERT_STR_EQ(jr_str(j, "state"), jr_str(svc, "state"));
		TL_ASSERT_STR_EQ(jr_str(j, "region"), jr_str(svc, "region"));
		TL_ASSERT_STR_EQ(jr_str(j, "figures"), json_is_object(real) ? "realised" : "planned");
		TL_ASSERT_DBL_EQ(
		    jr_num(j, "emissions_g"),
		    json_is_object(real) ? jr_num(real, "emissions_g") : jr_num(svc, "expected_g"), 1e-3);
		TL_ASSERT_DBL_EQ(
		    jr_num(j, "baseline_g"),
		    json_is_object(real) ? jr_num(real, "baseline_g") : jr_num(svc, "baseline_g"), 1e-3);
		TL_ASSERT_DBL_EQ(
		    jr_num(j, "energy_kwh"),
		    json_is_object(real) ? jr_num(svc, "measured_kwh") : jr_num(svc, "energy_kwh"), 1e-6);
	}
	TL_ASSERT_INT_EQ(found, 2);
	/* The completed run has realised figures: it ran where data exists. */
	TL_ASSERT(json_is_object(json_object_get(job, "realised")));
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(rep, "total"), "jobs")), 2);
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(rep, "total"), "realised_jobs")),
			 1);
	json_decref(rep);
	json_decref(other);
	json_decref(job);
}

static void test_stops_cleanly(void)
{
	up();
	serving = false;
	TL_ASSERT_INT_EQ(itest_stop(&srv), 0);
}

static CU_TestInfo tests[] = {
    {"run-when-green waits for the service's start", test_waits_for_the_service},
    {"--book, then the report shows the bookings", test_book_then_report},
    {"stops cleanly", test_stops_cleanly},
    CU_TEST_INFO_NULL,
};
TL_SUITE("green-cron", suite_init, suite_clean, tests)
