/*
 * routes.c - the route table and the router.
 *
 * Patterns are matched segment by segment; "{name}" captures one segment
 * into req->path_params in order.  A path that matches with another
 * method gets 405 with an Allow header; HEAD is answered as GET (the
 * server drops the body).
 */
#include <string.h>

#include "core/buf.h"
#include "service/app.h"
#include "service/handlers.h"

static const struct route {
	const char *method;
	const char *pattern;
	handler_fn fn;
} routes[] = {
	{"GET", "/healthz", h_healthz},
	{"GET", "/readyz", h_readyz},
	{"GET", "/v1/regions", h_regions_list},
	{"GET", "/v1/regions/{id}", h_region_get},
	{"GET", "/v1/regions/{id}/signals", h_region_signals},
	/* forecasts */
	/* sources */
	/* scheduling and jobs */
	/* interfaces (compatibility, metrics, dashboard) */
};

/* Match 'path' against 'pattern'; captures go to req when it is non-NULL. */
static bool match(const char *pattern, const char *path, struct http_request *req)
{
	const char *p = pattern, *u = path;
	int n = 0;

	while (*p && *u) {
		if (*p == '{') {
			const char *end = strchr(u, '/');
			size_t len = end ? (size_t)(end - u) : strlen(u);

			if (!len || n >= HTTP_MAX_PATH_PARAMS)
				return false;
			if (req)
				req->path_params[n] = arena_strndup(req->arena, u, len);
			n++;
			u += len;
			p = strchr(p, '}') + 1;
			continue;
		}
		if (*p++ != *u++)
			return false;
	}
	if (*p || *u)
		return false;
	if (req)
		req->npath_params = n;
	return true;
}

void routes_dispatch(struct http_request *req, struct http_response *res)
{
	struct err_detail err = {{0}, {0}};
	const char *method = strcmp(req->method, "HEAD") ? req->method : "GET";
	const struct route *found = NULL;
	struct buf allow;
	int rc;

	buf_init(&allow, 0);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, req->path, NULL))
			continue;
		if (!strcmp(routes[i].method, method)) {
			found = &routes[i];
			break;
		}
		buf_addf(&allow, "%s%s", allow.len ? ", " : "", routes[i].method);
	}
	if (found) {
		match(found->pattern, req->path, req);
		rc = found->fn(req, res, &err);
	} else if (allow.len) {
		http_set_header(req, res, "Allow", allow.data);
		rc = err_set(&err, ERR_METHOD, NULL, "%s is not allowed on %s; allowed: %s", req->method, req->path,
			     allow.data);
	} else {
		rc = err_set(&err, ERR_NOT_FOUND, NULL, "no route %s", req->path);
	}
	buf_release(&allow);
	if (rc) {
		/* Drop whatever a failing handler had started to write. */
		buf_reset(&res->body);
		reply_problem(req, res, rc, &err);
	}
}
