/*
 * conn_json.c - per-point JSON getters for the connectors (see the .h).
 */
#include "connectors/conn_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"

int cj_parse(const char *data, size_t len, json_t **ret, struct err_detail *err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);

	if (!j)
		return err_set(err, ERR_MALFORMED, "body", "malformed JSON at line %d column %d: %s", je.line,
			       je.column, je.text);
	*ret = j;
	return ERR_OK;
}

const char *cj_path(char *out, size_t size, const char *arr, size_t i, const char *key)
{
	if (!arr)
		snprintf(out, size, "%s", key);
	else if (i == SIZE_MAX)
		snprintf(out, size, "%s.%s", arr, key);
	else
		snprintf(out, size, "%s[%zu].%s", arr, i, key);
	return out;
}

static int bad(const char *arr, size_t i, const char *key, const char *what, struct err_detail *err)
{
	char path[160];

	cj_path(path, sizeof(path), arr, i, key);
	return err_set(err, ERR_MALFORMED, path, "%s: %s", path, what);
}

int cj_num(json_t *obj, const char *key, const char *arr, size_t i, bool required, double *ret,
	   struct err_detail *err)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_number(v)) {
		*ret = json_number_value(v);
		if (!isfinite(*ret))
			return bad(arr, i, key, "is not a finite number", err);
		return ERR_OK;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		if (!*s && !required) {
			*ret = NAN;
			return ERR_OK;
		}
		double d = strtod(s, &end);
		if (end == s || *end || !isfinite(d))
			return bad(arr, i, key, "expected a number", err);
		*ret = d;
		return ERR_OK;
	}
	if ((!v || json_is_null(v)) && !required) {
		*ret = NAN;
		return ERR_OK;
	}
	return bad(arr, i, key, v && !json_is_null(v) ? "expected a number" : "is missing", err);
}

int cj_time(json_t *obj, const char *key, const char *arr, size_t i, int64_t *ret, struct err_detail *err)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return bad(arr, i, key, v ? "expected a time string" : "is missing", err);
	if (!conn_parse_time(json_string_value(v), json_string_length(v), ret)) {
		char what[128];
		snprintf(what, sizeof(what), "'%.40s' is not a time", json_string_value(v));
		return bad(arr, i, key, what, err);
	}
	return ERR_OK;
}

int cj_bool(json_t *obj, const char *key, const char *arr, size_t i, bool dflt, bool *ret,
	    struct err_detail *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*ret = dflt;
		return ERR_OK;
	}
	if (!json_is_boolean(v))
		return bad(arr, i, key, "expected true or false", err);
	*ret = json_is_true(v);
	return ERR_OK;
}

int cj_str(json_t *obj, const char *key, const char *arr, size_t i, bool required, const char **ret,
	   struct err_detail *err)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v)) {
		*ret = json_string_value(v);
		return ERR_OK;
	}
	if ((!v || json_is_null(v)) && !required) {
		*ret = NULL;
		return ERR_OK;
	}
	return bad(arr, i, key, v ? "expected a string" : "is missing", err);
}

int cj_array(json_t *obj, const char *key, const char *arr, size_t i, json_t **ret, struct err_detail *err)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_array(v))
		return bad(arr, i, key, v ? "expected an array" : "is missing", err);
	*ret = v;
	return ERR_OK;
}

int cj_object(json_t *obj, const char *key, const char *arr, size_t i, json_t **ret, struct err_detail *err)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_object(v))
		return bad(arr, i, key, v ? "expected an object" : "is missing", err);
	*ret = v;
	return ERR_OK;
}
