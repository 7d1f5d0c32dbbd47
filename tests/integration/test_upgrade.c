/*
 * Rolling upgrades with migrations (docs/production.md, "Upgrading"): the
 * new binary's 'carbonsched migrate' runs while replicas of the old one
 * still serve.  Migrations are additive, so a schema ahead of a binary
 * must keep it ready (/readyz) and its CLI working; a schema behind it
 * must not.  The "ahead" database is made by recording a migration newer
 * than any this binary has, as a newer binary's migrate would.
 */
#include <jansson.h>
#include <stdlib.h>

#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

static const char *config_one_region =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2022-01-03T12:00:00Z\"},"
    "\"regions\":[{\"id\":\"AA\",\"latitude\":50,\"longitude\":8,\"pue\":1.2}]}";

static const char *db_env(const char *conninfo)
{
	static char env[600];

	snprintf(env, sizeof(env), "CARBONSCHED_DATABASE_URL=%s", conninfo);
	return env;
}

/* /readyz's migrations check, as a new string. */
static char *migrations_check(const struct itest_server *s, long *ret_status)
{
	json_t *j = itest_get_json(s, "/readyz", ret_status);
	const char *m = json_string_value(json_object_get(json_object_get(j, "checks"), "migrations"));
	char *copy = strdup(m ? m : "(none)");

	json_decref(j);
	return copy;
}

static void test_schema_ahead_is_ready(void)
{
	char db[512], *check, *out = NULL, *err = NULL;
	const char *report[] = {"report",     "--from",	  "2022-01-01", "--to",
				"2022-01-02", "--format", "csv",	NULL};
	const char *env[] = {NULL, NULL};
	struct itest_server s;
	long status;

	itest_db_new("upgrade_ahead", db, sizeof(db));
	env[0] = db_env(db);
	itest_serve(config_one_region, db, NULL, &s); /* migrates to this binary's version */
	check = migrations_check(&s, &status);
	TL_ASSERT_STR_EQ(check, "ok");
	free(check);

	/* A newer binary's migrate ran: the old replica stays ready on migrations. */
	free(itest_sql(db, "INSERT INTO schema_migrations (version, name) VALUES (99999, '99999_future.sql')"
			   " RETURNING version"));
	check = migrations_check(&s, &status);
	TL_ASSERT_CONTAINS(check, "ok: database at version 99999, ahead of this binary's");
	free(check);
	/* The old binary's CLI (a report CronJob still on it) keeps working. */
	TL_ASSERT_INT_EQ(itest_run(report, env, &out, &err), 0);
	TL_ASSERT_CONTAINS(out, "job");
	free(out);
	free(err);

	/* Behind is another matter: a binary newer than the schema is not ready. */
	free(itest_sql(db, "DELETE FROM schema_migrations WHERE version >= (SELECT max(version) FROM"
			   " schema_migrations WHERE version < 99999) RETURNING version"));
	check = migrations_check(&s, &status);
	TL_ASSERT_INT_EQ(status, 503);
	TL_ASSERT_CONTAINS(check, "binary needs");
	free(check);
	out = err = NULL;
	TL_ASSERT_INT_EQ(itest_run(report, env, &out, &err), 1);
	TL_ASSERT_CONTAINS(err, "run 'carbonsched migrate'");
	free(out);
	free(err);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

static CU_TestInfo tests[] = {
    {"a schema ahead of the binary keeps it ready", test_schema_ahead_is_ready},
    CU_TEST_INFO_NULL,
};
TL_SUITE("upgrade", itest_suite_init, NULL, tests)
