/* service/jobreq and service/callback: the request body and the callback
 * URL policy, table-driven.  Each refused case names the field the
 * service must name in its problem+json. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>

#include "core/time.h"
#include "service/callback.h"
#include "service/config.h"
#include "service/jobreq.h"
#include "tests/lib/testlib.h"

#define BASE "\"duration\":\"PT4H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\""

static const struct bad {
	const char *body;
	bool booking;
	int code;
	const char *field; /* err.field */
	const char *says;  /* part of the message */
} bad[] = {
    {"", false, ERR_INVALID, "body", "needs a JSON body"},
    {"{", false, ERR_MALFORMED, "body", "malformed JSON"},
    {"[1,2]", false, ERR_INVALID, "body", "JSON object"},
    {"{" BASE ",\"power_kw\":1,\"dedline\":1}", false, ERR_INVALID, "dedline", "unknown field 'dedline'"},
    {"{" BASE ",\"power_kw\":1,\"count\":2}", false, ERR_INVALID, "count", "only for bookings"},
    {"{" BASE ",\"power_kw\":1,\"name\":\"x\"}", false, ERR_INVALID, "name", "only for bookings"},
    {"{\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\",\"power_kw\":1}", false, ERR_INVALID,
     "duration", "required"},
    {"{\"duration\":\"PT4H\",\"origin\":\"AA\",\"power_kw\":1}", false, ERR_INVALID, "deadline", "required"},
    {"{\"duration\":\"PT4H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"power_kw\":1}", false, ERR_INVALID,
     "origin", "required"},
    {"{\"duration\":4,\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\",\"power_kw\":1}", false,
     ERR_INVALID, "duration", "a string"},
    {"{\"duration\":\"four hours\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\",\"power_kw\":1}",
     false, ERR_INVALID, "duration", "not a valid duration"},
    {"{\"duration\":\"PT4H\",\"deadline\":\"tomorrow\",\"origin\":\"AA\",\"power_kw\":1}", false, ERR_INVALID,
     "deadline", ""},
    {"{" BASE "}", false, ERR_INVALID, "power_kw", "either 'power_kw' or 'energy_kwh'"},
    {"{" BASE ",\"power_kw\":1,\"energy_kwh\":4}", false, ERR_INVALID, "energy_kwh", "not both"},
    {"{" BASE ",\"power_kw\":\"10\"}", false, ERR_INVALID, "power_kw", "a number"},
    {"{" BASE ",\"power_kw\":0}", false, ERR_INVALID, "power_kw", "between"},
    {"{" BASE ",\"power_kw\":-3}", false, ERR_INVALID, "power_kw", "between"},
    {"{" BASE ",\"energy_kwh\":true}", false, ERR_INVALID, "energy_kwh", "a number"},
    {"{" BASE ",\"power_kw\":1,\"interruptible\":\"yes\"}", false, ERR_INVALID, "interruptible",
     "true or false"},
    {"{" BASE ",\"power_kw\":1,\"risk\":\"p99\"}", false, ERR_INVALID, "risk", "'p50' or 'p90'"},
    {"{" BASE ",\"power_kw\":1,\"risk\":90}", false, ERR_INVALID, "risk", "a string"},
    {"{" BASE ",\"power_kw\":1,\"regions\":\"AA\"}", false, ERR_INVALID, "regions", "array of strings"},
    {"{" BASE ",\"power_kw\":1,\"regions\":[\"AA\",7]}", false, ERR_INVALID, "regions", "regions[1]"},
    {"{" BASE ",\"power_kw\":1,\"regions\":[]}", false, ERR_INVALID, "regions", "must not be empty"},
    {"{" BASE ",\"power_kw\":1,\"regions\":[\"A A\"]}", false, ERR_INVALID, "regions[0]", "without spaces"},
    {"{" BASE ",\"power_kw\":1,\"residency\":[1]}", false, ERR_INVALID, "residency", "residency[0]"},
    {"{\"duration\":\"PT4H\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"\",\"power_kw\":1}", false,
     ERR_INVALID, "origin", "region id"},
    {"{" BASE ",\"power_kw\":1,\"earliest_start\":\"2022-01-06T00:00:00Z\"}", false, ERR_INVALID, "deadline",
     "after 'earliest_start'"},
    {"{" BASE ",\"power_kw\":1,\"earliest_start\":\"2022-01-05T22:00:00Z\"}", false, ERR_INVALID, "duration",
     "longer than the window"},
    {"{" BASE ",\"power_kw\":1,\"min_segment\":\"PT1H\"}", false, ERR_INVALID, "min_segment",
     "only to interruptible"},
    {"{" BASE ",\"power_kw\":1,\"max_segments\":2}", false, ERR_INVALID, "max_segments",
     "only to interruptible"},
    {"{" BASE ",\"power_kw\":1,\"interruptible\":true,\"max_segments\":0}", false, ERR_INVALID,
     "max_segments", "between"},
    {"{" BASE ",\"power_kw\":1,\"interruptible\":true,\"min_segment\":\"PT5H\"}", false, ERR_INVALID,
     "min_segment", "longer than 'duration'"},
    {"{\"duration\":\"P400D\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\",\"power_kw\":1}", false,
     ERR_INVALID, "duration", "at most a year"},
    {"{" BASE ",\"power_kw\":1,\"count\":0}", true, ERR_INVALID, "count", "between 1 and 50"},
    {"{" BASE ",\"power_kw\":1,\"count\":51}", true, ERR_LIMIT, "count", "at most 50 copies"},
    {"{" BASE ",\"power_kw\":1,\"count\":2.5}", true, ERR_INVALID, "count", "an integer"},
    {"{" BASE ",\"power_kw\":1,\"count\":2,\"interruptible\":true}", true, ERR_INVALID, "count",
     "non-interruptible"},
    {"{" BASE ",\"power_kw\":1,\"name\":\"\"}", true, ERR_INVALID, "name", "1-200"},
    {"{" BASE ",\"power_kw\":1,\"name\":5}", true, ERR_INVALID, "name", "a string"},
    {"{" BASE ",\"power_kw\":1,\"callback_url\":[]}", true, ERR_INVALID, "callback_url", "a string"},
    {"{" BASE ",\"power_kw\":1,\"deadline\":\"2022-01-07T00:00:00Z\"}", false, ERR_MALFORMED, "body",
     "duplicate"},
};

static void test_refused(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct job_req r;
		struct err_detail err = {{0}, {0}};
		int rc = jobreq_parse(bad[i].body, strlen(bad[i].body), bad[i].booking, 50, &r, &err);

		if (rc != bad[i].code || strcmp(err.field, bad[i].field) || !strstr(err.msg, bad[i].says))
			tl_fail(__LINE__, __FILE__, false, "case %zu %s: got %d field '%s' msg '%s'", i,
				bad[i].body, rc, err.field, err.msg);
		if (rc == ERR_OK)
			jobreq_release(&r);
	}
}

static void test_accepted(void)
{
	const char *body =
	    "{\"duration\":\"PT2H30M\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
	    "\"energy_kwh\":25,\"regions\":[\"AA\",\"BB\"],\"residency\":[\"EU\"],\"risk\":\"p90\","
	    "\"interruptible\":true,\"min_segment\":\"PT1H\",\"max_segments\":2,\"name\":\"nightly\","
	    "\"callback_url\":\"http://127.0.0.1:9/x\",\"count\":1,\"earliest_start\":null}";
	struct job_req r, r2;
	struct err_detail err;
	char f1[33], f2[33];

	TL_ASSERT_INT_EQ(jobreq_parse(body, strlen(body), true, 10, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(r.duration, 9000);
	TL_ASSERT_INT_EQ(r.deadline, ts_from_civil(2022, 1, 6, 0, 0, 0));
	TL_ASSERT(r.earliest_start == INT64_MIN); /* null = absent */
	TL_ASSERT_DBL_EQ(r.power_kw, 10, 1e-12);  /* 25 kWh over 2.5 h */
	TL_ASSERT_DBL_EQ(r.energy_kwh, 25, 1e-12);
	TL_ASSERT(r.energy_given);
	TL_ASSERT_INT_EQ(r.nregions, 2);
	TL_ASSERT_STR_EQ(r.regions[1], "BB");
	TL_ASSERT_INT_EQ(r.nresidency, 1);
	TL_ASSERT_INT_EQ(r.risk, SCHED_P90);
	TL_ASSERT(r.interruptible);
	TL_ASSERT_INT_EQ(r.min_segment, 3600);
	TL_ASSERT_INT_EQ(r.max_segments, 2);
	TL_ASSERT_STR_EQ(r.name, "nightly");
	TL_ASSERT_INT_EQ(r.count, 1);

	/* The fingerprint ignores key order and spacing, and sees any change. */
	const char *same =
	    "{ \"origin\":\"AA\", \"duration\":\"PT2H30M\",\"deadline\":\"2022-01-06T00:00:00Z\","
	    "\"energy_kwh\":25,\"regions\":[\"AA\",\"BB\"],\"residency\":[\"EU\"],\"risk\":\"p90\","
	    "\"interruptible\":true,\"min_segment\":\"PT1H\",\"max_segments\":2,\"name\":\"nightly\","
	    "\"callback_url\":\"http://127.0.0.1:9/x\",\"count\":1,\"earliest_start\":null}";
	TL_ASSERT_INT_EQ(jobreq_parse(same, strlen(same), true, 10, &r2, &err), ERR_OK);
	jobreq_fingerprint(&r, f1);
	jobreq_fingerprint(&r2, f2);
	TL_ASSERT_STR_EQ(f1, f2);
	jobreq_release(&r2);
	const char *other =
	    "{\"duration\":\"PT2H30M\",\"deadline\":\"2022-01-06T00:00:00Z\",\"origin\":\"AA\","
	    "\"energy_kwh\":26}";
	TL_ASSERT_INT_EQ(jobreq_parse(other, strlen(other), true, 10, &r2, &err), ERR_OK);
	jobreq_fingerprint(&r2, f2);
	TL_ASSERT(strcmp(f1, f2) != 0);
	TL_ASSERT_INT_EQ(r2.count, 1);
	TL_ASSERT(!r2.interruptible);
	TL_ASSERT_INT_EQ(r2.risk, SCHED_P50);
	jobreq_release(&r2);
	jobreq_release(&r);
}

/* ---- callback URLs ------------------------------------------------------- */

static void test_url_parse(void)
{
	static const struct {
		const char *url;
		bool ok;
		const char *host;
		int port;
	} cases[] = {
	    {"http://hooks.example.com/a?b=c", true, "hooks.example.com", 80},
	    {"HTTPS://Hooks.Example.com:8443", true, "hooks.example.com", 8443},
	    {"http://[::1]:8080/x", true, "::1", 8080},
	    {"http://127.0.0.1:65535#f", true, "127.0.0.1", 65535},
	    {"ftp://example.com/", false, NULL, 0},
	    {"http://user:pw@example.com/", false, NULL, 0},
	    {"http://example.com:0/", false, NULL, 0},
	    {"http://example.com:99999/", false, NULL, 0},
	    {"http://example.com:80x/", false, NULL, 0},
	    {"http:///path", false, NULL, 0},
	    {"http://[::1/", false, NULL, 0},
	    {"http://exa mple.com/", false, NULL, 0},
	    {"example.com", false, NULL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct callback_url u;
		struct err_detail err = {{0}, {0}};
		int rc = callback_parse_url(cases[i].url, "callback_url", &u, &err);

		if ((rc == ERR_OK) != cases[i].ok)
			tl_fail(__LINE__, __FILE__, false, "%s: rc %d (%s)", cases[i].url, rc, err.msg);
		else if (rc == ERR_OK) {
			TL_ASSERT_STR_EQ(u.host, cases[i].host);
			TL_ASSERT_INT_EQ(u.port, cases[i].port);
		} else {
			TL_ASSERT_STR_EQ(err.field, "callback_url");
		}
	}
}

static bool special4(const char *a)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	inet_pton(AF_INET, a, &sa.sin_addr);
	return callback_addr_is_special((struct sockaddr *)&sa);
}

static bool special6(const char *a)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};

	inet_pton(AF_INET6, a, &sa.sin6_addr);
	return callback_addr_is_special((struct sockaddr *)&sa);
}

static void test_special_addresses(void)
{
	const char *special[] = {
	    "127.0.0.1",       "127.255.0.9",	  "10.1.2.3",	"172.16.0.1", "172.31.255.255",
	    "192.168.1.1",     "169.254.169.254", "100.64.0.1", "0.0.0.0",    "224.0.0.1",
	    "255.255.255.255", "192.0.2.7",	  NULL};
	const char *public4[] = {"8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "193.0.2.1", NULL};
	const char *special6s[] = {"::1",
				   "::",
				   "fe80::1",
				   "fc00::1",
				   "fd12:3456::1",
				   "ff02::1",
				   "::ffff:10.0.0.1",
				   "::ffff:127.0.0.1",
				   "64:ff9b::a9fe:a9fe",
				   "2001:db8::1",
				   NULL};
	const char *public6[] = {"2a00:1450:4001::200e", "::ffff:8.8.8.8", NULL};

	for (const char **a = special; *a; a++)
		if (!special4(*a))
			tl_fail(__LINE__, __FILE__, false, "%s should be special", *a);
	for (const char **a = public4; *a; a++)
		if (special4(*a))
			tl_fail(__LINE__, __FILE__, false, "%s should be public", *a);
	for (const char **a = special6s; *a; a++)
		if (!special6(*a))
			tl_fail(__LINE__, __FILE__, false, "%s should be special", *a);
	for (const char **a = public6; *a; a++)
		if (special6(*a))
			tl_fail(__LINE__, __FILE__, false, "%s should be public", *a);
}

static void test_allow_list(void)
{
	const char *text =
	    "{\"database_url\":\"x\",\"regions\":[{\"id\":\"AA\",\"latitude\":0,\"longitude\":0,"
	    "\"pue\":1.1}],\"scheduler\":{\"callback_hosts\":[\"hooks.example.com\",\"*.jobs.test\","
	    "\"127.0.0.1\",\"[::1]\",\"*.0.0.1\"]}}";
	struct config *c;
	struct err_detail err;
	struct callback_url u;
	bool exact;

	TL_ASSERT_INT_EQ(config_parse("t.json", text, strlen(text), &c, &err), ERR_OK);
	TL_ASSERT(callback_host_allowed(c, "hooks.example.com", &exact) && exact);
	TL_ASSERT(callback_host_allowed(c, "a.b.jobs.test", &exact) && !exact);
	TL_ASSERT(!callback_host_allowed(c, "jobs.test", &exact));
	TL_ASSERT(!callback_host_allowed(c, "evil-jobs.test", &exact));
	TL_ASSERT(!callback_host_allowed(c, "example.com", &exact));
	TL_ASSERT(callback_host_allowed(c, "::1", &exact) && exact);
	/* Listed exactly: loopback allowed, pinned to the address. */
	TL_ASSERT_INT_EQ(callback_check(c, "http://127.0.0.1:8123/hook", "callback_url", &u, &err), ERR_OK);
	TL_ASSERT_STR_EQ(u.pins[0], "127.0.0.1:8123:127.0.0.1");
	TL_ASSERT(u.pins[1] == NULL);
	/* Matched by a wildcard only: loopback refused after resolution. */
	TL_ASSERT_INT_EQ(callback_check(c, "http://10.0.0.1/hook", "callback_url", &u, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "callback_url");
	TL_ASSERT_CONTAINS(err.msg, "internal address 10.0.0.1");
	TL_ASSERT_INT_EQ(callback_check(c, "http://example.org/hook", "callback_url", &u, &err), ERR_INVALID);
	TL_ASSERT_CONTAINS(err.msg, "is not allowed");
	config_free(c);

	/* The environment form: a comma-separated list. */
	setenv("CARBONSCHED_SCHEDULER_CALLBACK_HOSTS", "a.test,,*.b.test", 1);
	TL_ASSERT_INT_EQ(config_parse("t.json", text, strlen(text), &c, &err), ERR_OK);
	unsetenv("CARBONSCHED_SCHEDULER_CALLBACK_HOSTS");
	TL_ASSERT_INT_EQ(c->ncallback_hosts, 2);
	TL_ASSERT_STR_EQ(c->callback_hosts[1], "*.b.test");
	config_free(c);
}

static CU_TestInfo tests[] = {
    {"refused bodies name the field", test_refused},
    {"accepted body, energy to power, fingerprint", test_accepted},
    {"callback URL parsing", test_url_parse},
    {"special addresses", test_special_addresses},
    {"callback allow-list and resolution", test_allow_list},
    CU_TEST_INFO_NULL,
};
TL_SUITE("jobreq", NULL, NULL, tests)
