/*
 * callback.c - the callback URL policy (see callback.h).
 *
 * Why so strict: a callback makes the service send a request wherever a
 * client says.  Without a host allow-list and an address check, a booking
 * could make it probe the internal network (cloud metadata at
 * 169.254.169.254, databases on 10.x) - a server-side request forgery.  The
 * address check after resolution matters because an allowed name can
 * resolve to an internal address, and the pin because a second lookup at
 * send time could answer differently (DNS rebinding).
 */
#include "service/callback.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int callback_parse_url(const char *url, const char *field, struct callback_url *ret, struct err_detail *err)
{
	struct callback_url u;
	const char *p, *host, *end;
	size_t hlen;

	memset(&u, 0, sizeof(u));
	if (!strncasecmp(url, "https://", 8)) {
		u.https = true;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		return err_set(err, ERR_INVALID, field, "'%s' must be an http:// or https:// URL", field);
	}
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return err_set(err, ERR_INVALID, field,
				       "'%s' must not contain spaces or control characters", field);
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		return err_set(err, ERR_INVALID, field, "'%s' must not carry credentials (user@)", field);
	host = p;
	if (*p == '[') { /* [IPv6] */
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (!close)
			return err_set(err, ERR_INVALID, field, "'%s' has an unterminated [IPv6] host",
				       field);
		host = p + 1;
		hlen = (size_t)(close - host);
		p = close + 1;
	} else {
		hlen = strcspn(p, ":/?#");
		p += hlen;
	}
	if (!hlen || hlen >= sizeof(u.host))
		return err_set(err, ERR_INVALID, field, "'%s' has no host", field);
	memcpy(u.host, host, hlen);
	u.host[hlen] = '\0';
	for (char *c = u.host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	u.port = u.https ? 443 : 80;
	if (*p == ':') {
		char *e;
		long port = strtol(p + 1, &e, 10);

		if (e == p + 1 || e != end || port < 1 || port > 65535)
			return err_set(err, ERR_INVALID, field, "'%s' has a bad port", field);
		u.port = (int)port;
		p = e;
	}
	if (p != end)
		return err_set(err, ERR_INVALID, field, "'%s' has a malformed host", field);
	*ret = u;
	return ERR_OK;
}

bool callback_host_allowed(const struct config *cfg, const char *host, bool *ret_exact)
{
	*ret_exact = false;
	for (size_t i = 0; i < cfg->ncallback_hosts; i++) {
		const char *pat = cfg->callback_hosts[i];
		char bare[256];

		/* "[::1]" in the list names the address ::1. */
		if (pat[0] == '[' && strlen(pat) > 2 && pat[strlen(pat) - 1] == ']')
			snprintf(bare, sizeof(bare), "%.*s", (int)strlen(pat) - 2, pat + 1);
		else
			snprintf(bare, sizeof(bare), "%s", pat);
		if (!strcasecmp(bare, host)) {
			*ret_exact = true;
			return true;
		}
		if (bare[0] == '*' && bare[1] == '.') {
			size_t hl = strlen(host), sl = strlen(bare + 1);

			if (hl > sl && !strcasecmp(host + hl - sl, bare + 1))
				return true;
		}
	}
	return false;
}

static bool v4_special(uint32_t a)
{
	static const struct {
		uint32_t net, mask;
	} ranges[] = {
	    {0x00000000, 0xff000000}, /* 0/8 "this network" */
	    {0x0a000000, 0xff000000}, /* 10/8 */
	    {0x64400000, 0xffc00000}, /* 100.64/10 shared */
	    {0x7f000000, 0xff000000}, /* 127/8 loopback */
	    {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local (cloud metadata) */
	    {0xac100000, 0xfff00000}, /* 172.16/12 */
	    {0xc0000000, 0xffffff00}, /* 192.0.0/24 protocol assignments */
	    {0xc0000200, 0xffffff00}, /* 192.0.2/24 documentation */
	    {0xc0a80000, 0xffff0000}, /* 192.168/16 */
	    {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
	    {0xc6336400, 0xffffff00}, /* 198.51.100/24 documentation */
	    {0xcb007100, 0xffffff00}, /* 203.0.113/24 documentation */
	    {0xe0000000, 0xf0000000}, /* 224/4 multicast */
	    {0xf0000000, 0xf0000000}, /* 240/4 reserved, broadcast */
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if ((a & ranges[i].mask) == ranges[i].net)
			return true;
	return false;
}

bool callback_addr_is_special(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_special(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family != AF_INET6)
		return true;
	const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12))
		return v4_special((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
				  b[15]);
	bool zero = true;
	for (int i = 0; i < 15; i++)
		zero &= b[i] == 0;
	if (zero && (b[15] == 0 || b[15] == 1)) /* :: and ::1 */
		return true;
	if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
		return true;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
		return true;
	if (b[0] == 0xff) /* multicast */
		return true;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 documentation */
		return true;
	return zero; /* other ::/96 forms (IPv4-compatible) */
}

int callback_check(const struct config *cfg, const char *url, const char *field, struct callback_url *ret,
		   struct err_detail *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai, *it;
	struct callback_url u;
	char seen[CALLBACK_MAX_PINS][INET6_ADDRSTRLEN];
	bool exact;
	int rc, n = 0;

	if ((rc = callback_parse_url(url, field, &u, err)))
		return rc;
	if (!callback_host_allowed(cfg, u.host, &exact))
		return err_set(
		    err, ERR_INVALID, field,
		    "callback host '%s' is not allowed (scheduler.callback_hosts lists the hosts callbacks "
		    "may go to%s)",
		    u.host, cfg->ncallback_hosts ? "" : "; it is empty");
	if ((rc = getaddrinfo(u.host, NULL, &hints, &ai)))
		return err_set(err, ERR_INVALID, field, "callback host '%s' does not resolve: %s", u.host,
			       gai_strerror(rc));
	for (it = ai; it; it = it->ai_next) {
		char addr[INET6_ADDRSTRLEN] = "";

		if (it->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)it->ai_addr)->sin_addr, addr,
				  sizeof(addr));
		else if (it->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)it->ai_addr)->sin6_addr, addr,
				  sizeof(addr));
		else
			continue;
		if (callback_addr_is_special(it->ai_addr) && !exact) {
			freeaddrinfo(ai);
			return err_set(
			    err, ERR_INVALID, field,
			    "callback host '%s' resolves to the internal address %s; list the host "
			    "exactly in scheduler.callback_hosts to allow it",
			    u.host, addr);
		}
		bool dup = false;
		for (int k = 0; k < n && !dup; k++)
			dup = !strcmp(seen[k], addr);
		if (dup || n >= CALLBACK_MAX_PINS)
			continue;
		snprintf(seen[n], sizeof(seen[n]), "%s", addr);
		snprintf(u.pin_text[n], sizeof(u.pin_text[n]),
			 it->ai_family == AF_INET6 ? "%s:%d:[%s]" : "%s:%d:%s", u.host, u.port, addr);
		u.pins[n] = u.pin_text[n];
		n++;
	}
	freeaddrinfo(ai);
	if (!n)
		return err_set(err, ERR_INVALID, field, "callback host '%s' has no usable address", u.host);
	*ret = u;
	for (int k = 0; k < n; k++)
		ret->pins[k] = ret->pin_text[k];
	ret->pins[n] = NULL;
	return ERR_OK;
}
