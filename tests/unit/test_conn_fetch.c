/* connectors/fetch: retries, Retry-After, timeouts, caps, breakers and
 * redaction, against the fake provider on loopback. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>

#include "connectors/fetch.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"
#include "tests/lib/fake_provider.h"
#include "tests/lib/testlib.h"

/* Sleeps are recorded, never slept; the breaker clock is ours. */
struct hooks {
	int64_t slept[16];
	int nslept;
	int64_t clock;
};

static void fake_sleep(void *arg, int64_t ms)
{
	struct hooks *h = arg;

	if (h->nslept < 16)
		h->slept[h->nslept] = ms;
	h->nslept++;
}

static int64_t fake_clock(void *arg)
{
	return ((struct hooks *)arg)->clock;
}

static struct fetch *new_fetch(struct hooks *h, int attempts, int64_t timeout_ms)
{
	struct fetch_options o = {
	    .max_attempts = attempts,
	    .timeout_ms = timeout_ms,
	    .connect_timeout_ms = 2000,
	    .backoff_base_ms = 10,
	    .backoff_max_ms = 40,
	    .breaker_threshold = 100,
	    .sleep_ms = fake_sleep,
	    .clock_ms = fake_clock,
	    .hook_arg = h,
	    .seed = 42,
	};
	return fetch_new(&o);
}

static struct fake *start(const char *provider, enum fake_fault fault, int count)
{
	struct err_detail err;
	struct fake_options o = {.provider = provider, .fault = fault, .fault_count = count};
	struct fake *f = fake_start(&o, &err);

	if (!f)
		tl_fail(__LINE__, __FILE__, true, "fake: %s", err.msg);
	return f;
}

static const char *const em_headers[] = {"auth-token: test-token", NULL};

/* GET the Electricity Maps history route. */
static int get_history(struct fetch *fe, struct fake *fk, struct fetch_response *res, struct err_detail *err)
{
	char url[256];
	static const char *const secrets[] = {"test-token", NULL};

	snprintf(url, sizeof(url), "%s/v3/carbon-intensity/history?zone=DE", fake_url(fk));
	struct fetch_request rq = {.source = "electricitymaps",
				   .url = url,
				   .headers = em_headers,
				   .accept = "json",
				   .secrets = secrets};
	return fetch_get(fe, &rq, res, err);
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b, 0);
	while (fp && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	if (fp)
		fclose(fp);
	return buf_detach(&b, ret_len);
}

static void test_ok_and_gzip(void)
{
	struct hooks h = {0};
	struct fetch *fe = new_fetch(&h, 3, 5000);
	struct err_detail err = {0};
	struct fetch_response res = {0};
	size_t want_len;
	char *want = slurp(tl_testdata("providers/electricitymaps/history.json"), &want_len);

	for (int gz = 0; gz < 2; gz++) {
		struct fake_options o = {.provider = "electricitymaps", .gzip = gz};
		struct fake *fk = fake_start(&o, &err);
		int rc = get_history(fe, fk, &res, &err);
		TL_ASSERT_INT_EQ(rc, ERR_OK);
		if (!rc) {
			TL_ASSERT_INT_EQ(res.len, want_len);
			TL_ASSERT(!memcmp(res.body, want, want_len));
			TL_ASSERT_INT_EQ(res.status, 200);
			TL_ASSERT_INT_EQ(res.attempts, 1);
			TL_ASSERT_CONTAINS(res.content_type, "application/json");
		}
		fetch_response_release(&res);
		fake_stop(fk);
	}
	TL_ASSERT_INT_EQ(h.nslept, 0);
	free(want);
	fetch_free(fe);
}

/* Faults that heal after 'count' answers: the fetch succeeds on a retry
 * and waits as the fault asks. */
static void test_retries_then_succeeds(void)
{
	static const struct {
		enum fake_fault fault;
		int count;
		int64_t min_sleep, max_sleep; /* each recorded delay */
	} cases[] = {
	    {FAKE_RATE_LIMIT, 2, 1000, 1100},	/* Retry-After: 1 (+ up to 10% jitter) */
	    {FAKE_E503, 1, 1000, 1100},		/* 503 with Retry-After: 1 */
	    {FAKE_RATE_LIMIT_DATE, 1, 0, 2200}, /* HTTP-date one second ahead, second precision */
	    {FAKE_E500, 2, 5, 20},		/* backoff: 10 ms doubling, equal jitter, cap 40 */
	    {FAKE_E502, 1, 5, 10},
	    {FAKE_TRUNCATE, 1, 5, 10},
	    {FAKE_HANG, 1, 5, 10},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hooks h = {0};
		struct fetch *fe = new_fetch(&h, 4, 1000);
		struct fake *fk = start("electricitymaps", cases[i].fault, cases[i].count);
		struct err_detail err = {0};
		struct fetch_response res = {0};
		int rc = get_history(fe, fk, &res, &err);

		if (rc)
			tl_fail(__LINE__, __FILE__, false, "fault %s: %s", fake_fault_name(cases[i].fault),
				err.msg);
		TL_ASSERT_INT_EQ(res.attempts, cases[i].count + 1);
		TL_ASSERT_INT_EQ(h.nslept, cases[i].count);
		for (int k = 0; k < h.nslept && k < 16; k++) {
			if (h.slept[k] < cases[i].min_sleep || h.slept[k] > cases[i].max_sleep)
				tl_fail(__LINE__, __FILE__, false,
					"fault %s: delay %lld ms not in [%lld, %lld]",
					fake_fault_name(cases[i].fault), (long long)h.slept[k],
					(long long)cases[i].min_sleep, (long long)cases[i].max_sleep);
		}
		TL_ASSERT_CONTAINS(res.body ? res.body : "", "\"history\"");
		fetch_response_release(&res);
		fake_stop(fk);
		fetch_free(fe);
	}
}

/* Faults that persist: a clear failure naming the source and the cause. */
static void test_persistent_faults_fail_clearly(void)
{
	static const struct {
		enum fake_fault fault;
		int code;
		int attempts; /* requests the fake saw */
		const char *msg1, *msg2;
	} cases[] = {
	    {FAKE_E500, ERR_UPSTREAM, 3, "HTTP 500 Internal Server Error: internal server error",
	     "after 3 attempts"},
	    {FAKE_E502, ERR_UPSTREAM, 3, "HTTP 502 Bad Gateway: 502 Bad Gateway", "after 3 attempts"},
	    {FAKE_E503, ERR_UPSTREAM, 3, "HTTP 503 Service Unavailable: service unavailable",
	     "after 3 attempts"},
	    {FAKE_RATE_LIMIT, ERR_RATE_LIMITED, 3, "HTTP 429 Too Many Requests", "after 3 attempts"},
	    {FAKE_HANG, ERR_TIMEOUT, 3, "timed out", "after 3 attempts"},
	    {FAKE_TRUNCATE, ERR_UNAVAILABLE, 3, "transfer closed", "after 3 attempts"},
	    {FAKE_CONTENT_TYPE, ERR_UPSTREAM, 1, "expected JSON but got 'text/html",
	     "Please accept the terms"},
	    {FAKE_EXPIRED, ERR_UNAUTHORIZED, 1, "HTTP 401 Unauthorized: Invalid auth-token",
	     "(GET http://127.0.0.1"},
	    {FAKE_UNKNOWN_ZONE, ERR_NOT_FOUND, 1, "HTTP 404 Not Found: Zone 'XX' does not exist", "zone=DE"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hooks h = {0};
		struct fetch *fe = new_fetch(&h, 3, 300);
		struct fake *fk = start("electricitymaps", cases[i].fault, 0);
		struct err_detail err = {0};
		struct fetch_response res = {0};
		struct fake_stats st;
		int rc = get_history(fe, fk, &res, &err);

		fake_get_stats(fk, &st);
		if (rc != cases[i].code)
			tl_fail(__LINE__, __FILE__, false, "fault %s: rc %d, want %d (%s)",
				fake_fault_name(cases[i].fault), rc, cases[i].code, err.msg);
		TL_ASSERT_INT_EQ(st.requests, cases[i].attempts);
		TL_ASSERT(!strncmp(err.msg, "electricitymaps: ", 17));
		TL_ASSERT_CONTAINS(err.msg, cases[i].msg1);
		TL_ASSERT_CONTAINS(err.msg, cases[i].msg2);
		TL_ASSERT(!strstr(err.msg, "test-token"));
		TL_ASSERT(res.body == NULL); /* untouched on failure */
		fake_stop(fk);
		fetch_free(fe);
	}
}

static void test_retry_after_too_long_fails_at_once(void)
{
	struct hooks h = {0};
	struct fetch_options o = {.max_attempts = 4,
				  .retry_after_max_ms = 500,
				  .sleep_ms = fake_sleep,
				  .clock_ms = fake_clock,
				  .hook_arg = &h};
	struct fetch *fe = fetch_new(&o);
	struct fake *fk = start("electricitymaps", FAKE_RATE_LIMIT, 0);
	struct err_detail err;
	struct fetch_response res = {0};

	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_RATE_LIMITED);
	TL_ASSERT_CONTAINS(err.msg, "asked to retry after 1 s, more than the 0.5 s allowed");
	TL_ASSERT_INT_EQ(h.nslept, 0);
	fake_stop(fk);
	fetch_free(fe);
}

static void test_size_cap_and_bad_url(void)
{
	struct hooks h = {0};
	struct fetch_options o = {
	    .max_bytes = 100, .sleep_ms = fake_sleep, .clock_ms = fake_clock, .hook_arg = &h};
	struct fetch *fe = fetch_new(&o);
	struct fake *fk = start("electricitymaps", FAKE_NONE, 0);
	struct err_detail err;
	struct fetch_response res = {0};
	struct fake_stats st;

	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_TOO_LARGE);
	TL_ASSERT_CONTAINS(err.msg, "larger than the 100-byte cap");
	fake_get_stats(fk, &st);
	TL_ASSERT_INT_EQ(st.requests, 1); /* not retried */

	struct fetch_request rq = {.source = "x", .url = "ftp://127.0.0.1/file"};
	TL_ASSERT_INT_EQ(fetch_get(fe, &rq, &res, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "not an http:// or https:// URL");
	fake_stop(fk);
	fetch_free(fe);
}

static void test_connection_refused(void)
{
	struct hooks h = {0};
	struct fetch *fe = new_fetch(&h, 2, 1000);
	struct fake *fk = start("electricitymaps", FAKE_NONE, 0);
	char url[128];
	struct err_detail err;
	struct fetch_response res = {0};

	/* A port that was just free: stop the fake and reuse its port. */
	snprintf(url, sizeof(url), "%s/v3/carbon-intensity/history?zone=DE", fake_url(fk));
	fake_stop(fk);
	struct fetch_request rq = {.source = "electricitymaps", .url = url};
	TL_ASSERT_INT_EQ(fetch_get(fe, &rq, &res, &err), ERR_UNAVAILABLE);
	TL_ASSERT_CONTAINS(err.msg, "electricitymaps: ");
	TL_ASSERT_CONTAINS(err.msg, "after 2 attempts");
	TL_ASSERT_INT_EQ(h.nslept, 1);
	fetch_free(fe);
}

/* Secrets in the query string, in a custom parameter and in user info
 * never reach the message. */
static void test_secrets_redacted(void)
{
	struct hooks h = {0};
	struct fetch *fe = new_fetch(&h, 1, 1000);
	struct fake *fk = start("entsoe", FAKE_NONE, 0);
	char url[512];
	struct err_detail err;
	struct fetch_response res = {0};
	static const char *const secrets[] = {"s3cr3t-ENTSOE", "hidden-value", NULL};

	snprintf(url, sizeof(url), "%s/api?securityToken=s3cr3t-ENTSOE&documentType=A75&x=hidden-value",
		 fake_url(fk));
	struct fetch_request rq = {.source = "entsoe", .url = url, .accept = "xml", .secrets = secrets};
	TL_ASSERT_INT_EQ(fetch_get(fe, &rq, &res, &err), ERR_UNAUTHORIZED);
	TL_ASSERT_CONTAINS(
	    err.msg, "entsoe: HTTP 401 Unauthorized: Error Unauthorized. Missing or invalid security token");
	TL_ASSERT_CONTAINS(err.msg, "securityToken=***&documentType=A75&x=***");
	TL_ASSERT(!strstr(err.msg, "s3cr3t"));
	TL_ASSERT(!strstr(err.msg, "hidden-value"));
	fake_stop(fk);
	fetch_free(fe);

	char out[256];
	fetch_redact_url("https://user:pw@api.eia.gov/v2/x?api_key=K123456&frequency=hourly#frag", NULL, out,
			 sizeof(out));
	TL_ASSERT_STR_EQ(out, "https://api.eia.gov/v2/x?api_key=***&frequency=hourly");
	fetch_redact_url("http://h/p?token=abc&apikey=&zone=DE&key=zz", NULL, out, sizeof(out));
	TL_ASSERT_STR_EQ(out, "http://h/p?token=***&apikey=***&zone=DE&key=***");
	static const char *const path_secret[] = {"tok-in-path", NULL};
	fetch_redact_url("http://h/a/tok-in-path/b", path_secret, out, sizeof(out));
	TL_ASSERT_STR_EQ(out, "http://h/a/***/b");
	char text[128] = "echo: the key is ABCDEFG and ABCDEFG again";
	static const char *const s2[] = {"ABCDEFG", "ab", NULL}; /* too short to redact: 'ab' */
	fetch_redact_text(text, sizeof(text), s2);
	TL_ASSERT_STR_EQ(text, "echo: the key is *** and *** again");
}

static void test_retry_after_parse(void)
{
	int64_t ms = -1, now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */

	TL_ASSERT(fetch_parse_retry_after("120", now, &ms));
	TL_ASSERT_INT_EQ(ms, 120000);
	TL_ASSERT(fetch_parse_retry_after(" 0", now, &ms));
	TL_ASSERT_INT_EQ(ms, 0);
	TL_ASSERT(fetch_parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now, &ms));
	TL_ASSERT_INT_EQ(ms, 30000);
	TL_ASSERT(fetch_parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now, &ms)); /* RFC 850 */
	TL_ASSERT_INT_EQ(ms, 60000);
	TL_ASSERT(fetch_parse_retry_after("Wed Oct 21 07:28:10 2015", now, &ms)); /* asctime */
	TL_ASSERT_INT_EQ(ms, 10000);
	TL_ASSERT(fetch_parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now, &ms)); /* past */
	TL_ASSERT_INT_EQ(ms, 0);
	ms = -7;
	TL_ASSERT(!fetch_parse_retry_after("soon", now, &ms));
	TL_ASSERT(!fetch_parse_retry_after("-1", now, &ms));
	TL_ASSERT(!fetch_parse_retry_after("12abc", now, &ms));
	TL_ASSERT(!fetch_parse_retry_after("", now, &ms));
	TL_ASSERT(!fetch_parse_retry_after("99999999999", now, &ms));
	TL_ASSERT_INT_EQ(ms, -7);
}

static void test_error_summaries(void)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
	    {"{\"error\":\"Invalid auth-token\"}", "Invalid auth-token"},
	    {"{\"error\": {\"code\": \"400 Bad Request\", \"message\": \"Please enter a valid datetime\"}}",
	     "Please enter a valid datetime"},
	    {"{\"error\":\"Invalid query parameters\",\"message\":\"Invalid scope.\"}",
	     "Invalid query parameters: Invalid scope."},
	    {"{\"error\": \"INVALID_QUERY_PARAMS\", \"msg\": \"You've provided invalid parameters\", "
	     "\"docs\": \"x\"}",
	     "INVALID_QUERY_PARAMS: You've provided invalid parameters"},
	    {"{\"error\": true, \"reason\": \"Minutely API request limit exceeded.\"}",
	     "Minutely API request limit exceeded."},
	    {"{\"detail\": [{\"loc\": [\"query\", \"latitude\"], \"msg\": \"field required\"}]}",
	     "field required"},
	    {"{\"error\":\"Invalid facet 'None' provided.\",\"code\":400}", "Invalid facet 'None' provided."},
	    {"<?xml version=\"1.0\"?><Acknowledgement_MarketDocument><Reason><code>999</code><text>No "
	     "matching "
	     "data found for X</text></Reason></Acknowledgement_MarketDocument>",
	     "No matching data found for X"},
	    {"<html><head><title>Error</title><style>p{}</style></head><body>Unauthorized. Missing &amp; "
	     "invalid</body></html>",
	     "Error Unauthorized. Missing & invalid"},
	    {"  upstream connect error\nor disconnect", "upstream connect error"},
	    {"{\"truncated\": ", "{\"truncated\":"},
	    {"", ""},
	    {"\x01\x02\x03", ""},
	};
	char out[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fetch_error_summary(cases[i].body, strlen(cases[i].body), out, sizeof(out));
		TL_ASSERT_STR_EQ(out, cases[i].want);
	}
	/* Long texts are cut with an ellipsis. */
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fetch_error_summary(big, strlen(big), out, sizeof(out));
	TL_ASSERT_INT_EQ(strlen(out), sizeof(out) - 1);
	TL_ASSERT(!strcmp(out + sizeof(out) - 4, "..."));
}

static void test_breaker_opens_and_recovers(void)
{
	struct hooks h = {0};
	struct fetch_options o = {.max_attempts = 1,
				  .breaker_threshold = 2,
				  .breaker_cooldown_ms = 1000,
				  .sleep_ms = fake_sleep,
				  .clock_ms = fake_clock,
				  .hook_arg = &h};
	struct fetch *fe = fetch_new(&o);
	struct fake *fk = start("electricitymaps", FAKE_E500, 0);
	struct fetch_breaker_info bi;
	struct fetch_response res = {0};
	struct err_detail err;
	struct fake_stats st;

	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_CLOSED);
	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_UPSTREAM);
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_CLOSED);
	TL_ASSERT_INT_EQ(bi.failures, 1);
	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_UPSTREAM);
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_OPEN);
	TL_ASSERT_STR_EQ(fetch_breaker_state_name(bi.state), "open");

	/* Open: fails fast, the provider is not asked. */
	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_UNAVAILABLE);
	TL_ASSERT_CONTAINS(
	    err.msg, "electricitymaps: circuit breaker open after 2 consecutive failures; next try in 1 s");
	fake_get_stats(fk, &st);
	TL_ASSERT_INT_EQ(st.requests, 2);
	/* Other sources are not affected. */
	fetch_breaker(fe, "watttime", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_CLOSED);

	/* Cooldown over: half-open; the probe fails -> open again. */
	h.clock += 1000;
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_HALF_OPEN);
	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_UPSTREAM);
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_OPEN);
	TL_ASSERT_INT_EQ(bi.opened, 2);

	/* The provider heals; the next probe closes the breaker. */
	fake_set_fault(fk, FAKE_NONE, 0);
	h.clock += 1000;
	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_OK);
	fetch_response_release(&res);
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_CLOSED);
	TL_ASSERT_INT_EQ(bi.failures, 0);

	/* A 404 is an answer, not an outage: the breaker stays closed. */
	fake_set_fault(fk, FAKE_UNKNOWN_ZONE, 0);
	for (int i = 0; i < 3; i++)
		TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_NOT_FOUND);
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_CLOSED);

	/* An operator reset closes an open breaker. */
	fake_set_fault(fk, FAKE_E500, 0);
	get_history(fe, fk, &res, &err);
	get_history(fe, fk, &res, &err);
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_OPEN);
	fetch_breaker_reset(fe, "electricitymaps");
	fetch_breaker(fe, "electricitymaps", &bi);
	TL_ASSERT_INT_EQ(bi.state, FETCH_BREAKER_CLOSED);
	fake_stop(fk);
	fetch_free(fe);
}

struct probe_arg {
	struct fetch *fe;
	struct fake *fk;
	int rc;
	char msg[512];
};

static void *probe_thread(void *p)
{
	struct probe_arg *a = p;
	struct fetch_response res = {0};
	struct err_detail err = {0};

	a->rc = get_history(a->fe, a->fk, &res, &err);
	snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
	fetch_response_release(&res);
	return NULL;
}

/* Half-open lets exactly one of several concurrent fetches through. */
static void test_breaker_half_open_single_probe(void)
{
	struct hooks h = {0};
	struct fetch_options o = {.max_attempts = 1,
				  .breaker_threshold = 1,
				  .breaker_cooldown_ms = 1000,
				  .timeout_ms = 600,
				  .sleep_ms = fake_sleep,
				  .clock_ms = fake_clock,
				  .hook_arg = &h};
	struct fetch *fe = fetch_new(&o);
	struct fake *fk = start("electricitymaps", FAKE_E500, 1);
	struct probe_arg args[4];
	pthread_t th[4];
	struct fetch_response res = {0};
	struct err_detail err;
	struct fake_stats st;
	int through = 0, refused = 0;

	TL_ASSERT_INT_EQ(get_history(fe, fk, &res, &err), ERR_UPSTREAM); /* opens */
	fake_set_fault(fk, FAKE_HANG, 0); /* the probe will hang until its timeout */
	h.clock += 1000;
	for (int i = 0; i < 4; i++) {
		args[i] = (struct probe_arg){.fe = fe, .fk = fk};
		pthread_create(&th[i], NULL, probe_thread, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (args[i].rc == ERR_TIMEOUT)
			through++;
		else if (args[i].rc == ERR_UNAVAILABLE && strstr(args[i].msg, "probe request is in flight"))
			refused++;
	}
	TL_ASSERT_INT_EQ(through, 1);
	TL_ASSERT_INT_EQ(refused, 3);
	fake_get_stats(fk, &st);
	TL_ASSERT_INT_EQ(st.requests, 2);
	fake_stop(fk);
	fetch_free(fe);
}

static int suite_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : 1;
}

static int suite_clean(void)
{
	curl_global_cleanup();
	return 0;
}

static CU_TestInfo tests[] = {
    {"ok, plain and gzip", test_ok_and_gzip},
    {"transient faults are retried", test_retries_then_succeeds},
    {"persistent faults fail clearly", test_persistent_faults_fail_clearly},
    {"too long a Retry-After fails at once", test_retry_after_too_long_fails_at_once},
    {"size cap and bad URL", test_size_cap_and_bad_url},
    {"connection refused", test_connection_refused},
    {"secrets never shown", test_secrets_redacted},
    {"Retry-After parsing", test_retry_after_parse},
    {"provider error bodies", test_error_summaries},
    {"breaker opens, probes, recovers", test_breaker_opens_and_recovers},
    {"half-open lets one probe through", test_breaker_half_open_single_probe},
    CU_TEST_INFO_NULL,
};

TL_SUITE("conn_fetch", suite_init, suite_clean, tests)
