/*
 * http.c - libmicrohttpd, adapted once.
 *
 * One connection context per request: an arena, the upload buffer (capped
 * at max_body) and the request id.  The body the handler built is handed
 * to MHD with MHD_RESPMEM_MUST_FREE; the response is queued then destroyed
 * at once.  The context is made by the URI callback (which alone sees the
 * raw request target, so its length can be checked) and freed in the
 * request-completed callback, on every path.
 *
 * Limits the server enforces itself, as problem+json, before any handler
 * runs: a request target over max_url (414), header lines over max_header
 * (431), a Content-Length over max_body (413, answered before the body is
 * read; the connection is then closed).  A chunked body that grows past
 * max_body is drained without being kept and answered 413 when it ends;
 * one that never ends is cut by the request deadline (connguard.h).
 * libmicrohttpd's own memory limit per connection is set above max_url +
 * max_header, so these answers come first; beyond it libmicrohttpd
 * answers 414 or 431 itself, with a short HTML body.
 *
 * Shutdown is graceful: http_quiesce stops the listening socket at once
 * (new connections are refused by the kernel, not left to wait in the
 * backlog), answers from then on carry "Connection: close", and
 * http_drain waits until every request that had arrived has been answered
 * and completed - a request counts from its request line (the URI
 * callback, which makes its context) to its completion.
 */
#include "service/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/connguard.h"

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_options opt;
	struct conn_guard *guard;
	int port;
	atomic_uint_fast64_t next_id;
	unsigned id_salt;
	atomic_int inflight;  /* requests between their request line and their completion */
	atomic_bool draining; /* quiesced: answers close their connection */
	int listen_fd;	      /* after http_quiesce; closed after MHD_stop_daemon */
};

struct conn_ctx {
	struct arena *arena; /* NULL until the request's headers are in */
	struct buf body;
	size_t uri_len; /* raw request target, from the URI callback */
	int refusal;	/* ERR_TOO_LARGE, ERR_URI_TOO_LONG, ... or ERR_OK */
	int64_t started_ms;
};

const char *http_query(const struct http_request *r, const char *key)
{
	return MHD_lookup_connection_value(r->impl, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->impl, MHD_HEADER_KIND, name);
}

const char *http_client_addr(const struct http_request *r, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->impl, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t len =
	    sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (!sa || getnameinfo(sa, len, out, (socklen_t)size, NULL, 0, NI_NUMERICHOST))
		snprintf(out, size, "unknown");
	return out;
}

struct each_ctx {
	int (*fn)(void *ctx, const char *key, const char *value);
	void *ctx;
	int rc;
};

static enum MHD_Result each_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct each_ctx *e = cls;

	(void)kind;
	e->rc = e->fn(e->ctx, key, value ? value : "");
	return e->rc ? MHD_NO : MHD_YES;
}

int http_query_each(const struct http_request *r, int (*fn)(void *ctx, const char *key, const char *value),
		    void *ctx)
{
	struct each_ctx e = {fn, ctx, 0};

	MHD_get_connection_values(r->impl, MHD_GET_ARGUMENT_KIND, each_cb, &e);
	return e.rc;
}

void http_set_header(struct http_request *req, struct http_response *res, const char *name, const char *value)
{
	if (res->nheaders >= HTTP_MAX_HEADERS)
		return;
	res->headers[res->nheaders].name = arena_strdup(req->arena, name);
	res->headers[res->nheaders].value = arena_strdup(req->arena, value);
	res->nheaders++;
}

static void request_id(struct http_server *s, struct MHD_Connection *conn, char out[24])
{
	const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	size_t n = given ? strlen(given) : 0;
	bool ok = n > 0 && n < 24;

	for (size_t i = 0; ok && i < n; i++)
		ok = (given[i] >= '0' && given[i] <= '9') || (given[i] >= 'a' && given[i] <= 'z') ||
		     (given[i] >= 'A' && given[i] <= 'Z') || given[i] == '-' || given[i] == '_';
	if (ok)
		memcpy(out, given, n + 1);
	else
		snprintf(out, 24, "r%04x-%llx", s->id_salt & 0xffff,
			 (unsigned long long)atomic_fetch_add(&s->next_id, 1));
}

static enum MHD_Result send_response(struct http_server *s, struct MHD_Connection *conn,
				     struct http_response *res)
{
	size_t len;
	char *body = buf_detach(&res->body, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ok;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (res->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	for (int i = 0; i < res->nheaders; i++)
		MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
	if (atomic_load(&s->draining))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ok = MHD_queue_response(conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* The server's own refusals, as problem+json (the same members as
 * reply_problem; every value is ours, nothing needs escaping). */
static const struct refusal {
	int code;
	const char *field, *detail, *limit;
} refusals[] = {
    {ERR_TOO_LARGE, "body", "the request body is larger than %zu bytes", "limits.max_body_bytes"},
    {ERR_URI_TOO_LONG, "url", "the request target is longer than %zu bytes", "limits.max_url_bytes"},
    {ERR_HEADERS_TOO_LARGE, "headers", "the request's header lines are larger than %zu bytes in all",
     "limits.max_header_bytes"},
};

static void refuse(struct http_server *s, struct http_response *res, int code, const char *rid)
{
	const struct refusal *r = &refusals[0];
	size_t limit = code == ERR_URI_TOO_LONG	       ? s->opt.max_url
		       : code == ERR_HEADERS_TOO_LARGE ? s->opt.max_header
						       : s->opt.max_body;
	char detail[160];

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (refusals[i].code == code)
			r = &refusals[i];
	snprintf(detail, sizeof(detail), r->detail, limit);
	if (s->opt.on_refused)
		s->opt.on_refused(s->opt.app, err_code_name(code), 1);
	res->status = err_http_status(code);
	res->content_type = "application/problem+json";
	buf_addf(&res->body,
		 "{\"type\":\"urn:carbonsched:problem:%s\",\"title\":\"%s\",\"status\":%d,\"detail\":\"%s "
		 "(%s)\",\"code\":\"%s\",\"request_id\":\"%s\",\"invalid_params\":[{\"name\":\"%s\","
		 "\"reason\":\"%s (%s)\"}]}\n",
		 err_code_name(code), err_title(code), res->status, detail, r->limit, err_code_name(code),
		 rid, r->field, detail, r->limit);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4; /* "K: V\r\n" */
	return MHD_YES;
}

/* What the server refuses on the headers alone, ERR_OK when nothing. */
static int check_headers(struct http_server *s, struct MHD_Connection *conn, const struct conn_ctx *ctx)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	size_t header = 0;

	if (ctx->uri_len > s->opt.max_url)
		return ERR_URI_TOO_LONG;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &header);
	if (header > s->opt.max_header)
		return ERR_HEADERS_TOO_LARGE;
	if (cl && strtoull(cl, NULL, 10) > s->opt.max_body)
		return ERR_TOO_LARGE;
	return ERR_OK;
}

static struct conn_guard_entry *guard_entry(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result answer(struct http_server *s, struct MHD_Connection *conn, struct conn_ctx *ctx,
			      const char *url, const char *method);

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_size,
				 void **con_cls)
{
	struct http_server *s = cls;
	struct conn_ctx *ctx = *con_cls;

	(void)version;
	if (!ctx)
		*con_cls = ctx = xcalloc(1, sizeof(*ctx));
	if (!ctx->arena) {
		ctx->arena = arena_new();
		ctx->started_ms = ts_mono_ms();
		buf_init(&ctx->body, s->opt.max_body);
		/* Refused on the headers: answer before reading any body. */
		if ((ctx->refusal = check_headers(s, conn, ctx)))
			return answer(s, conn, ctx, url, method);
		return MHD_YES;
	}
	if (*upload_size) {
		/* Past the cap the body is drained, not kept. */
		if (!ctx->refusal && buf_add(&ctx->body, upload_data, *upload_size))
			ctx->refusal = ERR_TOO_LARGE;
		*upload_size = 0;
		return MHD_YES;
	}
	return answer(s, conn, ctx, url, method);
}

static enum MHD_Result answer(struct http_server *s, struct MHD_Connection *conn, struct conn_ctx *ctx,
			      const char *url, const char *method)
{
	conn_guard_received(guard_entry(conn));

	struct http_request req = {
	    .arena = ctx->arena,
	    .app = s->opt.app,
	    .method = method,
	    .path = url,
	    .body = ctx->body.data,
	    .body_len = ctx->body.len,
	    .impl = conn,
	};
	struct http_response res = {.status = 200};

	request_id(s, conn, req.request_id);
	log_set_request_id(req.request_id);
	buf_init(&res.body, 0);
	if (ctx->refusal)
		refuse(s, &res, ctx->refusal, req.request_id);
	else
		s->opt.dispatch(&req, &res);
	http_set_header(&req, &res, "X-Request-Id", req.request_id);
	log_debug("%s %s %d %lldms", method, url, res.status, (long long)(ts_mono_ms() - ctx->started_ms));
	if (res.status >= 500)
		log_error("%s '%s' answered %d", method, url, res.status);
	enum MHD_Result ok = send_response(s, conn, &res);
	buf_release(&res.body);
	log_set_request_id(NULL);
	return ok;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct conn_ctx *ctx = *con_cls;

	(void)toe;
	/* Keep-alive: the next request's deadline starts now. */
	conn_guard_idle(guard_entry(conn));
	if (!ctx)
		return;
	arena_free(ctx->arena);
	buf_release(&ctx->body);
	free(ctx);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

static void guard_dropped(void *cls, unsigned n)
{
	struct http_server *s = cls;

	if (s->opt.on_refused)
		s->opt.on_refused(s->opt.app, "request_timeout", n);
}

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	struct conn_ctx *ctx = xcalloc(1, sizeof(*ctx));

	atomic_fetch_add(&s->inflight, 1);
	ctx->uri_len = uri ? strlen(uri) : 0;
	conn_guard_started(guard_entry(conn));
	return ctx;
}

static void connection_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_context = ci ? conn_guard_add(s->guard, ci->connect_fd) : NULL;
	} else {
		conn_guard_remove(s->guard, *socket_context);
		*socket_context = NULL;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

int http_start(const struct http_options *o, struct http_server **ret, struct err_detail *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
			*ai = NULL;
	char port[8];
	int gai;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;

	snprintf(port, sizeof(port), "%d", o->port);
	if ((gai = getaddrinfo(o->host && *o->host ? o->host : NULL, port, &hints, &ai)))
		return err_set(err, ERR_IO, "listen", "cannot resolve listen address '%s': %s", o->host,
			       gai_strerror(gai));
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	bool tls = o->tls_cert_pem && o->tls_key_pem;
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		freeaddrinfo(ai);
		return err_set(
		    err, ERR_INVALID, "tls.cert_file",
		    "this libmicrohttpd is built without TLS: serve HTTP behind a TLS proxy instead");
	}
	if (tls)
		flags |= MHD_USE_TLS;

	struct http_server *s = xcalloc(1, sizeof(*s));
	s->opt = *o;
	if (!s->opt.max_url)
		s->opt.max_url = 8192;
	if (!s->opt.max_header)
		s->opt.max_header = 16384;
	s->id_salt = (unsigned)ts_now_ms() ^ (unsigned)getpid();
	atomic_init(&s->next_id, 1);
	atomic_init(&s->inflight, 0);
	atomic_init(&s->draining, false);
	s->listen_fd = -1;
	s->guard = conn_guard_new(1000 * (int64_t)(o->request_timeout_s ? o->request_timeout_s : 30u),
				  guard_dropped, s);
	/* Room for the largest request line and headers we answer ourselves,
	 * and as much again for reading the body and writing the answer. */
	size_t pool = 2 * (s->opt.max_url + s->opt.max_header) + 16384;
	struct MHD_OptionItem tls_opts[] = {
	    {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)o->tls_cert_pem},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem},
	    {MHD_OPTION_END, 0, NULL},
	};
	s->daemon = MHD_start_daemon(
	    flags, (uint16_t)o->port, NULL, NULL, access_cb, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)(o->threads > 0 ? o->threads : 1), MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_cb, s, MHD_OPTION_NOTIFY_CONNECTION, connection_cb, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_s ? o->connection_timeout_s : 30u,
	    MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 1000u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    pool, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!s->daemon) {
		conn_guard_free(s->guard);
		free(s);
		return err_set(err, ERR_IO, "listen",
			       "cannot listen on %s:%d (in use, or not an address of this host)", o->host,
			       o->port);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : o->port;
	*ret = s;
	return ERR_OK;
}

int http_port(const struct http_server *s)
{
	return s->port;
}

void http_quiesce(struct http_server *s)
{
	if (!s || s->listen_fd >= 0)
		return;
	atomic_store(&s->draining, true);
	s->listen_fd = MHD_quiesce_daemon(s->daemon);
	/* MHD's threads may still look at the descriptor, so it stays open
	 * until MHD_stop_daemon; shutting it down makes the kernel stop
	 * listening: new connections are refused, queued ones reset. */
	if (s->listen_fd >= 0 && shutdown(s->listen_fd, SHUT_RDWR))
		log_warn("http: cannot shut the listening socket down: %s", strerror(errno));
}

int http_inflight(const struct http_server *s)
{
	return s ? atomic_load(&s->inflight) : 0;
}

bool http_drain(struct http_server *s, int64_t timeout_ms)
{
	int64_t deadline = ts_mono_ms() + timeout_ms;

	while (http_inflight(s) > 0) {
		if (ts_mono_ms() >= deadline)
			return false;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return true;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->daemon);
	conn_guard_free(s->guard);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
}
