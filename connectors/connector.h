/*
 * connector.h - one interface for every live data source.
 *
 * A connector turns "this zone (or these coordinates), this time range"
 * into series in the project's units - gCO2eq/kWh, MW, %, m/s, W/m2, degC,
 * UTC, each value stamped at the START of the interval it covers - plus the
 * provider's own forecasts with their issue time.  Connectors are rows of
 * conn_table: a name, what credentials they need, their endpoints (each
 * with its response parser) and a fetch function that plans the requests.
 * They never touch the database and never log above debug; the poller and
 * 'carbonsched ingest --source' (service/) decide what to do with results.
 *
 * Life cycle:
 *     struct conn_ctx ctx;                       one per configured source,
 *     conn_ctx_init(&ctx, conn, "em", NULL,      long-lived (it caches the
 *                   fetch, NULL, &err);          WattTime token)
 *     struct conn_result r;
 *     conn_fetch(&ctx, &query, &r, &err);        any number of times
 *     ... use r.sigs and r.fc ...
 *     conn_result_release(&r);
 *     conn_ctx_release(&ctx);
 */
#ifndef CARBONSCHED_CONNECTORS_CONNECTOR_H
#define CARBONSCHED_CONNECTORS_CONNECTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connectors/fetch.h"
#include "core/error.h"
#include "core/series.h"
#include "core/signal.h"

/* No series built from upstream bytes grows past this many steps (ten
 * years of 5-minute data, 8 MiB of values): a stray timestamp in a
 * response cannot make us allocate gigabytes. */
#define CONN_MAX_STEPS ((size_t)1 << 20)

/* A provider's forecast of one signal, as issued. */
struct conn_forecast {
	char zone[64];
	char kind[48];	 /* as in struct sig_series */
	char source[24]; /* connector name */
	char model[64];	 /* provider's model/run ("watttime:2023-03-01", "entsoe:day-ahead") */
	int64_t issued_at;
	struct series p50;	/* central value per step */
	struct series p10, p90; /* n == 0 when the provider gives no interval */
};

/* What a fetch returns.  Owns everything in it. */
struct conn_result {
	struct sig_set sigs;
	size_t nfc, capfc;
	struct conn_forecast *fc;
};

void conn_result_init(struct conn_result *r);
void conn_result_release(struct conn_result *r);
/* The forecast for (zone, kind, source, model, issued_at), created empty
 * with the given step when absent.  Valid until the next call that
 * creates one. */
struct conn_forecast *conn_result_forecast(struct conn_result *r, const char *zone, const char *kind,
					   const char *source, const char *model, int64_t issued_at,
					   int32_t step);
/* Valid points in series and forecasts (p50). */
size_t conn_result_points(const struct conn_result *r);
/* Drop series points outside [from, to) (forecasts are kept whole). */
void conn_result_clip(struct conn_result *r, int64_t from, int64_t to);

/* series_set for values from upstream: ERR_MALFORMED when t is off the
 * series' grid or the series would pass CONN_MAX_STEPS; 'what' names the
 * field in the message. */
int conn_series_set(struct series *s, int64_t t, double v, bool estimated, const char *what,
		    struct err_detail *err);

/* ------------------------------------------------------------------ */
/* Credentials: from the environment or files, never the command line.  */

enum conn_auth {
	CONN_AUTH_NONE,	 /* no key (GB carbon intensity, Open-Meteo, PUE feeds) */
	CONN_AUTH_TOKEN, /* one token or API key */
	CONN_AUTH_LOGIN, /* user name and password (WattTime) */
};

/* Where a source's secrets come from.  Each NULL field takes the
 * connector's default environment variable; VAR_FILE (the variable's name
 * with _FILE appended) names a file holding the value instead. */
struct conn_cred_names {
	const char *token_env, *token_file;
	const char *username_env, *username_file;
	const char *password_env, *password_file;
};

struct conn_creds {
	char *token, *username, *password; /* owned; wiped on release */
};

/* ------------------------------------------------------------------ */
/* Queries and parsing                                                 */

struct conn_query {
	const char *zone; /* output zone / region id ("DE", "eu-west-1"); NULL or "*"
			     = every region of a feed (pue only) */
	const char *key;  /* the provider's name for it (EIC code, EIA respondent,
			     WattTime region, GB region id); NULL = derived from zone */
	bool has_coords;  /* lat/lon are set (Open-Meteo; WattTime region-from-loc
			     when no key) */
	double lat, lon;
	int64_t from, to;	      /* [from, to) UTC; both 0 = the recent past and the
					 provider's forecast horizon around now */
	const char *const *endpoints; /* NULL-terminated names; NULL = the connector's default */
	enum sig_factors factors;     /* Electricity Maps: lifecycle (default) or direct */
	const char *signal_type;      /* WattTime: co2_moer (default) or co2_aoer */
	int horizon_h;		      /* forecasts: hours ahead, 0 = provider default */
	int32_t step;		      /* PUE feeds: step of the series, 0 = 3600 */
};

/* What a parser needs besides the bytes. */
struct conn_parse_ctx {
	const char *zone;	  /* zone written on every series */
	const char *source;	  /* source written on every series (connector name) */
	int64_t now;		  /* fetch time: splits observations from forecasts where the
				     provider does not (Open-Meteo); 0 = everything observed */
	int64_t from, to;	  /* requested range (PUE constants are expanded over it) */
	int32_t step;		  /* PUE step (0 = 3600) */
	enum sig_factors factors; /* factors asked for (Electricity Maps) */
	const char *key;	  /* provider key asked for (GB region id, EIA respondent), or NULL */
};

/* Parse one response body into *ret (appending).  ERR_MALFORMED (or
 * ERR_NOT_FOUND for a provider's "no data" document) with a message naming
 * the field; *ret may hold partial data on failure. */
typedef int (*conn_parse_fn)(const struct conn_parse_ctx *p, const char *data, size_t len,
			     struct conn_result *ret, struct err_detail *err);

struct conn_endpoint {
	const char *name;   /* "history", "A75", ... as written in the config */
	const char *format; /* "json", "xml" or "csv" */
	conn_parse_fn parse;
	const char *summary;
};

struct conn_ctx;

struct connector {
	const char *name; /* type in the config, source of the series */
	const char *summary;
	const char *default_base_url; /* NULL: must be configured (PUE feeds) */
	enum conn_auth auth;
	const char *token_env, *username_env, *password_env; /* default variables */
	const struct conn_endpoint *endpoints;		     /* ends with a NULL name */
	int (*fetch)(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
		     struct err_detail *err);
};

/* Every connector; NULL-terminated. */
extern const struct connector *const conn_table[];
/* By name; NULL when unknown. */
const struct connector *conn_find(const char *name);
/* Endpoint of a connector by name; NULL when unknown. */
const struct conn_endpoint *conn_endpoint(const struct connector *conn, const char *name);

/* One configured source: the connector, where it lives, its secrets and
 * the state it keeps between fetches (the WattTime bearer token).  Used by
 * one thread at a time per fetch, but the token is locked so several may
 * share it. */
struct conn_ctx {
	const struct connector *conn;
	char source[64];	   /* config name: breaker key and first word of messages */
	char *base_url;		   /* owned; connector default when not configured */
	struct conn_creds creds;   /* owned */
	struct fetch *fetch;	   /* borrowed */
	int64_t (*now)(void *arg); /* clock (demo clock, tests); NULL = ts_now */
	void *now_arg;
	pthread_mutex_t lock; /* token */
	char *token;	      /* WattTime bearer token, owned */
	int64_t token_expires;
};

/* Initialise a source: copies 'source' (NULL = the connector's name) and
 * 'base_url' (NULL = default), loads the credentials the connector needs
 * ('names' may be NULL).  Errors: ERR_INVALID naming the variable or file
 * that is missing, empty or unreadable, or a missing base URL.  On error
 * nothing needs releasing. */
int conn_ctx_init(struct conn_ctx *c, const struct connector *conn, const char *source, const char *base_url,
		  struct fetch *f, const struct conn_cred_names *names, struct err_detail *err);
void conn_ctx_release(struct conn_ctx *c);
int64_t conn_now(const struct conn_ctx *c);

/* Fetch: validates the query (zone, range, endpoint names), initialises
 * *ret and fills it.  On failure *ret is empty (nothing to release twice:
 * it is released and re-initialised).  When every endpoint answered "no
 * data" the error is ERR_NOT_FOUND with the provider's words.  Other
 * errors are those of fetch_get and the parsers, each message starting
 * with the source name. */
int conn_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
	       struct err_detail *err);

/* Parse a body as 'endpoint' of 'conn' (tests, fuzzing, benchmarks).
 * *ret must be initialised; the caller releases it. */
int conn_parse(const struct connector *conn, const char *endpoint, const struct conn_parse_ctx *p,
	       const char *data, size_t len, struct conn_result *ret, struct err_detail *err);

/* ------------------------------------------------------------------ */
/* For connector implementations                                       */

/* Is endpoint 'name' selected by the query (or by default, 'dflt')? */
bool conn_wants(const struct conn_query *q, const char *name, bool dflt);

/* GET 'url' for 'endpoint' and parse it into ret.  'headers' and
 * 'secrets' as in fetch_request.  A parse failure's message is prefixed
 * with "<source>: <endpoint> response: ". */
int conn_get_parse(struct conn_ctx *c, const struct conn_endpoint *ep, const char *url,
		   const char *const *headers, const char *const *secrets, const struct conn_parse_ctx *p,
		   struct conn_result *ret, struct err_detail *err);

/* A parse context for query q on ctx c. */
void conn_parse_ctx_init(struct conn_parse_ctx *p, const struct conn_ctx *c, const struct conn_query *q);

/* URL-encode s into out (RFC 3986 unreserved kept). */
void conn_urlencode(const char *s, char *out, size_t size);

/* "No data" from one endpoint is not a failure while another has data:
 * conn_soft remembers the first ERR_NOT_FOUND and returns ERR_OK for it
 * (other codes pass through); conn_finish returns that error when the
 * result stayed empty. */
struct conn_nodata {
	int count;
	struct err_detail first;
};
int conn_soft(struct conn_nodata *nd, int rc, struct err_detail *err);
int conn_finish(const struct conn_nodata *nd, const struct conn_result *r, struct err_detail *err);

/* Time in a provider string: RFC 3339 and the shorter forms the providers
 * use ("2018-01-20T12:00Z", "2025-09-08T00:00"; no offset = UTC). */
bool conn_parse_time(const char *s, size_t len, int64_t *ret);

/* Kind for a fuel's generation: "generation:<fuel>" into out (48 bytes). */
const char *conn_generation_kind(enum sig_fuel f, char out[48]);

/* Add the series derived from a mix at time t to ret: carbon_intensity
 * (lifecycle), optionally carbon_intensity_direct, renewable_share and
 * low_carbon_share, when the mix is complete (complete == true). */
int conn_add_mix_signals(struct conn_result *ret, const struct conn_parse_ctx *p, int32_t step, int64_t t,
			 const double mix[FUEL__COUNT], bool direct, bool estimated, struct err_detail *err);

extern const struct connector conn_electricitymaps, conn_watttime, conn_ukgrid, conn_entsoe, conn_eia,
    conn_openmeteo, conn_pue;

#endif
