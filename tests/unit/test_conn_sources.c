/* connectors: each source end to end - credentials, request planning,
 * pagination, token refresh - against its fake provider, and every fault
 * of the fake through every connector: a fetch either succeeds after
 * retrying or fails with a message that names the source and the cause. */
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "core/mem.h"
#include "core/time.h"
#include "tests/lib/fake_provider.h"
#include "tests/lib/testlib.h"

static int64_t T(const char *s)
{
	int64_t t = 0;

	ts_parse(s, "t", &t, NULL);
	return t;
}

static void no_sleep(void *arg, int64_t ms)
{
	(void)arg;
	(void)ms;
}

static struct fetch *quick_fetch(void)
{
	struct fetch_options o = {.max_attempts = 3,
				  .timeout_ms = 500,
				  .connect_timeout_ms = 1000,
				  .backoff_base_ms = 1,
				  .backoff_max_ms = 2,
				  .breaker_threshold = 1000,
				  .sleep_ms = no_sleep,
				  .seed = 7};
	return fetch_new(&o);
}

static int64_t clock_value;
static int64_t test_clock(void *arg)
{
	(void)arg;
	return clock_value;
}

struct src {
	const char *name; /* connector and fake provider */
	const char *path; /* appended to the fake's URL as the base (PUE feed) */
	struct conn_query q;
};

/* The query each connector is exercised with. */
static const char *const ci_history[] = {"history", "power-history", NULL};
static const struct src sources[] = {
    {"electricitymaps", "", {.zone = "DE", .endpoints = ci_history}},
    {"watttime", "", {.zone = "CAISO_NORTH"}},
    {"ukgrid", "", {.zone = "GB"}},
    {"entsoe", "", {.zone = "DE"}},
    {"eia", "", {.zone = "US-CAL-CISO"}},
    {"openmeteo", "", {.zone = "eu-central-1", .has_coords = true, .lat = 52.52, .lon = 13.41}},
    {"pue", "/constant.csv", {.zone = "*"}},
};

static void set_creds(void)
{
	setenv("CARBONSCHED_ELECTRICITYMAPS_TOKEN", "test-token", 1);
	setenv("CARBONSCHED_WATTTIME_USERNAME", "freddo", 1);
	setenv("CARBONSCHED_WATTTIME_PASSWORD", "the_frog", 1);
	setenv("CARBONSCHED_ENTSOE_TOKEN", "test-token", 1);
	setenv("CARBONSCHED_EIA_KEY", "test-token", 1);
}

/* Start the fake and a context pointing at it. */
static struct fake *open_source(const struct src *s, struct fetch *fe, enum fake_fault fault, int count,
				struct conn_ctx *ctx)
{
	struct err_detail err;
	struct fake_options o = {.provider = s->name, .fault = fault, .fault_count = count};
	struct fake *fk = fake_start(&o, &err);
	char base[256];

	if (!fk) {
		tl_fail(__LINE__, __FILE__, true, "fake %s: %s", s->name, err.msg);
		return NULL;
	}
	snprintf(base, sizeof(base), "%s%s", fake_url(fk), s->path);
	if (conn_ctx_init(ctx, conn_find(s->name), NULL, base, fe, NULL, &err)) {
		tl_fail(__LINE__, __FILE__, true, "ctx %s: %s", s->name, err.msg);
		fake_stop(fk);
		return NULL;
	}
	clock_value = T("2024-06-01T12:00:00Z");
	ctx->now = test_clock;
	return fk;
}

static void test_every_source_fetches(void)
{
	struct fetch *fe = quick_fetch();

	set_creds();
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
		struct conn_ctx ctx;
		struct conn_result r;
		struct err_detail err = {0};
		struct fake *fk = open_source(&sources[i], fe, FAKE_NONE, 0, &ctx);
		int rc = conn_fetch(&ctx, &sources[i].q, &r, &err);

		if (rc)
			tl_fail(__LINE__, __FILE__, false, "%s: %s", sources[i].name, err.msg);
		TL_ASSERT(conn_result_points(&r) > 0);
		for (size_t k = 0; k < r.sigs.n; k++)
			TL_ASSERT_STR_EQ(r.sigs.items[k].source, sources[i].name);
		conn_result_release(&r);
		conn_ctx_release(&ctx);
		fake_stop(fk);
	}
	fetch_free(fe);
}

/* Faults that heal after one answer are retried through. */
static void test_transient_faults_are_survived(void)
{
	static const enum fake_fault faults[] = {
	    FAKE_RATE_LIMIT, FAKE_RATE_LIMIT_DATE, FAKE_E500, FAKE_E502, FAKE_E503, FAKE_HANG, FAKE_TRUNCATE};
	struct fetch *fe = quick_fetch();

	set_creds();
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
		for (size_t f = 0; f < ARRAY_SIZE(faults); f++) {
			struct conn_ctx ctx;
			struct conn_result r;
			struct err_detail err = {0};
			struct fake *fk = open_source(&sources[i], fe, faults[f], 1, &ctx);
			int rc = conn_fetch(&ctx, &sources[i].q, &r, &err);

			if (rc)
				tl_fail(__LINE__, __FILE__, false, "%s with one '%s': %s", sources[i].name,
					fake_fault_name(faults[f]), err.msg);
			TL_ASSERT(conn_result_points(&r) > 0);
			conn_result_release(&r);
			conn_ctx_release(&ctx);
			fake_stop(fk);
		}
	fetch_free(fe);
}

static bool contains_one(const char *msg, const char *alternatives)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", alternatives);
	if (!*buf)
		return true;
	for (char *a = strtok_r(buf, "|", &save); a; a = strtok_r(NULL, "|", &save))
		if (strstr(msg, a))
			return true;
	return false;
}

/* Faults that persist: a failure that names the source and the cause. */
static void test_persistent_faults_fail_clearly(void)
{
	static const struct {
		enum fake_fault fault;
		const char *cause; /* in every provider's message; '|' separates alternatives */
	} faults[] = {
	    {FAKE_RATE_LIMIT, "HTTP 429"},
	    {FAKE_E500, "HTTP 500"},
	    {FAKE_E502, "HTTP 502"},
	    {FAKE_E503, "HTTP 503"},
	    {FAKE_HANG, "timed out"},
	    {FAKE_TRUNCATE, "transfer closed"},
	    {FAKE_MALFORMED, "malformed|line 2: 1 fields"},
	    {FAKE_CONTENT_TYPE, "but got 'text/html"},
	    {FAKE_EXPIRED, "HTTP 40"},
	    {FAKE_EMPTY, ""},
	    {FAKE_UNKNOWN_ZONE, ""},
	};
	struct fetch *fe = quick_fetch();

	set_creds();
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
		for (size_t f = 0; f < ARRAY_SIZE(faults); f++) {
			struct conn_ctx ctx;
			struct conn_result r;
			struct err_detail err = {0};
			char head[64];
			struct fake *fk = open_source(&sources[i], fe, faults[f].fault, 0, &ctx);
			int rc = conn_fetch(&ctx, &sources[i].q, &r, &err);

			snprintf(head, sizeof(head), "%s: ", sources[i].name);
			if (rc == ERR_OK) {
				tl_fail(__LINE__, __FILE__, false, "%s with '%s' did not fail",
					sources[i].name, fake_fault_name(faults[f].fault));
			} else if (strncmp(err.msg, head, strlen(head)) ||
				   !contains_one(err.msg, faults[f].cause)) {
				tl_fail(__LINE__, __FILE__, false, "%s with '%s': unclear message '%s'",
					sources[i].name, fake_fault_name(faults[f].fault), err.msg);
			}
			TL_ASSERT(!strstr(err.msg, "test-token") && !strstr(err.msg, "the_frog"));
			TL_ASSERT_INT_EQ(r.sigs.n + r.nfc, 0); /* nothing half-filled */
			/* Empty data sets are "no data", never a crash or a success. */
			if (faults[f].fault == FAKE_EMPTY)
				TL_ASSERT_INT_EQ(rc, ERR_NOT_FOUND);
			conn_result_release(&r);
			conn_ctx_release(&ctx);
			fake_stop(fk);
		}
	fetch_free(fe);
}

/* Provider-specific words for the unknown-zone answers. */
static void test_unknown_zone_messages(void)
{
	static const struct {
		const char *name, *msg;
	} cases[] = {
	    {"electricitymaps", "HTTP 404 Not Found: Zone 'XX' does not exist"},
	    {"watttime", "HTTP 403 Forbidden: Invalid query parameters: Invalid scope."},
	    {"ukgrid", "HTTP 400 Bad Request: Please enter a valid region id between 1 and 17"},
	    {"entsoe", "is not valid for this area. (reason 999)"},
	    {"eia", "no recent data for 'US-CAL-CISO'"},
	    {"openmeteo", "HTTP 400 Bad Request: Latitude must be in range of -90 to 90"},
	};
	struct fetch *fe = quick_fetch();

	set_creds();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct src *s = NULL;
		for (size_t k = 0; k < ARRAY_SIZE(sources); k++)
			if (!strcmp(sources[k].name, cases[i].name))
				s = &sources[k];
		struct conn_ctx ctx;
		struct conn_result r;
		struct err_detail err = {0};
		struct fake *fk = open_source(s, fe, FAKE_UNKNOWN_ZONE, 0, &ctx);
		TL_ASSERT(conn_fetch(&ctx, &s->q, &r, &err) != ERR_OK);
		TL_ASSERT_CONTAINS(err.msg, cases[i].msg);
		conn_result_release(&r);
		conn_ctx_release(&ctx);
		fake_stop(fk);
	}
	fetch_free(fe);
}

static void test_credentials(void)
{
	struct fetch *fe = quick_fetch();
	struct conn_ctx ctx;
	struct err_detail err;
	char path[256];
	const char *tmp = getenv("CARBONSCHED_TEST_TMP");

	unsetenv("CARBONSCHED_ELECTRICITYMAPS_TOKEN");
	unsetenv("CARBONSCHED_ELECTRICITYMAPS_TOKEN_FILE");
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_electricitymaps, "em-eu", NULL, fe, NULL, &err),
			 ERR_INVALID);
	TL_ASSERT_STR_EQ(err.msg, "em-eu needs its API token: set CARBONSCHED_ELECTRICITYMAPS_TOKEN, or "
				  "CARBONSCHED_ELECTRICITYMAPS_TOKEN_FILE to a file holding it");

	/* From a file named by VAR_FILE, trailing newline removed. */
	snprintf(path, sizeof(path), "%s/carbonsched-token-%d", tmp ? tmp : "/tmp", (int)getpid());
	FILE *fp = fopen(path, "w");
	fputs("file-token\n", fp);
	fclose(fp);
	setenv("CARBONSCHED_ELECTRICITYMAPS_TOKEN_FILE", path, 1);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_electricitymaps, NULL, NULL, fe, NULL, &err), ERR_OK);
	TL_ASSERT_STR_EQ(ctx.creds.token, "file-token");
	TL_ASSERT_STR_EQ(ctx.source, "electricitymaps");
	TL_ASSERT_STR_EQ(ctx.base_url, "https://api.electricitymap.org");
	conn_ctx_release(&ctx);

	/* The environment wins over VAR_FILE; names from the config win over both. */
	setenv("CARBONSCHED_ELECTRICITYMAPS_TOKEN", "env-token", 1);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_electricitymaps, NULL, NULL, fe, NULL, &err), ERR_OK);
	TL_ASSERT_STR_EQ(ctx.creds.token, "env-token");
	conn_ctx_release(&ctx);
	setenv("MY_EM_KEY", "named-token", 1);
	struct conn_cred_names names = {.token_env = "MY_EM_KEY"};
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_electricitymaps, NULL, NULL, fe, &names, &err), ERR_OK);
	TL_ASSERT_STR_EQ(ctx.creds.token, "named-token");
	conn_ctx_release(&ctx);
	names = (struct conn_cred_names){.token_file = path};
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_electricitymaps, NULL, NULL, fe, &names, &err), ERR_OK);
	TL_ASSERT_STR_EQ(ctx.creds.token, "file-token");
	conn_ctx_release(&ctx);

	/* Empty and missing files are refused, saying which. */
	fp = fopen(path, "w");
	fputs("\n", fp);
	fclose(fp);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_electricitymaps, NULL, NULL, fe, &names, &err),
			 ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "is empty");
	unlink(path);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_electricitymaps, NULL, NULL, fe, &names, &err),
			 ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "cannot read the API token file");

	/* WattTime needs both; keyless sources need nothing. */
	unsetenv("CARBONSCHED_WATTTIME_PASSWORD");
	setenv("CARBONSCHED_WATTTIME_USERNAME", "freddo", 1);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_watttime, NULL, NULL, fe, NULL, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "CARBONSCHED_WATTTIME_PASSWORD");
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_ukgrid, NULL, NULL, fe, NULL, &err), ERR_OK);
	conn_ctx_release(&ctx);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_pue, NULL, NULL, fe, NULL, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "pue needs a location");
	set_creds();
	fetch_free(fe);
}

static void test_electricitymaps_requests(void)
{
	struct fetch *fe = quick_fetch();
	struct conn_ctx ctx;
	struct conn_result r;
	struct err_detail err;

	set_creds();
	struct fake *fk = open_source(&sources[0], fe, FAKE_NONE, 0, &ctx);
	/* The token goes in the header, never in the URL. */
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[0].q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "auth-token: test-token"), 2);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "token=test-token"), 0);
	TL_ASSERT(sig_set_find(&r.sigs, "DE", "carbon_intensity") != NULL);
	TL_ASSERT(sig_set_find(&r.sigs, "DE", "generation:coal") != NULL);
	conn_result_release(&r);

	/* A 25-day range: past-range in three windows of at most ten days,
	 * clipped to the range. */
	struct conn_query q = {
	    .zone = "DK-DK2", .from = T("2024-03-10T00:00:00Z"), .to = T("2024-04-04T00:00:00Z")};
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "GET /v3/carbon-intensity/past-range?zone=DK-DK2&start="),
			 3);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "start=2024-03-20T00:00:00Z&end=2024-03-30T00:00:00Z"), 1);
	/* The fake serves the same two hours for each window: upserted, not duplicated. */
	TL_ASSERT_INT_EQ(sig_set_points(&r.sigs), 2);
	conn_result_release(&r);
	q.from = T("2024-03-18T03:00:00Z");
	q.to = T("2024-03-18T04:00:00Z");
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(sig_set_points(&r.sigs), 1); /* 02:00 is outside */
	conn_result_release(&r);

	/* Bad query: unknown endpoint, backwards range. */
	const char *const bad_ep[] = {"histroy", NULL};
	q.endpoints = bad_ep;
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg,
			   "electricitymaps has no endpoint 'histroy' (it has latest, history, past-range");
	q.endpoints = NULL;
	q.to = q.from - 1;
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_INVALID);
	conn_ctx_release(&ctx);

	/* A wrong token: the provider's words, no token in sight. */
	setenv("CARBONSCHED_ELECTRICITYMAPS_TOKEN", "wrong-token-123", 1);
	conn_ctx_init(&ctx, &conn_electricitymaps, "em", fake_url(fk), fe, NULL, &err);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[0].q, &r, &err), ERR_UNAUTHORIZED);
	TL_ASSERT_CONTAINS(err.msg, "em: HTTP 401 Unauthorized: Invalid auth-token");
	TL_ASSERT(!strstr(err.msg, "wrong-token-123"));
	conn_ctx_release(&ctx);
	set_creds();
	fake_stop(fk);
	fetch_free(fe);
}

static void test_watttime_token_lifecycle(void)
{
	struct fetch *fe = quick_fetch();
	struct conn_ctx ctx;
	struct conn_result r;
	struct err_detail err;
	struct fake_stats st;

	set_creds();
	struct fake *fk = open_source(&sources[1], fe, FAKE_NONE, 0, &ctx);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[1].q, &r, &err), ERR_OK);
	TL_ASSERT(sig_set_find(&r.sigs, "CAISO_NORTH", "marginal_intensity") != NULL);
	TL_ASSERT_INT_EQ(r.nfc, 1);
	conn_result_release(&r);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "Authorization: Bearer wt-token-1"), 2);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "start=2024-06-01T11:55:00Z"), 0); /* 24 h back */
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "start=2024-05-31T12:00:00Z&end=2024-06-01T11:59:59Z"), 1);

	/* The token is reused ... */
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[1].q, &r, &err), ERR_OK);
	conn_result_release(&r);
	fake_get_stats(fk, &st);
	TL_ASSERT_INT_EQ(st.logins, 1);

	/* ... until the provider says it expired (401): one new login, the
	 * call repeated, success. */
	fake_set_fault(fk, FAKE_EXPIRED, 1);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[1].q, &r, &err), ERR_OK);
	conn_result_release(&r);
	fake_get_stats(fk, &st);
	TL_ASSERT_INT_EQ(st.logins, 2);

	/* ... or until our clock says it is 25 minutes old. */
	clock_value += 26 * 60;
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[1].q, &r, &err), ERR_OK);
	conn_result_release(&r);
	fake_get_stats(fk, &st);
	TL_ASSERT_INT_EQ(st.logins, 3);

	/* Coordinates without a key: region-from-loc first. */
	struct conn_query q = {.zone = "us-east-coast", .has_coords = true, .lat = 42.372, .lon = -72.519};
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(
	    fake_count_requests(fk, "/v3/region-from-loc?latitude=42.372000&longitude=-72.519000"), 1);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "historical?region=ISONE_WCMA"), 1);
	TL_ASSERT(sig_set_find(&r.sigs, "us-east-coast", "marginal_intensity") != NULL);
	conn_result_release(&r);

	/* Opt-in endpoints. */
	const char *const eps[] = {"signal-index", "forecast-historical", NULL};
	struct conn_query q2 = {.zone = "PSCO", .endpoints = eps};
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q2, &r, &err), ERR_OK);
	TL_ASSERT(sig_set_find(&r.sigs, "PSCO", "marginal_index") != NULL);
	conn_result_release(&r);
	conn_ctx_release(&ctx);

	/* Wrong password: the login's failure, without the password. */
	setenv("CARBONSCHED_WATTTIME_PASSWORD", "not-the-frog", 1);
	conn_ctx_init(&ctx, &conn_watttime, NULL, fake_url(fk), fe, NULL, &err);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[1].q, &r, &err), ERR_FORBIDDEN);
	TL_ASSERT_CONTAINS(err.msg, "watttime: HTTP 403 Forbidden: 403 Forbidden");
	TL_ASSERT_CONTAINS(err.msg, "/login");
	TL_ASSERT(!strstr(err.msg, "not-the-frog"));
	conn_ctx_release(&ctx);
	set_creds();
	fake_stop(fk);
	fetch_free(fe);
}

static void test_ukgrid_plans(void)
{
	struct fetch *fe = quick_fetch();
	struct conn_ctx ctx;
	struct conn_result r;
	struct err_detail err;

	struct fake *fk = open_source(&sources[2], fe, FAKE_NONE, 0, &ctx);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[2].q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "GET /intensity/2024-05-31T12:00Z/2024-06-01T12:00Z "), 1);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "GET /intensity/2024-06-01T12:00Z/fw48h "), 1);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "GET /generation/2024-05-31T12:00Z/2024-06-01T12:00Z "), 1);
	conn_result_release(&r);

	struct conn_query q = {.zone = "GB-NW", .key = "North West England"};
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "/regional/intensity/2024-06-01T12:00Z/fw48h/regionid/3 "),
			 1);
	TL_ASSERT_INT_EQ(
	    fake_count_requests(fk, "/regional/intensity/2024-05-31T12:00Z/2024-06-01T12:00Z/regionid/3 "),
	    1);
	conn_result_release(&r);

	q.key = "Narnia";
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "'Narnia' is not a GB region");
	conn_ctx_release(&ctx);
	fake_stop(fk);
	fetch_free(fe);
}

static void test_entsoe_plans(void)
{
	struct fetch *fe = quick_fetch();
	struct conn_ctx ctx;
	struct conn_result r;
	struct err_detail err;

	set_creds();
	struct fake *fk = open_source(&sources[3], fe, FAKE_NONE, 0, &ctx);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[3].q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fake_count_requests(fk,
					     "documentType=A75&processType=A16&in_Domain=10Y1001A1001A82H&"
					     "periodStart=202405311200&periodEnd=202406011300"),
			 1);
	TL_ASSERT_INT_EQ(fake_count_requests(fk,
					     "documentType=A69&processType=A01&in_Domain=10Y1001A1001A82H&"
					     "periodStart=202406010000&periodEnd=202406030000"),
			 1);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "documentType=A65&processType=A01&outBiddingZone_Domain="),
			 1);
	TL_ASSERT(sig_set_find(&r.sigs, "DE", "carbon_intensity") != NULL);
	TL_ASSERT(sig_set_find(&r.sigs, "DE", "load") != NULL);
	TL_ASSERT_INT_EQ(r.nfc, 3); /* solar, wind, load */
	conn_result_release(&r);

	struct conn_query q = {.zone = "XX"};
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "no bidding-zone code known for 'XX'");
	q.key = "10YCZ-CEPS-----N";
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	conn_result_release(&r);

	/* One endpoint without data does not sink the others. */
	const char *const eps[] = {"A75", NULL};
	q = (struct conn_query){.zone = "DE", .endpoints = eps};
	fake_set_fault(fk, FAKE_EMPTY, 0);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_NOT_FOUND);
	TL_ASSERT_CONTAINS(err.msg, "entsoe: A75 response: No matching data found");
	conn_ctx_release(&ctx);

	/* A bad token: the platform's HTML, the token redacted. */
	setenv("CARBONSCHED_ENTSOE_TOKEN", "bad-entsoe-token", 1);
	fake_set_fault(fk, FAKE_NONE, 0);
	conn_ctx_init(&ctx, &conn_entsoe, NULL, fake_url(fk), fe, NULL, &err);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[3].q, &r, &err), ERR_UNAUTHORIZED);
	TL_ASSERT_CONTAINS(err.msg, "Unauthorized. Missing or invalid security token");
	TL_ASSERT_CONTAINS(err.msg, "securityToken=***");
	TL_ASSERT(!strstr(err.msg, "bad-entsoe-token"));
	conn_ctx_release(&ctx);
	set_creds();
	fake_stop(fk);
	fetch_free(fe);
}

/* Two pages; an hour straddles them; the intensity needs both. */
static void test_eia_pagination(void)
{
	struct fetch *fe = quick_fetch();
	struct conn_ctx ctx;
	struct conn_result r;
	struct err_detail err;
	const struct sig_series *s;

	set_creds();
	struct fake *fk = open_source(&sources[4], fe, FAKE_NONE, 0, &ctx);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[4].q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "facets%5Brespondent%5D%5B%5D=CISO"), 2);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "&offset=0&length=5000"), 1);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "&offset=8&length=5000"), 1);
	TL_ASSERT_INT_EQ(fake_count_requests(fk, "start=2024-05-30T12&end=2024-06-01T11&"), 2);
	s = sig_set_find(&r.sigs, "US-CAL-CISO", "carbon_intensity");
	if (!s) {
		tl_fail(__LINE__, __FILE__, false, "no carbon_intensity");
	} else {
		/* 01:00: gas 8000, solar 15, wind 2300, hydro 1450, nuclear 2250,
		 * other 40 (battery 150 left out): 287.1416 lifecycle by hand. */
		TL_ASSERT_DBL_EQ(series_at(&s->s, T("2024-06-01T01:00:00Z")), 287.14159, 1e-4);
		/* 00:00: 'other' is null -> incomplete -> no intensity. */
		TL_ASSERT(isnan(series_at(&s->s, T("2024-06-01T00:00:00Z"))));
	}
	s = sig_set_find(&r.sigs, "US-CAL-CISO", "carbon_intensity_direct");
	TL_ASSERT(s && fabs(series_at(&s->s, T("2024-06-01T01:00:00Z")) - 212.23764) < 1e-4);
	s = sig_set_find(&r.sigs, "US-CAL-CISO", "generation:storage");
	TL_ASSERT(s && series_at(&s->s, T("2024-06-01T00:00:00Z")) == -300);
	conn_result_release(&r);
	conn_ctx_release(&ctx);
	fake_stop(fk);
	fetch_free(fe);
}

static void test_openmeteo_and_pue_sources(void)
{
	struct fetch *fe = quick_fetch();
	struct conn_ctx ctx;
	struct conn_result r;
	struct err_detail err;

	struct fake *fk = open_source(&sources[5], fe, FAKE_NONE, 0, &ctx);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &sources[5].q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(
	    fake_count_requests(fk, "latitude=52.5200&longitude=13.4100&hourly=wind_speed_100m,"), 1);
	TL_ASSERT_INT_EQ(
	    fake_count_requests(fk, "wind_speed_unit=ms&timezone=GMT&past_days=1&forecast_days=4"), 1);
	conn_result_release(&r);
	struct conn_query q = {.zone = "nowhere"};
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "openmeteo: 'nowhere' needs coordinates");
	conn_ctx_release(&ctx);
	fake_stop(fk);

	/* A PUE feed from a file; expanded over the default window around now. */
	TL_ASSERT_INT_EQ(
	    conn_ctx_init(&ctx, &conn_pue, "pue-file", tl_testdata("providers/pue/gsf.csv"), fe, NULL, &err),
	    ERR_OK);
	ctx.now = test_clock;
	q = (struct conn_query){.zone = "ex-north-1"};
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(r.sigs.n, 1);
	TL_ASSERT_INT_EQ(sig_set_points(&r.sigs), 6 * 24);
	conn_result_release(&r);
	q.zone = "ex-nowhere-9";
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_NOT_FOUND);
	TL_ASSERT_CONTAINS(err.msg, "pue-file: no recent data for 'ex-nowhere-9'");
	conn_ctx_release(&ctx);
	TL_ASSERT_INT_EQ(conn_ctx_init(&ctx, &conn_pue, "pue-file", "/nonexistent/pue.csv", fe, NULL, &err),
			 ERR_OK);
	TL_ASSERT_INT_EQ(conn_fetch(&ctx, &q, &r, &err), ERR_IO);
	TL_ASSERT_CONTAINS(err.msg, "pue-file: cannot open '/nonexistent/pue.csv'");
	conn_ctx_release(&ctx);
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
    {"every source fetches from its fake", test_every_source_fetches},
    {"transient faults are survived", test_transient_faults_are_survived},
    {"persistent faults fail clearly", test_persistent_faults_fail_clearly},
    {"unknown zones in the provider's words", test_unknown_zone_messages},
    {"credentials from the environment and files", test_credentials},
    {"electricitymaps: header token, windows, clipping", test_electricitymaps_requests},
    {"watttime: login, reuse, refresh on 401 and age", test_watttime_token_lifecycle},
    {"ukgrid: national and regional plans", test_ukgrid_plans},
    {"entsoe: documents, zones, no data, bad token", test_entsoe_plans},
    {"eia: pagination and completeness", test_eia_pagination},
    {"openmeteo and pue sources", test_openmeteo_and_pue_sources},
    CU_TEST_INFO_NULL,
};

TL_SUITE("conn_sources", suite_init, suite_clean, tests)
