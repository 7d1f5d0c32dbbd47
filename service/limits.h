/*
 * limits.h - the request caps that need the configuration (limits.*):
 * nesting and array lengths of request bodies, list lengths, time ranges.
 *
 * The server (http.c) caps body, request target and header sizes itself;
 * the router calls limits_check_body before a handler sees a body; handlers
 * call limits_count and limits_range for lists and ranges they read.  Every
 * refusal is ERR_LIMIT or ERR_RANGE_TOO_LARGE (422) with the field and the
 * name of the limit in the message, so a client knows what to change and an
 * operator which key to raise.
 */
#ifndef CARBONSCHED_SERVICE_LIMITS_H
#define CARBONSCHED_SERVICE_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "service/http.h"

/* The body of req (when it has one) against limits.max_json_depth,
 * limits.max_array_items and the tighter caps of known lists
 * (limits.max_list_items, limits.max_batch_items) of its route.  ERR_OK or
 * ERR_LIMIT naming the array ("regions", "body").  Reads the body once;
 * allocates nothing. */
int limits_check_body(const struct http_request *req, struct err_detail *err);

/* ERR_LIMIT "'field' has N items; at most CAP (KEY)" when n > cap. */
int limits_count(const char *field, size_t n, size_t cap, const char *key, struct err_detail *err);

/* ERR_RANGE_TOO_LARGE naming 'field' (the end of the range) when to - from
 * is longer than max seconds; KEY names the limit. */
int limits_range(const char *field, int64_t from, int64_t to, int64_t max, const char *key,
		 struct err_detail *err);

#endif
