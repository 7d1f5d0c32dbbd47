/*
 * h_interfaces.c - what the service shows to tools and people rather than
 * to schedulers: Prometheus metrics, the OpenAPI document, the dashboard.
 *
 * The OpenAPI document and the dashboard are files compiled into the
 * binary (assets.h), served with a strong ETag so that browsers and
 * tools revalidate cheaply (304) and never run an old bundle against a
 * new service.
 */
#include <string.h>

#include "core/buf.h"
#include "service/app.h"
#include "service/assets.h"
#include "service/handlers.h"
#include "service/telemetry.h"

static const char *const no_params[] = {NULL};

const struct asset *asset_find(const char *path)
{
	for (size_t i = 0; i < assets_count; i++)
		if (!strcmp(assets[i].path, path))
			return &assets[i];
	return NULL;
}

const char *asset_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".json", "application/json"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* Answer with an asset, or 304 when the client holds this version. */
static void send_asset(struct http_request *req, struct http_response *res, const struct asset *a)
{
	const char *inm = http_header(req, "If-None-Match");

	http_set_header(req, res, "ETag", a->etag);
	http_set_header(req, res, "Cache-Control", "no-cache");
	http_set_header(req, res, "X-Content-Type-Options", "nosniff");
	if (inm && (strstr(inm, a->etag) || !strcmp(inm, "*"))) {
		res->status = 304;
		return;
	}
	res->status = 200;
	res->content_type = asset_content_type(a->path);
	buf_add(&res->body, a->data, a->len);
}

static int serve_file(struct http_request *req, struct http_response *res, const char *path,
		      struct err_detail *err)
{
	const struct asset *a = asset_find(path);

	if (!a)
		return err_set(err, ERR_NOT_FOUND, NULL, "no such file '%.64s'", path);
	send_asset(req, res, a);
	return ERR_OK;
}

int h_metrics(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc;

	if ((rc = query_only(req, no_params, err)))
		return rc;
	res->status = 200;
	res->content_type = METRICS_CONTENT_TYPE;
	telemetry_scrape(app_of(req), &res->body);
	return ERR_OK;
}

int h_openapi(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc;

	if ((rc = query_only(req, no_params, err)))
		return rc;
	return serve_file(req, res, "service/openapi.json", err);
}

int h_dashboard(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	int rc;

	if ((rc = query_only(req, no_params, err)))
		return rc;
	rc = serve_file(req, res, "web/dist/index.html", err);
	/* The page's scripts come only from this binary. */
	http_set_header(req, res, "Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
			"connect-src 'self'; frame-ancestors 'none'");
	return rc;
}

int h_asset(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	char path[128];
	int rc;

	if ((rc = query_only(req, no_params, err)))
		return rc;
	/* The router gives one path segment: no '/', so no way out of web/dist. */
	if (strlen(req->path_params[0]) > 64)
		return err_set(err, ERR_NOT_FOUND, "name", "no such asset");
	snprintf(path, sizeof(path), "web/dist/%s", req->path_params[0]);
	return serve_file(req, res, path, err);
}
