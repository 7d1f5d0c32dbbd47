/*
 * routes.c - the route table and the router.
 *
 * Patterns are matched segment by segment; "{name}" captures one segment
 * into req->path_params in order.  A path that matches with another
 * method gets 405 with an Allow header; HEAD is answered as GET (the
 * server drops the body).
 *
 * The router also records each request's metrics (telemetry.h): it is
 * the one place that knows the matched route *pattern*, so the labels
 * stay bounded whatever paths clients send.  Requests the server answers
 * itself (413 for a body too large) are not routed and not counted.
 *
 * Each route names the scope a caller needs (auth.h); the router checks
 * it before the handler runs, so no handler can forget to.  Paths that
 * match no route get 404/405 without a key: the route list is public
 * (/openapi.json) anyway.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "service/app.h"
#include "service/auth.h"
#include "service/handlers.h"
#include "service/limits.h"

/* Dispatch; returns the pattern the path matched (also on 405), or NULL. */
static const char *dispatch(struct http_request *req, struct http_response *res);

/* R = read, S = schedule, OPEN = no key (probes); admin grants all. */
#define R    AUTH_READ
#define S    AUTH_SCHEDULE
#define OPEN AUTH_NONE
static const struct route {
	const char *method;
	const char *pattern;
	handler_fn fn;
	unsigned scope; /* what the caller's key must grant (auth.h) */
} routes[] = {
    {"GET", "/healthz", h_healthz, OPEN},
    {"GET", "/readyz", h_readyz, OPEN},
    {"GET", "/v1/regions", h_regions_list, R},
    {"GET", "/v1/regions/{id}", h_region_get, R},
    {"GET", "/v1/regions/{id}/signals", h_region_signals, R},
    /* forecasts */
    {"GET", "/v1/regions/{id}/forecast", h_region_forecast, R},
    {"GET", "/v1/regions/{id}/forecast/skill", h_region_forecast_skill, R},
    /* sources */
    {"GET", "/v1/sources", h_sources_list, R},
    {"GET", "/v1/sources/{name}", h_source_get, R},
    /* scheduling and jobs */
    {"POST", "/v1/schedule", h_schedule, S},
    {"POST", "/v1/jobs", h_jobs_create, S},
    {"GET", "/v1/jobs", h_jobs_list, R},
    {"GET", "/v1/jobs/{id}", h_job_get, R},
    {"DELETE", "/v1/jobs/{id}", h_job_cancel, S},
    {"POST", "/v1/jobs/{id}/start", h_job_start, S},
    {"POST", "/v1/jobs/{id}/complete", h_job_complete, S},
    /* interfaces (compatibility, metrics, dashboard) */
    {"GET", "/metrics", h_metrics, R},
    {"GET", "/openapi.json", h_openapi, R},
    {"GET", "/", h_dashboard, R},
    {"GET", "/assets/{name}", h_asset, R},
    /* Carbon Aware SDK WebAPI compatibility (h_sdk.c) */
    {"GET", "/emissions/bylocation", h_sdk_bylocation, R},
    {"GET", "/emissions/bylocations", h_sdk_bylocations, R},
    {"GET", "/emissions/bylocations/best", h_sdk_best, R},
    {"GET", "/emissions/forecasts/current", h_sdk_forecasts_current, R},
    {"POST", "/emissions/forecasts/batch", h_sdk_forecasts_batch, R},
    {"GET", "/emissions/average-carbon-intensity", h_sdk_average, R},
    {"POST", "/emissions/average-carbon-intensity/batch", h_sdk_average_batch, R},
    {"GET", "/locations", h_sdk_locations, R},
    {"GET", "/health", h_sdk_health, R},
};
#undef R
#undef S
#undef OPEN

void routes_each(void (*fn)(void *ctx, const char *method, const char *pattern), void *ctx)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		fn(ctx, routes[i].method, routes[i].pattern);
}

int routes_scope(const char *method, const char *pattern)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(routes[i].method, method) && !strcmp(routes[i].pattern, pattern))
			return (int)routes[i].scope;
	return -1;
}

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

/* A bounded method label: the methods of HTTP, else "other". */
static const char *method_label(const char *m)
{
	static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(m, known[i]))
			return known[i];
	return "other";
}

static double mono_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void record(struct http_request *req, const char *pattern, int status, double seconds)
{
	struct app *app = app_of(req);
	const char *method = method_label(req->method);
	char st[8];

	if (!app || !app->telemetry)
		return;
	snprintf(st, sizeof(st), "%d", status);
	metric_inc(TM_GET(app, HTTP_REQUESTS, pattern, method, st));
	metric_observe(TM_GET(app, HTTP_DURATION, pattern, method), seconds);
	metric_add(TM_GET0(app, HTTP_IN_FLIGHT), -1);
}

void routes_dispatch(struct http_request *req, struct http_response *res)
{
	double t0 = mono_seconds();

	if (app_of(req) && app_of(req)->telemetry)
		metric_add(TM_GET0(app_of(req), HTTP_IN_FLIGHT), 1);
	const char *pattern = dispatch(req, res);

	record(req, pattern ? pattern : "unmatched", res->status, mono_seconds() - t0);
}

static const char *dispatch(struct http_request *req, struct http_response *res)
{
	struct err_detail err = {{0}, {0}};
	const char *method = strcmp(req->method, "HEAD") ? req->method : "GET";
	const struct route *found = NULL;
	const char *pattern = NULL;
	struct buf allow;
	int rc;

	buf_init(&allow, 0);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, req->path, NULL))
			continue;
		if (!pattern)
			pattern = routes[i].pattern;
		if (!strcmp(routes[i].method, method)) {
			found = &routes[i];
			break;
		}
		buf_addf(&allow, "%s%s", allow.len ? ", " : "", routes[i].method);
	}
	if (found) {
		pattern = found->pattern;
		match(found->pattern, req->path, req);
		/* Who asks first: a caller without the scope gets no body parsed. */
		rc = found->scope && app_of(req) && app_of(req)->auth
			 ? auth_request(app_of(req)->auth, req, res, found->scope, &err)
			 : ERR_OK;
		if (!rc)
			rc = limits_check_body(req, &err);
		if (!rc)
			rc = found->fn(req, res, &err);
	} else if (allow.len) {
		http_set_header(req, res, "Allow", allow.data);
		rc = err_set(&err, ERR_METHOD, NULL, "%s is not allowed on %s; allowed: %s", req->method,
			     req->path, allow.data);
	} else {
		rc = err_set(&err, ERR_NOT_FOUND, NULL, "no route %s", req->path);
	}
	buf_release(&allow);
	if (rc) {
		/* Drop whatever a failing handler had started to write. */
		buf_reset(&res->body);
		reply_problem(req, res, rc, &err);
	}
	return pattern;
}
