/*
 * fake_provider.c - replay server for the internet providers (see the .h).
 *
 * Why plain sockets and not libmicrohttpd: the faults worth testing are
 * the ones a well-behaved server library will not produce - a body shorter
 * than its Content-Length, a response that stops half-way and never ends.
 * One thread serves one connection at a time and always closes it, which is
 * all a connector under test needs and keeps shutdown (and ASan) simple:
 * fake_stop wakes the thread through a pipe and joins it.
 *
 * Providers, their routes and their answers to bad credentials and unknown
 * zones are tables; the recorded bodies are files under
 * tests/data/providers/<provider>/.
 */
#include "tests/lib/fake_provider.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"

enum auth { AUTH_NONE, AUTH_HEADER, AUTH_BEARER, AUTH_QUERY };

struct provider {
	const char *name;
	enum auth auth;
	const char *auth_name; /* header or query parameter carrying the token */
	int bad_auth_status;
	const char *bad_auth_body; /* literal, or "@file" */
	int unknown_status;
	const char *unknown_body;
};

static const struct provider providers[] = {
    {"electricitymaps", AUTH_HEADER, "auth-token", 401, "{\"error\":\"Invalid auth-token\"}", 404,
     "{\"error\":\"Zone 'XX' does not exist\"}"},
    {"watttime", AUTH_BEARER, NULL, 401, "{\"error\":\"Unauthorized\",\"message\":\"token expired\"}", 403,
     "{\"error\":\"Invalid query parameters\",\"message\":\"Invalid scope. You do not have sufficient access "
     "to this resource. See https://api.watttime.org/plans/ for more information or email "
     "contact@watttime.org for pricing. Please note that all users are allowed free access to "
     "CAISO_ZP26.\"}"},
    {"ukgrid", AUTH_NONE, NULL, 0, NULL, 400,
     "{\"error\":{\"code\":\"400 Bad Request\",\"message\":\"Please enter a valid region id between 1 and "
     "17\"}}"},
    {"entsoe", AUTH_QUERY, "securityToken", 401, "@401.html", 200, "@ack-invalid-area.xml"},
    {"eia", AUTH_QUERY, "api_key", 403,
     "{\"error\":{\"code\":\"API_KEY_INVALID\",\"message\":\"An invalid api_key was supplied. Get one at "
     "https://www.eia.gov/opendata/register.php\"}}",
     200, "@empty.json"},
    {"openmeteo", AUTH_NONE, NULL, 0, NULL, 400,
     "{\"error\":true,\"reason\":\"Latitude must be in range of -90 to 90\\u00b0. Given: 91.0.\"}"},
    {"pue", AUTH_NONE, NULL, 0, NULL, 404, "not found\n"},
};

struct route {
	const char *provider;
	const char *pattern; /* path, '*' = one segment; "?k=v&..." = required parameters */
	const char *file;    /* "{offset}" is replaced by the offset parameter (default 0) */
	const char *empty;   /* body of the 'empty' fault: literal or "@file" */
	const char *anchor;  /* --fresh: the recorded hour that becomes the current one (the
				newest observation, or a forecast's first step); NULL = no times */
};

#define EM_META "\"updatedAt\":\"2024-03-06T18:48:27.926Z\""
#define WT_EMPTY                                                                                        \
	"{\"data\":[],\"meta\":{\"data_point_period_seconds\":300,\"region\":\"CAISO_NORTH\",\"signal_" \
	"type\":"                                                                                       \
	"\"co2_moer\",\"units\":\"lbs_co2_per_mwh\",\"warnings\":[],\"model\":{\"date\":\"2023-03-01\"}}}"

static const struct route routes[] = {
    {"electricitymaps", "/v3/carbon-intensity/latest", "latest.json",
     "{\"zone\":\"DE\",\"carbonIntensity\":null,\"datetime\":\"2024-03-06T19:00:00.000Z\",\"isEstimated\":"
     "false}",
     "2024-03-06T19:00:00Z"},
    {"electricitymaps", "/v3/carbon-intensity/history", "history.json", "{\"zone\":\"DE\",\"history\":[]}",
     "2024-03-06T19:00:00Z"},
    {"electricitymaps", "/v3/carbon-intensity/past-range", "past-range.json", "{\"zone\":\"DE\",\"data\":[]}",
     "2024-03-18T03:00:00Z"},
    {"electricitymaps", "/v3/carbon-intensity/forecast", "forecast.json",
     "{\"zone\":\"DE\",\"forecast\":[]," EM_META "}", "2018-11-26T17:00:00Z"},
    {"electricitymaps", "/v3/power-breakdown/latest", "power-latest.json",
     "{\"zone\":\"DE\",\"datetime\":\"2024-03-06T19:00:00.000Z\",\"powerProductionBreakdown\":{}}",
     "2024-03-06T19:00:00Z"},
    {"electricitymaps", "/v3/power-breakdown/history", "power-history.json",
     "{\"zone\":\"DE\",\"history\":[]}", "2024-03-05T21:00:00Z"},
    {"watttime", "/v3/forecast/historical", "forecast-historical.json", WT_EMPTY, "2022-07-15T00:00:00Z"},
    {"watttime", "/v3/forecast", "forecast.json", WT_EMPTY, "2022-07-15T00:00:00Z"},
    {"watttime", "/v3/historical", "historical.json", WT_EMPTY, "2022-07-15T00:00:00Z"},
    {"watttime", "/v3/signal-index", "signal-index.json", WT_EMPTY, "2024-06-18T18:00:00Z"},
    {"watttime", "/v3/region-from-loc", "region-from-loc.json",
     "{\"error\":\"No coverage available for these coordinates and signal_type\",\"latitude\":\"0\","
     "\"longitude\":\"0\",\"signal_type\":\"co2_moer\"}",
     NULL},
    {"ukgrid", "/intensity/*/fw48h", "intensity-fw48h.json", "{\"data\":[]}", "2020-05-24T20:00:00Z"},
    {"ukgrid", "/intensity/*/fw24h", "intensity-fw48h.json", "{\"data\":[]}", "2020-05-24T20:00:00Z"},
    {"ukgrid", "/intensity/*/*", "intensity-range.json", "{\"data\":[]}", "2018-01-20T12:00:00Z"},
    {"ukgrid", "/generation/*/*", "generation-range.json", "{\"data\":[]}", "2018-01-20T12:00:00Z"},
    {"ukgrid", "/generation", "generation-latest.json",
     "{\"data\":{\"from\":\"2026-04-06T09:30Z\",\"to\":\"2026-04-06T10:00Z\",\"generationmix\":[]}}",
     "2026-04-06T09:00:00Z"},
    {"ukgrid", "/regional/intensity/*/*/regionid/*", "regional-fw48h.json",
     "{\"data\":[{\"regionid\":3,\"dnoregion\":\"Electricity North West\",\"shortname\":\"North West "
     "England\",\"data\":[]}]}",
     "2018-01-20T12:00:00Z"},
    {"ukgrid", "/regional", "regional.json", "{\"data\":[]}", "2019-08-25T12:00:00Z"},
    {"entsoe", "/api?documentType=A75", "a75.xml", "@ack-nodata.xml", "2017-02-04T20:00:00Z"},
    {"entsoe", "/api?documentType=A69", "a69.xml", "@ack-nodata.xml", "2026-05-05T22:00:00Z"},
    {"entsoe", "/api?documentType=A65&processType=A01", "a65-forecast.xml", "@ack-nodata.xml",
     "2024-08-01T00:00:00Z"},
    {"entsoe", "/api?documentType=A65", "a65.xml", "@ack-nodata.xml", "2024-08-01T02:00:00Z"},
    {"eia", "/v2/electricity/rto/fuel-type-data/data/", "page-{offset}.json", "@empty.json",
     "2024-06-01T01:00:00Z"},
    {"eia", "/v2/electricity/rto/fuel-type-data/data", "page-{offset}.json", "@empty.json",
     "2024-06-01T01:00:00Z"},
    {"openmeteo", "/v1/forecast", "forecast.json",
     "{\"latitude\":52.52,\"longitude\":13.42,\"utc_offset_seconds\":0,\"timezone\":\"GMT\","
     "\"hourly_units\":{\"time\":\"iso8601\"},\"hourly\":{\"time\":[]}}",
     "2025-09-08T00:00:00Z"},
    {"pue", "/gsf.csv", "gsf.csv", "year,cloud-provider,cloud-region,power-usage-effectiveness\n", NULL},
    {"pue", "/constant.csv", "constant.csv", "region,pue\n", NULL},
    {"pue", "/series.csv", "series.csv", "time,region,pue\n", "2024-07-01T02:00:00Z"},
    {"pue", "/feed.json", "feed.json", "{\"regions\":[]}", "2024-07-01T01:00:00Z"},
};

#define LOG_SIZE   64
#define MAX_AGENTS 8

struct fake {
	const struct provider *p;
	char data_dir[1024];
	char token[128], username[64], password[64];
	int retry_after_s;
	bool gzip;
	int listen_fd, wake[2], port;
	char url[64];
	pthread_t thread;
	pthread_mutex_t lock; /* fault, counters, request log, WattTime token */
	enum fake_fault fault;
	int remaining; /* answers the fault still replaces; < 0 = all */
	struct fake_stats stats;
	char bearer[64];
	unsigned tokens_issued;
	char *log[LOG_SIZE];
	unsigned nlog;
	int64_t now_hour; /* --fresh: the hour anchors become; 0 = recorded times */
	struct {
		char name[64];
		unsigned requests;
	} agents[MAX_AGENTS]; /* requests per User-Agent (replicas set their own) */
	unsigned nagents;
};

static const char *const fault_names[] = {
#define FAKE_FAULT_NAME(name, str) str,
    FAKE_FAULT_TABLE(FAKE_FAULT_NAME)
#undef FAKE_FAULT_NAME
};

int fake_fault_parse(const char *s)
{
	for (int i = 0; i < FAKE__FAULT_COUNT; i++)
		if (!strcmp(s, fault_names[i]))
			return i;
	return -1;
}

const char *fake_fault_name(enum fake_fault f)
{
	return f < FAKE__FAULT_COUNT ? fault_names[f] : "none";
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the client went away: nothing to do */
		p += w;
		n -= (size_t)w;
	}
}

static bool read_file(const char *dir, const char *name, struct buf *ret)
{
	char path[1400];
	char chunk[8192];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	if (!fp)
		return false;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(ret, chunk, n);
	fclose(fp);
	return true;
}

/* Value of query parameter 'name' (percent-decoded) into out; false when absent. */
static bool query_param(const char *query, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = query;

	while (p && *p) {
		if (!strncmp(p, name, nl) && p[nl] == '=') {
			size_t k = 0;
			p += nl + 1;
			while (*p && *p != '&' && k + 1 < size) {
				if (*p == '%' && p[1] && p[2]) {
					char hex[3] = {p[1], p[2], 0};
					out[k++] = (char)strtol(hex, NULL, 16);
					p += 3;
				} else {
					out[k++] = *p == '+' ? ' ' : *p;
					p++;
				}
			}
			out[k] = '\0';
			return true;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return false;
}

/* Header value (trimmed) into out; false when absent. */
static bool header(const char *head, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = head;

	while ((p = strchr(p, '\n'))) {
		p++;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e;
			while (*v == ' ' || *v == '\t')
				v++;
			e = v + strcspn(v, "\r\n");
			snprintf(out, size, "%.*s", (int)(e - v), v);
			return true;
		}
	}
	return false;
}

static void base64(const char *in, char *out, size_t size)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), k = 0;

	for (size_t i = 0; i < n && k + 5 < size; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[k++] = tab[(v >> 18) & 63];
		out[k++] = tab[(v >> 12) & 63];
		out[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[k++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[k] = '\0';
}

/* Path matches pattern ('*' = one segment) and the pattern's required
 * parameters are in the query. */
static bool route_matches(const char *pattern, const char *path, const char *query)
{
	const char *pq = strchr(pattern, '?');
	size_t plen = pq ? (size_t)(pq - pattern) : strlen(pattern);
	const char *a = pattern, *b = path, *aend = pattern + plen;

	while (a < aend && *b) {
		if (*a == '*') {
			a++;
			b += strcspn(b, "/");
			continue;
		}
		if (*a != *b)
			return false;
		a++;
		b++;
	}
	if (a != aend || *b)
		return false;
	if (!pq)
		return true;
	/* Required parameters "k=v&k=v". */
	char req[128];
	snprintf(req, sizeof(req), "%s", pq + 1);
	for (char *save = NULL, *kv = strtok_r(req, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '='), val[128];
		if (!eq)
			return false;
		*eq = '\0';
		if (!query_param(query ? query : "", kv, val, sizeof(val)) || strcmp(val, eq + 1))
			return false;
	}
	return true;
}

static const char *content_type_of(const char *name, const char *body)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (dot && !strcmp(dot, ".xml"))
		return "text/xml; charset=utf-8";
	if (dot && !strcmp(dot, ".csv"))
		return "text/csv; charset=utf-8";
	if (dot && !strcmp(dot, ".html"))
		return "text/html; charset=utf-8";
	if (dot && !strcmp(dot, ".json"))
		return "application/json; charset=utf-8";
	while (body && (*body == ' ' || *body == '\n'))
		body++;
	if (body && (*body == '{' || *body == '['))
		return "application/json; charset=utf-8";
	if (body && *body == '<')
		return "text/xml; charset=utf-8";
	return "text/plain; charset=utf-8";
}

/* A body given as a literal or "@file" (relative to the provider's directory). */
static void literal_or_file(const struct fake *f, const char *spec, struct buf *out, const char **ret_type)
{
	buf_reset(out);
	if (spec[0] == '@') {
		char dir[1200];
		snprintf(dir, sizeof(dir), "%s/%s", f->data_dir, f->p->name);
		if (!read_file(dir, spec + 1, out))
			buf_addf(out, "fake: missing file %s\n", spec + 1);
		*ret_type = content_type_of(spec + 1, out->data);
	} else {
		buf_adds(out, spec);
		*ret_type = content_type_of(NULL, spec);
	}
}

/* Add 'shift' seconds (whole hours) to every "YYYY-MM-DDTHH" in the body,
 * in place: minutes, seconds, fractions and offsets stay as recorded, so
 * every format the providers use ("2018-01-20T12:00Z", "...:00.000Z",
 * "+00:00", EIA's "2024-06-01T01") keeps its shape and its step grid. */
static void shift_times(struct buf *b, int64_t shift)
{
	static const char shape[] = "dddd-dd-ddTdd";
	char *d = b->data;

	for (size_t i = 0; i + sizeof(shape) - 1 <= b->len; i++) {
		size_t k = 0;

		if (i && d[i - 1] >= '0' && d[i - 1] <= '9')
			continue;
		while (shape[k] &&
		       (shape[k] == 'd' ? (d[i + k] >= '0' && d[i + k] <= '9') : d[i + k] == shape[k]))
			k++;
		if (shape[k])
			continue;
		int y = atoi(d + i), mo = atoi(d + i + 5), dd = atoi(d + i + 8), h = atoi(d + i + 11);
		struct ts_civil c;
		char out[32];

		ts_to_civil(ts_from_civil(y, mo, dd, h, 0, 0) + shift, &c);
		snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d", c.year, c.month, c.day, c.hour);
		memcpy(d + i, out, sizeof(shape) - 1);
		i += sizeof(shape) - 2;
	}
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */

struct reply {
	int status;
	const char *type;
	struct buf body;
	char extra[256]; /* extra header lines, each ending in \r\n */
};

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static bool gzip_body(struct buf *body)
{
	z_stream z = {0};
	struct buf out;
	char chunk[16384];
	int rc;

	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	buf_init(&out, 0);
	z.next_in = (Bytef *)body->data;
	z.avail_in = (uInt)body->len;
	do {
		z.next_out = (Bytef *)chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		buf_add(&out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc == Z_OK);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		buf_release(&out);
		return false;
	}
	buf_release(body);
	*body = out;
	return true;
}

/* Wait until the client closes (or the server stops), at most 60 s. */
static void wait_for_close(struct fake *f, int fd)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = f->wake[0], .events = POLLIN}};
	char junk[256];
	int64_t left = 60000;

	while (left > 0) {
		int rc = poll(p, 2, 200);
		left -= 200;
		if (rc < 0 && errno != EINTR)
			return;
		if (p[1].revents)
			return;
		if (p[0].revents) {
			ssize_t n = recv(fd, junk, sizeof(junk), 0);
			if (n <= 0)
				return;
		}
	}
}

static void send_reply(struct fake *f, int fd, struct reply *r, bool client_gzip, enum fake_fault how)
{
	char head[1024];
	bool gz = f->gzip && client_gzip && how != FAKE_TRUNCATE && how != FAKE_HANG && gzip_body(&r->body);
	size_t len = r->body.len, send_len = len;

	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%sConnection: close\r\n\r\n",
		 r->status, status_text(r->status), r->type, len, gz ? "Content-Encoding: gzip\r\n" : "",
		 r->extra);
	if (how == FAKE_TRUNCATE || how == FAKE_HANG)
		send_len = len / 2;
	write_all(fd, head, strlen(head));
	write_all(fd, r->body.data, send_len);
	if (how == FAKE_HANG)
		wait_for_close(f, fd);
}

static void reply_set(struct reply *r, int status, const char *type, const char *body)
{
	r->status = status;
	r->type = type;
	buf_reset(&r->body);
	buf_adds(&r->body, body);
}

/* Apply the fault (if any) to a request; returns the fault used. */
static enum fake_fault take_fault(struct fake *f)
{
	enum fake_fault use = FAKE_NONE;

	pthread_mutex_lock(&f->lock);
	if (f->fault != FAKE_NONE && f->remaining != 0) {
		use = f->fault;
		if (f->remaining > 0 && --f->remaining == 0)
			f->fault = FAKE_NONE;
		f->stats.faulted++;
	}
	pthread_mutex_unlock(&f->lock);
	return use;
}

static void control(struct fake *f, const char *path, const char *query, struct reply *r)
{
	char v[64];

	if (!strcmp(path, "/_fake/fault")) {
		int fault = query_param(query, "set", v, sizeof(v)) ? fake_fault_parse(v) : -1;
		int count = query_param(query, "count", v, sizeof(v)) ? atoi(v) : 0;
		if (fault < 0) {
			reply_set(r, 400, "text/plain", "unknown fault\n");
			return;
		}
		fake_set_fault(f, (enum fake_fault)fault, count);
		reply_set(r, 200, "text/plain", "ok\n");
	} else {
		struct fake_stats s;
		fake_get_stats(f, &s);
		reply_set(r, 200, "application/json", "");
		buf_addf(&r->body, "{\"requests\":%u,\"faulted\":%u,\"logins\":%u,\"agents\":{", s.requests,
			 s.faulted, s.logins);
		pthread_mutex_lock(&f->lock);
		for (unsigned i = 0; i < f->nagents; i++) {
			buf_adds(&r->body, i ? "," : "");
			buf_add_json_string(&r->body, f->agents[i].name);
			buf_addf(&r->body, ":%u", f->agents[i].requests);
		}
		pthread_mutex_unlock(&f->lock);
		buf_adds(&r->body, "}}\n");
	}
}

static void watttime_login(struct fake *f, const char *head, struct reply *r)
{
	char got[256], want[256], pair[160];

	snprintf(pair, sizeof(pair), "%s:%s", f->username, f->password);
	base64(pair, want, sizeof(want));
	if (!header(head, "Authorization", got, sizeof(got)) || strncmp(got, "Basic ", 6) ||
	    strcmp(got + 6, want)) {
		reply_set(r, 403, "text/html",
			  "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 "
			  "Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
		return;
	}
	pthread_mutex_lock(&f->lock);
	snprintf(f->bearer, sizeof(f->bearer), "wt-token-%u", ++f->tokens_issued);
	f->stats.logins++;
	reply_set(r, 200, "application/json", "");
	buf_addf(&r->body, "{\"token\": \"%s\"}", f->bearer);
	pthread_mutex_unlock(&f->lock);
}

static bool authorised(struct fake *f, const char *head, const char *query)
{
	char got[256];

	switch (f->p->auth) {
	case AUTH_NONE: return true;
	case AUTH_HEADER: return header(head, f->p->auth_name, got, sizeof(got)) && !strcmp(got, f->token);
	case AUTH_QUERY:
		return query_param(query, f->p->auth_name, got, sizeof(got)) && !strcmp(got, f->token);
	case AUTH_BEARER: {
		bool ok;
		if (!header(head, "Authorization", got, sizeof(got)) || strncmp(got, "Bearer ", 7))
			return false;
		pthread_mutex_lock(&f->lock);
		ok = f->bearer[0] && !strcmp(got + 7, f->bearer);
		pthread_mutex_unlock(&f->lock);
		return ok;
	}
	}
	return false;
}

static void serve_route(struct fake *f, const char *path, const char *query, const char *head,
			enum fake_fault fault, struct reply *r)
{
	const struct route *rt = NULL;
	char dir[1200], name[128], offset[32];

	for (size_t i = 0; i < ARRAY_SIZE(routes) && !rt; i++)
		if (!strcmp(routes[i].provider, f->p->name) && route_matches(routes[i].pattern, path, query))
			rt = &routes[i];
	if (!rt) {
		reply_set(r, 404, "application/json", "{\"error\":\"no such route in the fake\"}");
		return;
	}
	if (fault == FAKE_EXPIRED) {
		pthread_mutex_lock(&f->lock);
		f->bearer[0] = '\0'; /* WattTime: the token expires now */
		pthread_mutex_unlock(&f->lock);
	}
	if (fault == FAKE_EXPIRED || !authorised(f, head, query)) {
		literal_or_file(f, f->p->bad_auth_body ? f->p->bad_auth_body : "{}", &r->body, &r->type);
		r->status = f->p->bad_auth_status ? f->p->bad_auth_status : 401;
		return;
	}
	if (fault == FAKE_UNKNOWN_ZONE) {
		literal_or_file(f, f->p->unknown_body, &r->body, &r->type);
		r->status = f->p->unknown_status;
		return;
	}
	if (fault == FAKE_EMPTY) {
		literal_or_file(f, rt->empty, &r->body, &r->type);
		r->status = 200;
		return;
	}
	/* The file, with {offset} filled in. */
	const char *brace = strstr(rt->file, "{offset}");
	if (brace) {
		if (!query_param(query, "offset", offset, sizeof(offset)))
			snprintf(offset, sizeof(offset), "0");
		snprintf(name, sizeof(name), "%.*s%s%s", (int)(brace - rt->file), rt->file, offset,
			 brace + 8);
	} else {
		snprintf(name, sizeof(name), "%s", rt->file);
	}
	snprintf(dir, sizeof(dir), "%s/%s", f->data_dir, f->p->name);
	buf_reset(&r->body);
	if (!read_file(dir, name, &r->body)) {
		/* Past the last page: the provider's empty answer. */
		literal_or_file(f, rt->empty, &r->body, &r->type);
		r->status = 200;
		return;
	}
	r->status = 200;
	r->type = content_type_of(name, r->body.data);
	if (f->now_hour && rt->anchor) {
		int64_t anchor = 0;

		ts_parse(rt->anchor, "anchor", &anchor, NULL);
		shift_times(&r->body, f->now_hour - ts_floor(anchor, TS_HOUR));
	}
	if (fault == FAKE_MALFORMED) {
		r->body.len /= 2;
		r->body.data[r->body.len] = '\0';
	}
}

static void handle(struct fake *f, int fd)
{
	char req[16384], target[4096], accept_enc[128] = "";
	size_t n = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct reply r = {.status = 200, .type = "text/plain"};
	char *path, *query;
	enum fake_fault fault = FAKE_NONE;

	/* Read the request head (GET only: no body). */
	while (n + 1 < sizeof(req)) {
		if (poll(&p, 1, 5000) <= 0)
			return;
		ssize_t k = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (k <= 0)
			return;
		n += (size_t)k;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (sscanf(req, "%*s %4095s", target) != 1)
		return;
	buf_init(&r.body, 0);
	header(req, "Accept-Encoding", accept_enc, sizeof(accept_enc));
	path = target;
	query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	else
		query = "";
	if (!strncmp(path, "/_fake/", 7)) {
		control(f, path, query, &r);
		send_reply(f, fd, &r, false, FAKE_NONE);
		buf_release(&r.body);
		return;
	}
	char agent[64] = "";
	header(req, "User-Agent", agent, sizeof(agent));
	pthread_mutex_lock(&f->lock);
	f->stats.requests++;
	unsigned a = 0;
	while (a < f->nagents && strcmp(f->agents[a].name, agent))
		a++;
	if (a == f->nagents && a < MAX_AGENTS)
		snprintf(f->agents[f->nagents++].name, sizeof(f->agents[a].name), "%s", agent);
	if (a < f->nagents)
		f->agents[a].requests++;
	free(f->log[f->nlog % LOG_SIZE]);
	f->log[f->nlog % LOG_SIZE] = xstrdup(req); /* whole head: tests look for headers too */
	f->nlog++;
	pthread_mutex_unlock(&f->lock);

	bool login = !strcmp(f->p->name, "watttime") && !strcmp(path, "/login");
	if (!login)
		fault = take_fault(f);
	switch (fault) {
	case FAKE_RATE_LIMIT:
	case FAKE_E503:
		reply_set(&r, fault == FAKE_E503 ? 503 : 429, "application/json",
			  fault == FAKE_E503 ? "{\"error\":\"service unavailable, try later\"}"
					     : "{\"error\":\"Too many requests\"}");
		snprintf(r.extra, sizeof(r.extra), "Retry-After: %d\r\n", f->retry_after_s);
		break;
	case FAKE_RATE_LIMIT_DATE: {
		char date[64];
		time_t t = time(NULL) + f->retry_after_s;
		struct tm tm;
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
		reply_set(&r, 429, "application/json", "{\"error\":\"Too many requests\"}");
		snprintf(r.extra, sizeof(r.extra), "Retry-After: %s\r\n", date);
		break;
	}
	case FAKE_E500:
		reply_set(&r, 500, "application/json", "{\"error\":\"internal server error\"}");
		break;
	case FAKE_E502:
		reply_set(&r, 502, "text/html",
			  "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
			  "Gateway</h1></center></body></html>");
		break;
	case FAKE_CONTENT_TYPE:
		reply_set(&r, 200, "text/html",
			  "<html><head><title>Hotel Wi-Fi</title></head><body>Please accept the terms to "
			  "continue.</body></html>");
		break;
	default:
		if (login)
			watttime_login(f, req, &r);
		else
			serve_route(f, path, query, req, fault, &r);
	}
	send_reply(f, fd, &r, strcasestr(accept_enc, "gzip") != NULL, fault);
	buf_release(&r.body);
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	struct pollfd p[2] = {{.fd = f->listen_fd, .events = POLLIN}, {.fd = f->wake[0], .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			int fd = accept(f->listen_fd, NULL, NULL);
			if (fd < 0)
				continue;
			handle(f, fd);
			shutdown(fd, SHUT_WR);
			close(fd);
		}
	}
	return NULL;
}

struct fake *fake_start(const struct fake_options *o, struct err_detail *err)
{
	const struct provider *p = NULL;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int one = 1;

	for (size_t i = 0; i < ARRAY_SIZE(providers); i++)
		if (o->provider && !strcmp(providers[i].name, o->provider))
			p = &providers[i];
	if (!p) {
		err_set(err, ERR_INVALID, "provider", "unknown provider '%s'",
			o->provider ? o->provider : "");
		return NULL;
	}
	struct fake *f = xcalloc(1, sizeof(*f));
	f->p = p;
	snprintf(f->data_dir, sizeof(f->data_dir), "%s", o->data_dir ? o->data_dir : "tests/data/providers");
	snprintf(f->token, sizeof(f->token), "%s", o->token ? o->token : "test-token");
	snprintf(f->username, sizeof(f->username), "%s", o->username ? o->username : "freddo");
	snprintf(f->password, sizeof(f->password), "%s", o->password ? o->password : "the_frog");
	f->retry_after_s = o->retry_after_s > 0 ? o->retry_after_s : 1;
	f->gzip = o->gzip;
	f->fault = o->fault;
	f->remaining = o->fault_count > 0 ? o->fault_count : -1;
	if (o->fresh)
		f->now_hour = ts_floor(ts_now() - o->age_s, TS_HOUR);
	pthread_mutex_init(&f->lock, NULL);
	f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons((uint16_t)o->port);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(f->listen_fd, 64) || getsockname(f->listen_fd, (struct sockaddr *)&a, &alen) ||
	    pipe2(f->wake, O_CLOEXEC)) {
		err_set(err, ERR_IO, "port", "cannot listen on 127.0.0.1:%d: %s", o->port, strerror(errno));
		if (f->listen_fd >= 0)
			close(f->listen_fd);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return NULL;
	}
	f->port = ntohs(a.sin_port);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	pthread_create(&f->thread, NULL, serve, f);
	return f;
}

void fake_stop(struct fake *f)
{
	if (!f)
		return;
	if (write(f->wake[1], "x", 1) < 0)
		abort(); /* a pipe we own cannot refuse one byte */
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	close(f->wake[0]);
	close(f->wake[1]);
	for (size_t i = 0; i < LOG_SIZE; i++)
		free(f->log[i]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int fake_port(const struct fake *f)
{
	return f->port;
}

const char *fake_url(const struct fake *f)
{
	return f->url;
}

void fake_set_fault(struct fake *f, enum fake_fault fault, int count)
{
	pthread_mutex_lock(&f->lock);
	f->fault = fault;
	f->remaining = count > 0 ? count : -1;
	pthread_mutex_unlock(&f->lock);
}

void fake_get_stats(struct fake *f, struct fake_stats *ret)
{
	pthread_mutex_lock(&f->lock);
	*ret = f->stats;
	pthread_mutex_unlock(&f->lock);
}

unsigned fake_agent_requests(struct fake *f, const char *agent)
{
	unsigned n = 0;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nagents; i++)
		if (!strcmp(f->agents[i].name, agent))
			n = f->agents[i].requests;
	pthread_mutex_unlock(&f->lock);
	return n;
}

unsigned fake_count_requests(struct fake *f, const char *needle)
{
	unsigned k = 0;

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < LOG_SIZE; i++)
		if (f->log[i] && strstr(f->log[i], needle))
			k++;
	pthread_mutex_unlock(&f->lock);
	return k;
}
