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

/* The router: dispatch a request through the route table. */
void routes_dispatch(struct http_request *req, struct http_response *res);

#endif
