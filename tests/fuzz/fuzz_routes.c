/*
 * fuzz_routes.c - libFuzzer target for what every route reads from a
 * request before it needs PostgreSQL: the router (path patterns, 405),
 * query strings and their values (unknown parameters, times, durations,
 * kind/format/state/limit/model/horizon, the Carbon Aware SDK's
 * parameters), headers (Accept, Content-Type, If-None-Match,
 * Idempotency-Key) and bodies (POST /v1/jobs with count arrays, the SDK
 * batches), through the real handlers (routes_dispatch).
 *
 * The input is a small HTTP request: "METHOD TARGET\n", header lines
 * "Name: value\n", an empty line, the body.  The target's path and query
 * are split and percent-decoded as libmicrohttpd does ('+' is a space in
 * the query), which this file stands in for: it defines the request
 * accessors of service/http.h (http_query, http_header, http_client_addr...) over the parsed
 * request, so service/http.c (and libmicrohttpd) are not linked.  The
 * app has the config below, a replay clock, a signal cache and metrics,
 * and no database pool: app_db answers ERR_UNAVAILABLE, so a handler runs
 * up to its first query.  POST /v1/schedule is skipped (the planner
 * builds its snapshot from PostgreSQL; its body parser has fuzz_jobreq).
 *
 * Checks beyond "no crash": the status is an HTTP status; an error
 * answer is a JSON object with the status in it (/readyz: its checks) (valid UTF-8 whatever
 * bytes the request echoed).  Corpus: tests/fuzz/corpus/routes/ (made
 * from tests/data/interfaces/openapi_requests.txt and the README).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "service/app.h"
#include "service/handlers.h"
#include "service/planner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAIRS 80

/* The parsed request behind req->impl. */
struct fake {
	size_t nq, nh;
	const char *qk[MAX_PAIRS], *qv[MAX_PAIRS];
	const char *hk[MAX_PAIRS], *hv[MAX_PAIRS];
};

/* --- service/http.h over struct fake ------------------------------------------------------ */

const char *http_query(const struct http_request *r, const char *key)
{
	const struct fake *f = r->impl;

	for (size_t i = 0; i < f->nq; i++)
		if (!strcmp(f->qk[i], key))
			return f->qv[i];
	return NULL;
}

const char *http_header(const struct http_request *r, const char *name)
{
	const struct fake *f = r->impl;

	for (size_t i = 0; i < f->nh; i++)
		if (!strcasecmp(f->hk[i], name))
			return f->hv[i];
	return NULL;
}

const char *http_client_addr(const struct http_request *r, char *out, size_t size)
{
	(void)r;
	snprintf(out, size, "127.0.0.1");
	return out;
}

int http_query_each(const struct http_request *r, int (*fn)(void *ctx, const char *key, const char *value),
		    void *ctx)
{
	const struct fake *f = r->impl;
	int rc = 0;

	for (size_t i = 0; i < f->nq && !rc; i++)
		rc = fn(ctx, f->qk[i], f->qv[i]);
	return rc;
}

void http_set_header(struct http_request *req, struct http_response *res, const char *name, const char *value)
{
	if (res->nheaders >= HTTP_MAX_HEADERS)
		return;
	res->headers[res->nheaders].name = arena_strdup(req->arena, name);
	res->headers[res->nheaders].value = arena_strdup(req->arena, value);
	res->nheaders++;
}

/* --- the request ------------------------------------------------------------------------- */

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Percent-decode s[0..n) into a new arena string ('+' as space when plus). */
static char *decode(struct arena *a, const char *s, size_t n, bool plus)
{
	char *out = arena_alloc(a, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
}

static void parse_query(struct arena *a, struct fake *f, const char *q, size_t n)
{
	while (n && f->nq < MAX_PAIRS) {
		const char *amp = memchr(q, '&', n);
		size_t len = amp ? (size_t)(amp - q) : n;
		const char *eq = memchr(q, '=', len);

		if (len) {
			size_t klen = eq ? (size_t)(eq - q) : len;

			f->qk[f->nq] = decode(a, q, klen, true);
			f->qv[f->nq] = eq ? decode(a, eq + 1, len - klen - 1, true) : "";
			f->nq++;
		}
		if (!amp)
			break;
		q += len + 1;
		n -= len + 1;
	}
}

/* One line of p[0..n) (without '\n'); advances. */
static const char *line(const char **p, size_t *n, size_t *ret_len)
{
	const char *s = *p, *nl = memchr(s, '\n', *n);
	size_t len = nl ? (size_t)(nl - s) : *n;

	*ret_len = len;
	*p += nl ? len + 1 : len;
	*n -= nl ? len + 1 : len;
	return s;
}

/* --- the service ------------------------------------------------------------------------- */

static const char config_text[] =
    "{\"listen\": \"127.0.0.1:0\", \"threads\": 1, \"database_url\": \"dbname=unused\","
    " \"clock\": {\"mode\": \"replay\", \"start\": \"2021-11-01T00:00:00Z\", \"speed\": 1},"
    " \"regions\": ["
    "  {\"id\": \"SE\", \"name\": \"Sweden\", \"zone\": \"SE\", \"latitude\": 59.33, \"longitude\": 18.07,"
    "   \"jurisdictions\": [\"EU\", \"SE\"], \"pue\": 1.08, \"capacity_kw\": 600},"
    "  {\"id\": \"DE\", \"name\": \"Germany\", \"zone\": \"DE\", \"latitude\": 50.11, \"longitude\": 8.68,"
    "   \"jurisdictions\": [\"EU\", \"DE\"], \"pue\": {\"base\": 1.1, \"k\": 0.012, \"t0\": 18},"
    "   \"capacity_kw\": 1200},"
    "  {\"id\": \"DE-2\", \"name\": \"Germany 2\", \"zone\": \"DE\", \"latitude\": 50.1, \"longitude\": 8.6,"
    "   \"jurisdictions\": [\"EU\"], \"pue\": 1.2, \"capacity_kw\": 0}"
    " ]}";

static struct app *service(void)
{
	static struct app app;
	static bool ready;

	if (!ready) {
		struct config *cfg;
		struct err_detail err;

		log_set_level(LOG_SILENT);
		if (config_parse("fuzz_routes.json", config_text, strlen(config_text), &cfg, &err)) {
			fprintf(stderr, "fuzz_routes: config: %s\n", err.msg);
			abort();
		}
		app.cfg = cfg;
		clock_init(&app.clock, cfg->clock_mode, cfg->clock_start, cfg->clock_speed);
		app.cache = sigcache_new((size_t)cfg->cache_points);
		app.health = source_health_new(cfg, &app.clock);
		app.telemetry = telemetry_new();
		app.planner = planner_new(cfg, &app.clock, app.cache, NULL);
		app.started_at = 1635724800;
		ready = true;
	}
	return &app;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req = {0};
	struct http_response res = {0};
	struct fake f = {0};
	const char *p = (const char *)data, *l, *sp, *q;
	size_t n = size, len;

	req.arena = arena_new();
	req.app = service();
	req.impl = &f;
	snprintf(req.request_id, sizeof(req.request_id), "fuzz");
	/* Request line. */
	l = line(&p, &n, &len);
	sp = memchr(l, ' ', len);
	req.method = sp ? arena_strndup(req.arena, l, (size_t)(sp - l)) : "GET";
	if (sp) {
		len -= (size_t)(sp - l) + 1;
		l = sp + 1;
	}
	q = memchr(l, '?', len);
	req.path = decode(req.arena, l, q ? (size_t)(q - l) : len, false);
	if (q)
		parse_query(req.arena, &f, q + 1, len - (size_t)(q - l) - 1);
	/* Headers up to an empty line. */
	while (n) {
		l = line(&p, &n, &len);
		if (!len)
			break;
		const char *colon = memchr(l, ':', len);
		if (!colon || f.nh == MAX_PAIRS)
			continue;
		const char *v = colon + 1;
		while (v < l + len && *v == ' ')
			v++;
		f.hk[f.nh] = arena_strndup(req.arena, l, (size_t)(colon - l));
		f.hv[f.nh] = arena_strndup(req.arena, v, (size_t)(l + len - v));
		f.nh++;
	}
	req.body = arena_strndup(req.arena, p, n);
	req.body_len = n;
	if (!strcmp(req.method, "POST") && !strcmp(req.path, "/v1/schedule"))
		goto out;

	buf_init(&res.body, 0);
	routes_dispatch(&req, &res);
	if (getenv("FUZZ_ROUTES_VERBOSE")) /* what each input reached */
		fprintf(stderr, "%s %s -> %d %.160s\n", req.method, req.path, res.status,
			res.body.data ? res.body.data : "");
	if (res.status < 100 || res.status > 599)
		abort();
	if (res.status >= 400) {
		json_error_t je;
		json_t *j = json_loadb(res.body.data, res.body.len, 0, &je);

		/* /readyz answers 503 with its checks, not a problem. */
		bool problem = strcmp(req.path, "/readyz") != 0;

		if (!json_is_object(j) ||
		    (problem && json_integer_value(json_object_get(j, "status")) != res.status)) {
			fprintf(stderr, "fuzz_routes: error answer %d is not problem+json: %.*s\n",
				res.status, (int)res.body.len, res.body.data);
			abort();
		}
		json_decref(j);
	}
	buf_release(&res.body);
out:
	arena_free(req.arena);
	return 0;
}
