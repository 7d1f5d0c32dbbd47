/*
 * handlers.h - every HTTP handler, listed in the route table (routes.c).
 *
 * A handler fills 'res' and returns ERR_OK, or returns an error code with
 * 'err' filled; the router turns errors into problem+json.  Handlers use
 * the request arena and never free anything themselves.
 */
#ifndef CARBONSCHED_SERVICE_HANDLERS_H
#define CARBONSCHED_SERVICE_HANDLERS_H

#include "core/error.h"
#include "service/http.h"

typedef int (*handler_fn)(struct http_request *req, struct http_response *res, struct err_detail *err);

int h_healthz(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_readyz(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_regions_list(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_region_get(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_region_signals(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_metrics(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_openapi(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_dashboard(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_asset(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sources_list(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_source_get(struct http_request *req, struct http_response *res, struct err_detail *err);
/* forecasts (h_forecast.c) */
int h_region_forecast(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_region_forecast_skill(struct http_request *req, struct http_response *res, struct err_detail *err);
/* scheduling and jobs (h_jobs.c) */
int h_schedule(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_jobs_create(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_jobs_list(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_job_get(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_job_start(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_job_complete(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_job_cancel(struct http_request *req, struct http_response *res, struct err_detail *err);
/* The Carbon Aware SDK WebAPI (h_sdk.c). */
int h_sdk_bylocation(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_bylocations(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_best(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_forecasts_current(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_forecasts_batch(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_average(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_average_batch(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_locations(struct http_request *req, struct http_response *res, struct err_detail *err);
int h_sdk_health(struct http_request *req, struct http_response *res, struct err_detail *err);

/* The router: dispatch a request through the route table, recording its
 * metrics by route pattern. */
void routes_dispatch(struct http_request *req, struct http_response *res);
/* Call fn for every row of the route table, in order (tests compare it
 * with the OpenAPI document). */
void routes_each(void (*fn)(void *ctx, const char *method, const char *pattern), void *ctx);
/* The scope (auth.h) the route of method and pattern needs; -1 when there
 * is no such route. */
int routes_scope(const char *method, const char *pattern);

#endif
