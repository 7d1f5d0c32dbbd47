/*
 * jsonh.h - reading JSON documents (jansson) with errors that name the field.
 *
 * Every getter takes the object, the key and a 'path' prefix for messages
 * (e.g. "regions[2]"), so a bad value is reported as "regions[2].pue: must
 * be a number >= 1".  Getters set *ret only on success; an absent optional
 * key leaves *ret untouched and returns ERR_OK, so callers preload
 * defaults.  Returned strings are borrowed from the json_t.
 */
#ifndef CARBONSCHED_CORE_JSONH_H
#define CARBONSCHED_CORE_JSONH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Parse a whole document; on failure ERR_MALFORMED with line and column.
 * The result is new: json_decref it. */
int jh_parse(const char *data, size_t len, json_t **ret, struct err_detail *err);

int jh_string(json_t *obj, const char *key, const char *path, bool required, const char **ret,
	      struct err_detail *err);
int jh_number(json_t *obj, const char *key, const char *path, bool required, double min, double max,
	      double *ret, struct err_detail *err);
int jh_int(json_t *obj, const char *key, const char *path, bool required, int64_t min, int64_t max,
	   int64_t *ret, struct err_detail *err);
int jh_bool(json_t *obj, const char *key, const char *path, bool required, bool *ret, struct err_detail *err);
/* RFC 3339 string -> seconds since the epoch. */
int jh_time(json_t *obj, const char *key, const char *path, bool required, int64_t *ret,
	    struct err_detail *err);
/* ISO 8601 duration string ("PT4H") -> seconds. */
int jh_duration(json_t *obj, const char *key, const char *path, bool required, int64_t *ret,
		struct err_detail *err);
/* Array of strings; *ret is the borrowed array (check with json_array_size). */
int jh_string_array(json_t *obj, const char *key, const char *path, bool required, size_t max_len,
		    json_t **ret, struct err_detail *err);

/* ERR_INVALID naming the first key of obj that is not in the NULL-terminated
 * list 'allowed' (unknown fields are refused, not ignored). */
int jh_only_keys(json_t *obj, const char *const *allowed, const char *path, struct err_detail *err);

/* Full field name: "key" or "path.key", written into out. */
const char *jh_field(char *out, size_t size, const char *path, const char *key);

/* Serialise compactly into b (appends). */
int jh_dump(json_t *j, struct buf *b);

/* Add an RFC 3339 time string / a number (null when not finite). */
void jh_set_time(json_t *obj, const char *key, int64_t t);
void jh_set_number(json_t *obj, const char *key, double v);

#endif
