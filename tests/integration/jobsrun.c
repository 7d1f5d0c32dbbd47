/* jobsrun.c - see jobsrun.h. */
#include "tests/integration/jobsrun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/time.h"
#include "tests/lib/testlib.h"

/* The value as the file holds it: three decimals, read back. */
static double as_written(double v)
{
	char s[64];

	snprintf(s, sizeof(s), "%.3f", v);
	return strtod(s, NULL);
}

double jobsrun_ci(const char *zone, int64_t t)
{
	double h = (double)((t - JR_T0) / 3600);
	long k = (long)h;

	if (!strcmp(zone, "AA"))
		return as_written(300 + 120 * sin(2 * M_PI * h / 24) + (double)(k % 7) * 3.1);
	if (!strcmp(zone, "BB"))
		return as_written(250 + 150 * cos(2 * M_PI * h / 24 + 1) + (double)(k % 5) * 2.3);
	return as_written(500 + (double)(k % 11) * 10);
}

double jobsrun_temp(int64_t t)
{
	double h = (double)((t - JR_T0) / 3600);

	return as_written(15 + 10 * sin(2 * M_PI * (h - 9) / 24));
}

double jobsrun_pue(const char *region, int64_t t)
{
	if (!strcmp(region, "AA"))
		return 1.2;
	if (!strcmp(region, "BB"))
		return 1.1 + 0.02 * fmax(0, jobsrun_temp(t) - 15);
	return 1.0;
}

char *jobsrun_config(double cap_aa, double cap_bb, double speed, const char *extra)
{
	struct buf b;
	char now[TS_BUFSZ];

	buf_init(&b, 0);
	buf_addf(
	    &b,
	    "{%s\"clock\":{\"mode\":\"replay\",\"start\":\"%s\",\"speed\":%g},\"threads\":4,"
	    "\"forecast\":{\"enabled\":false},"
	    "\"regions\":["
	    "{\"id\":\"AA\",\"latitude\":50,\"longitude\":8,\"pue\":1.2,\"jurisdictions\":[\"EU\",\"DE\"],"
	    "\"capacity_kw\":%g},"
	    "{\"id\":\"BB\",\"latitude\":59,\"longitude\":18,\"pue\":{\"base\":1.1,\"k\":0.02,\"t0\":15},"
	    "\"jurisdictions\":[\"EU\"],\"capacity_kw\":%g},"
	    "{\"id\":\"CC\",\"latitude\":38,\"longitude\":-121,\"pue\":1.0,\"jurisdictions\":[\"US\"]}]}",
	    extra, ts_format(JR_NOW0, now), speed, cap_aa, cap_bb);
	return buf_detach(&b, NULL);
}

static void ingest(const char *db, const char *path, const char *kind)
{
	char env[600];
	const char *args[] = {"ingest", "--format", "wide", "--kind", kind, "--file", path, NULL};
	const char *envs[] = {env, NULL};
	char *err = NULL;

	snprintf(env, sizeof(env), "CARBONSCHED_DATABASE_URL=%s", db);
	if (itest_run(args, envs, NULL, &err) != 0)
		tl_fail(__LINE__, __FILE__, true, "ingest %s: %s", path, err ? err : "");
	free(err);
}

static char ci_path[1024], temp_path[1024];

void jobsrun_reingest(const char *db)
{
	ingest(db, ci_path, "carbon_intensity");
}

static void write_files(void)
{
	if (!ci_path[0]) {
		struct buf ci, temp;
		char ts[TS_BUFSZ];

		buf_init(&ci, 0);
		buf_init(&temp, 0);
		buf_adds(&ci, "datetime_utc,AA,BB,CC\n");
		buf_adds(&temp, "datetime_utc,BB\n");
		for (int h = 0; h < JR_HOURS; h++) {
			int64_t t = JR_T0 + (int64_t)h * 3600;

			ts_format(t, ts);
			ts[10] = ' ';
			ts[19] = '\0';
			buf_addf(&ci, "%s,%.3f,%.3f,%.3f\n", ts, jobsrun_ci("AA", t), jobsrun_ci("BB", t),
				 jobsrun_ci("CC", t));
			buf_addf(&temp, "%s,%.3f\n", ts, jobsrun_temp(t));
		}
		snprintf(ci_path, sizeof(ci_path), "%s", itest_write_file("jobs_ci.csv", ci.data));
		snprintf(temp_path, sizeof(temp_path), "%s", itest_write_file("jobs_temp.csv", temp.data));
		buf_release(&ci);
		buf_release(&temp);
	}
}

void jobsrun_load(const char *db)
{
	char env[600];
	const char *margs[] = {"migrate", NULL};
	const char *envs[] = {env, NULL};

	write_files();
	snprintf(env, sizeof(env), "CARBONSCHED_DATABASE_URL=%s", db);
	TL_ASSERT_INT_EQ(itest_run(margs, envs, NULL, NULL), 0);
	ingest(db, ci_path, "carbon_intensity");
	ingest(db, temp_path, "temperature");
}

void jobsrun_db(const char *prefix, char *db, size_t size)
{
	/* The first database is loaded, the others are copies of it. */
	static char tmpl[128];
	static int copies;
	if (!tmpl[0]) {
		char first[512];

		itest_db_new("jobs_template", first, sizeof(first));
		jobsrun_load(first);
		snprintf(tmpl, sizeof(tmpl), "%s", strstr(first, "dbname=") + 7);
	}
	char admin[600], sql[400], name[128];
	snprintf(admin, sizeof(admin), "host=%s user=carbonsched dbname=postgres",
		 getenv("CARBONSCHED_TEST_PGHOST"));
	snprintf(name, sizeof(name), "t_%s_%d_copy%d", prefix, (int)getpid(), ++copies);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %s", name, tmpl);
	free(itest_sql(admin, sql));
	snprintf(db, size, "host=%s user=carbonsched dbname=%s", getenv("CARBONSCHED_TEST_PGHOST"), name);
}

json_t *jobsrun_call(const struct itest_server *s, const char *method, const char *path,
		     const char *const *headers, const char *body, long *ret_status, char *ret_headers)
{
	struct itest_response r;
	char url[2048];
	json_t *j;

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	if (!itest_http(method, url, headers, body, &r))
		tl_fail(__LINE__, __FILE__, true, "%s %s: no answer", method, url);
	*ret_status = r.status;
	if (ret_headers)
		snprintf(ret_headers, 2048, "%s", r.headers);
	j = json_loads(r.body, 0, NULL);
	if (!j)
		fprintf(stderr, "jobsrun: %s %s answered %ld, not JSON: %.300s\n", method, path, r.status,
			r.body);
	itest_response_free(&r);
	return j;
}

double jr_num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *jr_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int64_t jr_time(const json_t *o, const char *key)
{
	int64_t t = 0;
	const char *s = jr_str(o, key);

	if (!s || ts_parse(s, key, &t, NULL))
		return 0;
	return t;
}

double jobsrun_cost(const char *region, double kw, int hours, int64_t t)
{
	double g = 0;

	for (int i = 0; i < hours; i++) {
		int64_t u = t + (int64_t)i * 3600;
		g += kw * jobsrun_ci(region, u) * jobsrun_pue(region, u);
	}
	return g;
}

double jobsrun_best(const char *region, double kw, int hours, int64_t first, int64_t last, int64_t *ret_start)
{
	double best = INFINITY;

	for (int64_t t = first; t <= last; t += 3600) {
		double c = jobsrun_cost(region, kw, hours, t);

		/* Ties to the earliest start, as the engine (within its tolerance). */
		if (c < best * (1 - 1e-9)) {
			best = c;
			*ret_start = t;
		}
	}
	return best;
}
