/*
 * Abuse limits end to end, against the real binary: caps on the request
 * target, headers, body, JSON nesting and lists answered as problem+json;
 * a client trickling its headers dropped at the request deadline; the
 * per-address connection limit, with other addresses still served; HTTPS
 * with a certificate made for the test.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

static const char *config_limits =
    "{\"clock\":{\"mode\":\"replay\",\"start\":\"2022-01-03T12:00:00Z\"},"
    "\"limits\":{\"max_body_bytes\":2048,\"max_url_bytes\":1024,\"max_header_bytes\":2048,"
    "\"max_json_depth\":8,\"max_array_items\":50,\"max_list_items\":3,\"max_batch_items\":2,"
    "\"max_jobs_range\":\"P30D\",\"max_connections_per_ip\":3,\"request_timeout\":\"PT2S\"},"
    "\"threads\":2,"
    "\"regions\":[{\"id\":\"AA\",\"latitude\":50,\"longitude\":8,\"pue\":1.2},"
    "{\"id\":\"BB\",\"latitude\":40,\"longitude\":-3,\"pue\":1.1}]}";

static void migrate(const char *db)
{
	char env0[600];
	const char *args[] = {"migrate", NULL};
	const char *env[] = {env0, NULL};

	snprintf(env0, sizeof(env0), "CARBONSCHED_DATABASE_URL=%s", db);
	TL_ASSERT_INT_EQ(itest_run(args, env, NULL, NULL), 0);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A TCP connection to the server from source address 'from' (127.0.0.x). */
static int dial(int port, const char *from)
{
	struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	dst.sin_port = htons((uint16_t)port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		tl_fail(__LINE__, __FILE__, false, "cannot connect from %s: %s", from, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read on fd until the server closes or 10 s pass; returns what was
 * read (static). */
static const char *get_raw_rest(int fd)
{
	static char out[4096];
	size_t n = 0;

	out[0] = '\0';
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 10000) <= 0)
			break;
		r = recv(fd, out + n, sizeof(out) - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		out[n] = '\0';
	}
	return out;
}

/* Send a GET /healthz on fd and read the answer. */
static const char *get_raw(int fd)
{
	const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return "";
	return get_raw_rest(fd);
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	buf_add(ud, p, size * n);
	return size * n;
}

static void metrics_has(const struct itest_server *s, const char *line)
{
	struct itest_response r;
	char url[128];

	snprintf(url, sizeof(url), "%s/metrics", s->base);
	TL_ASSERT(itest_http("GET", url, NULL, NULL, &r));
	TL_ASSERT_CONTAINS(r.body, line);
	itest_response_free(&r);
}

struct expect {
	const char *method, *path;
	const char *header; /* one extra request header, or NULL */
	const char *body;
	long status;
	const char *code, *field, *says;
};

static void check(const struct itest_server *s, const struct expect *e)
{
	struct itest_response r;
	char url[8192];
	const char *headers[] = {"Content-Type: application/json", e->header, NULL};
	json_error_t je;

	snprintf(url, sizeof(url), "%s%s", s->base, e->path);
	if (!itest_http(e->method, url, headers, e->body, &r)) {
		tl_fail(__LINE__, __FILE__, false, "%s %.80s: no answer", e->method, e->path);
		itest_response_free(&r);
		return;
	}
	if (r.status != e->status)
		tl_fail(__LINE__, __FILE__, false, "%s %.80s: %ld, expected %ld: %.300s", e->method, e->path,
			r.status, e->status, r.body);
	if (e->code) {
		json_t *j = json_loads(r.body, 0, &je);
		TL_ASSERT_STR_EQ(r.content_type, "application/problem+json");
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "code")), e->code);
		json_t *ip = json_array_get(json_object_get(j, "invalid_params"), 0);
		TL_ASSERT_STR_EQ(json_string_value(json_object_get(ip, "name")), e->field);
		TL_ASSERT_CONTAINS(json_string_value(json_object_get(j, "detail")), e->says);
		json_decref(j);
	}
	itest_response_free(&r);
}

#define JOB "\"duration\":\"PT1H\",\"deadline\":\"2022-01-04T00:00:00Z\",\"origin\":\"AA\",\"power_kw\":1"

static void test_caps(void)
{
	char db[512];
	struct itest_server s;
	struct buf big, url, hdr, deep, chunked;

	itest_db_new("limits", db, sizeof(db));
	migrate(db);
	itest_serve(config_limits, db, NULL, &s);
	buf_init(&big, 0);
	buf_adds(&big, "{\"name\":\"");
	for (int i = 0; i < 3000; i++)
		buf_addc(&big, 'x');
	buf_adds(&big, "\"}");
	buf_init(&url, 0);
	buf_adds(&url, "/v1/regions?pad=");
	for (int i = 0; i < 1100; i++)
		buf_addc(&url, 'u');
	buf_init(&hdr, 0);
	buf_adds(&hdr, "X-Pad: ");
	for (int i = 0; i < 2100; i++)
		buf_addc(&hdr, 'h');
	buf_init(&deep, 0);
	buf_adds(&deep, "{" JOB ",\"regions\":");
	for (int i = 0; i < 9; i++)
		buf_addc(&deep, '[');
	for (int i = 0; i < 9; i++)
		buf_addc(&deep, ']');
	buf_adds(&deep, "}");
	buf_init(&chunked, 0);
	for (int i = 0; i < 100; i++)
		buf_adds(&chunked,
			 "[\"AA\",\"BB\",\"AA\",\"BB\",\"AA\",\"BB\",\"AA\",\"BB\",\"AA\",\"BB\"],");

	const struct expect cases[] = {
	    /* answered by the server before any handler */
	    {"POST", "/v1/schedule", NULL, big.data, 413, "payload_too_large", "body",
	     "limits.max_body_bytes"},
	    {"POST", "/v1/schedule", "Transfer-Encoding: chunked", chunked.data, 413, "payload_too_large",
	     "body", "larger than 2048 bytes"},
	    {"GET", url.data, NULL, NULL, 414, "uri_too_long", "url", "limits.max_url_bytes"},
	    {"GET", "/healthz", hdr.data, NULL, 431, "headers_too_large", "headers",
	     "limits.max_header_bytes"},
	    /* request bodies, before they are parsed */
	    {"POST", "/v1/schedule", NULL, deep.data, 422, "limit_exceeded", "regions[0][0][0][0][0][0][0]",
	     "deeper than 8 levels at regions[0]"},
	    {"POST", "/v1/schedule", NULL, "{" JOB ",\"regions\":[\"AA\",\"BB\",\"AA\",\"BB\"]}", 422,
	     "limit_exceeded", "regions", "more than 3 items (limits.max_list_items)"},
	    {"POST", "/v1/jobs", NULL, "{" JOB ",\"residency\":[\"EU\",\"DE\",\"GDPR\",\"X\"]}", 422,
	     "limit_exceeded", "residency", "limits.max_list_items"},
	    {"POST", "/v1/jobs", NULL, "{" JOB ",\"count\":1001}", 422, "limit_exceeded", "count",
	     "scheduler.max_job_count"},
	    {"POST", "/emissions/forecasts/batch", NULL,
	     "[{\"location\":\"AA\"},{\"location\":\"AA\"},{\"location\":\"AA\"}]", 422, "limit_exceeded",
	     "body", "more than 2 items (limits.max_batch_items)"},
	    {"POST", "/v1/schedule", NULL,
	     "{\"x\":["
	     "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
	     "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}",
	     422, "limit_exceeded", "x", "more than 50 items (limits.max_array_items)"},
	    /* lists and ranges the handlers read */
	    {"GET", "/emissions/bylocations?location=AA&location=BB&location=AA&location=BB", NULL, NULL, 422,
	     "limit_exceeded", "location", "limits.max_list_items"},
	    {"GET", "/v1/jobs?from=2022-01-01T00:00:00Z&to=2022-03-01T00:00:00Z", NULL, NULL, 422,
	     "range_too_large", "to", "limits.max_jobs_range"},
	    /* and within the limits, answers */
	    {"GET", "/v1/jobs?from=2022-01-01T00:00:00Z&to=2022-01-20T00:00:00Z", NULL, NULL, 200, NULL, NULL,
	     NULL},
	    {"GET", "/healthz", "X-Pad: fine", NULL, 200, NULL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&s, &cases[i]);
	metrics_has(&s, "carbonsched_http_refused_total{reason=\"payload_too_large\"} 2");
	metrics_has(&s, "carbonsched_http_refused_total{reason=\"uri_too_long\"} 1");
	metrics_has(&s, "carbonsched_http_refused_total{reason=\"headers_too_large\"} 1");

	/* Header lines beyond libmicrohttpd's own memory: it answers itself. */
	struct itest_response r;
	char u[128];
	buf_reset(&hdr);
	buf_adds(&hdr, "X-Pad: ");
	for (int i = 0; i < 64 * 1024; i++)
		buf_addc(&hdr, 'h');
	const char *hh[] = {hdr.data, NULL};
	snprintf(u, sizeof(u), "%s/healthz", s.base);
	itest_http("GET", u, hh, NULL, &r);
	TL_ASSERT_INT_EQ(r.status, 431);
	itest_response_free(&r);
	/* and a request target beyond it: 414 */
	buf_reset(&url);
	buf_addf(&url, "%s/healthz?pad=", s.base);
	for (int i = 0; i < 64 * 1024; i++)
		buf_addc(&url, 'u');
	itest_http("GET", url.data, NULL, NULL, &r);
	TL_ASSERT_INT_EQ(r.status, 414);
	itest_response_free(&r);
	buf_release(&big);
	buf_release(&url);
	buf_release(&hdr);
	buf_release(&deep);
	buf_release(&chunked);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* One byte a second: dropped at limits.request_timeout (2 s here), long
 * before the request could be complete; others are answered meanwhile. */
static void test_slow_client(void)
{
	char db[512], url[128];
	struct itest_server s;
	const char *req = "GET /healthz HTTP/1.1\r\nHost: slow.example\r\nUser-Agent: slowloris\r\n\r\n";
	size_t sent = 0;
	bool dropped = false;
	double t0;
	int fd;

	itest_db_new("limits_slow", db, sizeof(db));
	migrate(db);
	itest_serve(config_limits, db, NULL, &s);
	if ((fd = dial(s.port, "127.0.0.1")) < 0)
		goto out;
	t0 = now_s();
	while (sent < strlen(req) && !dropped) {
		struct pollfd p = {fd, POLLIN, 0};
		char c;

		if (send(fd, req + sent, 1, MSG_NOSIGNAL) != 1) {
			dropped = true;
			break;
		}
		sent++;
		if (sent == 2) {
			struct itest_response r;
			snprintf(url, sizeof(url), "%s/healthz", s.base);
			TL_ASSERT(itest_http("GET", url, NULL, NULL, &r));
			TL_ASSERT_INT_EQ(r.status, 200);
			itest_response_free(&r);
		}
		/* Wait a second, or less if the server closes. */
		if (poll(&p, 1, 1000) == 1 && recv(fd, &c, 1, 0) <= 0)
			dropped = true;
	}
	printf("  slow client: dropped=%d after %zu of %zu bytes, %.1f s\n", dropped, sent, strlen(req),
	       now_s() - t0);
	TL_ASSERT(dropped);
	TL_ASSERT(sent < strlen(req));
	close(fd);
	metrics_has(&s, "carbonsched_http_refused_total{reason=\"request_timeout\"} 1");
	/* A kept-alive connection, idle after its answer, is closed at the
	 * same deadline but is no slow client: not counted. */
	if ((fd = dial(s.port, "127.0.0.1")) >= 0) {
		const char *ka = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
		double t1 = now_s();

		TL_ASSERT(send(fd, ka, strlen(ka), MSG_NOSIGNAL) > 0);
		TL_ASSERT_CONTAINS(get_raw_rest(fd), "HTTP/1.1 200");
		printf("  idle keep-alive connection closed after %.1f s\n", now_s() - t1);
		close(fd);
	}
	metrics_has(&s, "carbonsched_http_refused_total{reason=\"request_timeout\"} 1");
out:
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* Three connections from 127.0.0.1 at most: a fourth is closed unanswered,
 * 127.0.0.2 is still served, and a freed slot serves again. */
static void test_per_ip_limit(void)
{
	char db[512];
	struct itest_server s;
	int held[3], fd;

	itest_db_new("limits_ip", db, sizeof(db));
	migrate(db);
	itest_serve(config_limits, db, NULL, &s);
	usleep(300 * 1000); /* the start-up probe's connection is gone */
	for (int i = 0; i < 3; i++)
		held[i] = dial(s.port, "127.0.0.1");
	usleep(300 * 1000);
	if ((fd = dial(s.port, "127.0.0.1")) >= 0) {
		const char *a = get_raw(fd);
		if (strstr(a, "HTTP/1.1 200"))
			tl_fail(__LINE__, __FILE__, false,
				"a 4th connection from 127.0.0.1 was served: %.100s", a);
		close(fd);
	}
	if ((fd = dial(s.port, "127.0.0.2")) >= 0) {
		TL_ASSERT_CONTAINS(get_raw(fd), "HTTP/1.1 200");
		close(fd);
	}
	close(held[0]);
	usleep(300 * 1000);
	if ((fd = dial(s.port, "127.0.0.1")) >= 0) {
		TL_ASSERT_CONTAINS(get_raw(fd), "HTTP/1.1 200");
		close(fd);
	}
	for (int i = 1; i < 3; i++)
		if (held[i] >= 0)
			close(held[i]);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* Two connections in all (one worker thread): a third waits, unanswered,
 * in the kernel's backlog while two are held, and is answered as soon as
 * one is released. */
static void test_connection_limit(void)
{
	char db[512];
	struct itest_server s;
	int held[2], fd;
	char c;

	itest_db_new("limits_conns", db, sizeof(db));
	migrate(db);
	itest_serve("{\"threads\":1,\"limits\":{\"max_connections\":2,\"max_connections_per_ip\":0},"
		    "\"regions\":[{\"id\":\"AA\",\"latitude\":50,\"longitude\":8,\"pue\":1.2}]}",
		    db, NULL, &s);
	usleep(300 * 1000);
	held[0] = dial(s.port, "127.0.0.3");
	held[1] = dial(s.port, "127.0.0.4");
	usleep(300 * 1000);
	if ((fd = dial(s.port, "127.0.0.5")) >= 0) {
		const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		struct pollfd p = {fd, POLLIN, 0};

		TL_ASSERT(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
		TL_ASSERT_INT_EQ(poll(&p, 1, 1500), 0); /* nothing while the two are held */
		close(held[0]);
		held[0] = -1;
		TL_ASSERT_INT_EQ(poll(&p, 1, 10000), 1);
		TL_ASSERT(recv(fd, &c, 1, MSG_PEEK) == 1);
		TL_ASSERT_CONTAINS(get_raw_rest(fd), "HTTP/1.1 200");
		close(fd);
	}
	for (int i = 0; i < 2; i++)
		if (held[i] >= 0)
			close(held[i]);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);
}

/* GET over https trusting only ca; returns the status, 0 on a transport
 * failure (the reason in *ret_why). */
/* GET url over TLS trusting ca, with the server's API key (the harness's
 * itest_http does not speak TLS with a private CA). */
static long https_get(const char *url, const char *ca, const char *auth, char **ret_body,
		      const char **ret_why)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = auth && *auth ? curl_slist_append(NULL, auth) : NULL;
	struct buf b;
	long status = 0;
	CURLcode rc;

	buf_init(&b, 0);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	*ret_why = curl_easy_strerror(rc);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	*ret_body = buf_detach(&b, NULL);
	return status;
}

static char *tls_config(const char *cert, const char *key)
{
	static char cfg[2048];

	snprintf(cfg, sizeof(cfg),
		 "{\"clock\":{\"mode\":\"replay\",\"start\":\"2022-01-03T12:00:00Z\"},"
		 "\"tls\":{\"cert_file\":\"%s\",\"key_file\":\"%s\"},"
		 "\"regions\":[{\"id\":\"AA\",\"latitude\":50,\"longitude\":8,\"pue\":1.2}]}",
		 cert, key);
	return cfg;
}

/* HTTPS with a certificate made here by openssl, verified by libcurl;
 * plain HTTP to the same port gets no answer; bad files are config errors
 * naming the key, before the port is bound. */
static void test_https(void)
{
	char db[512], cmd[4096], cert[600], key[600], other[600], url[160], *body = NULL;
	const char *dir = itest_tmpdir(), *why;
	struct itest_server s;

	snprintf(cert, sizeof(cert), "%s/tls-cert.pem", dir);
	snprintf(key, sizeof(key), "%s/tls-key.pem", dir);
	snprintf(other, sizeof(other), "%s/tls-other-key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
		 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null && "
		 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out %s 2>/dev/null",
		 key, cert, other);
	if (system(cmd) != 0) {
		tl_fail(__LINE__, __FILE__, false, "openssl could not make a certificate: %s", cmd);
		return;
	}
	itest_db_new("limits_tls", db, sizeof(db));
	migrate(db);
	itest_serve_https(tls_config(cert, key), db, cert, &s);
	TL_ASSERT_CONTAINS(s.base, "https://");
	snprintf(url, sizeof(url), "%s/healthz", s.base);
	TL_ASSERT_INT_EQ(https_get(url, cert, s.auth, &body, &why), 200);
	free(body);
	snprintf(url, sizeof(url), "%s/v1/regions", s.base);
	TL_ASSERT_INT_EQ(https_get(url, cert, s.auth, &body, &why), 200);
	TL_ASSERT_CONTAINS(body, "\"AA\"");
	free(body);
	/* Not trusted without the certificate; not HTTP in the clear. */
	TL_ASSERT_INT_EQ(https_get(url, "/dev/null", s.auth, &body, &why), 0);
	free(body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", s.port);
	long st = https_get(url, NULL, s.auth, &body, &why);
	if (st == 200)
		tl_fail(__LINE__, __FILE__, false, "plain HTTP to the TLS port was answered: %s", body);
	printf("  plain HTTP to the TLS port: status %ld (%s)\n", st, why);
	free(body);
	TL_ASSERT_INT_EQ(itest_stop(&s), 0);

	const struct {
		const char *cert, *key, *says;
	} bad[] = {
	    {"/nonexistent/cert.pem", key, "tls.cert_file: cannot read '/nonexistent/cert.pem'"},
	    {cert, "/nonexistent/key.pem", "tls.key_file: cannot read"},
	    {key, key, "tls.cert_file: "},
	    {cert, cert, "tls.key_file: "},
	    {cert, other, "does not go with tls.cert_file"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[1024], *err = NULL;

		snprintf(path, sizeof(path), "%s",
			 itest_write_file("tls-bad.json", tls_config(bad[i].cert, bad[i].key)));
		const char *args[] = {"serve", "--config", path, NULL};
		const char *env[] = {"CARBONSCHED_DATABASE_URL=host=/nonexistent",
				     "CARBONSCHED_LISTEN=127.0.0.1:1", NULL};
		TL_ASSERT_INT_EQ(itest_run(args, env, NULL, &err), 1);
		TL_ASSERT_CONTAINS(err, bad[i].says);
		free(err);
	}
	char path[1024], *err = NULL;
	snprintf(path, sizeof(path), "%s",
		 itest_write_file("tls-half.json", "{\"tls\":{\"cert_file\":\"/x.pem\"},\"regions\":[{\"id\":"
						   "\"AA\",\"latitude\":50,\"longitude\":8,\"pue\":1.2}]}"));
	const char *args[] = {"serve", "--config", path, NULL};
	const char *env[] = {"CARBONSCHED_DATABASE_URL=host=/nonexistent", NULL};
	TL_ASSERT_INT_EQ(itest_run(args, env, NULL, &err), 1);
	TL_ASSERT_CONTAINS(err, "tls.key_file: is required with tls.cert_file");
	free(err);
}

static CU_TestInfo tests[] = {
    {"caps answered as problem+json", test_caps},
    {"slow client dropped at the request deadline", test_slow_client},
    {"per-address connection limit", test_per_ip_limit},
    {"total connection limit", test_connection_limit},
    {"https with a certificate from the config", test_https},
    CU_TEST_INFO_NULL,
};
TL_SUITE("limits", itest_suite_init, NULL, tests)
