/*
 * The forecasting worker through the real binary: a demo file ingested,
 * 'serve' started on the replay clock, forecasts and skill read over
 * HTTP and checked against the database; two replicas sharing a database
 * (one forecasts, the other stands by, takes over when the first dies, and
 * learns of new runs through NOTIFY).
 *
 * The SE demo file is ingested once into a template database; each test
 * clones it (CREATE DATABASE ... TEMPLATE), so it still has its own.
 */
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/time.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

#define T0 INT64_C(1635724800) /* 2021-11-01T00:00:00Z, the demo clock's start */

static char tmpl[128];

/* Each test's config: SE only, the decision signal and the renewable
 * share, a short history so fits are quick under the sanitizers. */
static const char *config_fmt =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2021-11-01T00:00:00Z\",\"speed\":%s},"
    "\"forecast\":{\"kinds\":[\"carbon_intensity\",\"renewable_share\"],\"history\":\"P90D\","
    "\"skill_half_life\":\"P366D\"},"
    "\"regions\":[{\"id\":\"SE\",\"name\":\"Sweden\",\"latitude\":59.33,\"longitude\":18.07,"
    "\"jurisdictions\":[\"EU\"],\"pue\":{\"base\":1.08,\"k\":0.01,\"t0\":10},\"capacity_kw\":600},"
    "{\"id\":\"EMPTY\",\"name\":\"no data\",\"zone\":\"XX\",\"latitude\":0,\"longitude\":0,\"pue\":1.5}]}";

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int suite_init(void)
{
	const char *file = "data/demo/SE_direct_emissions.csv.gz";
	char db[512], env0[600];
	const char *env[] = {env0, NULL};
	const char *margs[] = {"migrate", NULL},
		   *iargs[] = {"ingest", "--format", "dacf", "--file", file, NULL};

	if (!itest_have_db())
		return 0;
	itest_db_new("fctmpl", db, sizeof(db));
	snprintf(env0, sizeof(env0), "CARBONSCHED_DATABASE_URL=%s", db);
	if (itest_run(margs, env, NULL, NULL) || itest_run(iargs, env, NULL, NULL))
		return 1;
	snprintf(tmpl, sizeof(tmpl), "%s", strstr(db, "dbname=") + 7);
	return 0;
}

/* A fresh database holding the ingested demo file. */
static void clone_db(const char *name, char *out, size_t size)
{
	static int n;
	char admin[512], sql[256];

	snprintf(admin, sizeof(admin), "host=%s user=carbonsched dbname=postgres",
		 getenv("CARBONSCHED_TEST_PGHOST"));
	snprintf(sql, sizeof(sql), "CREATE DATABASE fc_%s_%d_%d TEMPLATE %s", name, (int)getpid(), ++n, tmpl);
	free(itest_sql(admin, sql));
	snprintf(out, size, "host=%s user=carbonsched dbname=fc_%s_%d_%d", getenv("CARBONSCHED_TEST_PGHOST"),
		 name, (int)getpid(), n);
}

static void serve(const char *db, const char *speed, struct itest_server *s)
{
	char cfg[2048];

	snprintf(cfg, sizeof(cfg), config_fmt, speed);
	itest_serve(cfg, db, NULL, s);
}

static int64_t jtime(json_t *o, const char *key)
{
	int64_t t = 0;

	ts_parse(json_string_value(json_object_get(o, key)), NULL, &t, NULL);
	return t;
}

/* GET until the status is 'want' (at most 'ms'); the last answer. */
static json_t *get_until(const struct itest_server *s, const char *path, long want, int ms, long *ret_status)
{
	json_t *j = NULL;

	for (int waited = 0;; waited += 100) {
		j = itest_get_json(s, path, ret_status);
		if (*ret_status == want || waited >= ms)
			return j;
		json_decref(j);
		sleep_ms(100);
	}
}

static char *file_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b = calloc(1, 1 << 20);
	size_t n = f ? fread(b, 1, (1 << 20) - 1, f) : 0;

	if (f)
		fclose(f);
	b[n] = 0;
	return b;
}

static void check_points(json_t *j, int64_t issued, size_t n)
{
	json_t *pts = json_object_get(j, "points");

	TL_ASSERT_INT_EQ(json_array_size(pts), n);
	for (size_t i = 0; i < json_array_size(pts); i++) {
		json_t *p = json_array_get(pts, i);
		double p10 = json_number_value(json_object_get(p, "p10")),
		       p50 = json_number_value(json_object_get(p, "p50")),
		       p90 = json_number_value(json_object_get(p, "p90"));

		TL_ASSERT_INT_EQ(jtime(p, "ts"), issued + (int64_t)i * 3600);
		if (!(p10 <= p50 && p50 <= p90 && p50 > 0))
			tl_fail(__LINE__, __FILE__, false, "point %zu: p10 %g p50 %g p90 %g", i, p10, p50,
				p90);
	}
}

/* Start-up on the demo clock: a 96 h run issued at the clock's now, with
 * members and PUE; every error a caller can make. */
static void test_first_forecast(void)
{
	char db[512];
	struct itest_server s;
	long status;
	json_t *j;
	int64_t t0 = ts_now_ms();

	clone_db("first", db, sizeof(db));
	serve(db, "1", &s);
	j = get_until(&s, "/v1/regions/SE/forecast?kind=carbon_intensity&horizon=96h", 200, 60000, &status);
	TL_ASSERT_INT_EQ(status, 200);
	printf("\n    first forecast answered %lld ms after serve was started\n",
	       (long long)(ts_now_ms() - t0));
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "region")), "SE");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "unit")), "gCO2eq/kWh");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "model")), "ensemble"); /* no skill yet */
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "selection"), "by")),
			 "default");
	TL_ASSERT_INT_EQ(jtime(j, "issued_at"), T0); /* the clock's now (1x) floored to the hour */
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(j, "step_s")), 3600);
	check_points(j, T0, 96);
	/* the candidates of the round: the ensemble, its members, seasonal naive */
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(json_object_get(j, "selection"), "candidates")), 5);
	json_decref(j);
	/* the stored run is what was answered, written by this replica */
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM forecast_runs WHERE zone = 'SE' AND kind = 'carbon_intensity'"
		 " AND issued_at = '2021-11-01T00:00:00Z' AND horizon_s = 345600 AND producer LIKE '%%:%d'",
		 (int)s.pid);
	TL_ASSERT_INT_EQ(itest_sql_int(db, sql), 5);

	/* a member by name, and a shorter horizon */
	j = itest_get_json(&s, "/v1/regions/SE/forecast?model=ridge&horizon=24h", &status);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "model")), "ridge");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "selection"), "by")),
			 "request");
	check_points(j, T0, 24);
	json_decref(j);
	/* renewable share: the second kind, after every zone's carbon intensity */
	j = get_until(&s, "/v1/regions/SE/forecast?kind=renewable_share&horizon=P2D", 200, 60000, &status);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "unit")), "%");
	check_points(j, T0, 48);
	json_decref(j);
	/* PUE from the temperature forecast: base + k*max(0, T - t0), the answer says so */
	j = get_until(&s, "/v1/regions/SE/forecast?kind=pue&horizon=24h", 200, 60000, &status);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "model")), "temperature");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(j, "pue"), "configured")),
			 "temperature model");
	{
		json_t *p = json_array_get(json_object_get(j, "points"), 12);
		char *t =
		    itest_sql(db, "SELECT value FROM signal_points WHERE zone = 'SE' AND kind = 'temperature'"
				  " AND ts = '2021-11-01T12:00:00Z'");
		double temp = t ? atof(t) : NAN;

		TL_ASSERT_DBL_EQ(json_number_value(json_object_get(p, "p50")),
				 1.08 + 0.01 * fmax(0, temp - 10), 1e-3);
		free(t);
	}
	json_decref(j);

	/* errors name the parameter */
	static const struct {
		const char *path;
		long status;
		const char *field, *detail;
	} bad[] = {
	    {"/v1/regions/SE/forecast?kind=wattage", 400, "kind", "unknown kind 'wattage'"},
	    {"/v1/regions/SE/forecast?horizon=97h", 400, "horizon", "forecasts reach P4D (96 h"},
	    {"/v1/regions/SE/forecast?horizon=soon", 400, "horizon", NULL},
	    {"/v1/regions/SE/forecast?horizon=-1h", 400, "horizon", NULL},
	    {"/v1/regions/SE/forecast?model=nosuch", 400, "model", "unknown model 'nosuch'"},
	    {"/v1/regions/SE/forecast?model=bad%20name", 400, "model", "not a model name"},
	    {"/v1/regions/SE/forecast?model=ewma", 404, "model", "models with runs: dshw, ensemble"},
	    {"/v1/regions/SE/forecast?from=x", 400, "from", "unknown parameter"},
	    {"/v1/regions/SE/forecast?kind=marginal_intensity", 404, "kind",
	     "forecasts of this zone exist for"},
	    {"/v1/regions/EMPTY/forecast", 404, "kind", "no 'carbon_intensity' data for zone 'XX'"},
	    {"/v1/regions/NOPE/forecast", 404, "id", "unknown region 'NOPE'"},
	    {"/v1/regions/SE/forecast/skill?kind=x", 400, "kind", NULL},
	    {"/v1/regions/SE/forecast/skill?horizon=1h", 400, "horizon", "unknown parameter"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct itest_response r;
		char url[300];

		snprintf(url, sizeof(url), "%s%s", s.base, bad[i].path);
		TL_ASSERT(itest_http("GET", url, NULL, NULL, &r));
		if (r.status != bad[i].status)
			tl_fail(__LINE__, __FILE__, false, "%s: status %ld, want %ld: %s", bad[i].path,
				r.status, bad[i].status, r.body);
		TL_ASSERT_STR_EQ(r.content_type, "application/problem+json");
		j = json_loads(r.body, 0, NULL);
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(
				     json_array_get(json_object_get(j, "invalid_params"), 0), "name")),
				 bad[i].field);
		if (bad[i].detail)
			TL_ASSERT_CONTAINS(json_string_value(json_object_get(j, "detail")), bad[i].detail);
		json_decref(j);
		itest_response_free(&r);
	}
	/* nothing scored yet: the skill answer says why */
	j = itest_get_json(&s, "/v1/regions/SE/forecast/skill", &status);
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "kinds")), 0);
	TL_ASSERT_CONTAINS(json_string_value(json_object_get(j, "note")), "no forecast has been scored yet");
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* Model i's entry in a skill answer's kind, NULL when absent. */
static json_t *skill_model(json_t *kind, const char *model)
{
	json_t *ms = json_object_get(kind, "models");

	for (size_t i = 0; i < json_array_size(ms); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(ms, i), "model")), model))
			return json_array_get(ms, i);
	return NULL;
}

/* Hours pass in seconds: runs are scored as the actuals arrive, the
 * scores equal the errors recomputed from the stored runs and signals,
 * and the default choice follows them. */
static void test_skill_as_actuals_arrive(void)
{
	char db[512];
	struct itest_server s;
	long status;
	json_t *j = NULL, *ci = NULL;

	clone_db("skill", db, sizeof(db));
	/* a provider's 24 h forecast published an hour before the clock starts */
	free(itest_sql(
	    db, "WITH run AS (INSERT INTO forecast_runs (zone, kind, model, issued_at, step_s, horizon_s)"
		" VALUES ('SE', 'carbon_intensity', 'testprov', '2021-10-31T23:00:00Z', 3600, 86400)"
		" RETURNING id, issued_at) INSERT INTO forecast_points (run_id, ts, p10, p50, p90)"
		" SELECT id, issued_at + h * interval '1 hour', 80, 100, 120 FROM run, generate_series(0, "
		"23) h"));
	serve(db, "3600", &s);
	/* wait until the 1-6 h bucket of every model has a day's worth of weight */
	for (int waited = 0; waited < 90000; waited += 250) {
		json_decref(j);
		j = itest_get_json(&s, "/v1/regions/SE/forecast/skill?kind=carbon_intensity", &status);
		ci = json_array_get(json_object_get(j, "kinds"), 0);
		json_t *m = skill_model(ci, "snaive24");
		json_t *b0 = m ? json_array_get(json_object_get(m, "by_horizon"), 0) : NULL;
		if (b0 && json_number_value(json_object_get(b0, "weight")) >= 30)
			break;
		sleep_ms(250);
	}
	TL_ASSERT_INT_EQ(status, 200);
	TL_ASSERT(ci != NULL);
	/* every model of the round is scored, ranks are 1.., best first */
	static const char *const models[] = {"ensemble", "dshw", "ridge", "ridge_log", "snaive24"};
	for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
		json_t *m = skill_model(ci, models[i]);

		TL_ASSERT(m != NULL);
		TL_ASSERT(json_integer_value(json_object_get(m, "rank")) >= 1);
	}
	double prev = 0;
	for (size_t i = 0; i < json_array_size(json_object_get(ci, "models")); i++) {
		json_t *m = json_array_get(json_object_get(ci, "models"), i);
		double sc = json_number_value(json_object_get(m, "score_mae"));

		if (json_is_null(json_object_get(m, "rank")))
			continue; /* not enough points yet (the provider, the blend): listed after the ranked
				   */
		TL_ASSERT(sc >= prev);
		prev = sc;
	}
	/* the provider's run is scored like ours */
	TL_ASSERT(skill_model(ci, "testprov") != NULL);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);

	/* The first round blended the provider with the ensemble: equal weights
	 * (nobody scored yet) where both have a value, the ensemble past the
	 * provider's 24 h.  The first round is the clock's first hour, 00:00,
	 * unless the service started slowly (valgrind): its hour is read back. */
	static const char *const blend_q =
	    "SELECT round((b.p50 - %s)::numeric, 6) FROM forecast_runs rb JOIN forecast_points b ON b.run_id "
	    "= rb.id"
	    " JOIN forecast_runs re ON re.zone = rb.zone AND re.kind = rb.kind AND re.issued_at = "
	    "rb.issued_at"
	    " AND re.model = 'ensemble' JOIN forecast_points e ON e.run_id = re.id AND e.ts = b.ts"
	    " WHERE rb.model = 'blend' AND rb.issued_at = (SELECT min(issued_at) FROM forecast_runs"
	    " WHERE model = 'blend') AND b.ts = %s";
	char bq[1024];
	TL_ASSERT(itest_sql_int(db,
				"SELECT count(*) FROM forecast_runs WHERE model = 'blend' AND issued_at <="
				" '2021-11-01T12:00:00Z'") > 0);
	snprintf(bq, sizeof(bq), blend_q, "(e.p50 + 100) / 2",
		 "greatest('2021-11-01T05:00:00Z', rb.issued_at + interval '1 hour')");
	char *v = itest_sql(db, bq);
	TL_ASSERT_STR_EQ(v, "0.000000");
	free(v);
	snprintf(bq, sizeof(bq), blend_q, "e.p50", "'2021-11-02T06:00:00Z'");
	v = itest_sql(db, bq);
	TL_ASSERT_STR_EQ(v, "0.000000");
	free(v);

	/* Recompute from the database (the service stopped, nothing moves):
	 * per model and lead bucket, n = the scored points that have an
	 * actual, MAE = their mean absolute error (the half-life of a year
	 * makes the decay over a few simulated days < 1 %), coverage = the
	 * share inside [p10, p90]. */
	const char *q =
	    "SELECT r.model || '/' || k.horizon_h || '/' || count(*) || '/' || avg(abs(p.p50 - a.value)) || "
	    "'/' ||"
	    " avg(CASE WHEN a.value BETWEEN p.p10 AND p.p90 THEN 1.0 ELSE 0 END) || '/' || k.n || '/' || "
	    "k.mae || '/' ||"
	    " k.coverage80"
	    " FROM forecast_runs r JOIN forecast_points p ON p.run_id = r.id"
	    " JOIN signal_points a ON a.zone = r.zone AND a.kind = r.kind AND a.ts = p.ts"
	    " JOIN forecast_skill k ON k.zone = r.zone AND k.kind = r.kind AND k.model = r.model"
	    " AND k.horizon_h = (SELECT min(b) FROM unnest(ARRAY[6,24,48,96]) b"
	    "   WHERE extract(epoch FROM p.ts - r.issued_at) / 3600 + 1 <= b)"
	    " WHERE r.zone = 'SE' AND r.kind = 'carbon_intensity' AND p.ts < r.scored_until"
	    " GROUP BY r.model, k.horizon_h, k.n, k.mae, k.coverage80 ORDER BY count(*) DESC LIMIT 1";
	char *row = itest_sql(db, q);
	char model[48];
	int hh, n, kn;
	double mae, cov, kmae, kcov;

	TL_ASSERT(row != NULL);
	if (row && sscanf(row, "%47[^/]/%d/%d/%lf/%lf/%d/%lf/%lf", model, &hh, &n, &mae, &cov, &kn, &kmae,
			  &kcov) == 8) {
		printf("\n    %s %d h: %d points, MAE %.2f (stored %.2f), coverage %.3f (stored %.3f)\n",
		       model, hh, n, mae, kmae, cov, kcov);
		TL_ASSERT(n >= 24);
		TL_ASSERT_INT_EQ(kn, n);
		TL_ASSERT_DBL_EQ(kmae, mae, 0.01 * mae);
		TL_ASSERT_DBL_EQ(kcov, cov, 0.02);
	} else {
		tl_fail(__LINE__, __FILE__, false, "unexpected row '%s'", row ? row : "(null)");
	}
	free(row);
	/* no point was scored twice, none before its actual was known */
	TL_ASSERT_INT_EQ(itest_sql_int(db,
				       "SELECT count(*) FROM forecast_runs WHERE scored_until > issued_at + "
				       "horizon_s * interval '1 second' + interval '15 days'"),
			 0);
	TL_ASSERT_INT_EQ(
	    itest_sql_int(db, "SELECT count(*) FROM forecast_skill WHERE coverage80 < 0 OR coverage80 > 1"
			      " OR mape <= 0 OR weight > n"),
	    0);

	/* Start again at a later clock: skill exists, so the choice follows
	 * it; the chosen model has the lowest score of the candidates. */
	char cfg[2048];
	snprintf(cfg, sizeof(cfg), config_fmt, "1");
	char *latest = itest_sql(db, "SELECT max(issued_at) FROM forecast_runs");
	const char *env[2];
	char envb[128];
	snprintf(envb, sizeof(envb), "CARBONSCHED_CLOCK_START=%.10sT%.8sZ", latest, latest + 11);
	env[0] = envb;
	env[1] = NULL;
	free(latest);
	itest_serve(cfg, db, env, &s);
	j = get_until(&s, "/v1/regions/SE/forecast", 200, 60000, &status);
	TL_ASSERT_INT_EQ(status, 200);
	json_t *sel = json_object_get(j, "selection");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(sel, "by")), "skill");
	const char *chosen = json_string_value(json_object_get(j, "model"));
	double best = INFINITY, chosen_mae = NAN;
	for (size_t i = 0; i < json_array_size(json_object_get(sel, "candidates")); i++) {
		json_t *c = json_array_get(json_object_get(sel, "candidates"), i);
		double m = json_number_value(json_object_get(c, "mae"));

		if (m < best)
			best = m;
		if (!strcmp(json_string_value(json_object_get(c, "model")), chosen))
			chosen_mae = m;
	}
	TL_ASSERT_DBL_EQ(chosen_mae, best, 0);
	TL_ASSERT(json_array_size(json_object_get(sel, "compared_on")) >= 1);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* Two replicas on one database. */
static void test_two_replicas(void)
{
	char db[512], sql[512], path[128];
	struct itest_server a, b;
	long status;
	json_t *j;
	PGconn *listener;
	PGresult *res;

	clone_db("replicas", db, sizeof(db));
	serve(db, "1", &a);
	j = get_until(&a, "/v1/regions/SE/forecast?horizon=1h", 200, 60000, &status);
	TL_ASSERT_INT_EQ(status, 200);
	json_decref(j);
	serve(db, "1", &b);
	/* B stands by: it never writes while A holds the lock */
	for (int waited = 0; waited < 20000; waited += 100) {
		char *log = file_text(b.log);
		bool standing = strstr(log, "another replica holds the forecasting lock") != NULL;

		free(log);
		if (standing)
			break;
		sleep_ms(100);
	}
	char *blog = file_text(b.log);
	TL_ASSERT_CONTAINS(blog, "standing by");
	free(blog);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM forecast_runs WHERE producer NOT LIKE '%%:%d'",
		 (int)a.pid);
	TL_ASSERT_INT_EQ(itest_sql_int(db, sql), 0);

	/* B caches its answers per forecast version: a change behind its
	 * back (no NOTIFY) is not seen, a NOTIFY makes it read again */
	snprintf(path, sizeof(path), "/v1/regions/SE/forecast?horizon=1h");
	j = itest_get_json(&b, path, &status);
	json_decref(j);
	j = itest_get_json(&b, path, &status);
	TL_ASSERT_INT_EQ(status, 200);
	double before =
	    json_number_value(json_object_get(json_array_get(json_object_get(j, "points"), 0), "p50"));
	json_decref(j);
	free(itest_sql(db, "UPDATE forecast_points SET p50 = p50 + 1000, p90 = p90 + 1000 WHERE run_id IN"
			   " (SELECT id FROM forecast_runs WHERE zone = 'SE' AND kind = 'carbon_intensity'"
			   " AND model = 'ensemble')"));
	j = itest_get_json(&b, path, &status);
	TL_ASSERT_DBL_EQ(
	    json_number_value(json_object_get(json_array_get(json_object_get(j, "points"), 0), "p50")),
	    before, 1e-9);
	json_decref(j);
	free(itest_sql(db, "SELECT pg_notify('carbonsched_forecasts', 'test')"));
	double after = before;
	for (int waited = 0; waited < 10000 && after == before; waited += 100) {
		j = itest_get_json(&b, path, &status);
		after = json_number_value(
		    json_object_get(json_array_get(json_object_get(j, "points"), 0), "p50"));
		json_decref(j);
		if (after == before)
			sleep_ms(100);
	}
	TL_ASSERT_DBL_EQ(after, before + 1000, 1e-6);

	/* A dies: B takes the lock, forecasts, and NOTIFYs */
	listener = PQconnectdb(db);
	res = PQexec(listener, "LISTEN carbonsched_forecasts");
	TL_ASSERT_INT_EQ(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	kill(a.pid, SIGKILL);
	waitpid(a.pid, NULL, 0);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM forecast_runs WHERE zone = 'SE' AND kind = 'carbon_intensity'"
		 " AND producer LIKE '%%:%d'",
		 (int)b.pid);
	long long mine = 0;
	int64_t t0 = ts_now_ms();
	for (int waited = 0; waited < 60000 && mine < 5; waited += 100) {
		mine = itest_sql_int(db, sql);
		if (mine < 5)
			sleep_ms(100);
	}
	printf("\n    the standby replica took over %lld ms after the holder was killed\n",
	       (long long)(ts_now_ms() - t0));
	TL_ASSERT_INT_EQ(mine, 5);
	blog = file_text(b.log);
	TL_ASSERT_CONTAINS(blog, "this replica forecasts");
	free(blog);
	/* its writes were announced */
	PGnotify *nt = NULL;
	for (int waited = 0; waited < 10000 && !nt; waited += 100) {
		PQconsumeInput(listener);
		if (!(nt = PQnotifies(listener)))
			sleep_ms(100);
	}
	TL_ASSERT(nt != NULL);
	if (nt) {
		TL_ASSERT_STR_EQ(nt->relname, "carbonsched_forecasts");
		TL_ASSERT_CONTAINS(nt->extra, "SE/");
		PQfreemem(nt);
	}
	PQfinish(listener);
	/* and B's own answers show its run (the +1000 is gone) */
	j = itest_get_json(&b, path, &status);
	TL_ASSERT_DBL_EQ(
	    json_number_value(json_object_get(json_array_get(json_object_get(j, "points"), 0), "p50")),
	    before, 1e-6);
	json_decref(j);
	TL_ASSERT_INT_EQ(itest_stop(&b), 0);
}

static CU_TestInfo tests[] = {
    {"first forecast on the demo clock, members, PUE, errors", test_first_forecast},
    {"skill as actuals arrive, recomputed; choice follows it", test_skill_as_actuals_arrive},
    {"two replicas: one forecasts, takeover, NOTIFY", test_two_replicas},
    CU_TEST_INFO_NULL,
};
TL_SUITE("forecast_worker", suite_init, NULL, tests)
