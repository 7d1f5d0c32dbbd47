/*
 * API keys against the real service and a real PostgreSQL: the keys CLI
 * (shown once, only the SHA-256 stored, list, revoke), 401 without, with
 * a bad or a revoked key, 403 on a missing scope, tenants that see, list,
 * start and cancel only their own jobs (and have their own idempotency
 * keys), anonymous read only when configured, the config refusing more
 * than read without a key, and 429 with Retry-After when a bucket is
 * empty.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/jobsrun.h"
#include "tests/lib/testlib.h"

#define BOOK_BODY                                                                                        \
	"{\"duration\":\"PT1H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"CC\",\"power_kw\":1," \
	"\"name\":\"%s\"}"

static char *db_env(const char *db)
{
	static char env[600];

	snprintf(env, sizeof(env), "CARBONSCHED_DATABASE_URL=%s", db);
	return env;
}

/* 'keys ARGS...' on db: exit status; stdout and stderr (new, may be NULL). */
static int keys(const char *db, const char *const *args, char **ret_out, char **ret_err)
{
	const char *env[] = {db_env(db), NULL};

	return itest_run(args, env, ret_out, ret_err);
}

/* A new key with scopes (and tenant, may be NULL) into out. */
static void new_key(const char *db, const char *scopes, const char *tenant, char *out, size_t size)
{
	const char *with[] = {"keys", "create", "--scopes", scopes, "--tenant", tenant, NULL};
	const char *without[] = {"keys", "create", "--scopes", scopes, NULL};
	char *o = NULL, *e = NULL;

	if (keys(db, tenant ? with : without, &o, &e) != 0 || !o)
		tl_fail(__LINE__, __FILE__, true, "keys create: %s", e ? e : "");
	snprintf(out, size, "%.*s", (int)strcspn(o, "\n"), o);
	free(o);
	free(e);
}

/* method path with "Authorization: Bearer key" ("" = no key at all;
 * NULL = the harness's admin key); status, and headers when not NULL. */
static json_t *call(const struct itest_server *s, const char *method, const char *path, const char *key,
		    const char *body, long *status, char *headers)
{
	char h[200];
	const char *hs[] = {h, NULL};

	if (key && *key)
		snprintf(h, sizeof(h), "Authorization: Bearer %s", key);
	else
		snprintf(h, sizeof(h), "Authorization:"); /* curl: send none */
	return jobsrun_call(s, method, path, key ? hs : NULL, body, status, headers);
}

static void expect_problem(json_t *j, const char *code)
{
	TL_ASSERT(j != NULL);
	TL_ASSERT_STR_EQ(jr_str(j, "code"), code);
	json_decref(j);
}

static void prefix_of(const char *key, char out[13])
{
	snprintf(out, 13, "%.12s", key + 3);
}

/* ---- the CLI ------------------------------------------------------------- */

static void test_keys_cli(void)
{
	char db[512], key[128], prefix[13], q[1024];
	char *o = NULL, *e = NULL;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	itest_db_new("keys", db, sizeof(db));
	const char *create[] = {"keys",	  "create",    "--scopes", "read,schedule", "--tenant", "acme",
				"--name", "ci runner", NULL};
	TL_ASSERT_INT_EQ(keys(db, create, &o, &e), 0);
	/* The key alone on stdout; the advice on stderr. */
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(o, "\n"), o);
	TL_ASSERT_INT_EQ(strlen(key), 80);
	TL_ASSERT(!strncmp(key, "cs_", 3) && key[15] == '_');
	TL_ASSERT_CONTAINS(e, "shown this once");
	free(o);
	free(e);
	prefix_of(key, prefix);

	/* Only the SHA-256 of the key is stored; no column holds the secret. */
	snprintf(
	    q, sizeof(q),
	    "SELECT count(*) FROM api_keys WHERE prefix = '%s' AND hash = sha256(convert_to('%s', 'UTF8'))"
	    " AND scopes = '{read,schedule}' AND tenant = 'acme' AND name = 'ci runner'"
	    " AND last_used_at IS NULL AND revoked_at IS NULL",
	    prefix, key);
	TL_ASSERT_INT_EQ(itest_sql_int(db, q), 1);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM api_keys WHERE strpos(row(api_keys.*)::text, '%s') > 0"
		 " OR strpos(encode(hash, 'hex'), '%s') > 0",
		 key + 16, key + 16);
	TL_ASSERT_INT_EQ(itest_sql_int(db, q), 0);

	/* list: the prefix and the rest, never the key or the hash. */
	const char *list[] = {"keys", "list", NULL};
	TL_ASSERT_INT_EQ(keys(db, list, &o, &e), 0);
	TL_ASSERT_CONTAINS(o, prefix);
	TL_ASSERT_CONTAINS(o, "ci runner");
	TL_ASSERT_CONTAINS(o, "read,schedule");
	TL_ASSERT_CONTAINS(o, "acme");
	TL_ASSERT(!strstr(o, key + 16));
	char *hexhash = NULL;
	snprintf(q, sizeof(q), "SELECT encode(hash, 'hex') FROM api_keys WHERE prefix = '%s'", prefix);
	hexhash = itest_sql(db, q);
	TL_ASSERT(hexhash && !strstr(o, hexhash));
	free(hexhash);
	free(o);
	free(e);

	/* revoke, then list says when; an unknown prefix is an error. */
	const char *revoke[] = {"keys", "revoke", prefix, NULL};
	TL_ASSERT_INT_EQ(keys(db, revoke, &o, &e), 0);
	free(o);
	free(e);
	snprintf(q, sizeof(q), "SELECT count(*) FROM api_keys WHERE prefix = '%s' AND revoked_at IS NOT NULL",
		 prefix);
	TL_ASSERT_INT_EQ(itest_sql_int(db, q), 1);
	TL_ASSERT_INT_EQ(keys(db, list, &o, &e), 0);
	TL_ASSERT(o && !strstr(strstr(o, prefix), "  -\n")); /* the revoked column has a time */
	free(o);
	free(e);
	const char *unknown[] = {"keys", "revoke", "000000000000", NULL};
	TL_ASSERT_INT_EQ(keys(db, unknown, &o, &e), 1);
	TL_ASSERT_CONTAINS(e, "no key with prefix");
	free(o);
	free(e);

	/* Usage errors. */
	const char *bad_scope[] = {"keys", "create", "--scopes", "read,root", NULL};
	TL_ASSERT_INT_EQ(keys(db, bad_scope, &o, &e), 2);
	TL_ASSERT_CONTAINS(e, "'root' is not a scope");
	free(o);
	free(e);
	const char *bad_tenant[] = {"keys", "create", "--scopes", "read", "--tenant", "a b", NULL};
	TL_ASSERT_INT_EQ(keys(db, bad_tenant, &o, &e), 2);
	TL_ASSERT_CONTAINS(e, "--tenant");
	free(o);
	free(e);
	const char *no_scope[] = {"keys", "create", NULL};
	TL_ASSERT_INT_EQ(keys(db, no_scope, &o, &e), 2);
	free(o);
	free(e);
	TL_ASSERT_INT_EQ(itest_sql_int(db, "SELECT count(*) FROM api_keys"), 1);
}

/* ---- 401 and 403 --------------------------------------------------------- */

static void test_unauthorized_and_forbidden(void)
{
	char db[512], rd[128], sch[128], revoked[128], prefix[13], headers[2048];
	const char *advice = "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"CC\","
			     "\"power_kw\":1}";
	struct itest_server s;
	long st;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("auth401", db, sizeof(db));
	new_key(db, "read", NULL, rd, sizeof(rd));
	new_key(db, "schedule", NULL, sch, sizeof(sch));
	new_key(db, "read,schedule", NULL, revoked, sizeof(revoked));
	prefix_of(revoked, prefix);
	const char *rv[] = {"keys", "revoke", prefix, NULL};
	TL_ASSERT_INT_EQ(keys(db, rv, NULL, NULL), 0);
	char *cfg = jobsrun_config(0, 0, 1, "\"auth\":{\"cache_ttl\":\"PT1S\"},");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	/* Probes stay open. */
	json_decref(call(&s, "GET", "/healthz", "", NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	json_decref(call(&s, "GET", "/readyz", "", NULL, &st, NULL));
	TL_ASSERT(st == 200 || st == 503);

	/* No key: 401 problem+json with the challenge, on reads and writes. */
	expect_problem(call(&s, "GET", "/v1/regions", "", NULL, &st, headers), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	TL_ASSERT_CONTAINS(headers, "WWW-Authenticate: Bearer");
	TL_ASSERT_CONTAINS(headers, "application/problem+json");
	expect_problem(call(&s, "POST", "/v1/schedule", "", advice, &st, NULL), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	for (const char *const *p = (const char *const[]){"/metrics", "/openapi.json", "/", "/locations",
							  "/emissions/bylocation?location=CC", NULL};
	     *p; p++) {
		expect_problem(call(&s, "GET", *p, "", NULL, &st, NULL), "unauthorized");
		TL_ASSERT_INT_EQ(st, 401);
	}
	expect_problem(call(&s, "POST", "/emissions/forecasts/batch", "", "[]", &st, NULL), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);

	/* A well-formed key that was never made, a malformed one, another scheme. */
	expect_problem(
	    call(&s, "GET", "/v1/regions",
		 "cs_0123456789ab_0000000000000000000000000000000000000000000000000000000000000000", NULL,
		 &st, headers),
	    "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	TL_ASSERT_CONTAINS(headers, "WWW-Authenticate: Bearer");
	/* The right prefix with another secret. */
	char forged[128];
	snprintf(forged, sizeof(forged), "%.16s%064d", rd, 7);
	expect_problem(call(&s, "GET", "/v1/regions", forged, NULL, &st, NULL), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	expect_problem(call(&s, "GET", "/v1/regions", "hunter2", NULL, &st, NULL), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	const char *basic[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
	expect_problem(jobsrun_call(&s, "GET", "/v1/regions", basic, NULL, &st, NULL), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	/* Revoked before its first use. */
	expect_problem(call(&s, "GET", "/v1/regions", revoked, NULL, &st, NULL), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);

	/* read: reads, not advice (403 names the scope). */
	json_decref(call(&s, "GET", "/v1/regions", rd, NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	json_t *j = call(&s, "POST", "/v1/schedule", rd, advice, &st, NULL);
	TL_ASSERT_INT_EQ(st, 403);
	TL_ASSERT_CONTAINS(jr_str(j, "detail"), "needs scope 'schedule'");
	expect_problem(j, "forbidden");
	expect_problem(call(&s, "POST", "/v1/jobs", rd, advice, &st, NULL), "forbidden");
	TL_ASSERT_INT_EQ(st, 403);
	/* X-Api-Key works as well. */
	char xk[200];
	snprintf(xk, sizeof(xk), "X-Api-Key: %s", rd);
	const char *xh[] = {xk, NULL};
	json_decref(jobsrun_call(&s, "GET", "/v1/regions", xh, NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);

	/* schedule without read: advice yes, listing no. */
	json_decref(call(&s, "POST", "/v1/schedule", sch, advice, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	expect_problem(call(&s, "GET", "/v1/jobs", sch, NULL, &st, NULL), "forbidden");
	TL_ASSERT_INT_EQ(st, 403);

	/* admin (the harness's key): everything. */
	json_decref(call(&s, "POST", "/v1/schedule", NULL, advice, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	json_decref(call(&s, "GET", "/v1/jobs", NULL, NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);

	/* Use records last_used_at; a revocation of a key in use takes effect
	 * within auth.cache_ttl (1 s here). */
	char q[256], rdp[13];
	prefix_of(rd, rdp);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM api_keys WHERE prefix = '%s' AND last_used_at IS NOT NULL", rdp);
	TL_ASSERT_INT_EQ(itest_sql_int(db, q), 1);
	const char *rv2[] = {"keys", "revoke", rdp, NULL};
	TL_ASSERT_INT_EQ(keys(db, rv2, NULL, NULL), 0);
	struct timespec ts = {1, 300000000L};
	nanosleep(&ts, NULL);
	j = call(&s, "GET", "/v1/regions", rd, NULL, &st, NULL);
	TL_ASSERT_INT_EQ(st, 401);
	TL_ASSERT_CONTAINS(jr_str(j, "detail"), "revoked");
	expect_problem(j, "unauthorized");
	itest_stop(&s);
}

/* ---- tenants ---------------------------------------------------------------- */

static void test_tenants(void)
{
	char db[512], a[128], b[128], body[256], path[128], q[256], ka[200], kb[200];
	struct itest_server s;
	long st;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("tenants", db, sizeof(db));
	new_key(db, "read,schedule", "acme", a, sizeof(a));
	new_key(db, "read,schedule", "globex", b, sizeof(b));
	char *cfg = jobsrun_config(0, 0, 1, "");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);
	snprintf(ka, sizeof(ka), "Authorization: Bearer %s", a);
	snprintf(kb, sizeof(kb), "Authorization: Bearer %s", b);
	const char *ha[] = {ka, "Idempotency-Key: nightly", NULL};
	const char *hb[] = {kb, "Idempotency-Key: nightly", NULL};

	/* The same idempotency key in two tenants books two jobs. */
	snprintf(body, sizeof(body), BOOK_BODY, "acme job");
	json_t *ja = jobsrun_call(&s, "POST", "/v1/jobs", ha, body, &st, NULL);
	TL_ASSERT_INT_EQ(st, 201);
	snprintf(body, sizeof(body), BOOK_BODY, "globex job");
	json_t *jb = jobsrun_call(&s, "POST", "/v1/jobs", hb, body, &st, NULL);
	TL_ASSERT_INT_EQ(st, 201);
	char ida[40], idb[40];
	snprintf(ida, sizeof(ida), "%s", jr_str(ja, "id"));
	snprintf(idb, sizeof(idb), "%s", jr_str(jb, "id"));
	TL_ASSERT(strcmp(ida, idb) != 0);
	json_decref(ja);
	json_decref(jb);
	snprintf(q, sizeof(q), "SELECT tenant FROM jobs WHERE id = '%s'", ida);
	char *t = itest_sql(db, q);
	TL_ASSERT_STR_EQ(t, "acme");
	free(t);
	/* A replay in the same tenant is the same job. */
	snprintf(body, sizeof(body), BOOK_BODY, "acme job");
	ja = jobsrun_call(&s, "POST", "/v1/jobs", ha, body, &st, NULL);
	TL_ASSERT_INT_EQ(st, 200);
	TL_ASSERT_STR_EQ(jr_str(ja, "id"), ida);
	json_decref(ja);
	/* An operator job (the admin key, no tenant). */
	snprintf(body, sizeof(body), BOOK_BODY, "operator job");
	json_decref(call(&s, "POST", "/v1/jobs", NULL, body, &st, NULL));
	TL_ASSERT_INT_EQ(st, 201);

	/* Lists: each tenant its own, the operator all three. */
	json_t *l = call(&s, "GET", "/v1/jobs", a, NULL, &st, NULL);
	TL_ASSERT_INT_EQ(st, 200);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(l, "jobs")), 1);
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(l, "jobs"), 0), "id"), ida);
	json_decref(l);
	l = call(&s, "GET", "/v1/jobs", b, NULL, &st, NULL);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(l, "jobs")), 1);
	TL_ASSERT_STR_EQ(jr_str(json_array_get(json_object_get(l, "jobs"), 0), "id"), idb);
	json_decref(l);
	l = call(&s, "GET", "/v1/jobs", NULL, NULL, &st, NULL);
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(l, "jobs")), 3);
	json_decref(l);

	/* Another tenant's job does not exist for globex: get, cancel, start, complete. */
	snprintf(path, sizeof(path), "/v1/jobs/%s", ida);
	expect_problem(call(&s, "GET", path, b, NULL, &st, NULL), "not_found");
	TL_ASSERT_INT_EQ(st, 404);
	expect_problem(call(&s, "DELETE", path, b, NULL, &st, NULL), "not_found");
	TL_ASSERT_INT_EQ(st, 404);
	snprintf(path, sizeof(path), "/v1/jobs/%s/start", ida);
	expect_problem(call(&s, "POST", path, b, "", &st, NULL), "not_found");
	TL_ASSERT_INT_EQ(st, 404);
	snprintf(path, sizeof(path), "/v1/jobs/%s/complete", ida);
	expect_problem(call(&s, "POST", path, b, "{\"measured_kwh\":1}", &st, NULL), "not_found");
	TL_ASSERT_INT_EQ(st, 404);
	snprintf(q, sizeof(q), "SELECT state FROM jobs WHERE id = '%s'", ida);
	t = itest_sql(db, q);
	TL_ASSERT_STR_EQ(t, "scheduled");
	free(t);

	/* Its own tenant and the operator can. */
	snprintf(path, sizeof(path), "/v1/jobs/%s", ida);
	json_decref(call(&s, "GET", path, a, NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	json_decref(call(&s, "GET", path, NULL, NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	json_t *c = call(&s, "DELETE", path, a, NULL, &st, NULL);
	TL_ASSERT_INT_EQ(st, 200);
	TL_ASSERT_STR_EQ(jr_str(c, "state"), "cancelled");
	json_decref(c);
	snprintf(path, sizeof(path), "/v1/jobs/%s", idb);
	c = call(&s, "DELETE", path, NULL, NULL, &st, NULL);
	TL_ASSERT_INT_EQ(st, 200);
	json_decref(c);
	itest_stop(&s);
}

/* ---- anonymous read ------------------------------------------------------- */

static void test_anonymous_read(void)
{
	char db[512];
	struct itest_server s;
	long st;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("anon", db, sizeof(db));
	char *cfg = jobsrun_config(0, 0, 1, "\"auth\":{\"anonymous\":[\"read\"]},");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);
	json_decref(call(&s, "GET", "/v1/regions", "", NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	json_decref(call(&s, "GET", "/v1/jobs", "", NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	json_decref(call(&s, "POST", "/emissions/forecasts/batch", "", "[]", &st, NULL));
	TL_ASSERT(st != 401 && st != 403);
	/* Writes still need a key. */
	expect_problem(call(&s, "POST", "/v1/schedule", "",
			    "{\"duration\":\"PT1H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"CC\"}",
			    &st, NULL),
		       "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	/* A bad key is refused even where no key is needed. */
	expect_problem(call(&s, "GET", "/v1/regions", "nonsense", NULL, &st, NULL), "unauthorized");
	TL_ASSERT_INT_EQ(st, 401);
	itest_stop(&s);
}

static void test_config_refuses_anonymous_writes(void)
{
	const char *cfg = itest_write_file(
	    "anon-schedule.json",
	    "{\"database_url\":\"host=/nonexistent\",\"auth\":{\"anonymous\":[\"read\",\"schedule\"]},"
	    "\"regions\":[{\"id\":\"AA\",\"latitude\":50,\"longitude\":8,\"pue\":1.2}]}");
	const char *args[] = {"serve", "--config", cfg, NULL};
	char *o = NULL, *e = NULL;

	TL_ASSERT(itest_run(args, NULL, &o, &e) != 0);
	TL_ASSERT_CONTAINS(e, "anon-schedule.json: auth.anonymous: 'schedule'");
	TL_ASSERT_CONTAINS(e, "only \"read\"");
	free(o);
	free(e);
}

/* ---- rate limits ------------------------------------------------------------ */

static void test_rate_limits(void)
{
	char db[512], key[128], headers[2048];
	struct itest_server s;
	long st;
	int ok = 0, limited = 0;

	if (!itest_have_db()) {
		printf("skipped: no test database\n");
		return;
	}
	jobsrun_db("rate", db, sizeof(db));
	new_key(db, "read", NULL, key, sizeof(key));
	/* One token per 20 s: the bucket cannot refill during the test. */
	char *cfg =
	    jobsrun_config(0, 0, 1, "\"auth\":{\"anonymous\":[\"read\"],\"rate_per_s\":0.05,\"burst\":3},");
	itest_serve(cfg, db, NULL, &s);
	free(cfg);

	/* Per key: the burst, then 429 with Retry-After in whole seconds. */
	for (int i = 0; i < 5; i++) {
		json_t *j = call(&s, "GET", "/v1/regions", key, NULL, &st, headers);
		if (st == 200)
			ok++;
		if (st == 429) {
			limited++;
			TL_ASSERT_CONTAINS(headers, "Retry-After: ");
			long ra = atol(strstr(headers, "Retry-After: ") + 13);
			TL_ASSERT(ra >= 1 && ra <= 20);
			TL_ASSERT_CONTAINS(headers, "application/problem+json");
			TL_ASSERT_STR_EQ(jr_str(j, "code"), "rate_limited");
		}
		json_decref(j);
	}
	TL_ASSERT_INT_EQ(ok, 3);
	TL_ASSERT_INT_EQ(limited, 2);
	/* Another key has its own bucket (the harness's admin key). */
	json_decref(call(&s, "GET", "/v1/regions", NULL, NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);

	/* Without a key: per client address; failed keys take from it too. */
	ok = limited = 0;
	for (int i = 0; i < 5; i++) {
		json_decref(call(&s, "GET", "/v1/regions", i == 1 ? "cs_bad" : "", NULL, &st, headers));
		ok += st == 200 || st == 401;
		limited += st == 429;
	}
	TL_ASSERT_INT_EQ(ok, 3);
	TL_ASSERT_INT_EQ(limited, 2);
	TL_ASSERT_CONTAINS(headers, "Retry-After: ");
	/* Probes are never limited. */
	json_decref(call(&s, "GET", "/healthz", "", NULL, &st, NULL));
	TL_ASSERT_INT_EQ(st, 200);
	itest_stop(&s);
}

static CU_TestInfo tests[] = {
    {"keys CLI: shown once, hash stored, list, revoke", test_keys_cli},
    {"401 without, with bad or revoked keys; 403 on scope", test_unauthorized_and_forbidden},
    {"tenants see, list, start and cancel their own jobs", test_tenants},
    {"anonymous read when configured", test_anonymous_read},
    {"config refuses anonymous writes", test_config_refuses_anonymous_writes},
    {"429 with Retry-After per key and per address", test_rate_limits},
    CU_TEST_INFO_NULL,
};

TL_SUITE("auth", NULL, NULL, tests)
