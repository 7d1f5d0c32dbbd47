/*
 * conn_json.h - reading provider JSON (jansson) with messages that name the
 * element: "history[3].datetime: ...".  For connector implementations.
 *
 * Unlike core/jsonh.h these getters take the array name and index apart
 * and format the path only when something is wrong, because they run once
 * per data point (a week of 5-minute WattTime data is 2016 calls each).
 */
#ifndef CARBONSCHED_CONNECTORS_CONN_JSON_H
#define CARBONSCHED_CONNECTORS_CONN_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Parse a whole body; ERR_MALFORMED with line and column.  New reference. */
int cj_parse(const char *data, size_t len, json_t **ret, struct err_detail *err);

/* Path of an element for messages: "arr[i].key", "arr.key" (i == SIZE_MAX)
 * or "key" (arr NULL). */
const char *cj_path(char *out, size_t size, const char *arr, size_t i, const char *key);

/* obj[key] as a number.  Numbers and numeric strings ("8120", EIA) are
 * accepted; null, "" or absent give NAN unless required.  ERR_MALFORMED
 * naming the element otherwise. */
int cj_num(json_t *obj, const char *key, const char *arr, size_t i, bool required, double *ret,
	   struct err_detail *err);
/* obj[key] as a time (conn_parse_time forms); required. */
int cj_time(json_t *obj, const char *key, const char *arr, size_t i, int64_t *ret, struct err_detail *err);
/* obj[key] as a bool; absent or null gives 'dflt'. */
int cj_bool(json_t *obj, const char *key, const char *arr, size_t i, bool dflt, bool *ret,
	    struct err_detail *err);
/* obj[key] as a string (borrowed); absent or null gives NULL unless required. */
int cj_str(json_t *obj, const char *key, const char *arr, size_t i, bool required, const char **ret,
	   struct err_detail *err);
/* obj[key] as an array/object (borrowed); ERR_MALFORMED when absent or of
 * another type. */
int cj_array(json_t *obj, const char *key, const char *arr, size_t i, json_t **ret, struct err_detail *err);
int cj_object(json_t *obj, const char *key, const char *arr, size_t i, json_t **ret, struct err_detail *err);

#endif
