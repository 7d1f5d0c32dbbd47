/*
 * jobreq.c - parsing the body of /v1/schedule and /v1/jobs (see jobreq.h).
 *
 * The accepted fields are one table; each row says whether the advice
 * route takes it too.  A field outside the table, or a booking field on
 * the advice route, is refused by name: a typo ("dedline") must never
 * turn into a default.
 */
#include "service/jobreq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonh.h"
#include "core/mem.h"
#include "core/time.h"

static const struct field {
	const char *name;
	bool booking_only;
	const char *what; /* for the message listing the fields */
} fields[] = {
    {"duration", false, "ISO 8601 duration"},
    {"deadline", false, "RFC 3339 time"},
    {"earliest_start", false, "RFC 3339 time"},
    {"origin", false, "region id"},
    {"regions", false, "array of region ids"},
    {"residency", false, "array of jurisdiction tags"},
    {"power_kw", false, "number"},
    {"energy_kwh", false, "number"},
    {"interruptible", false, "boolean"},
    {"risk", false, "'p50' or 'p90'"},
    {"min_segment", false, "ISO 8601 duration"},
    {"max_segments", false, "integer"},
    {"name", true, "string"},
    {"callback_url", true, "http(s) URL"},
    {"count", true, "integer"},
};

static int check_fields(json_t *doc, bool booking, struct err_detail *err)
{
	const char *key;
	json_t *v;

	json_object_foreach (doc, key, v) {
		const struct field *f = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(fields) && !f; i++)
			if (!strcmp(fields[i].name, key))
				f = &fields[i];
		if (f && (booking || !f->booking_only))
			continue;
		if (f)
			return err_set(err, ERR_INVALID, f->name,
				       "'%s' is only for bookings (POST /v1/jobs), not for advice", f->name);
		char list[512];
		size_t n = 0;
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			if (booking || !fields[i].booking_only)
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "",
						      fields[i].name);
		char name[72];
		snprintf(name, sizeof(name), "%.64s", key);
		return err_set(err, ERR_INVALID, name, "unknown field '%s'; the fields are: %s", name, list);
	}
	return ERR_OK;
}

/* A region id or tag: 1-63 printable characters without spaces. */
static bool is_ident(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int ident_array(json_t *doc, const char *key, const char ***ret, size_t *ret_n, struct err_detail *err)
{
	json_t *arr = NULL, *it;
	size_t i;
	int rc = jh_string_array(doc, key, NULL, false, JOBREQ_MAX_REGIONS, &arr, err);

	if (rc || !arr)
		return rc;
	if (!json_array_size(arr))
		return err_set(err, ERR_INVALID, key, "'%s' must not be empty (leave it out instead)", key);
	const char **v = xcalloc(json_array_size(arr), sizeof(char *));
	json_array_foreach (arr, i, it) {
		char f[32];

		v[i] = json_string_value(it);
		if (!is_ident(v[i])) {
			snprintf(f, sizeof(f), "%s[%zu]", key, i);
			free(v);
			return err_set(err, ERR_INVALID, f,
				       "'%s' must be 1-63 printable characters without spaces", f);
		}
	}
	*ret = v;
	*ret_n = json_array_size(arr);
	return ERR_OK;
}

/* A job array over the configured cap is a limit (422), not a bad value. */
static int count_cap(json_t *doc, int64_t max_count, struct err_detail *err)
{
	json_t *v = json_object_get(doc, "count");

	if (!json_is_integer(v) || json_integer_value(v) <= max_count)
		return ERR_OK;
	return err_set(err, ERR_LIMIT, "count",
		       "'count' is %lld; at most %lld copies in one booking (scheduler.max_job_count)",
		       (long long)json_integer_value(v), (long long)max_count);
}

static int parse_doc(json_t *doc, bool booking, int64_t max_count, struct job_req *r, struct err_detail *err)
{
	const char *risk = NULL;
	double power = NAN, energy = NAN;
	int64_t max_seg = 0;
	int rc;

	if (!json_is_object(doc))
		return err_set(err, ERR_INVALID, "body", "the body must be a JSON object");
	if ((rc = check_fields(doc, booking, err)))
		return rc;
	if ((rc = jh_duration(doc, "duration", NULL, true, &r->duration, err)) ||
	    (rc = jh_time(doc, "deadline", NULL, true, &r->deadline, err)) ||
	    (rc = jh_time(doc, "earliest_start", NULL, false, &r->earliest_start, err)) ||
	    (rc = jh_string(doc, "origin", NULL, true, &r->origin, err)) ||
	    (rc = ident_array(doc, "regions", &r->regions, &r->nregions, err)) ||
	    (rc = ident_array(doc, "residency", &r->residency, &r->nresidency, err)) ||
	    (rc = jh_number(doc, "power_kw", NULL, false, 1e-6, 1e6, &power, err)) ||
	    (rc = jh_number(doc, "energy_kwh", NULL, false, 1e-6, 1e9, &energy, err)) ||
	    (rc = jh_bool(doc, "interruptible", NULL, false, &r->interruptible, err)) ||
	    (rc = jh_string(doc, "risk", NULL, false, &risk, err)) ||
	    (rc = jh_int(doc, "max_segments", NULL, false, 1, 10000, &max_seg, err)) ||
	    (rc = jh_duration(doc, "min_segment", NULL, false, &r->min_segment, err)))
		return rc;
	if (!is_ident(r->origin))
		return err_set(err, ERR_INVALID, "origin",
			       "'origin' must be a region id (1-63 printable characters)");
	if (r->duration > 366 * TS_DAY)
		return err_set(err, ERR_INVALID, "duration", "'duration' must be at most a year");
	if (r->earliest_start != INT64_MIN && r->deadline <= r->earliest_start)
		return err_set(err, ERR_INVALID, "deadline", "'deadline' must be after 'earliest_start'");
	if (r->earliest_start != INT64_MIN && r->deadline - r->earliest_start < r->duration)
		return err_set(err, ERR_INVALID, "duration",
			       "'duration' is longer than the window from 'earliest_start' to 'deadline'");
	if (isnan(power) == isnan(energy))
		return err_set(err, ERR_INVALID, isnan(power) ? "power_kw" : "energy_kwh",
			       isnan(power) ? "give either 'power_kw' or 'energy_kwh'"
					    : "give either 'power_kw' or 'energy_kwh', not both");
	double hours = (double)r->duration / 3600.0;
	r->energy_given = !isnan(energy);
	r->power_kw = r->energy_given ? energy / hours : power;
	r->energy_kwh = r->energy_given ? energy : power * hours;
	if (!(r->power_kw > 0 && isfinite(r->power_kw)))
		return err_set(err, ERR_INVALID, "energy_kwh",
			       "'energy_kwh' over 'duration' is not a usable power");
	r->risk = SCHED_P50;
	if (risk && !strcmp(risk, "p90"))
		r->risk = SCHED_P90;
	else if (risk && strcmp(risk, "p50"))
		return err_set(err, ERR_INVALID, "risk", "'risk' must be 'p50' or 'p90', not '%.32s'", risk);
	r->max_segments = (int)max_seg;
	if (!r->interruptible && (r->min_segment || r->max_segments))
		return err_set(err, ERR_INVALID, r->min_segment ? "min_segment" : "max_segments",
			       "'%s' applies only to interruptible jobs",
			       r->min_segment ? "min_segment" : "max_segments");
	if (r->min_segment > r->duration)
		return err_set(err, ERR_INVALID, "min_segment", "'min_segment' is longer than 'duration'");
	if (!booking)
		return ERR_OK;
	if ((rc = jh_string(doc, "name", NULL, false, &r->name, err)) ||
	    (rc = jh_string(doc, "callback_url", NULL, false, &r->callback_url, err)) ||
	    (rc = count_cap(doc, max_count, err)) ||
	    (rc = jh_int(doc, "count", NULL, false, 1, max_count, &r->count, err)))
		return rc;
	if (r->name && (!*r->name || strlen(r->name) > JOBREQ_MAX_NAME))
		return err_set(err, ERR_INVALID, "name", "'name' must be 1-%d characters", JOBREQ_MAX_NAME);
	if (r->callback_url && (!*r->callback_url || strlen(r->callback_url) > JOBREQ_MAX_URL))
		return err_set(err, ERR_INVALID, "callback_url", "'callback_url' must be 1-%d characters",
			       JOBREQ_MAX_URL);
	if (r->count > 1 && r->interruptible)
		return err_set(err, ERR_INVALID, "count",
			       "job arrays ('count' > 1) must be non-interruptible");
	return ERR_OK;
}

int jobreq_parse(const char *body, size_t len, bool booking, int64_t max_count, struct job_req *ret,
		 struct err_detail *err)
{
	struct job_req r = {.earliest_start = INT64_MIN, .count = 1};
	int rc;

	if (!len)
		return err_set(err, ERR_INVALID, "body", "the request needs a JSON body");
	if ((rc = jh_parse(body, len, &r.doc, err)))
		return rc;
	if ((rc = parse_doc(r.doc, booking, max_count, &r, err))) {
		jobreq_release(&r);
		return rc;
	}
	*ret = r;
	return ERR_OK;
}

void jobreq_release(struct job_req *r)
{
	free(r->regions);
	free(r->residency);
	json_decref(r->doc);
	memset(r, 0, sizeof(*r));
}

char *jobreq_canonical(const struct job_req *r)
{
	return json_dumps(r->doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
}

/* Two independent FNV-1a 64-bit hashes: a fingerprint, not a defence
 * against someone forging collisions with their own idempotency key. */
void jobreq_fingerprint(const struct job_req *r, char out[33])
{
	char *text = jobreq_canonical(r);
	uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		a = (a ^ *p) * 0x100000001b3ULL;
		b = (b ^ *p) * 0x100000001b3ULL ^ (b >> 29);
	}
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
	free(text);
}
