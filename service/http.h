/*
 * http.h - the HTTP server: the one file that includes libmicrohttpd.
 *
 * Handlers see only these project types.  A request owns an arena that
 * is freed when the response has been sent; bodies are built in the
 * response's buffer and handed to libmicrohttpd without copying.
 */
#ifndef CARBONSCHED_SERVICE_HTTP_H
#define CARBONSCHED_SERVICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"

#define HTTP_MAX_PATH_PARAMS 4
#define HTTP_MAX_HEADERS     12

struct http_request {
	struct arena *arena;
	void *app; /* the service (struct app), opaque here */
	const char *method;
	const char *path;
	const char *body; /* NUL-terminated; "" when none */
	size_t body_len;
	const char *path_params[HTTP_MAX_PATH_PARAMS]; /* filled by the router */
	int npath_params;
	char request_id[24];
	void *auth; /* the caller, set by the router's auth check (auth.h); opaque here */
	void *impl; /* the server's connection; only http.c looks inside */
};

struct http_response {
	int status;
	const char *content_type;
	struct buf body;
	struct {
		const char *name, *value;
	} headers[HTTP_MAX_HEADERS];
	int nheaders;
};

/* Query parameter / request header, NULL when absent (borrowed). */
const char *http_query(const struct http_request *r, const char *key);
const char *http_header(const struct http_request *r, const char *name);
/* The client's numeric address (the TCP peer) written into out; "unknown"
 * when it cannot be had.  Returns out. */
const char *http_client_addr(const struct http_request *r, char *out, size_t size);
/* Call fn for every query parameter; stops and returns the first non-zero
 * result. */
int http_query_each(const struct http_request *r, int (*fn)(void *ctx, const char *key, const char *value),
		    void *ctx);
/* Add a response header; name and value are copied into the arena. */
void http_set_header(struct http_request *req, struct http_response *res, const char *name,
		     const char *value);

/* What the server calls for each complete request: fill res (status,
 * content type, body, headers).  Runs on a worker thread. */
typedef void (*http_dispatch_fn)(struct http_request *req, struct http_response *res);

struct http_options {
	const char *host;		 /* numeric or name; "" = all interfaces */
	int port;			 /* 0 = any free port */
	int threads;			 /* worker threads */
	size_t max_body;		 /* larger bodies get 413 */
	size_t max_url;			 /* longer request targets get 414 (0 = 8192) */
	size_t max_header;		 /* larger header sections get 431 (0 = 16384) */
	unsigned connection_timeout_s;	 /* idle connections are closed (0 = 30) */
	unsigned request_timeout_s;	 /* a whole request must arrive within (0 = 30) */
	unsigned max_connections;	 /* 0 = 1000 */
	unsigned max_connections_per_ip; /* 0 = no limit */
	/* HTTPS when both are set: PEM texts (borrowed until http_stop). */
	const char *tls_cert_pem, *tls_key_pem;
	http_dispatch_fn dispatch;
	void *app;
	/* Told (from any server thread) of what the server refuses itself:
	 * reason "payload_too_large", "uri_too_long", "headers_too_large", or
	 * "request_timeout" for n connections dropped.  May be NULL. */
	void (*on_refused)(void *app, const char *reason, unsigned n);
};

struct http_server;

/* Bind and start serving.  ERR_IO with the reason when the address cannot
 * be bound.  Free with http_stop. */
int http_start(const struct http_options *o, struct http_server **ret, struct err_detail *err);
/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);
/* Graceful shutdown, step 1: stop listening now (new connections are
 * refused) and close each connection after its current answer.  Requests
 * already received keep being served.  NULL is a no-op. */
void http_quiesce(struct http_server *s);
/* Step 2: wait until no request is in flight (received, not yet completely
 * answered), at most timeout_ms.  False when some still are. */
bool http_drain(struct http_server *s, int64_t timeout_ms);
/* Requests in flight now. */
int http_inflight(const struct http_server *s);
/* Stop (closing every connection left), free (NULL is a no-op).  Waits
 * for handlers still running: after a failed http_drain, exit instead. */
void http_stop(struct http_server *s);

#endif
