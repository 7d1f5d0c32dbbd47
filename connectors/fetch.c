/*
 * fetch.c - the one adapter of libcurl: GET (and POST, for job callbacks)
 * with timeouts, a size cap, retries, Retry-After and a circuit breaker per
 * source.
 *
 * Why one module: every provider fails the same ways (rate limits, 5xx
 * bursts, stalls, half-sent bodies, HTML error pages from proxies), so the
 * policy lives here once and connectors only build URLs and parse bodies.
 *
 * Invariants:
 *  - A curl easy handle lives for one attempt; nothing curl-specific leaves
 *    this file.  curl_global_init is the caller's (main's) business.
 *  - Redirects are not followed: a custom token header (Electricity Maps'
 *    auth-token) would travel to whatever host the redirect names.
 *  - Every message is built from the redacted URL and then passed through
 *    fetch_redact_text with the request's secrets, so a provider that echoes
 *    our token in its error body does not get it into a log line.
 *  - The breaker counts logical fetches (after retries), not attempts, and
 *    only transient failures (network, timeout, 429, 5xx): a 404 means the
 *    provider is up.  Half-open lets exactly one probe through.
 *
 * Trade-offs: a handle per attempt gives up connection reuse (a few pages
 * per poll do not need it) for simple, leak-free error paths.
 */
#include "connectors/fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

struct breaker {
	char source[64];
	enum fetch_breaker_state state;
	int failures;
	bool probing; /* a half-open probe is in flight */
	int64_t open_until_ms;
	int64_t opened;
};

struct fetch {
	struct fetch_options opt;
	char *user_agent;
	pthread_mutex_t lock; /* breakers and the jitter generator */
	struct breaker *breakers;
	size_t nbreakers, capbreakers;
	uint64_t rng;
};

void fetch_options_default(struct fetch_options *ret)
{
	*ret = (struct fetch_options){
	    .connect_timeout_ms = 5000,
	    .timeout_ms = 30000,
	    .max_bytes = (size_t)64 << 20,
	    .max_attempts = 4,
	    .backoff_base_ms = 500,
	    .backoff_max_ms = 30000,
	    .retry_after_max_ms = 120000,
	    .breaker_threshold = 5,
	    .breaker_cooldown_ms = 60000,
	    .user_agent = "carbonsched",
	};
}

static void default_sleep(void *arg, int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	(void)arg;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int64_t default_clock(void *arg)
{
	(void)arg;
	return ts_mono_ms();
}

struct fetch *fetch_new(const struct fetch_options *opt)
{
	struct fetch *f = xcalloc(1, sizeof(*f));
	struct fetch_options d;

	fetch_options_default(&d);
	f->opt = opt ? *opt : d;
#define DEFAULT(field)         \
	if (f->opt.field <= 0) \
		f->opt.field = d.field;
	DEFAULT(connect_timeout_ms)
	DEFAULT(timeout_ms)
	DEFAULT(max_attempts)
	DEFAULT(backoff_base_ms)
	DEFAULT(backoff_max_ms)
	DEFAULT(retry_after_max_ms)
	DEFAULT(breaker_threshold)
	DEFAULT(breaker_cooldown_ms)
#undef DEFAULT
	if (!f->opt.max_bytes)
		f->opt.max_bytes = d.max_bytes;
	f->user_agent = xstrdup(f->opt.user_agent ? f->opt.user_agent : d.user_agent);
	f->opt.user_agent = f->user_agent;
	if (!f->opt.sleep_ms)
		f->opt.sleep_ms = default_sleep;
	if (!f->opt.clock_ms)
		f->opt.clock_ms = default_clock;
	f->rng = f->opt.seed ? f->opt.seed : (uint64_t)ts_mono_ms() * 0x9E3779B97F4A7C15ull + 1;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f->breakers);
	free(f->user_agent);
	free(f);
}

const struct fetch_options *fetch_get_options(const struct fetch *f)
{
	return &f->opt;
}

void fetch_response_release(struct fetch_response *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

/* ------------------------------------------------------------------ */
/* Redaction                                                           */

static const char *const secret_params[] = {
    "token", "securitytoken", "api_key",      "apikey",	    "key",	 "password", "passwd", "secret",
    "auth",  "auth-token",    "access_token", "auth_token", "signature", "sig",	     NULL,
};

static bool is_secret_param(const char *name, size_t len)
{
	for (const char *const *p = secret_params; *p; p++)
		if (strlen(*p) == len && !strncasecmp(*p, name, len))
			return true;
	return false;
}

void fetch_redact_text(char *s, size_t size, const char *const *secrets)
{
	static const char stars[] = "***";

	for (const char *const *sec = secrets; sec && *sec; sec++) {
		size_t sl = strlen(*sec);
		char *p = s;

		/* Very short "secrets" would wipe ordinary words. */
		if (sl < 4)
			continue;
		while ((p = strstr(p, *sec))) {
			size_t rest = strlen(p + sl);

			memmove(p + 3, p + sl, rest + 1);
			memcpy(p, stars, 3);
			p += 3;
		}
	}
	(void)size; /* replacements only shrink (secrets of >= 4 bytes -> 3) */
}

void fetch_redact_url(const char *url, const char *const *secrets, char *out, size_t size)
{
	struct buf b;
	const char *p = url ? url : "", *scheme = strstr(p, "://");
	const char *host = scheme ? scheme + 3 : p;
	const char *path = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(path - host));
	const char *q, *frag;

	buf_init(&b, 0);
	if (scheme)
		buf_add(&b, p, (size_t)(host - p));
	if (at)
		host = at + 1; /* user:password@ dropped */
	buf_add(&b, host, (size_t)(path - host));
	q = strchr(path, '?');
	frag = strchr(path, '#');
	if (frag && q && frag < q)
		q = NULL;
	buf_add(&b, path, q ? (size_t)(q - path) : strcspn(path, "#"));
	if (q) {
		const char *end = q + 1 + strcspn(q + 1, "#");
		const char *item = q + 1;

		buf_addc(&b, '?');
		while (item < end) {
			const char *amp = memchr(item, '&', (size_t)(end - item));
			const char *stop = amp ? amp : end;
			const char *eq = memchr(item, '=', (size_t)(stop - item));

			if (eq && is_secret_param(item, (size_t)(eq - item))) {
				buf_add(&b, item, (size_t)(eq - item) + 1);
				buf_adds(&b, "***");
			} else {
				buf_add(&b, item, (size_t)(stop - item));
			}
			if (amp)
				buf_addc(&b, '&');
			item = stop + 1;
		}
	}
	fetch_redact_text(b.data, b.len + 1, secrets);
	snprintf(out, size, "%s", b.data);
	buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Retry-After and error bodies                                        */

bool fetch_parse_retry_after(const char *value, int64_t now_s, int64_t *ret_ms)
{
	const char *p = value;
	int64_t secs = 0;

	if (!p)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		int nd = 0;

		while (isdigit((unsigned char)*p)) {
			if (++nd > 9)
				return false;
			secs = secs * 10 + (*p++ - '0');
		}
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p)
			return false;
		*ret_ms = secs * 1000;
		return true;
	}
	/* HTTP-date (IMF-fixdate, RFC 850 or asctime): curl_getdate reads all
	 * three, and requires at least a day and a time. */
	if (!strchr(p, ':'))
		return false;
	time_t t = curl_getdate(p, NULL);
	if (t == (time_t)-1)
		return false;
	*ret_ms = (int64_t)t > now_s ? ((int64_t)t - now_s) * 1000 : 0;
	return true;
}

/* Append printable text, collapsing white space, until out is full. */
static void put_text(char *out, size_t size, size_t *len, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *len + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			continue;
		if (c == ' ' && (*len == 0 || out[*len - 1] == ' '))
			continue;
		out[(*len)++] = (char)c;
	}
	out[*len] = '\0';
}

static bool json_summary(const char *body, size_t len, char *out, size_t size)
{
	json_t *j = json_loadb(body, len, 0, NULL), *e, *v;
	const char *parts[2] = {NULL, NULL};
	size_t n = 0;

	if (!j)
		return false;
	if (!json_is_object(j)) {
		json_decref(j);
		return false;
	}
	e = json_object_get(j, "error");
	if (json_is_string(e)) {
		parts[0] = json_string_value(e);
	} else if (json_is_object(e)) {
		v = json_object_get(e, "message");
		parts[0] = json_is_string(v) ? json_string_value(v) : NULL;
	}
	/* The second part: a message that explains a terse 'error'. */
	static const char *const keys[] = {"message", "msg", "reason", NULL};
	for (const char *const *k = keys; *k && !parts[1]; k++) {
		v = json_object_get(j, *k);
		if (json_is_string(v))
			parts[1] = json_string_value(v);
	}
	v = json_object_get(j, "detail");
	if (!parts[1] && json_is_string(v))
		parts[1] = json_string_value(v);
	if (!parts[1] && json_is_array(v) && json_array_size(v)) {
		json_t *m = json_object_get(json_array_get(v, 0), "msg");
		parts[1] = json_is_string(m) ? json_string_value(m) : NULL;
	}
	for (int i = 0; i < 2; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		if (n)
			put_text(out, size, &n, ": ", 2);
		put_text(out, size, &n, parts[i], strlen(parts[i]));
	}
	json_decref(j);
	return n > 0;
}

/* Text between <tag> and </tag> (first occurrence), or NULL. */
static const char *xml_element(const char *body, size_t len, const char *tag, size_t *ret_n)
{
	char open[32], close[32];
	const char *s, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = memmem(body, len, open, strlen(open));
	if (!s)
		return NULL;
	s += strlen(open);
	e = memmem(s, len - (size_t)(s - body), close, strlen(close));
	if (!e)
		return NULL;
	*ret_n = (size_t)(e - s);
	return s;
}

static void markup_text(const char *body, size_t len, char *out, size_t size, size_t *n)
{
	bool in_tag = false;
	size_t i = 0;

	while (i < len && *n + 1 < size) {
		char c = body[i];

		if (in_tag) {
			in_tag = c != '>';
			i++;
			continue;
		}
		if (c == '<') {
			/* Skip what a browser would not show. */
			static const char *const hidden[] = {"<script", "<style", "<!--", NULL};
			static const char *const ends[] = {"</script>", "</style>", "-->", NULL};
			bool skipped = false;

			for (int k = 0; hidden[k]; k++) {
				size_t hl = strlen(hidden[k]);
				if (len - i >= hl && !strncasecmp(body + i, hidden[k], hl)) {
					const char *e = memmem(body + i, len - i, ends[k], strlen(ends[k]));
					i = e ? (size_t)(e - body) + strlen(ends[k]) : len;
					skipped = true;
					break;
				}
			}
			if (skipped)
				continue;
			in_tag = true;
			put_text(out, size, n, " ", 1);
			i++;
			continue;
		}
		if (c == '&') {
			static const struct {
				const char *ent, *ch;
			} ents[] = {{"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
				    {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}};
			bool done = false;

			for (size_t k = 0; k < ARRAY_SIZE(ents); k++) {
				size_t el = strlen(ents[k].ent);
				if (len - i >= el && !memcmp(body + i, ents[k].ent, el)) {
					put_text(out, size, n, ents[k].ch, 1);
					i += el;
					done = true;
					break;
				}
			}
			if (done)
				continue;
		}
		put_text(out, size, n, &c, 1);
		i++;
	}
}

void fetch_error_summary(const char *body, size_t len, char *out, size_t size)
{
	size_t n = 0, tl;
	const char *p = body, *t;

	if (!size)
		return;
	out[0] = '\0';
	if (!body || !len)
		return;
	while (len && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	if (len && (*p == '{' || *p == '[')) {
		if (json_summary(p, len, out, size))
			goto trim;
	} else if (len && *p == '<') {
		/* ENTSO-E acknowledgement: <Reason><code>999</code><text>...</text> */
		const char *reason = memmem(p, len, "<Reason>", 8);
		if (reason && (t = xml_element(reason, len - (size_t)(reason - p), "text", &tl))) {
			put_text(out, size, &n, t, tl);
			goto trim;
		}
		markup_text(p, len, out, size, &n);
		goto trim;
	}
	/* Plain text (or JSON we could not read): the first line.  The body
	 * need not be NUL-terminated. */
	const char *nl = memchr(p, '\n', len);
	put_text(out, size, &n, p, nl ? (size_t)(nl - p) : len);
trim:
	n = strlen(out);
	while (n && out[n - 1] == ' ')
		out[--n] = '\0';
	if (n + 1 >= size && size > 4)
		memcpy(out + size - 4, "...", 4);
}

/* ------------------------------------------------------------------ */
/* Circuit breakers                                                    */

static struct breaker *breaker_find(struct fetch *f, const char *source, bool create)
{
	for (size_t i = 0; i < f->nbreakers; i++)
		if (!strcmp(f->breakers[i].source, source))
			return &f->breakers[i];
	if (!create)
		return NULL;
	f->breakers = xgrow(f->breakers, &f->capbreakers, f->nbreakers + 1, sizeof(*f->breakers));
	struct breaker *b = &f->breakers[f->nbreakers++];
	*b = (struct breaker){.state = FETCH_BREAKER_CLOSED};
	snprintf(b->source, sizeof(b->source), "%s", source);
	return b;
}

/* May this fetch go ahead?  When not, *ret_wait_ms says how long until a
 * probe is let through. */
static bool breaker_admit(struct fetch *f, const char *source, int64_t *ret_wait_ms, int *ret_failures)
{
	int64_t now = f->opt.clock_ms(f->opt.hook_arg);
	bool ok = true;

	pthread_mutex_lock(&f->lock);
	struct breaker *b = breaker_find(f, source, true);
	if (b->state == FETCH_BREAKER_OPEN && now >= b->open_until_ms) {
		b->state = FETCH_BREAKER_HALF_OPEN;
		b->probing = false;
	}
	if (b->state == FETCH_BREAKER_OPEN) {
		ok = false;
		*ret_wait_ms = b->open_until_ms - now;
	} else if (b->state == FETCH_BREAKER_HALF_OPEN) {
		if (b->probing) {
			ok = false;
			*ret_wait_ms = 0;
		} else {
			b->probing = true;
		}
	}
	*ret_failures = b->failures;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

static void breaker_record(struct fetch *f, const char *source, bool transient_failure)
{
	int64_t now = f->opt.clock_ms(f->opt.hook_arg);

	pthread_mutex_lock(&f->lock);
	struct breaker *b = breaker_find(f, source, true);
	if (!transient_failure) {
		b->state = FETCH_BREAKER_CLOSED;
		b->failures = 0;
	} else {
		b->failures++;
		if (b->state == FETCH_BREAKER_HALF_OPEN || b->failures >= f->opt.breaker_threshold) {
			b->state = FETCH_BREAKER_OPEN;
			b->open_until_ms = now + f->opt.breaker_cooldown_ms;
			b->opened++;
		}
	}
	b->probing = false;
	pthread_mutex_unlock(&f->lock);
}

void fetch_breaker(struct fetch *f, const char *source, struct fetch_breaker_info *ret)
{
	int64_t now = f->opt.clock_ms(f->opt.hook_arg);

	pthread_mutex_lock(&f->lock);
	struct breaker *b = breaker_find(f, source, false);
	*ret = (struct fetch_breaker_info){.state = FETCH_BREAKER_CLOSED};
	if (b) {
		ret->state = b->state;
		/* Report what the next fetch would find. */
		if (b->state == FETCH_BREAKER_OPEN && now >= b->open_until_ms)
			ret->state = FETCH_BREAKER_HALF_OPEN;
		ret->failures = b->failures;
		ret->open_until_ms = b->open_until_ms;
		ret->opened = b->opened;
	}
	pthread_mutex_unlock(&f->lock);
}

void fetch_breaker_reset(struct fetch *f, const char *source)
{
	pthread_mutex_lock(&f->lock);
	struct breaker *b = breaker_find(f, source, false);
	if (b) {
		b->state = FETCH_BREAKER_CLOSED;
		b->failures = 0;
		b->probing = false;
	}
	pthread_mutex_unlock(&f->lock);
}

const char *fetch_breaker_state_name(enum fetch_breaker_state s)
{
	switch (s) {
	case FETCH_BREAKER_CLOSED: return "closed";
	case FETCH_BREAKER_OPEN: return "open";
	case FETCH_BREAKER_HALF_OPEN: return "half-open";
	}
	return "closed";
}

/* ------------------------------------------------------------------ */
/* One attempt                                                         */

static uint64_t next_random(struct fetch *f)
{
	uint64_t x;

	pthread_mutex_lock(&f->lock);
	x = f->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->rng = x;
	pthread_mutex_unlock(&f->lock);
	return x * 0x2545F4914F6CDD1Dull;
}

/* "Equal jitter": half the exponential delay, plus a random other half. */
static int64_t backoff_ms(struct fetch *f, int attempt)
{
	int64_t d = f->opt.backoff_base_ms;

	for (int i = 1; i < attempt && d < f->opt.backoff_max_ms; i++)
		d *= 2;
	if (d > f->opt.backoff_max_ms)
		d = f->opt.backoff_max_ms;
	return d / 2 + (int64_t)(next_random(f) % (uint64_t)(d / 2 + 1));
}

struct sink {
	struct buf b;
	bool too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (buf_add(&s->b, p, size * n)) {
		s->too_large = true;
		return 0;
	}
	return size * n;
}

enum outcome {
	OUT_OK,	       /* 2xx of the right type */
	OUT_HTTP,      /* a status we do not accept */
	OUT_NET,       /* transport failure (retryable) */
	OUT_TIMEOUT,   /* attempt timed out (retryable) */
	OUT_TOO_LARGE, /* body over the cap (final) */
	OUT_TYPE,      /* 2xx with the wrong content type (final) */
	OUT_BAD_URL,   /* curl refused the URL (final) */
};

struct attempt {
	enum outcome out;
	long status;
	int64_t retry_after_ms; /* -1: none or unreadable */
	char content_type[128];
	char cause[400];
	struct sink sink;
};

/* libcurl's progress callback: non-zero abandons the transfer. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const struct fetch *f = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return f->opt.cancelled(f->opt.hook_arg) ? 1 : 0;
}

static bool is_cancelled(const struct fetch *f)
{
	return f->opt.cancelled && f->opt.cancelled(f->opt.hook_arg);
}

static bool type_matches(const char *accept, const char *ctype)
{
	if (!accept || !*ctype)
		return true;		/* nothing to check, or nothing said: the parser will judge */
	if (!strcasecmp(accept, "csv")) /* text comes as text/csv, text/plain, octet-stream... */
		return !strcasestr(ctype, "html");
	return strcasestr(ctype, accept) != NULL;
}

static void run_attempt(struct fetch *f, const struct fetch_request *rq, struct curl_slist *hdrs,
			struct curl_slist *resolve, struct attempt *a)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	CURLcode cc;
	char *ct = NULL;
	struct curl_header *ra;

	a->retry_after_ms = -1;
	a->status = 0;
	a->content_type[0] = '\0';
	a->cause[0] = '\0';
	buf_reset(&a->sink.b);
	a->sink.too_large = false;
	if (!h) {
		a->out = OUT_NET;
		snprintf(a->cause, sizeof(a->cause), "cannot create a transfer handle");
		return;
	}
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)f->opt.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)f->opt.timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->opt.max_bytes);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding curl decodes */
	curl_easy_setopt(h, CURLOPT_USERAGENT, f->user_agent);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->sink);
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (f->opt.cancelled) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, f);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	if (rq->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	if (resolve)
		curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
	if (rq->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, rq->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, rq->password ? rq->password : "");
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(a->content_type, sizeof(a->content_type), "%s", ct);
	if (a->status && curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK) {
		int64_t ms;
		if (fetch_parse_retry_after(ra->value, ts_now(), &ms))
			a->retry_after_ms = ms;
	}
	if (a->sink.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		a->out = OUT_TOO_LARGE;
		snprintf(a->cause, sizeof(a->cause), "response larger than the %zu-byte cap",
			 f->opt.max_bytes);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		a->out = OUT_TIMEOUT;
		snprintf(a->cause, sizeof(a->cause), "timed out (%s)", *ebuf ? ebuf : curl_easy_strerror(cc));
	} else if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT) {
		a->out = OUT_BAD_URL;
		snprintf(a->cause, sizeof(a->cause), "bad URL (%s)", *ebuf ? ebuf : curl_easy_strerror(cc));
	} else if (cc != CURLE_OK) {
		a->out = OUT_NET;
		snprintf(a->cause, sizeof(a->cause), "%s", *ebuf ? ebuf : curl_easy_strerror(cc));
	} else if (a->status < 200 || a->status > 299) {
		a->out = OUT_HTTP;
	} else if (!type_matches(rq->accept, a->content_type)) {
		a->out = OUT_TYPE;
	} else {
		a->out = OUT_OK;
	}
	curl_easy_cleanup(h);
}

static const char *reason_phrase(long status)
{
	static const struct {
		long status;
		const char *text;
	} phrases[] = {
	    {300, "Multiple Choices"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {303, "See Other"},
	    {307, "Temporary Redirect"},
	    {308, "Permanent Redirect"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {410, "Gone"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {422, "Unprocessable Content"},
	    {429, "Too Many Requests"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(phrases); i++)
		if (phrases[i].status == status)
			return phrases[i].text;
	return "";
}

static bool is_retryable(const struct attempt *a)
{
	switch (a->out) {
	case OUT_NET:
	case OUT_TIMEOUT: return true;
	case OUT_HTTP: return a->status == 429 || a->status >= 500;
	default: return false;
	}
}

static int code_of(const struct attempt *a)
{
	switch (a->out) {
	case OUT_OK: return ERR_OK;
	case OUT_NET: return ERR_UNAVAILABLE;
	case OUT_TIMEOUT: return ERR_TIMEOUT;
	case OUT_TOO_LARGE: return ERR_TOO_LARGE;
	case OUT_TYPE: return ERR_UPSTREAM;
	case OUT_BAD_URL: return ERR_INVALID;
	case OUT_HTTP: break;
	}
	switch (a->status) {
	case 401: return ERR_UNAUTHORIZED;
	case 403: return ERR_FORBIDDEN;
	case 404: return ERR_NOT_FOUND;
	case 429: return ERR_RATE_LIMITED;
	default: return ERR_UPSTREAM;
	}
}

/* The failure message: source, cause, provider text, redacted URL. */
static int fail(const struct fetch_request *rq, const struct attempt *a, const char *shown_url, int attempts,
		const char *extra, struct err_detail *err)
{
	char summary[240] = "", what[600];
	int code = code_of(a);

	if (a->out == OUT_HTTP || a->out == OUT_TYPE)
		fetch_error_summary(a->sink.b.data, a->sink.b.len, summary, sizeof(summary));
	if (a->out == OUT_HTTP) {
		const char *phrase = reason_phrase(a->status);
		snprintf(what, sizeof(what), "HTTP %ld%s%s%s%s", a->status, *phrase ? " " : "", phrase,
			 *summary ? ": " : "", summary);
		if (a->status >= 300 && a->status < 400)
			snprintf(what + strlen(what), sizeof(what) - strlen(what),
				 " (redirects are not followed)");
	} else if (a->out == OUT_TYPE) {
		snprintf(what, sizeof(what), "expected %s but got '%s'%s%s",
			 !strcasecmp(rq->accept, "json")  ? "JSON"
			 : !strcasecmp(rq->accept, "xml") ? "XML"
							  : "CSV or JSON",
			 a->content_type, *summary ? ": " : "", summary);
	} else {
		snprintf(what, sizeof(what), "%s", a->cause);
	}
	err_set(err, code, "", "%s: %s%s (%s %s)", rq->source, what, extra ? extra : "",
		rq->body ? "POST" : "GET", shown_url);
	if (err && attempts > 1)
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
			 " after %d attempts", attempts);
	if (err) {
		fetch_redact_text(err->msg, sizeof(err->msg), rq->secrets);
		if (rq->password) {
			const char *pw[] = {rq->password, NULL};
			fetch_redact_text(err->msg, sizeof(err->msg), pw);
		}
	}
	return code;
}

static int fetch_run(struct fetch *f, const struct fetch_request *rq, struct fetch_response *ret,
		     struct err_detail *err)
{
	const char *method = rq->body ? "POST" : "GET";
	char shown[600];
	struct curl_slist *hdrs = NULL, *resolve = NULL;
	struct attempt a;
	int64_t wait = 0;
	int failures = 0, n = 0, rc;
	bool transient = false;

	fetch_redact_url(rq->url, rq->secrets, shown, sizeof(shown));
	if (!rq->url || (strncasecmp(rq->url, "http://", 7) && strncasecmp(rq->url, "https://", 8)))
		return err_set(err, ERR_INVALID, rq->body ? "url" : "base_url",
			       "%s: '%s' is not an http:// or https:// URL", rq->source, shown);
	if (!breaker_admit(f, rq->source, &wait, &failures)) {
		if (wait > 0)
			return err_set(err, ERR_UNAVAILABLE, "",
				       "%s: circuit breaker open after %d consecutive failures; next try in "
				       "%lld s (%s %s)",
				       rq->source, failures, (long long)((wait + 999) / 1000), method, shown);
		return err_set(err, ERR_UNAVAILABLE, "",
			       "%s: circuit breaker half-open, a probe request is in flight (%s %s)",
			       rq->source, method, shown);
	}
	for (const char *const *h = rq->headers; h && *h; h++)
		hdrs = curl_slist_append(hdrs, *h);
	if (rq->body) {
		char ct[160];

		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 rq->content_type ? rq->content_type : "application/json");
		hdrs = curl_slist_append(hdrs, ct);
		hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	}
	for (const char *const *r = rq->resolve; r && *r; r++)
		resolve = curl_slist_append(resolve, *r);
	/* curl adds "Expect:" and friends; we only add ours. */
	memset(&a, 0, sizeof(a));
	buf_init(&a.sink.b, f->opt.max_bytes);
	for (;;) {
		int64_t t0 = ts_mono_ms(), delay;
		const char *extra = NULL;

		n++;
		if (is_cancelled(f)) {
			transient = false;
			rc = err_set(err, ERR_UNAVAILABLE, "",
				     "%s: cancelled: the service is stopping (%s %s)", rq->source, method,
				     shown);
			goto out;
		}
		run_attempt(f, rq, hdrs, resolve, &a);
		log_debug("fetch: %s %s -> %ld (%s) in %lld ms, attempt %d", method, shown, a.status,
			  a.out == OUT_OK ? "ok" : "failed", (long long)(ts_mono_ms() - t0), n);
		if (a.out == OUT_OK)
			break;
		transient = is_retryable(&a) && !is_cancelled(f);
		if (!transient || n >= f->opt.max_attempts) {
			rc = fail(rq, &a, shown, n, NULL, err);
			goto out;
		}
		delay = backoff_ms(f, n);
		if ((a.status == 429 || a.status == 503) && a.retry_after_ms >= 0) {
			if (a.retry_after_ms > f->opt.retry_after_max_ms) {
				char more[96];
				snprintf(more, sizeof(more),
					 "; asked to retry after %g s, more than the %g s allowed",
					 (double)a.retry_after_ms / 1000,
					 (double)f->opt.retry_after_max_ms / 1000);
				extra = more;
				rc = fail(rq, &a, shown, n, extra, err);
				goto out;
			}
			/* Honour it, with a little jitter so that replicas do not return in step. */
			delay = a.retry_after_ms +
				(int64_t)(next_random(f) % (uint64_t)(a.retry_after_ms / 10 + 1));
		}
		f->opt.sleep_ms(f->opt.hook_arg, delay);
	}
	transient = false;
	ret->status = a.status;
	ret->len = a.sink.b.len;
	ret->body = buf_detach(&a.sink.b, NULL);
	snprintf(ret->content_type, sizeof(ret->content_type), "%s", a.content_type);
	ret->attempts = n;
	rc = ERR_OK;
out:
	breaker_record(f, rq->source, rc != ERR_OK && transient);
	buf_release(&a.sink.b);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	return rc;
}

int fetch_get(struct fetch *f, const struct fetch_request *rq, struct fetch_response *ret,
	      struct err_detail *err)
{
	if (rq->body)
		return err_set(err, ERR_INVALID, "body", "%s: a GET has no body", rq->source);
	return fetch_run(f, rq, ret, err);
}

int fetch_post(struct fetch *f, const struct fetch_request *rq, struct fetch_response *ret,
	       struct err_detail *err)
{
	if (!rq->body)
		return err_set(err, ERR_INVALID, "body", "%s: a POST needs a body", rq->source);
	return fetch_run(f, rq, ret, err);
}
