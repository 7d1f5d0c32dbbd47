/*
 * auth.c - API keys checked on the request path, cheaply.
 *
 * Keys carry 256 bits of randomness, so one SHA-256 of the key is a safe
 * stored form (a slow password hash protects low-entropy secrets; these
 * have none to protect) and costs about a microsecond.  The hash is
 * compared in constant time.
 *
 * Verified keys are cached in memory for auth.cache_ttl (30 s), so the
 * hot path makes no database round trip: a revocation is seen by every
 * replica within that time.  When the database is unreachable, a key seen
 * within AUTH_STALE_MAX keeps working (reads go on while PostgreSQL
 * restarts); a key never seen gets 503.  last_used_at is written at most
 * once per AUTH_TOUCH_EVERY per key and replica.
 *
 * Unknown prefixes are not cached (that would let anyone fill the cache);
 * instead every failed attempt takes a token from the client address's
 * bucket, the same bucket anonymous requests use, so guessing is rate
 * limited like everything else.  The address is the TCP peer: behind a
 * proxy all clients share the proxy's bucket (docs/security.md).
 */
#include "service/auth.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "service/app.h"
#include "service/config.h"
#include "service/db.h"
#include "service/ratelimit.h"

#define AUTH_STALE_MAX	 300 /* seconds a cached key outlives an unreachable database */
#define AUTH_TOUCH_EVERY 60  /* seconds between last_used_at writes per key */
#define CACHE_MAX	 4096
#define BUCKETS_MAX	 65536

static const struct {
	const char *name;
	unsigned bit;
} scope_names[] = {
    {"read", AUTH_READ},
    {"schedule", AUTH_SCHEDULE},
    {"admin", AUTH_ADMIN},
};

int auth_scopes_parse(const char *list, const char *field, unsigned *ret, struct err_detail *err)
{
	unsigned scopes = 0;
	const char *p = list ? list : "";

	for (;;) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; i < ARRAY_SIZE(scope_names) && !found; i++)
			if (len == strlen(scope_names[i].name) && !strncmp(p, scope_names[i].name, len)) {
				scopes |= scope_names[i].bit;
				found = true;
			}
		if (!found)
			return err_set(
			    err, ERR_INVALID, field,
			    "'%.*s' is not a scope: use read, schedule and/or admin, comma-separated",
			    (int)(len > 32 ? 32 : len), p);
		if (!p[len])
			break;
		p += len + 1;
	}
	*ret = scopes;
	return ERR_OK;
}

void auth_scopes_format(unsigned scopes, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(scope_names); i++)
		if (scopes & scope_names[i].bit && n < size)
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "," : "", scope_names[i].name);
}

bool auth_scopes_allow(unsigned have, unsigned need)
{
	return (have & AUTH_ADMIN) || (have & need) == need;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int random_bytes(unsigned char *b, size_t n, struct err_detail *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(err, ERR_IO, NULL, "getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	return ERR_OK;
}

int auth_key_generate(char ret_key[AUTH_KEY_LEN + 1], char ret_prefix[AUTH_PREFIX_LEN + 1],
		      struct err_detail *err)
{
	unsigned char rnd[AUTH_PREFIX_LEN / 2 + AUTH_SECRET_LEN / 2];
	char p[AUTH_PREFIX_LEN + 1], s[AUTH_SECRET_LEN + 1];
	int rc;

	if ((rc = random_bytes(rnd, sizeof(rnd), err)))
		return rc;
	hex(rnd, AUTH_PREFIX_LEN / 2, p);
	hex(rnd + AUTH_PREFIX_LEN / 2, AUTH_SECRET_LEN / 2, s);
	snprintf(ret_key, AUTH_KEY_LEN + 1, "cs_%s_%s", p, s);
	memcpy(ret_prefix, p, sizeof(p));
	explicit_bzero(rnd, sizeof(rnd));
	explicit_bzero(s, sizeof(s));
	return ERR_OK;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool auth_key_parse(const char *key, char ret_prefix[AUTH_PREFIX_LEN + 1])
{
	if (!key || strlen(key) != AUTH_KEY_LEN || strncmp(key, "cs_", 3) ||
	    key[3 + AUTH_PREFIX_LEN] != '_' || !is_hex(key + 3, AUTH_PREFIX_LEN) ||
	    !is_hex(key + 4 + AUTH_PREFIX_LEN, AUTH_SECRET_LEN))
		return false;
	memcpy(ret_prefix, key + 3, AUTH_PREFIX_LEN);
	ret_prefix[AUTH_PREFIX_LEN] = '\0';
	return true;
}

void auth_key_hash(const char *key, unsigned char ret[AUTH_HASH_LEN])
{
	/* Only fails for an unknown algorithm; SHA-256 is always there. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, key, strlen(key), ret) < 0)
		abort();
}

bool auth_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

bool auth_tenant_is_valid(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	return n >= 1 && n <= AUTH_TENANT_MAX &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* ---- the service side ------------------------------------------------------ */

struct cached {
	char prefix[AUTH_PREFIX_LEN + 1];
	unsigned char hash[AUTH_HASH_LEN];
	unsigned scopes;
	char tenant[AUTH_TENANT_MAX + 1]; /* "" = operator */
	bool revoked;
	double fetched, touched; /* monotonic seconds */
};

/* What a request is allowed, kept on its arena (req->auth). */
struct caller {
	unsigned scopes;
	char tenant[AUTH_TENANT_MAX + 1];
};

struct auth {
	struct db_pool *pool;
	double ttl; /* seconds */
	unsigned anonymous;
	struct ratelimit *keys, *clients; /* NULL = no rate limits */
	pthread_mutex_t lock;
	struct cached *cache;
	size_t n;
};

struct auth *auth_new(const struct config *cfg, struct db_pool *pool)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->pool = pool;
	a->ttl = (double)cfg->auth_cache_ttl;
	for (size_t i = 0; i < cfg->nauth_anonymous; i++) {
		unsigned s = 0;

		/* config.c allowed only valid scopes (only 'read'). */
		if (!auth_scopes_parse(cfg->auth_anonymous[i], "auth.anonymous", &s, NULL))
			a->anonymous |= s;
	}
	if (cfg->auth_rate > 0) {
		a->keys = ratelimit_new(cfg->auth_rate, cfg->auth_burst, BUCKETS_MAX);
		a->clients = ratelimit_new(cfg->auth_rate, cfg->auth_burst, BUCKETS_MAX);
	}
	pthread_mutex_init(&a->lock, NULL);
	a->cache = xcalloc(CACHE_MAX, sizeof(*a->cache));
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	ratelimit_free(a->keys);
	ratelimit_free(a->clients);
	explicit_bzero(a->cache, CACHE_MAX * sizeof(*a->cache));
	free(a->cache);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Cache slot of prefix, or NULL; under the lock. */
static struct cached *cache_find(struct auth *a, const char *prefix)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->cache[i].prefix, prefix))
			return &a->cache[i];
	return NULL;
}

static void cache_put(struct auth *a, const struct cached *c)
{
	pthread_mutex_lock(&a->lock);
	struct cached *slot = cache_find(a, c->prefix);
	if (!slot && a->n < CACHE_MAX)
		slot = &a->cache[a->n++];
	if (!slot) { /* full: replace the entry fetched longest ago */
		slot = &a->cache[0];
		for (size_t i = 1; i < a->n; i++)
			if (a->cache[i].fetched < slot->fetched)
				slot = &a->cache[i];
	}
	double touched = !strcmp(slot->prefix, c->prefix) ? slot->touched : 0;
	*slot = *c;
	slot->touched = touched;
	pthread_mutex_unlock(&a->lock);
}

static bool unhex(const char *s, unsigned char *out, size_t n)
{
	if (!s || strlen(s) != 2 * n || !is_hex(s, 2 * n))
		return false;
	for (size_t i = 0; i < n; i++) {
		char b[3] = {s[2 * i], s[2 * i + 1], 0};
		out[i] = (unsigned char)strtoul(b, NULL, 16);
	}
	return true;
}

/* The key's row, from the cache or the database.  *ret_found false when
 * there is no such prefix. */
static int lookup(struct auth *a, const char *prefix, double now, struct cached *ret, bool *ret_found,
		  struct err_detail *err)
{
	bool have = false;
	struct db *db;
	struct db_res *r;
	int rc;

	pthread_mutex_lock(&a->lock);
	struct cached *c = cache_find(a, prefix);
	if (c) {
		*ret = *c;
		have = true;
	}
	pthread_mutex_unlock(&a->lock);
	if (have && now - ret->fetched < a->ttl) {
		*ret_found = true;
		return ERR_OK;
	}
	const char *p[1] = {prefix};
	if (!(rc = db_acquire(a->pool, 5000, &db, err))) {
		rc = db_exec(db, DB_API_KEY_GET, p, 1, &r, err);
		db_release(a->pool, db);
	}
	if (rc) {
		if (have && now - ret->fetched < AUTH_STALE_MAX) {
			log_warn(
			    "api key '%s': the database is unreachable, using the key as cached %.0f s ago",
			    prefix, now - ret->fetched);
			*ret_found = true;
			return ERR_OK;
		}
		return rc;
	}
	*ret_found = db_res_rows(r) > 0;
	if (*ret_found) {
		struct cached n = {.fetched = now};

		snprintf(n.prefix, sizeof(n.prefix), "%s", prefix);
		snprintf(n.tenant, sizeof(n.tenant), "%s",
			 db_res_is_null(r, 0, 2) ? "" : db_res_get(r, 0, 2));
		n.revoked = db_res_bool(r, 0, 3);
		if (!unhex(db_res_get(r, 0, 0), n.hash, sizeof(n.hash)) ||
		    auth_scopes_parse(db_res_get(r, 0, 1), "scopes", &n.scopes, NULL)) {
			log_warn("api key '%s': its stored row is not valid; treated as revoked", prefix);
			n.revoked = true;
		}
		cache_put(a, &n);
		*ret = n;
	} else if (have) {
		/* Deleted from the table by hand: forget it. */
		pthread_mutex_lock(&a->lock);
		if ((c = cache_find(a, prefix)))
			*c = a->cache[--a->n];
		pthread_mutex_unlock(&a->lock);
	}
	db_res_free(r);
	return ERR_OK;
}

/* Write last_used_at when this replica has not for a while. */
static void touch(struct auth *a, const char *prefix, double now)
{
	bool due = false;
	struct err_detail err;
	struct db *db;

	pthread_mutex_lock(&a->lock);
	struct cached *c = cache_find(a, prefix);
	if (c && now - c->touched >= AUTH_TOUCH_EVERY) {
		c->touched = now;
		due = true;
	}
	pthread_mutex_unlock(&a->lock);
	if (!due)
		return;
	const char *p[1] = {prefix};
	if (db_acquire(a->pool, 1000, &db, &err)) {
		log_debug("api key '%s': last_used_at not written: %s", prefix, err.msg);
		return;
	}
	if (db_exec(db, DB_API_KEY_TOUCH, p, 1, NULL, &err))
		log_debug("api key '%s': last_used_at not written: %s", prefix, err.msg);
	db_release(a->pool, db);
}

static void client_name(const struct http_request *req, char *out, size_t size)
{
	char addr[64];

	snprintf(out, size, "ip:%s", http_client_addr(req, addr, sizeof(addr)));
}

/* Take a token of 'name' from 'rl' (NULL = no limit): false when the
 * bucket is empty, with Retry-After set and the wait in *ret_retry. */
static bool over_limit(struct ratelimit *rl, const char *name, double now, struct http_request *req,
		       struct http_response *res, int *ret_retry)
{
	char ra[16];

	if (!rl || ratelimit_take(rl, name, now, ret_retry))
		return false;
	snprintf(ra, sizeof(ra), "%d", *ret_retry);
	http_set_header(req, res, "Retry-After", ra);
	return true;
}

/* A refusal that takes a token from the client's bucket: 429 once that
 * is empty, else 'code'. */
static int refuse(struct auth *a, struct http_request *req, struct http_response *res, int code,
		  struct err_detail *err)
{
	char name[80];
	int retry = 0;

	client_name(req, name, sizeof(name));
	if (over_limit(a->clients, name, mono(), req, res, &retry))
		return err_set(err, ERR_RATE_LIMITED, NULL,
			       "too many requests from this address; retry after %d s", retry);
	if (code == ERR_UNAUTHORIZED)
		http_set_header(req, res, "WWW-Authenticate", "Bearer realm=\"carbonsched\"");
	return code;
}

const char *auth_header_key(const char *h, const char *x_api_key, bool *ret_bad)
{
	*ret_bad = false;
	if (h) {
		if (strncasecmp(h, "Bearer ", 7)) {
			*ret_bad = true;
			return NULL;
		}
		h += 7;
		while (*h == ' ')
			h++;
		return h;
	}
	return x_api_key;
}

static const char *scope_name(unsigned need)
{
	return need & AUTH_ADMIN ? "admin" : need & AUTH_SCHEDULE ? "schedule" : "read";
}

int auth_request(struct auth *a, struct http_request *req, struct http_response *res, unsigned need,
		 struct err_detail *err)
{
	char prefix[AUTH_PREFIX_LEN + 1], have[32];
	unsigned char hash[AUTH_HASH_LEN];
	struct cached k;
	bool bad, found = false; /* set by lookup; GCC -O1 with -fsanitize=thread cannot see it */
	double now = mono();
	int retry = 0, rc;
	const char *key =
	    auth_header_key(http_header(req, "Authorization"), http_header(req, "X-Api-Key"), &bad);

	if (bad) {
		err_set(err, ERR_UNAUTHORIZED, "Authorization",
			"the Authorization header must be 'Bearer <API key>'");
		return refuse(a, req, res, ERR_UNAUTHORIZED, err);
	}
	if (!key) {
		if (!auth_scopes_allow(a->anonymous, need)) {
			err_set(err, ERR_UNAUTHORIZED, NULL,
				"%s %s needs an API key with scope '%s': send 'Authorization: Bearer <key>'",
				req->method, req->path, scope_name(need));
			return refuse(a, req, res, ERR_UNAUTHORIZED, err);
		}
		char name[80];
		client_name(req, name, sizeof(name));
		if (over_limit(a->clients, name, now, req, res, &retry))
			return err_set(err, ERR_RATE_LIMITED, NULL,
				       "too many requests without a key from this address; retry after %d s",
				       retry);
		return ERR_OK; /* anonymous read: every tenant's jobs, as an operator's read key */
	}
	if (!auth_key_parse(key, prefix)) {
		err_set(err, ERR_UNAUTHORIZED, NULL,
			"this is not a carbonsched API key (cs_<prefix>_<secret>)");
		return refuse(a, req, res, ERR_UNAUTHORIZED, err);
	}
	if ((rc = lookup(a, prefix, now, &k, &found, err)))
		return rc;
	auth_key_hash(key, hash);
	/* The prefix is public; the secret is compared only through its hash,
	 * in constant time. */
	bool match = found && auth_ct_equal(hash, k.hash, AUTH_HASH_LEN);
	explicit_bzero(hash, sizeof(hash));
	if (!match) {
		err_set(err, ERR_UNAUTHORIZED, NULL, "unknown API key '%s'", prefix);
		return refuse(a, req, res, ERR_UNAUTHORIZED, err);
	}
	if (k.revoked) {
		err_set(err, ERR_UNAUTHORIZED, NULL, "API key '%s' has been revoked", prefix);
		return refuse(a, req, res, ERR_UNAUTHORIZED, err);
	}
	if (!auth_scopes_allow(k.scopes, need)) {
		auth_scopes_format(k.scopes, have, sizeof(have));
		return err_set(err, ERR_FORBIDDEN, NULL, "%s %s needs scope '%s'; API key '%s' has %s",
			       req->method, req->path, scope_name(need), prefix, have);
	}
	if (over_limit(a->keys, prefix, now, req, res, &retry))
		return err_set(err, ERR_RATE_LIMITED, NULL,
			       "API key '%s' is over its rate limit; retry after %d s", prefix, retry);
	struct caller *c = arena_alloc(req->arena, sizeof(*c));
	c->scopes = k.scopes;
	memcpy(c->tenant, k.tenant, sizeof(c->tenant));
	req->auth = c;
	touch(a, prefix, now);
	return ERR_OK;
}

const char *auth_tenant(const struct http_request *req)
{
	const struct caller *c = req->auth;

	return c && c->tenant[0] ? c->tenant : NULL;
}
