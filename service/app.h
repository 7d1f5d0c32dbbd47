/*
 * app.h - the running service as handlers see it.
 */
#ifndef CARBONSCHED_SERVICE_APP_H
#define CARBONSCHED_SERVICE_APP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/error.h"
#include "service/clock.h"
#include "service/config.h"
#include "service/db.h"
#include "service/http.h"
#include "service/sigcache.h"
#include "service/telemetry.h"
#include "service/source.h"

struct auth;
struct planner;

struct app {
	const struct config *cfg;
	struct db_pool *pool;
	struct clock clock;
	struct sigcache *cache;
	struct telemetry *telemetry;  /* Prometheus metrics (telemetry.h) */
	struct source_health *health; /* freshness and failing sources for the read path (source.h) */
	struct planner *planner;      /* the scheduler's inputs; set by the 'scheduler inputs' worker */
	struct auth *auth;	      /* API keys and rate limits (auth.h); NULL = every route open */
	int64_t started_at;	      /* real time the process started serving */
	atomic_bool stopping;	      /* set at shutdown: workers finish their round and return */
};

/* Borrow a database connection for the rest of the request: it goes back
 * to the pool when the request's arena is freed.  ERR_DB / ERR_UNAVAILABLE
 * when PostgreSQL cannot be reached. */
int app_db(struct http_request *req, struct db **ret, struct err_detail *err);

/* Effective PUE of a region at 'now' (the constant, or the temperature
 * model on the zone's latest temperature) and, in *ret_source, which
 * (h_regions.c). */
double region_pue_now(struct sigcache *cache, struct db *db, const struct region_cfg *r, int64_t now,
		      const char **ret_source);

/* The service of a request. */
static inline struct app *app_of(const struct http_request *req)
{
	return req->app;
}

/* --- replies ------------------------------------------------------------ */

/* Serialise j (stolen) as the response body with 'status'. */
void reply_json(struct http_request *req, struct http_response *res, int status, json_t *j);
/* application/problem+json for an error code with its detail (RFC 9457):
 * type, title, status, detail, code, instance, request_id and, when the
 * detail names a field, invalid_params [{name, reason}]. */
void reply_problem(struct http_request *req, struct http_response *res, int code,
		   const struct err_detail *err);
/* Start a JSON body written by hand (hot paths): sets status and type. */
void reply_json_raw(struct http_response *res, int status);

/* --- query parameters ----------------------------------------------------- */

/* ERR_INVALID naming the first query parameter not in 'allowed'
 * (NULL-terminated): unknown parameters are refused, not ignored. */
int query_only(const struct http_request *req, const char *const *allowed, struct err_detail *err);
/* RFC 3339 parameter; absent leaves *ret untouched unless required. */
int query_time(const struct http_request *req, const char *key, bool required, int64_t *ret,
	       struct err_detail *err);
/* Duration parameter (ISO 8601 or 4h). */
int query_duration(const struct http_request *req, const char *key, bool required, int64_t *ret,
		   struct err_detail *err);

/* True when the client asked for CSV (Accept: text/csv or format=csv). */
bool wants_csv(const struct http_request *req);

#endif
