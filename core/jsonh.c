/*
 * jsonh.c - field getters over jansson with path-qualified errors.
 */
#include "core/jsonh.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/time.h"

const char *jh_field(char *out, size_t size, const char *path, const char *key)
{
	if (path && *path)
		snprintf(out, size, "%s.%s", path, key);
	else
		snprintf(out, size, "%s", key);
	return out;
}

int jh_parse(const char *data, size_t len, json_t **ret, struct err_detail *err)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		return err_set(err, ERR_MALFORMED, "body", "malformed JSON at line %d column %d: %s", je.line,
			       je.column, je.text);
	*ret = j;
	return ERR_OK;
}

/* Looks the key up; ERR_OK with *ret_v = NULL when optional and absent. */
static int lookup(json_t *obj, const char *key, const char *path, bool required, json_t **ret_v,
		  struct err_detail *err)
{
	char f[128];
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v || json_is_null(v)) {
		if (required)
			return err_set(err, ERR_INVALID, jh_field(f, sizeof(f), path, key),
				       "'%s' is required", f);
		*ret_v = NULL;
		return ERR_OK;
	}
	*ret_v = v;
	return ERR_OK;
}

static int type_error(const char *path, const char *key, const char *what, struct err_detail *err)
{
	char f[128];

	jh_field(f, sizeof(f), path, key);
	return err_set(err, ERR_INVALID, f, "'%s' must be %s", f, what);
}

int jh_string(json_t *obj, const char *key, const char *path, bool required, const char **ret,
	      struct err_detail *err)
{
	json_t *v = NULL;
	int rc = lookup(obj, key, path, required, &v, err);

	if (rc || !v)
		return rc;
	if (!json_is_string(v))
		return type_error(path, key, "a string", err);
	*ret = json_string_value(v);
	return ERR_OK;
}

int jh_number(json_t *obj, const char *key, const char *path, bool required, double min, double max,
	      double *ret, struct err_detail *err)
{
	char f[128];
	json_t *v = NULL;
	int rc = lookup(obj, key, path, required, &v, err);

	if (rc || !v)
		return rc;
	if (!json_is_number(v))
		return type_error(path, key, "a number", err);
	double d = json_number_value(v);
	if (!(d >= min && d <= max))
		return err_set(err, ERR_INVALID, jh_field(f, sizeof(f), path, key),
			       "'%s' must be between %g and %g (got %g)", f, min, max, d);
	*ret = d;
	return ERR_OK;
}

int jh_int(json_t *obj, const char *key, const char *path, bool required, int64_t min, int64_t max,
	   int64_t *ret, struct err_detail *err)
{
	char f[128];
	json_t *v = NULL;
	int rc = lookup(obj, key, path, required, &v, err);

	if (rc || !v)
		return rc;
	if (!json_is_integer(v))
		return type_error(path, key, "an integer", err);
	int64_t i = json_integer_value(v);
	if (i < min || i > max)
		return err_set(err, ERR_INVALID, jh_field(f, sizeof(f), path, key),
			       "'%s' must be between %lld and %lld (got %lld)", f, (long long)min,
			       (long long)max, (long long)i);
	*ret = i;
	return ERR_OK;
}

int jh_bool(json_t *obj, const char *key, const char *path, bool required, bool *ret, struct err_detail *err)
{
	json_t *v = NULL;
	int rc = lookup(obj, key, path, required, &v, err);

	if (rc || !v)
		return rc;
	if (!json_is_boolean(v))
		return type_error(path, key, "true or false", err);
	*ret = json_is_true(v);
	return ERR_OK;
}

int jh_time(json_t *obj, const char *key, const char *path, bool required, int64_t *ret,
	    struct err_detail *err)
{
	char f[128];
	const char *s = NULL;
	int rc = jh_string(obj, key, path, required, &s, err);

	if (rc || !s)
		return rc;
	return ts_parse(s, jh_field(f, sizeof(f), path, key), ret, err);
}

int jh_duration(json_t *obj, const char *key, const char *path, bool required, int64_t *ret,
		struct err_detail *err)
{
	char f[128];
	const char *s = NULL;
	int rc = jh_string(obj, key, path, required, &s, err);

	if (rc || !s)
		return rc;
	return ts_parse_duration(s, jh_field(f, sizeof(f), path, key), ret, err);
}

int jh_string_array(json_t *obj, const char *key, const char *path, bool required, size_t max_len,
		    json_t **ret, struct err_detail *err)
{
	char f[128];
	json_t *v = NULL, *it;
	size_t i;
	int rc = lookup(obj, key, path, required, &v, err);

	if (rc || !v)
		return rc;
	jh_field(f, sizeof(f), path, key);
	if (!json_is_array(v))
		return err_set(err, ERR_INVALID, f, "'%s' must be an array of strings", f);
	if (json_array_size(v) > max_len)
		return err_set(err, ERR_INVALID, f, "'%s' has %zu entries, at most %zu are allowed", f,
			       json_array_size(v), max_len);
	json_array_foreach (v, i, it) {
		if (!json_is_string(it))
			return err_set(err, ERR_INVALID, f, "'%s[%zu]' must be a string", f, i);
	}
	*ret = v;
	return ERR_OK;
}

int jh_only_keys(json_t *obj, const char *const *allowed, const char *path, struct err_detail *err)
{
	const char *key;
	json_t *v;
	char f[128];

	json_object_foreach (obj, key, v) {
		bool ok = false;

		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, key);
		if (!ok)
			return err_set(err, ERR_INVALID, jh_field(f, sizeof(f), path, key),
				       "unknown field '%.64s'", f);
	}
	return ERR_OK;
}

static int dump_cb(const char *p, size_t n, void *data)
{
	return buf_add(data, p, n) ? -1 : 0;
}

int jh_dump(json_t *j, struct buf *b)
{
	return json_dump_callback(j, dump_cb, b, JSON_COMPACT | JSON_REAL_PRECISION(15)) ? ERR_TOO_LARGE
											 : ERR_OK;
}

void jh_set_time(json_t *obj, const char *key, int64_t t)
{
	char ts[TS_BUFSZ];

	json_object_set_new(obj, key, json_string(ts_format(t, ts)));
}

void jh_set_number(json_t *obj, const char *key, double v)
{
	json_object_set_new(obj, key, isfinite(v) ? json_real(v) : json_null());
}
