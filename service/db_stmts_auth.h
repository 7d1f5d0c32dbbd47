/*
 * db_stmts_auth.h - statements of API keys (auth.c, cmd_keys.c).
 *
 * Hashes cross the boundary as hex (encode/decode), scopes as a
 * comma-separated list.  The key itself never reaches the database.
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_AUTH_H
#define CARBONSCHED_SERVICE_DB_STMTS_AUTH_H

#define DB_STMTS_AUTH(X)                                                                                     \
	X(API_KEY_GET, "SELECT encode(hash, 'hex'), array_to_string(scopes, ','), tenant,"                   \
		       " revoked_at IS NOT NULL FROM api_keys WHERE prefix = $1")                            \
	X(API_KEY_TOUCH, "UPDATE api_keys SET last_used_at = now() WHERE prefix = $1")                       \
	X(API_KEY_INSERT, "INSERT INTO api_keys (prefix, hash, scopes, tenant, name)"                        \
			  " VALUES ($1, decode($2, 'hex'), string_to_array($3, ','), $4, $5)")               \
	X(API_KEYS_LIST,                                                                                     \
	  "SELECT prefix, name, array_to_string(scopes, ','), tenant, extract(epoch FROM created_at)::int8," \
	  " extract(epoch FROM last_used_at)::int8, extract(epoch FROM revoked_at)::int8"                    \
	  " FROM api_keys ORDER BY created_at, id")                                                          \
	X(API_KEY_REVOKE, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE prefix = $1")

#endif
