/*
 * jobs.h - advice and booked jobs: a request resolved against the
 * planner's snapshot, bookings serialised by PostgreSQL, the job
 * lifecycle, re-planning and realised emissions.
 *
 * HTTP-free: handlers (h_jobs.c) and workers (jobs_workers.c) call these
 * with a database connection; answers are written as JSON into a buf.
 */
#ifndef CARBONSCHED_SERVICE_JOBS_H
#define CARBONSCHED_SERVICE_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "service/config.h"
#include "service/db.h"
#include "service/jobreq.h"
#include "service/planner.h"
#include "service/sched.h"
#include "service/sigcache.h"

/* What jobs.c needs of the service (all borrowed). */
struct jobs_env {
	const struct config *cfg;
	const struct clock *clock;
	struct planner *planner;
	struct sigcache *cache;
	const char *tenant; /* a tenant's key: its jobs only (others are "not found"); NULL = all */
};

/* A request resolved against a snapshot: the engine's job and the
 * candidate regions (indices into the snapshot's model). */
struct jobs_plan {
	struct sched_job job;
	size_t *cand;
	size_t ncand;
	int64_t now;
};

/* Check the request against the clock, the regions and the forecast
 * horizon and fill *ret (release with jobs_plan_release).  Errors naming
 * the field: ERR_INVALID (unknown origin or region, deadline in the past,
 * duration longer than the window on the grid), ERR_UNPROCESSABLE (window
 * beyond the forecast horizon - the message says how far it reaches -,
 * residency that excludes every region). */
int jobs_prepare(const struct jobs_env *env, const struct planner_snap *s, const struct job_req *rq,
		 int64_t now, struct jobs_plan *ret, struct err_detail *err);
void jobs_plan_release(struct jobs_plan *p);

/* POST /v1/schedule: place without booking (capacity as last loaded) and
 * write the answer into out.  Errors as sched_place. */
int jobs_advise(const struct jobs_env *env, const struct planner_snap *s, const struct job_req *rq,
		struct buf *out, struct err_detail *err);

/* POST /v1/jobs: book rq (count copies) under the idempotency key (NULL =
 * none).  Writes the job (or {"array_id","count","jobs"} for count > 1)
 * into out; *ret_created is false when the key had booked it before.
 * Errors: those of jobs_prepare and sched_place, ERR_NO_CAPACITY,
 * ERR_CONFLICT (the key was used with another body), ERR_INVALID
 * (callback_url refused), ERR_DB. */
int jobs_book(const struct jobs_env *env, struct db *db, const struct job_req *rq, const char *key,
	      struct buf *out, bool *ret_created, char ret_id[37], struct err_detail *err);

/* GET /v1/jobs/{id}: the job with its segments and plan history.
 * ERR_INVALID (not a UUID, field "id"), ERR_NOT_FOUND. */
int jobs_get(const struct jobs_env *env, struct db *db, const char *id, struct buf *out,
	     struct err_detail *err);

/* GET /v1/jobs: jobs planned to start in [from, to) in state 'state' (NULL
 * = any), after the cursor ("" = from the start), at most 'limit'. */
int jobs_list(const struct jobs_env *env, struct db *db, const char *state, int64_t from, int64_t to,
	      const char *cursor, int limit, struct buf *out, char *ret_next, size_t next_size,
	      struct err_detail *err);

/* Lifecycle.  body is the request body ("" when none), checked here
 * (unknown fields refused).  ERR_CONFLICT when the state does not allow
 * the transition (the message says the state), ERR_NOT_FOUND. */
int jobs_start(const struct jobs_env *env, struct db *db, const char *id, const char *body, size_t len,
	       struct buf *out, struct err_detail *err);
/* body: {"measured_kwh", "completed_at"?, "started_at"?}: realised
 * emissions from the signals that really happened, the realised baseline
 * (the same energy run from submission in the origin region) and the
 * saving; the unused rest of the reservation is freed. */
int jobs_complete(const struct jobs_env *env, struct db *db, const char *id, const char *body, size_t len,
		  struct buf *out, struct err_detail *err);
/* The request bodies of the lifecycle routes, without the database (pure;
 * the route fuzzer calls them).  start: *ret_at = started_at, else now.
 * complete: measured_kwh (required), completed_at (else now), started_at
 * (else 0: the job's own start).  Times later than now + 60 s are refused.
 * ERR_INVALID naming the field. */
int jobs_start_body_parse(const char *body, size_t len, int64_t now, int64_t *ret_at, struct err_detail *err);
int jobs_complete_body_parse(const char *body, size_t len, int64_t now, double *ret_kwh, int64_t *ret_done,
			     int64_t *ret_began, struct err_detail *err);
/* The 'cursor' of GET /v1/jobs ("<start>_<uuid>", as jobs_list gives out):
 * NULL or "" leaves the outputs untouched.  ERR_INVALID (field "cursor"). */
int jobs_cursor_parse(const char *cursor, int64_t *ret_ts, char ret_id[37], struct err_detail *err);

/* Cancel: frees the capacity still held.  Cancelling a cancelled job
 * answers it again; a completed job is ERR_CONFLICT. */
int jobs_cancel(const struct jobs_env *env, struct db *db, const char *id, struct buf *out,
		struct err_detail *err);

/* Completed jobs (of the last 7 days) whose realised emissions or
 * baseline were unknown at completion - their signals had not arrived -
 * get them now if the signals have come.  *ret_filled (may be NULL)
 * counts jobs now complete. */
int jobs_fill_realised(const struct jobs_env *env, struct db *db, size_t *ret_filled, struct err_detail *err);

/* Re-plan the scheduled jobs that have not started on snapshot s: each
 * moves only when that lowers its emissions (on its risk quantile) by
 * more than cfg->replan_min_gain_pct.  One job per transaction, under the
 * same row locks as bookings.  *ret_moved (may be NULL) counts moves. */
int jobs_replan_all(const struct jobs_env *env, struct db *db, const struct planner_snap *s,
		    size_t *ret_checked, size_t *ret_moved, struct err_detail *err);

/* Start callbacks that are due: POST to each job's callback_url (one job
 * per transaction, rows locked with SKIP LOCKED so that replicas share the
 * work).  'send' does the request; returns the HTTP status or a negative
 * value with err filled. */
typedef int (*jobs_send_fn)(void *ctx, const char *url, const char *body, size_t len, struct err_detail *err);
int jobs_callbacks_due(const struct jobs_env *env, struct db *db, jobs_send_fn send, void *ctx,
		       size_t *ret_sent, struct err_detail *err);

/* A new random (version 4) UUID as text. */
void jobs_uuid(char out[37]);
bool jobs_is_uuid(const char *s);

#endif
