/*
 * reply.c - JSON and problem+json responses, and query-parameter helpers
 * shared by every handler.
 */
#include <string.h>
#include <strings.h>

#include "core/jsonh.h"
#include "core/log.h"
#include "core/time.h"
#include "service/app.h"

struct lease {
	struct db_pool *pool;
	struct db *db;
};

static void release_lease(void *p)
{
	struct lease *l = p;

	db_release(l->pool, l->db);
}

int app_db(struct http_request *req, struct db **ret, struct err_detail *err)
{
	struct app *app = app_of(req);
	struct lease *l;
	struct db *db;
	int rc;

	/* The service always has a pool; the route fuzzer (tests/fuzz/fuzz_routes.c)
	 * runs the handlers without one, up to their first query. */
	if (!app->pool)
		return err_set(err, ERR_UNAVAILABLE, NULL, "no database");
	if ((rc = db_acquire(app->pool, 5000, &db, err)))
		return rc;
	l = arena_alloc(req->arena, sizeof(*l));
	l->pool = app->pool;
	l->db = db;
	arena_defer(req->arena, release_lease, l);
	*ret = db;
	return ERR_OK;
}

void reply_json_raw(struct http_response *res, int status)
{
	res->status = status;
	res->content_type = "application/json";
}

void reply_json(struct http_request *req, struct http_response *res, int status, json_t *j)
{
	(void)req;
	reply_json_raw(res, status);
	jh_dump(j, &res->body);
	buf_addc(&res->body, '\n');
	json_decref(j);
}

void reply_problem(struct http_request *req, struct http_response *res, int code,
		   const struct err_detail *err)
{
	json_t *p = json_object();
	const char *detail = err && err->msg[0] ? err->msg : err_title(code);
	char type[96];

	snprintf(type, sizeof(type), "urn:carbonsched:problem:%s", err_code_name(code));
	json_object_set_new(p, "type", json_string(type));
	json_object_set_new(p, "title", json_string(err_title(code)));
	json_object_set_new(p, "status", json_integer(err_http_status(code)));
	json_object_set_new(p, "detail", json_string(detail));
	json_object_set_new(p, "code", json_string(err_code_name(code)));
	json_object_set_new(p, "instance", json_string(req->path));
	json_object_set_new(p, "request_id", json_string(req->request_id));
	if (err && err->field[0]) {
		json_t *ip = json_object();

		json_object_set_new(ip, "name", json_string(err->field));
		json_object_set_new(ip, "reason", json_string(detail));
		json_object_set_new(p, "invalid_params", json_pack("[o]", ip));
	}
	/* Internal details stay in the log, not in the answer. */
	if (err_http_status(code) >= 500 && code != ERR_DB && code != ERR_UNAVAILABLE &&
	    code != ERR_UPSTREAM) {
		log_error("%s", detail);
		json_object_set_new(p, "detail", json_string("internal error; see the service log"));
	} else if (code == ERR_DB) {
		log_warn("database: %s", detail);
		json_object_set_new(p, "detail", json_string("the database is unavailable; retry later"));
	}
	reply_json(req, res, err_http_status(code), p);
	res->content_type = "application/problem+json";
	bool has_retry = false; /* the rate limiter sets its own */
	for (int i = 0; i < res->nheaders; i++)
		has_retry |= !strcasecmp(res->headers[i].name, "Retry-After");
	if (!has_retry && (err_http_status(code) == 503 || err_http_status(code) == 429))
		http_set_header(req, res, "Retry-After", "5");
}

struct only_ctx {
	const char *const *allowed;
	struct err_detail *err;
};

static int only_cb(void *ctx, const char *key, const char *value)
{
	struct only_ctx *o = ctx;

	(void)value;
	for (const char *const *a = o->allowed; *a; a++)
		if (!strcmp(*a, key))
			return 0;
	struct buf list;
	buf_init(&list, 0);
	for (const char *const *a = o->allowed; *a; a++)
		buf_addf(&list, "%s%s", a == o->allowed ? "" : ", ", *a);
	err_set(o->err, ERR_INVALID, key, "unknown parameter '%.64s'; this route takes: %s", key,
		list.len ? list.data : "no parameters");
	buf_release(&list);
	return ERR_INVALID;
}

int query_only(const struct http_request *req, const char *const *allowed, struct err_detail *err)
{
	struct only_ctx o = {allowed, err};

	return http_query_each(req, only_cb, &o);
}

int query_time(const struct http_request *req, const char *key, bool required, int64_t *ret,
	       struct err_detail *err)
{
	const char *v = http_query(req, key);

	if (!v && !required)
		return ERR_OK;
	return ts_parse(v, key, ret, err);
}

int query_duration(const struct http_request *req, const char *key, bool required, int64_t *ret,
		   struct err_detail *err)
{
	const char *v = http_query(req, key);

	if (!v && !required)
		return ERR_OK;
	return ts_parse_duration(v, key, ret, err);
}

bool wants_csv(const struct http_request *req)
{
	const char *accept = http_header(req, "Accept");
	const char *format = http_query(req, "format");

	if (format)
		return !strcmp(format, "csv");
	return accept && strstr(accept, "text/csv") && !strstr(accept, "application/json");
}
