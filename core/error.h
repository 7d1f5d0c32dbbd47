/*
 * error.h - the one error table of the project.
 *
 * Every fallible function returns an 'int' that is one of the ERR_* codes
 * below (ERR_OK is 0).  Each code carries its HTTP status, a stable
 * machine-readable name (used as the problem+json "code") and a title.
 * Human detail - which field, what was expected - travels in an optional
 * struct err_detail filled only on failure (as git's 'struct strbuf *err').
 */
#ifndef CARBONSCHED_CORE_ERROR_H
#define CARBONSCHED_CORE_ERROR_H

#include <stdarg.h>

/* X(NAME, http status, stable code, title) */
#define ERR_TABLE(X)                                                            \
	X(OK, 200, "ok", "OK")                                                  \
	X(INVALID, 400, "invalid_parameter", "Invalid parameter")               \
	X(MALFORMED, 400, "malformed_input", "Malformed input")                 \
	X(RANGE_TOO_LARGE, 422, "range_too_large", "Requested range too large") \
	X(UNAUTHORIZED, 401, "unauthorized", "Authentication required")         \
	X(FORBIDDEN, 403, "forbidden", "Forbidden")                             \
	X(NOT_FOUND, 404, "not_found", "Not found")                             \
	X(METHOD, 405, "method_not_allowed", "Method not allowed")              \
	X(NOT_ACCEPTABLE, 406, "not_acceptable", "Not acceptable")              \
	X(CONFLICT, 409, "conflict", "Conflict")                                \
	X(TOO_LARGE, 413, "payload_too_large", "Payload too large")             \
	X(URI_TOO_LONG, 414, "uri_too_long", "URI too long")                    \
	X(HEADERS_TOO_LARGE, 431, "headers_too_large", "Headers too large")     \
	X(MEDIA_TYPE, 415, "unsupported_media_type", "Unsupported media type")  \
	X(UNPROCESSABLE, 422, "unprocessable", "Request cannot be satisfied")   \
	X(LIMIT, 422, "limit_exceeded", "Limit exceeded")                       \
	X(NO_CAPACITY, 409, "no_capacity", "No capacity left in the window")    \
	X(RATE_LIMITED, 429, "rate_limited", "Too many requests")               \
	X(INTERNAL, 500, "internal", "Internal error")                          \
	X(IO, 500, "io_error", "I/O error")                                     \
	X(UPSTREAM, 502, "upstream_error", "Upstream provider error")           \
	X(UNAVAILABLE, 503, "unavailable", "Service unavailable")               \
	X(DB, 503, "database_unavailable", "Database unavailable")              \
	X(TIMEOUT, 504, "timeout", "Timed out")

enum err_code {
#define ERR_ENUM(name, status, code, title) ERR_##name,
	ERR_TABLE(ERR_ENUM)
#undef ERR_ENUM
	    ERR__COUNT
};

/* Detail of one failure.  'field' names the offending parameter, key or
 * column (may be empty); 'msg' is a lower-case sentence for a human. */
struct err_detail {
	char field[96];
	char msg[512];
};

/* HTTP status, stable code and title of an error code (never NULL). */
int err_http_status(int code);
const char *err_code_name(int code);
const char *err_title(int code);

/* Fill 'd' (when non-NULL) with field and a printf-formatted message and
 * return 'code', so callers can write 'return err_set(d, ERR_INVALID, ...)'.
 * 'field' may be NULL. */
int err_set(struct err_detail *d, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int err_setv(struct err_detail *d, int code, const char *field, const char *fmt, va_list ap);

/* Prefix the message already in 'd' with a printf-formatted context, as in
 * "FILE:LINE: " + old message.  No-op when d is NULL. */
void err_prefix(struct err_detail *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clear 'd' (when non-NULL). */
void err_clear(struct err_detail *d);

#endif
