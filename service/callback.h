/*
 * callback.h - where job callbacks may go.
 *
 * A callback URL is accepted only when its scheme is http or https, it
 * carries no credentials, its host matches scheduler.callback_hosts
 * ("hooks.example.com" exactly, or "*.example.com" for any subdomain), and
 * every address the host resolves to is public - loopback, private,
 * link-local, multicast and other special ranges are refused unless the
 * host (or the address literal) is listed exactly, which is how tests and
 * internal deployments allow "127.0.0.1".  The check runs at booking time
 * (400 naming callback_url) and again before each send, whose connection
 * is pinned to the addresses just checked (DNS cannot answer differently
 * in between).
 */
#ifndef CARBONSCHED_SERVICE_CALLBACK_H
#define CARBONSCHED_SERVICE_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/error.h"
#include "service/config.h"

#define CALLBACK_MAX_PINS 8

struct callback_url {
	bool https;
	char host[256]; /* without brackets for IPv6 literals */
	int port;
	/* "HOST:PORT:ADDRESS" entries for the connection (NULL-terminated) */
	char pin_text[CALLBACK_MAX_PINS][320];
	const char *pins[CALLBACK_MAX_PINS + 1];
};

/* Split an http(s) URL into scheme, host and port (pure, for fuzzing).
 * ERR_INVALID naming 'field' when it is not an absolute http(s) URL with a
 * host, or carries user:password@. */
int callback_parse_url(const char *url, const char *field, struct callback_url *ret, struct err_detail *err);

/* Does 'host' match the allow-list?  *ret_exact says whether an entry
 * names it exactly (rather than by a wildcard). */
bool callback_host_allowed(const struct config *cfg, const char *host, bool *ret_exact);

/* Is this address loopback, private, link-local, unspecified, multicast,
 * shared (100.64/10), documentation, reserved or IPv6 unique-local (and
 * IPv4-mapped forms of those)? */
bool callback_addr_is_special(const struct sockaddr *sa);

/* The whole check: parse, allow-list, resolve, addresses.  On success
 * *ret holds the pins for the request.  ERR_INVALID naming 'field' with
 * the reason. */
int callback_check(const struct config *cfg, const char *url, const char *field, struct callback_url *ret,
		   struct err_detail *err);

#endif
