/*
 * auth.h - API keys, scopes, tenants and per-caller rate limits.
 *
 * A key reads "cs_<prefix>_<secret>": 12 hex digits of prefix (the public
 * lookup id, shown by 'keys list') and 64 hex digits of secret (32 bytes
 * from getrandom).  The database keeps the prefix and the SHA-256 of the
 * whole key, never the key.  Scopes: read, schedule, admin (admin implies
 * the others).  A key with a tenant sees only its tenant's jobs; a key
 * without one is an operator's and sees all.
 *
 * The router calls auth_request for every route that needs a scope; it
 * answers 401 (no, malformed, unknown or revoked key), 403 (scope), 429
 * (rate) or 503 (database unreachable and the key not cached), and on
 * success records the caller on the request (auth_tenant).
 */
#ifndef CARBONSCHED_SERVICE_AUTH_H
#define CARBONSCHED_SERVICE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "service/http.h"

enum auth_scope {
	AUTH_NONE = 0, /* open: probes */
	AUTH_READ = 1,
	AUTH_SCHEDULE = 2,
	AUTH_ADMIN = 4,
};

#define AUTH_PREFIX_LEN 12 /* hex digits */
#define AUTH_SECRET_LEN 64 /* hex digits: 32 random bytes */
#define AUTH_KEY_LEN	(3 + AUTH_PREFIX_LEN + 1 + AUTH_SECRET_LEN)
#define AUTH_HASH_LEN	32 /* SHA-256 */
#define AUTH_TENANT_MAX 63

/* "read,schedule" -> AUTH_READ | AUTH_SCHEDULE.  ERR_INVALID naming
 * 'field' for an unknown or empty scope. */
int auth_scopes_parse(const char *list, const char *field, unsigned *ret, struct err_detail *err);
/* "read,schedule" (in the table's order) into out. */
void auth_scopes_format(unsigned scopes, char *out, size_t size);
/* Whether scopes 'have' grant 'need' (admin grants everything). */
bool auth_scopes_allow(unsigned have, unsigned need);

/* A new random key (NUL-terminated, AUTH_KEY_LEN chars) and its prefix.
 * ERR_IO when the kernel's random source fails. */
int auth_key_generate(char ret_key[AUTH_KEY_LEN + 1], char ret_prefix[AUTH_PREFIX_LEN + 1],
		      struct err_detail *err);
/* True when key has the shape of a key; then ret_prefix gets its prefix. */
bool auth_key_parse(const char *key, char ret_prefix[AUTH_PREFIX_LEN + 1]);
/* SHA-256 of the key's text. */
void auth_key_hash(const char *key, unsigned char ret[AUTH_HASH_LEN]);
/* Compare n bytes in time independent of where they differ. */
bool auth_ct_equal(const void *a, const void *b, size_t n);
/* The key a request presents: from an Authorization header value
 * ("Bearer KEY", scheme case-insensitive) or else an X-Api-Key value (both
 * may be NULL); NULL when none.  *ret_bad is set when Authorization has
 * another scheme.  Returns a pointer into the argument (borrowed). */
const char *auth_header_key(const char *authorization, const char *x_api_key, bool *ret_bad);
/* 1-63 letters, digits, '.', '_' or '-'. */
bool auth_tenant_is_valid(const char *tenant);

struct auth;
struct config;
struct db_pool;

/* The service's key cache and rate limits for cfg (a verified key is
 * trusted for cfg->auth_cache_ttl seconds without asking the database, so
 * a revocation takes effect within that time on every replica) (borrowed, and the
 * pool, for the life of the result).  Free with auth_free. */
struct auth *auth_new(const struct config *cfg, struct db_pool *pool);
void auth_free(struct auth *a);

/* Authenticate and authorise req for a route needing 'need' (not
 * AUTH_NONE).  On refusal returns the error (ERR_UNAUTHORIZED,
 * ERR_FORBIDDEN, ERR_RATE_LIMITED, ERR_DB) with its headers already set
 * on res (WWW-Authenticate, Retry-After). */
int auth_request(struct auth *a, struct http_request *req, struct http_response *res, unsigned need,
		 struct err_detail *err);

/* The tenant whose jobs the request may see, or NULL for all (operator
 * key, anonymous read, or a request not authenticated). */
const char *auth_tenant(const struct http_request *req);

#endif
