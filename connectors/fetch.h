/*
 * fetch.h - HTTP GET from providers, made to survive them (the one adapter
 * of libcurl).
 *
 * A 'struct fetch' is long-lived (one per process, shared by the pollers'
 * threads): it holds the options and one circuit breaker per source.  Each
 * fetch_get() is one logical request: up to max_attempts tries with
 * exponential backoff and jitter on network errors, timeouts, truncated
 * bodies and 5xx; Retry-After (seconds or HTTP-date) is honoured on 429 and
 * 503; other 4xx fail at once.  Bodies are capped (after gzip decoding), and
 * a non-2xx body is summarised into the error message ("Invalid
 * auth-token").
 *
 * Secrets: request headers, HTTP basic credentials and query parameters
 * carry tokens.  No message this module writes (errors, debug logs) contains
 * them: URLs are shown with secret-looking query values replaced by '***',
 * and every string listed in fetch_request.secrets is replaced too, also in
 * the provider's echoed error text.
 */
#ifndef CARBONSCHED_CONNECTORS_FETCH_H
#define CARBONSCHED_CONNECTORS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct fetch_options {
	int64_t connect_timeout_ms;  /* TCP+TLS connect, per attempt (default 5000) */
	int64_t timeout_ms;	     /* whole attempt, headers to last byte (default 30000) */
	size_t max_bytes;	     /* decoded body cap (default 64 MiB) */
	int max_attempts;	     /* tries per fetch_get, >= 1 (default 4) */
	int64_t backoff_base_ms;     /* first retry delay before jitter (default 500) */
	int64_t backoff_max_ms;	     /* cap of one delay (default 30000) */
	int64_t retry_after_max_ms;  /* longest Retry-After waited for; a longer one fails at once
					with ERR_RATE_LIMITED (default 120000) */
	int breaker_threshold;	     /* consecutive failed fetches that open a breaker (default 5) */
	int64_t breaker_cooldown_ms; /* open -> half-open after this (default 60000) */
	const char *user_agent;	     /* default "carbonsched" (copied) */
	/* Hooks, for tests and the demo clock: sleep between attempts and the
	 * monotonic clock of the breakers.  NULL = nanosleep / ts_mono_ms. */
	void (*sleep_ms)(void *arg, int64_t ms);
	int64_t (*clock_ms)(void *arg);
	/* Shutdown: when it returns true, a transfer in progress is abandoned
	 * and fetch_get fails at once with ERR_UNAVAILABLE ("cancelled"),
	 * without counting against the breaker.  NULL = never. */
	bool (*cancelled)(void *arg);
	void *hook_arg;
	uint64_t seed; /* jitter seed; 0 = from the clock */
};

/* Defaults as documented above. */
void fetch_options_default(struct fetch_options *ret);

/* New fetcher with a copy of 'opt' (NULL = defaults); zero fields take
 * their defaults.  Free with fetch_free (NULL is a no-op).  curl_global_init
 * must have run (service/main.c does it). */
struct fetch *fetch_new(const struct fetch_options *opt);
void fetch_free(struct fetch *f);

/* Options in effect (borrowed, immutable). */
const struct fetch_options *fetch_get_options(const struct fetch *f);

struct fetch_request {
	const char *source;	     /* breaker key and first word of messages ("watttime") */
	const char *url;	     /* http or https only */
	const char *const *headers;  /* NULL or NULL-terminated "Name: value" lines */
	const char *user, *password; /* HTTP basic credentials, or NULL */
	const char *accept;	     /* "json", "xml", "csv" (anything but HTML) or NULL: a 2xx
					answer of another content type is refused (a captive
					portal, a proxy's error page) */
	const char *const *secrets;  /* NULL or NULL-terminated values never to show */
	/* fetch_post only: the body sent and its content type. */
	const char *body;
	size_t body_len;
	const char *content_type;
	/* NULL, or NULL-terminated "HOST:PORT:ADDRESS" entries: connect there
	 * instead of resolving the host again (a caller that checked where a
	 * host resolves pins it, so DNS cannot change its answer in between). */
	const char *const *resolve;
};

struct fetch_response {
	long status;		/* 2xx */
	char *body;		/* NUL-terminated, owned */
	size_t len;		/* bytes in body */
	char content_type[128]; /* "" when absent */
	int attempts;		/* tries used */
};

/* One logical GET.  On success fills *ret (release with
 * fetch_response_release).  Errors, each with a message that starts with
 * the source, says the cause and shows the redacted URL:
 *   ERR_UNAUTHORIZED  401          ERR_FORBIDDEN  403
 *   ERR_NOT_FOUND     404          ERR_RATE_LIMITED  429 (retries exhausted or
 *                                                   Retry-After too long)
 *   ERR_UPSTREAM      other 4xx, 5xx after retries, wrong content type,
 *                     redirects (not followed: they could leak a token header)
 *   ERR_TIMEOUT       the last attempt timed out
 *   ERR_UNAVAILABLE   network failures after retries; breaker open
 *   ERR_TOO_LARGE     the body passed max_bytes
 *   ERR_INVALID       a malformed request (bad URL scheme)
 * Thread-safe: several threads may call it on one fetcher. */
int fetch_get(struct fetch *f, const struct fetch_request *rq, struct fetch_response *ret,
	      struct err_detail *err);
void fetch_response_release(struct fetch_response *r);

/* One logical POST of rq->body (a webhook): the same timeouts, retries,
 * breaker and errors as fetch_get (retried on network errors, timeouts,
 * 429 and 5xx, so the receiver may see a body more than once); any 2xx is
 * success, whatever its content type when rq->accept is NULL. */
int fetch_post(struct fetch *f, const struct fetch_request *rq, struct fetch_response *ret,
	       struct err_detail *err);

enum fetch_breaker_state { FETCH_BREAKER_CLOSED, FETCH_BREAKER_OPEN, FETCH_BREAKER_HALF_OPEN };

struct fetch_breaker_info {
	enum fetch_breaker_state state;
	int failures;	       /* consecutive failed fetches */
	int64_t open_until_ms; /* clock_ms when an open breaker lets a probe through */
	int64_t opened;	       /* times it has opened */
};

/* State of the breaker of 'source' (closed, zero failures when the source
 * was never fetched).  Thread-safe. */
void fetch_breaker(struct fetch *f, const char *source, struct fetch_breaker_info *ret);
const char *fetch_breaker_state_name(enum fetch_breaker_state s);
/* Close the breaker of 'source' (an operator's reset). */
void fetch_breaker_reset(struct fetch *f, const char *source);

/* --- Helpers, exported for tests and fuzzing --- */

/* Copy 'url' into out (size bytes, always NUL-terminated) with user info
 * removed, the values of secret-looking query parameters (token, key,
 * password, securityToken, api_key, ...) replaced by "***", and every
 * string of 'secrets' (NULL-terminated, may be NULL) replaced by "***". */
void fetch_redact_url(const char *url, const char *const *secrets, char *out, size_t size);

/* Replace every occurrence of each of 'secrets' in the NUL-terminated
 * 's' by "***", in place (the string never grows past 'size'). */
void fetch_redact_text(char *s, size_t size, const char *const *secrets);

/* Delay asked by a Retry-After value: delta-seconds or an HTTP-date,
 * relative to now_s (UTC seconds).  A date in the past gives 0.  False
 * when the value is malformed. */
bool fetch_parse_retry_after(const char *value, int64_t now_s, int64_t *ret_ms);

/* One line for a human from a provider's error body: the message of a JSON
 * error ({"error": ...}, {"error": {"message"}}, {"message"}, {"msg"},
 * {"reason"}, {"detail": [{"msg"}]}), the Reason/text of an ENTSO-E
 * acknowledgement, the text of an HTML page, or the first line of plain
 * text.  Control characters are dropped; "" when nothing readable. */
void fetch_error_summary(const char *body, size_t len, char *out, size_t size);

#endif
