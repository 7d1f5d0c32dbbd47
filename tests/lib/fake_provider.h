/*
 * fake_provider.h - a fake internet provider on loopback, for tests.
 *
 * One small HTTP/1.1 server (plain sockets, one thread, one connection at a
 * time, "Connection: close") that answers like one provider - Electricity
 * Maps, WattTime, GB carbon intensity, ENTSO-E, EIA, Open-Meteo or a PUE feed
 * - by replaying the recorded responses under tests/data/providers/<name>/,
 * and checks credentials the way the provider does.  A switchable fault
 * replaces the next 'count' answers (or all of them):
 *
 *   429 / 429-date   Too Many Requests with Retry-After in seconds / as an HTTP-date
 *   500, 502, 503    server errors (503 carries Retry-After)
 *   hang             headers and half a body, then nothing until the client gives up
 *   truncate         Content-Length promises more than is sent, then close
 *   malformed        a 200 whose JSON/XML body is cut in half
 *   content-type     a 200 HTML page (a captive portal)
 *   401              the token expires (WattTime: the bearer token; others: rejected)
 *   empty            the provider's empty data set
 *   unknown-zone     the provider's answer for a zone it does not know
 *
 * Recorded times are replayed as recorded, unless 'fresh' is set: then each
 * answer's times are shifted by whole hours so that its newest observation
 * (or a forecast's first step) falls in the hour the fake started in, less
 * 'age_s' - data a poller will take as current, or as 'age_s' old.  The
 * shift is fixed when the fake starts, so repeated answers are identical.
 *
 * Usable in-process (fake_start/fake_stop) and as the program
 * build/tests/fake-provider (tests/fakes/fake_main.c), which prints its port.
 * At run time GET /_fake/fault?set=NAME&count=N switches the fault and
 * GET /_fake/stats returns {"requests":N,"faulted":N,"logins":N,
 * "agents":{"<User-Agent>":N,...}} (requests per client: replicas of the
 * service that set their own User-Agent are told apart).
 */
#ifndef CARBONSCHED_TESTS_FAKE_PROVIDER_H
#define CARBONSCHED_TESTS_FAKE_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

#define FAKE_FAULT_TABLE(X)             \
	X(NONE, "none")                 \
	X(RATE_LIMIT, "429")            \
	X(RATE_LIMIT_DATE, "429-date")  \
	X(E500, "500")                  \
	X(E502, "502")                  \
	X(E503, "503")                  \
	X(HANG, "hang")                 \
	X(TRUNCATE, "truncate")         \
	X(MALFORMED, "malformed")       \
	X(CONTENT_TYPE, "content-type") \
	X(EXPIRED, "401")               \
	X(EMPTY, "empty")               \
	X(UNKNOWN_ZONE, "unknown-zone")

enum fake_fault {
#define FAKE_FAULT_ENUM(name, str) FAKE_##name,
	FAKE_FAULT_TABLE(FAKE_FAULT_ENUM)
#undef FAKE_FAULT_ENUM
	    FAKE__FAULT_COUNT
};

struct fake_options {
	const char *provider;  /* electricitymaps, watttime, ukgrid, entsoe, eia, openmeteo, pue */
	int port;	       /* 0 = any free port */
	const char *data_dir;  /* default "tests/data/providers" */
	enum fake_fault fault; /* initial fault */
	int fault_count;       /* answers it replaces; <= 0 = all */
	int retry_after_s;     /* for 429/503 (default 1) */
	const char *token;     /* expected token / API key (default "test-token") */
	const char *username;  /* WattTime login (default "freddo") */
	const char *password;  /* (default "the_frog") */
	bool gzip;	       /* compress bodies when the client accepts gzip */
	bool fresh;	       /* shift recorded times to the current hour (see above) */
	int64_t age_s;	       /* with 'fresh': make the data this much older */
};

struct fake_stats {
	unsigned requests; /* answered, control routes excluded */
	unsigned faulted;  /* of which replaced by the fault */
	unsigned logins;   /* WattTime /login calls that issued a token */
};

/* Start a server thread on 127.0.0.1.  NULL with err filled when the
 * provider is unknown or the socket cannot be bound.  Stop with fake_stop
 * (joins the thread, frees everything; NULL is a no-op). */
struct fake *fake_start(const struct fake_options *o, struct err_detail *err);
void fake_stop(struct fake *f);

int fake_port(const struct fake *f);
/* "http://127.0.0.1:PORT" (borrowed). */
const char *fake_url(const struct fake *f);
/* Switch the fault for the next 'count' answers (<= 0: all). Thread-safe. */
void fake_set_fault(struct fake *f, enum fake_fault fault, int count);
void fake_get_stats(struct fake *f, struct fake_stats *ret);
/* Requests that came with User-Agent 'agent' (the first 8 agents are counted). */
unsigned fake_agent_requests(struct fake *f, const char *agent);
/* Requests among the last 64 whose head (request line and headers)
 * contains 'needle'. */
unsigned fake_count_requests(struct fake *f, const char *needle);

/* Fault by name ("429", "hang", ...); -1 when unknown. */
int fake_fault_parse(const char *s);
const char *fake_fault_name(enum fake_fault f);

#endif
