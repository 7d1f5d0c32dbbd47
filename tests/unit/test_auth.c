/* service/auth and service/ratelimit: scopes, key shape and hash, the
 * constant-time compare, token buckets on a clock the test moves, and the
 * auth.* config keys. */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

#include "service/assets.h"
#include "service/auth.h"
#include "service/config.h"
#include "service/handlers.h"
#include "service/ratelimit.h"
#include "tests/lib/testlib.h"

static void test_scopes(void)
{
	struct err_detail err;
	unsigned s = 0;
	char out[64];

	TL_ASSERT_INT_EQ(auth_scopes_parse("read", "f", &s, &err), ERR_OK);
	TL_ASSERT_INT_EQ(s, AUTH_READ);
	TL_ASSERT_INT_EQ(auth_scopes_parse("schedule,read", "f", &s, &err), ERR_OK);
	TL_ASSERT_INT_EQ(s, AUTH_READ | AUTH_SCHEDULE);
	auth_scopes_format(s, out, sizeof(out));
	TL_ASSERT_STR_EQ(out, "read,schedule");
	TL_ASSERT_INT_EQ(auth_scopes_parse("read,", "f", &s, &err), ERR_INVALID);
	TL_ASSERT_INT_EQ(auth_scopes_parse("", "f", &s, &err), ERR_INVALID);
	TL_ASSERT_INT_EQ(auth_scopes_parse("read,Admin", "scopes", &s, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "scopes");
	TL_ASSERT_CONTAINS(err.msg, "'Admin' is not a scope");
	/* admin grants all; the others only themselves. */
	TL_ASSERT(auth_scopes_allow(AUTH_ADMIN, AUTH_SCHEDULE));
	TL_ASSERT(auth_scopes_allow(AUTH_ADMIN, AUTH_READ));
	TL_ASSERT(auth_scopes_allow(AUTH_READ | AUTH_SCHEDULE, AUTH_SCHEDULE));
	TL_ASSERT(!auth_scopes_allow(AUTH_READ, AUTH_SCHEDULE));
	TL_ASSERT(!auth_scopes_allow(AUTH_SCHEDULE, AUTH_READ));
	TL_ASSERT(!auth_scopes_allow(AUTH_READ | AUTH_SCHEDULE, AUTH_ADMIN));
	TL_ASSERT(!auth_scopes_allow(0, AUTH_READ));
}

static void test_keys(void)
{
	char k1[AUTH_KEY_LEN + 1], k2[AUTH_KEY_LEN + 1], p1[AUTH_PREFIX_LEN + 1], p2[AUTH_PREFIX_LEN + 1],
	    parsed[AUTH_PREFIX_LEN + 1];
	struct err_detail err;

	TL_ASSERT_INT_EQ(auth_key_generate(k1, p1, &err), ERR_OK);
	TL_ASSERT_INT_EQ(auth_key_generate(k2, p2, &err), ERR_OK);
	TL_ASSERT_INT_EQ(strlen(k1), AUTH_KEY_LEN);
	TL_ASSERT(strcmp(k1, k2) != 0);
	TL_ASSERT(strcmp(p1, p2) != 0);
	TL_ASSERT(auth_key_parse(k1, parsed));
	TL_ASSERT_STR_EQ(parsed, p1);
	/* Shapes that are not keys. */
	char bad[AUTH_KEY_LEN + 2];
	snprintf(bad, sizeof(bad), "%s", k1);
	bad[0] = 'C';
	TL_ASSERT(!auth_key_parse(bad, parsed));
	snprintf(bad, sizeof(bad), "%s", k1);
	bad[20] = 'g';
	TL_ASSERT(!auth_key_parse(bad, parsed));
	snprintf(bad, sizeof(bad), "%sa", k1);
	TL_ASSERT(!auth_key_parse(bad, parsed));
	TL_ASSERT(!auth_key_parse("", parsed));
	TL_ASSERT(!auth_key_parse(NULL, parsed));

	/* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
	static const unsigned char abc[AUTH_HASH_LEN] = {
	    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	unsigned char h[AUTH_HASH_LEN];
	auth_key_hash("abc", h);
	TL_ASSERT(!memcmp(h, abc, sizeof(h)));

	TL_ASSERT(auth_tenant_is_valid("acme-eu_1.x"));
	TL_ASSERT(!auth_tenant_is_valid(""));
	TL_ASSERT(!auth_tenant_is_valid("a b"));
	TL_ASSERT(!auth_tenant_is_valid("a/b"));
	TL_ASSERT(!auth_tenant_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
}

static void test_ct_equal(void)
{
	unsigned char a[32], b[32];

	for (int i = 0; i < 32; i++)
		a[i] = b[i] = (unsigned char)(i * 7);
	TL_ASSERT(auth_ct_equal(a, b, 32));
	TL_ASSERT(auth_ct_equal(a, b, 0));
	b[0] ^= 1;
	TL_ASSERT(!auth_ct_equal(a, b, 32));
	b[0] ^= 1;
	b[31] ^= 0x80;
	TL_ASSERT(!auth_ct_equal(a, b, 32));
	TL_ASSERT(auth_ct_equal(a, b, 31));
}

static void test_bucket(void)
{
	struct ratelimit *rl = ratelimit_new(2, 3, 100); /* 2 per second, burst 3 */
	int retry = 0;

	/* The burst, then refused with the wait rounded up. */
	for (int i = 0; i < 3; i++)
		TL_ASSERT(ratelimit_take(rl, "k", 100.0, &retry));
	TL_ASSERT(!ratelimit_take(rl, "k", 100.0, &retry));
	TL_ASSERT_INT_EQ(retry, 1); /* 0.5 s -> 1 */
	/* Half a second later one token is back, and only one. */
	TL_ASSERT(ratelimit_take(rl, "k", 100.5, &retry));
	TL_ASSERT(!ratelimit_take(rl, "k", 100.5, &retry));
	/* Other names have their own buckets. */
	TL_ASSERT(ratelimit_take(rl, "other", 100.5, NULL));
	/* Long idle refills to the burst, not beyond. */
	for (int i = 0; i < 3; i++)
		TL_ASSERT(ratelimit_take(rl, "k", 1000.0, NULL));
	TL_ASSERT(!ratelimit_take(rl, "k", 1000.0, NULL));
	/* A clock going back gives nothing. */
	TL_ASSERT(!ratelimit_take(rl, "k", 10.0, NULL));
	ratelimit_free(rl);

	/* Slow rates: Retry-After in whole seconds, rounded up. */
	rl = ratelimit_new(0.1, 1, 100);
	TL_ASSERT(ratelimit_take(rl, "k", 0, &retry));
	TL_ASSERT(!ratelimit_take(rl, "k", 0, &retry));
	TL_ASSERT_INT_EQ(retry, 10);
	TL_ASSERT(!ratelimit_take(rl, "k", 2.5, &retry));
	TL_ASSERT_INT_EQ(retry, 8); /* 7.5 s -> 8 */
	ratelimit_free(rl);
}

static void test_bucket_table_is_bounded(void)
{
	struct ratelimit *rl = ratelimit_new(1, 1, 2);
	char name[16];

	TL_ASSERT(ratelimit_take(rl, "a", 0, NULL));
	TL_ASSERT(ratelimit_take(rl, "b", 0, NULL));
	TL_ASSERT(!ratelimit_take(rl, "a", 0, NULL)); /* a is now the newest */
	TL_ASSERT(ratelimit_take(rl, "c", 0, NULL));  /* drops b, the least recently used */
	TL_ASSERT_INT_EQ(ratelimit_size(rl), 2);
	TL_ASSERT(!ratelimit_take(rl, "a", 0, NULL)); /* a kept its empty bucket */
	TL_ASSERT(ratelimit_take(rl, "b", 0, NULL));  /* b starts again full */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ratelimit_take(rl, name, 0, NULL);
	}
	TL_ASSERT_INT_EQ(ratelimit_size(rl), 2);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

/* Threads share buckets: with no refill, exactly 'burst' takes succeed in
 * total however the threads interleave. */
struct hammer {
	struct ratelimit *rl;
	int ok;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	for (int i = 0; i < 50000; i++)
		h->ok += ratelimit_take(h->rl, i % 10 ? "k" : "other", 5.0, NULL);
	return NULL;
}

static void test_bucket_threads(void)
{
	struct hammer h[4];
	pthread_t t[4];
	struct ratelimit *rl = ratelimit_new(1e-6, 30000, 100);
	int total = 0;

	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){rl, 0};
		pthread_create(&t[i], NULL, hammer, &h[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += h[i].ok;
	}
	TL_ASSERT_INT_EQ(total, 30000 + 20000); /* "k": 180000 tries, 30000 tokens; "other": 20000 tries */
	ratelimit_free(rl);
}

#define REGION	    "{\"id\":\"A\",\"latitude\":1,\"longitude\":2,\"pue\":1.1}"
#define WITH(extra) "{\"database_url\":\"host=/x\"," extra "\"regions\":[" REGION "]}"

static void test_config(void)
{
	static const struct {
		const char *json, *fragment; /* NULL: loads */
	} cases[] = {
	    {WITH(""), NULL},
	    {WITH("\"auth\":{\"anonymous\":[]},"), NULL},
	    {WITH("\"auth\":{\"anonymous\":[\"read\"],\"rate_per_s\":0,\"burst\":1,\"cache_ttl\":\"PT1S\"},"),
	     NULL},
	    {WITH("\"auth\":{\"anonymous\":[\"schedule\"]},"),
	     "t.json: auth.anonymous: 'schedule' cannot be granted without an API key: only \"read\" may be "
	     "listed"},
	    {WITH("\"auth\":{\"anonymous\":[\"read\",\"admin\"]},"),
	     "auth.anonymous: 'admin' cannot be granted"},
	    {WITH("\"auth\":{\"anonymous\":[\"everything\"]},"), "auth.anonymous: 'everything'"},
	    {WITH("\"auth\":{\"anonymous\":\"read\"},"), "auth.anonymous: must be an array"},
	    {WITH("\"auth\":{\"rate_per_s\":-1},"), "auth.rate_per_s: must be between 0"},
	    {WITH("\"auth\":{\"burst\":0},"), "auth.burst: must be between 1"},
	    {WITH("\"auth\":{\"cache_ttl\":\"PT2H\"},"), "auth.cache_ttl:"},
	    {WITH("\"auth\":{\"anonymus\":[]},"), "auth.anonymus: unknown key"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *c = NULL;
		struct err_detail err = {{0}, {0}};
		int rc = config_parse("t.json", cases[i].json, strlen(cases[i].json), &c, &err);

		if (!cases[i].fragment) {
			TL_ASSERT_INT_EQ(rc, ERR_OK);
		} else {
			TL_ASSERT_INT_EQ(rc, ERR_INVALID);
			TL_ASSERT_CONTAINS(err.msg, cases[i].fragment);
		}
		config_free(c);
	}
	/* Defaults: no anonymous access, 100/s with a burst of 200, 30 s cache. */
	struct config *c = NULL;
	struct err_detail err;
	TL_ASSERT_INT_EQ(config_parse("t.json", WITH(""), strlen(WITH("")), &c, &err), ERR_OK);
	TL_ASSERT_INT_EQ(c->nauth_anonymous, 0);
	TL_ASSERT_DBL_EQ(c->auth_rate, 100, 0);
	TL_ASSERT_DBL_EQ(c->auth_burst, 200, 0);
	TL_ASSERT_INT_EQ(c->auth_cache_ttl, 30);
	config_free(c);
}

/* Each operation of service/openapi.json names, in its security
 * requirement, the scope its route needs in routes.c (probes: none). */
static void test_openapi_security_matches_routes(void)
{
	const struct asset *a = asset_find("service/openapi.json");
	json_t *doc = a ? json_loadb((const char *)a->data, a->len, 0, NULL) : NULL;
	const char *path, *method;
	json_t *item, *op;
	int checked = 0;

	TL_ASSERT(doc != NULL);
	if (!doc)
		return;
	TL_ASSERT(json_object_get(json_object_get(doc, "components"), "securitySchemes") != NULL);
	json_object_foreach (json_object_get(doc, "paths"), path, item) {
		json_object_foreach (item, method, op) {
			char upper[16];
			size_t i;

			if (!json_is_object(op) || !json_object_get(op, "responses"))
				continue;
			for (i = 0; method[i] && i < sizeof(upper) - 1; i++)
				upper[i] = (char)(method[i] & ~0x20);
			upper[i] = '\0';
			int scope = routes_scope(upper, path);
			json_t *sec = json_object_get(op, "security");
			json_t *roles = json_object_get(json_array_get(sec, 0), "bearer");
			const char *role = json_string_value(json_array_get(roles, 0));
			char want[32];

			auth_scopes_format(scope > 0 ? (unsigned)scope : 0, want, sizeof(want));
			if (scope < 0 || !json_is_array(sec) ||
			    (scope == AUTH_NONE ? json_array_size(sec) != 0 : !role || strcmp(role, want)))
				tl_fail(__LINE__, __FILE__, false,
					"%s %s: openapi security '%s', route scope '%s'", upper, path,
					role ? role : "(none)", scope == AUTH_NONE ? "(open)" : want);
			else
				CU_PASS(path);
			/* 401, 403 and 429 are documented wherever a key is needed. */
			json_t *r = json_object_get(op, "responses");
			if (scope > 0)
				TL_ASSERT(json_object_get(r, "401") && json_object_get(r, "403") &&
					  json_object_get(r, "429"));
			checked++;
		}
	}
	TL_ASSERT(checked >= 20);
	json_decref(doc);
}

static CU_TestInfo tests[] = {
    {"openapi security matches the route table", test_openapi_security_matches_routes},
    {"scopes", test_scopes},
    {"keys: shape, randomness, SHA-256", test_keys},
    {"constant-time compare", test_ct_equal},
    {"token bucket", test_bucket},
    {"bucket table is bounded (LRU)", test_bucket_table_is_bounded},
    {"buckets shared by threads", test_bucket_threads},
    {"auth.* config keys", test_config},
    CU_TEST_INFO_NULL,
};

TL_SUITE("auth", NULL, NULL, tests)
