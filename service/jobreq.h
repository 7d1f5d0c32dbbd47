/*
 * jobreq.h - the body of POST /v1/schedule and POST /v1/jobs: parsed and
 * checked on its own, before anything asks the clock, the forecasts or the
 * database.
 *
 * Strict: unknown fields, wrong types, both or neither of power_kw and
 * energy_kwh, a deadline before the earliest start ... are ERR_INVALID
 * with err->field naming the field ("regions[2]", "power_kw").  Checks that
 * need the service (the clock, the regions, the forecast horizon) are the
 * caller's.  Pure: no I/O, no globals (fuzzed by tests/fuzz/fuzz_jobreq.c).
 */
#ifndef CARBONSCHED_SERVICE_JOBREQ_H
#define CARBONSCHED_SERVICE_JOBREQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "service/sched.h"

#define JOBREQ_MAX_REGIONS 256
#define JOBREQ_MAX_NAME	   200
#define JOBREQ_MAX_URL	   2048

struct job_req {
	int64_t duration;	/* seconds, > 0 */
	int64_t deadline;	/* latest completion */
	int64_t earliest_start; /* INT64_MIN when absent (= now) */
	const char *origin;	/* the baseline's region */
	const char **regions;	/* candidate region ids (NULL when absent) */
	size_t nregions;
	const char **residency; /* jurisdiction tags every candidate must carry */
	size_t nresidency;
	double power_kw;   /* > 0; from energy_kwh / duration when that was given */
	double energy_kwh; /* power_kw × duration */
	bool energy_given; /* the caller gave energy_kwh rather than power_kw */
	bool interruptible;
	enum sched_quantile risk; /* SCHED_P50 or SCHED_P90 */
	int64_t min_segment;	  /* seconds, interruptible only; 0 = none */
	int max_segments;	  /* interruptible only; 0 = unlimited */
	/* booking only (POST /v1/jobs) */
	const char *name;	  /* NULL when absent */
	const char *callback_url; /* NULL when absent */
	int64_t count;		  /* copies booked together; 1 by default */
	/* private: the parsed document the strings are borrowed from */
	json_t *doc;
};

/* Parse 'body' (len bytes).  'booking' admits name, callback_url and count
 * (count at most max_count).  On success *ret holds borrowed strings of
 * its own document: release with jobreq_release.  Errors: ERR_MALFORMED
 * (not JSON), ERR_INVALID naming the field.  *ret is untouched on failure. */
int jobreq_parse(const char *body, size_t len, bool booking, int64_t max_count, struct job_req *ret,
		 struct err_detail *err);
void jobreq_release(struct job_req *r);

/* A fingerprint of the request as sent (key order and spacing do not
 * matter): the same Idempotency-Key with another body is a conflict.
 * 32 hex digits and a NUL into out. */
void jobreq_fingerprint(const struct job_req *r, char out[33]);

/* The request as JSON text (compact, keys sorted): what jobs.request
 * stores.  New string: free() it. */
char *jobreq_canonical(const struct job_req *r);

#endif
