/*
 * ratelimit.h - token buckets by name (an API key's prefix, a client
 * address), shared by the HTTP worker threads.
 *
 * Each name has a bucket of 'burst' tokens refilled at 'rate' tokens per
 * second; a request takes one.  The table holds at most 'max_names'
 * buckets: when it is full the least recently used bucket is dropped (a
 * dropped name starts again with a full bucket, so the cap trades a little
 * precision under a flood of distinct names for bounded memory).
 */
#ifndef CARBONSCHED_SERVICE_RATELIMIT_H
#define CARBONSCHED_SERVICE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

struct ratelimit;

/* A new table (free with ratelimit_free).  rate > 0 tokens per second,
 * burst >= 1 tokens, max_names >= 1. */
struct ratelimit *ratelimit_new(double rate, double burst, size_t max_names);
void ratelimit_free(struct ratelimit *rl);

/* Take one token from the bucket of 'name' at time 'now' (seconds, any
 * monotonic origin; a clock that goes back is treated as standing still).
 * True when a token was there.  Otherwise false, and *ret_retry_after
 * (may be NULL) gets the whole seconds, rounded up and at least 1, after
 * which a token will be there.  Thread-safe. */
bool ratelimit_take(struct ratelimit *rl, const char *name, double now, int *ret_retry_after);

/* Buckets held now (tests). */
size_t ratelimit_size(struct ratelimit *rl);

#endif
