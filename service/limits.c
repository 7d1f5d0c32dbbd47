/*
 * limits.c - see limits.h.
 *
 * The lists with their own, tighter caps are a table: route path, where the
 * array sits in the body, which limit applies.  The pre-scan (core/jsonscan.h)
 * asks the table for every array it meets, so the caps hold before jansson
 * builds anything, and every route's body is covered by the general caps
 * without its handler doing anything.
 */
#include "service/limits.h"

#include <stdio.h>
#include <string.h>

#include "core/jsonscan.h"
#include "core/time.h"
#include "service/app.h"

enum cap_kind { CAP_LIST, CAP_BATCH };

static const struct list_cap {
	const char *route; /* exact path of a POST route */
	const char *array; /* the array's place in the body; "" = the body itself */
	enum cap_kind kind;
} list_caps[] = {
    {"/v1/schedule", "regions", CAP_LIST},
    {"/v1/schedule", "residency", CAP_LIST},
    {"/v1/jobs", "regions", CAP_LIST},
    {"/v1/jobs", "residency", CAP_LIST},
    {"/emissions/forecasts/batch", "", CAP_BATCH},
    {"/emissions/average-carbon-intensity/batch", "", CAP_BATCH},
};

struct cap_ctx {
	const struct http_request *req;
	const struct config *cfg;
};

static size_t array_cap(void *p, const char *path, const char **ret_key)
{
	struct cap_ctx *c = p;

	for (size_t i = 0; i < sizeof(list_caps) / sizeof(list_caps[0]); i++) {
		const struct list_cap *l = &list_caps[i];

		if (strcmp(l->route, c->req->path) || strcmp(l->array, path))
			continue;
		*ret_key = l->kind == CAP_LIST ? "limits.max_list_items" : "limits.max_batch_items";
		return (size_t)(l->kind == CAP_LIST ? c->cfg->max_list_items : c->cfg->max_batch_items);
	}
	return 0;
}

int limits_check_body(const struct http_request *req, struct err_detail *err)
{
	const struct app *app = app_of(req);

	if (!req->body_len || !app || !app->cfg)
		return ERR_OK;
	struct cap_ctx c = {req, app->cfg};
	struct jscan_limits lim = {
	    .max_depth = app->cfg->max_json_depth,
	    .max_items = (size_t)app->cfg->max_array_items,
	    .depth_key = "limits.max_json_depth",
	    .items_key = "limits.max_array_items",
	    .array_cap = array_cap,
	    .ctx = &c,
	};
	return jscan_check(req->body, req->body_len, &lim, err);
}

int limits_count(const char *field, size_t n, size_t cap, const char *key, struct err_detail *err)
{
	if (n <= cap)
		return ERR_OK;
	return err_set(err, ERR_LIMIT, field, "'%s' has %zu items; at most %zu (%s)", field, n, cap, key);
}

int limits_range(const char *field, int64_t from, int64_t to, int64_t max, const char *key,
		 struct err_detail *err)
{
	char d[32];

	if (to - from <= max)
		return ERR_OK;
	return err_set(err, ERR_RANGE_TOO_LARGE, field,
		       "the range spans %.1f days; at most %s (%.0f days) (%s)", (double)(to - from) / TS_DAY,
		       ts_format_duration(max, d), (double)max / TS_DAY, key);
}
