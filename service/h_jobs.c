/*
 * h_jobs.c - the scheduling and jobs routes: advice (POST /v1/schedule)
 * and booked jobs (/v1/jobs...).
 *
 * HTTP glue only: query parameters, headers, status codes and Location;
 * the work is in jobs.c.  Advice does no SQL when the planner's snapshot
 * is current.
 */
#include <stdio.h>
#include <string.h>

#include "core/time.h"
#include "service/app.h"
#include "service/auth.h"
#include "service/handlers.h"
#include "service/jobs.h"
#include "service/limits.h"
#include "service/telemetry.h"

/* carbonsched_schedule_requests_total{outcome} */
static void count(struct http_request *req, int rc, const char *ok)
{
	const char *outcome = !rc ? ok : rc == ERR_NO_CAPACITY ? "no_capacity" : "rejected";

	if (app_of(req)->telemetry)
		metric_inc(TM_GET(app_of(req), SCHEDULE_REQUESTS, outcome));
}

static int env_of(struct http_request *req, struct jobs_env *env, struct err_detail *err)
{
	struct app *app = app_of(req);

	if (!app->planner)
		return err_set(err, ERR_UNAVAILABLE, NULL, "the scheduler is starting; retry shortly");
	*env = (struct jobs_env){app->cfg, &app->clock, app->planner, app->cache, auth_tenant(req)};
	return ERR_OK;
}

static int no_query(struct http_request *req, struct err_detail *err)
{
	static const char *const none[] = {NULL};

	return query_only(req, none, err);
}

int h_schedule(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	struct planner_snap *s;
	struct jobs_env env;
	struct job_req rq;
	int rc;

	if ((rc = no_query(req, err)) || (rc = env_of(req, &env, err)) ||
	    (rc = jobreq_parse(req->body, req->body_len, false, 0, &rq, err))) {
		count(req, rc, "advised");
		return rc;
	}
	if (!(rc = planner_acquire(env.planner, &s, err))) {
		reply_json_raw(res, 200);
		rc = jobs_advise(&env, s, &rq, &res->body, err);
		planner_release(env.planner, s);
	}
	jobreq_release(&rq);
	count(req, rc, "advised");
	return rc;
}

/* 1-200 visible ASCII characters. */
static int idempotency_key(struct http_request *req, const char **ret, struct err_detail *err)
{
	const char *k = http_header(req, "Idempotency-Key");

	*ret = NULL;
	if (!k)
		return ERR_OK;
	size_t n = strlen(k);
	bool ok = n >= 1 && n <= 200;
	for (const char *p = k; ok && *p; p++)
		ok = *p > ' ' && *p < 0x7f;
	if (!ok)
		return err_set(err, ERR_INVALID, "Idempotency-Key",
			       "the Idempotency-Key header must be 1-200 visible ASCII characters");
	*ret = k;
	return ERR_OK;
}

int h_jobs_create(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	struct jobs_env env;
	struct job_req rq;
	const char *key;
	struct db *db;
	bool created;
	char id[37];
	int rc;

	if ((rc = no_query(req, err)) || (rc = env_of(req, &env, err)) ||
	    (rc = idempotency_key(req, &key, err)) ||
	    (rc = jobreq_parse(req->body, req->body_len, true, app_of(req)->cfg->max_job_count, &rq, err))) {
		count(req, rc, "booked");
		return rc;
	}
	if (!(rc = app_db(req, &db, err)) &&
	    !(rc = jobs_book(&env, db, &rq, key, &res->body, &created, id, err))) {
		reply_json_raw(res, created ? 201 : 200);
		if (rq.count == 1) {
			char loc[64];

			snprintf(loc, sizeof(loc), "/v1/jobs/%s", id);
			http_set_header(req, res, "Location", loc);
		}
		if (!created)
			http_set_header(req, res, "Idempotent-Replayed", "true");
	}
	jobreq_release(&rq);
	count(req, rc, "booked");
	return rc;
}

int h_job_get(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	struct jobs_env env;
	struct db *db;
	int rc;

	if ((rc = no_query(req, err)) || (rc = env_of(req, &env, err)) || (rc = app_db(req, &db, err)) ||
	    (rc = jobs_get(&env, db, req->path_params[0], &res->body, err)))
		return rc;
	reply_json_raw(res, 200);
	return ERR_OK;
}

int h_jobs_list(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {"state", "from", "to", "limit", "cursor", NULL};
	static const char *const states[] = {"scheduled", "running", "completed",
					     "cancelled", "failed",  NULL};
	const char *state = http_query(req, "state"), *lim = http_query(req, "limit"),
		   *cursor = http_query(req, "cursor");
	int64_t from = 0, to = INT64_C(253402300799); /* 9999-12-31T23:59:59Z */
	struct jobs_env env;
	struct db *db;
	int limit = 100, rc;
	char next[128];

	if ((rc = query_only(req, allowed, err)) || (rc = env_of(req, &env, err)) ||
	    (rc = query_time(req, "from", false, &from, err)) ||
	    (rc = query_time(req, "to", false, &to, err)))
		return rc;
	if (state) {
		bool ok = false;
		for (const char *const *s = states; *s && !ok; s++)
			ok = !strcmp(*s, state);
		if (!ok)
			return err_set(
			    err, ERR_INVALID, "state",
			    "'state' must be scheduled, running, completed, cancelled or failed, not '%.32s'",
			    state);
	}
	if (lim) {
		char *end;
		long v = strtol(lim, &end, 10);

		if (end == lim || *end || v < 1 || v > 1000)
			return err_set(err, ERR_INVALID, "limit",
				       "'limit' must be an integer from 1 to 1000");
		limit = (int)v;
	}
	if (from >= to)
		return err_set(err, ERR_INVALID, "from", "'from' must be before 'to'");
	/* An open end is bounded by the pages (limit, cursor); a closed range by the cap. */
	if (http_query(req, "from") && http_query(req, "to") &&
	    (rc = limits_range("to", from, to, app_of(req)->cfg->max_jobs_range, "limits.max_jobs_range",
			       err)))
		return rc;
	if ((rc = app_db(req, &db, err)) ||
	    (rc = jobs_list(&env, db, state, from, to, cursor, limit, &res->body, next, sizeof(next), err)))
		return rc;
	reply_json_raw(res, 200);
	buf_adds(&res->body, ",\"next\":");
	if (next[0]) {
		struct buf url;
		char t[TS_BUFSZ];

		buf_init(&url, 0);
		buf_addf(&url, "/v1/jobs?limit=%d", limit);
		if (state)
			buf_addf(&url, "&state=%s", state);
		if (http_query(req, "from"))
			buf_addf(&url, "&from=%s", ts_format(from, t));
		if (http_query(req, "to"))
			buf_addf(&url, "&to=%s", ts_format(to, t));
		buf_addf(&url, "&cursor=%s", next);
		buf_add_json_string(&res->body, url.data);
		buf_release(&url);
	} else {
		buf_adds(&res->body, "null");
	}
	buf_adds(&res->body, "}\n");
	return ERR_OK;
}

int h_job_start(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	struct jobs_env env;
	struct db *db;
	int rc;

	if ((rc = no_query(req, err)) || (rc = env_of(req, &env, err)) || (rc = app_db(req, &db, err)) ||
	    (rc = jobs_start(&env, db, req->path_params[0], req->body, req->body_len, &res->body, err)))
		return rc;
	reply_json_raw(res, 200);
	return ERR_OK;
}

int h_job_complete(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	struct jobs_env env;
	struct db *db;
	int rc;

	if ((rc = no_query(req, err)) || (rc = env_of(req, &env, err)) || (rc = app_db(req, &db, err)) ||
	    (rc = jobs_complete(&env, db, req->path_params[0], req->body, req->body_len, &res->body, err)))
		return rc;
	reply_json_raw(res, 200);
	return ERR_OK;
}

int h_job_cancel(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	struct jobs_env env;
	struct db *db;
	int rc;

	if ((rc = no_query(req, err)) || (rc = env_of(req, &env, err)) || (rc = app_db(req, &db, err)) ||
	    (rc = jobs_cancel(&env, db, req->path_params[0], &res->body, err)))
		return rc;
	reply_json_raw(res, 200);
	return ERR_OK;
}
