/*
 * config.h - the service configuration: one JSON file, overridable by
 * environment variables, validated completely before anything binds.
 *
 * Keys are declared once, in tables in config.c (type, default, bounds,
 * help); `carbonsched serve --help-config` prints them.  After
 * config_load() succeeds the struct is immutable and shared by all
 * threads.
 */
#ifndef CARBONSCHED_SERVICE_CONFIG_H
#define CARBONSCHED_SERVICE_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

enum pue_kind {
	PUE_CONSTANT,	/* the configured constant */
	PUE_TEMPERATURE /* base + k·max(0, T_out - t0), T_out from the zone's temperature signal */
};

struct region_cfg {
	char *id, *name, *zone;
	double latitude, longitude;
	char **jurisdictions; /* NULL-terminated */
	size_t njurisdictions;
	enum pue_kind pue_kind;
	double pue;	      /* constant, or the base of the temperature model */
	double pue_k, pue_t0; /* temperature model */
	double capacity_kw;   /* power available to flexible jobs per step; 0 = unlimited */
	char **sources;	      /* NULL-terminated preference order of source names: as configured,
				 else every source serving the region's zone (or id), in the order
				 of 'sources'; may be empty */
	size_t nsources;
};

/* A JSON object of strings, in file order: {"GB-NW": "3"}. */
struct cfg_map {
	char **names, **values; /* n entries each */
	size_t n;
};

/* The value of 'name' in m, or NULL. */
const char *cfg_map_get(const struct cfg_map *m, const char *name);

struct source_cfg {
	char *name;   /* unique, e.g. "gb"; 1-23 letters, digits, '-', '_', '.' */
	char *type;   /* connector (conn_find) or "file" */
	char **zones; /* NULL-terminated */
	size_t nzones;
	int64_t interval; /* seconds between pulls */
	char *base_url;	  /* NULL = the provider's */
	char *path;	  /* file sources, PUE feeds */
	char *format;	  /* file sources */
	/* Connector keys (docs/sources.md); each is refused on types it does not fit. */
	struct cfg_map keys; /* zone -> the provider's name for it */
	char **endpoints;    /* NULL = the connector's defaults; else NULL-terminated */
	size_t nendpoints;
	char *token_env, *token_file; /* NULL = CARBONSCHED_<TYPE>_TOKEN (or _KEY) */
	char *username_env, *username_file, *password_env, *password_file;
	char *emission_factors; /* electricitymaps: "lifecycle" (default) or "direct" */
	char *signal_type;	/* watttime: "co2_moer" (default) or "co2_aoer" */
	int64_t horizon;	/* forecast horizon, seconds; 0 = the provider's default */
	int64_t step;		/* pue: step of the series, seconds (default 3600) */
	int64_t stale_after;	/* data older than this is stale; 0 = 3 x max(step, interval) */
	json_t *raw;		/* the whole object (owned) */
};

enum clock_mode { CLOCK_REAL, CLOCK_REPLAY };

struct config {
	char *path; /* file it came from, for messages */
	char *listen_host;
	int listen_port; /* 0 = any free port (tests) */
	char *database_url;
	int threads;
	int db_pool_size;
	char *log_level;
	int64_t shutdown_grace; /* seconds in-flight requests get after SIGTERM */
	enum clock_mode clock_mode;
	int64_t clock_start; /* replay: 'now' when the process starts */
	double clock_speed;  /* replay: simulated seconds per real second */
	int64_t max_range;   /* longest from..to a signals request may span, seconds */
	int64_t max_body;    /* bytes */
	/* Abuse limits (limits.*; docs/security.md). */
	int64_t max_url, max_header; /* bytes: request target, header lines */
	int max_json_depth;	     /* nesting of a request body */
	int max_array_items;	     /* any array or object of a request body */
	int max_list_items;	     /* regions, residency, repeated 'location' */
	int max_batch_items;	     /* Carbon Aware SDK batch bodies */
	int64_t max_jobs_range;	     /* from..to of GET /v1/jobs, seconds */
	int max_connections;	     /* open connections */
	int max_connections_per_ip;  /* 0 = no limit */
	int64_t idle_timeout;	     /* seconds without traffic before a connection is closed */
	int64_t request_timeout;     /* seconds to receive a whole request */
	/* HTTPS: both or neither; the PEM texts are read and checked at load. */
	char *tls_cert_file, *tls_key_file;
	char *tls_cert_pem, *tls_key_pem;
	int64_t forecast_horizon; /* seconds */
	bool forecast_enabled;	  /* run the forecasting worker here */
	char **forecast_kinds;	  /* NULL-terminated, or NULL: the worker's default list */
	size_t nforecast_kinds;
	int64_t forecast_history;	  /* seconds of history the live models see */
	int64_t forecast_keep;		  /* runs older than this are deleted */
	int64_t forecast_skill_half_life; /* seconds */
	int64_t cache_points;		  /* signal points held in memory at most */
	/* The fetch layer of the pollers (connectors/fetch.h). */
	int64_t fetch_timeout, fetch_connect_timeout; /* seconds, per attempt */
	int fetch_attempts;			      /* tries per request */
	int64_t fetch_backoff_ms;		      /* first retry delay */
	int fetch_breaker_failures;		      /* failed requests that open a breaker */
	int64_t fetch_breaker_cooldown;		      /* seconds an open breaker waits */
	int64_t fetch_max_bytes;		      /* response size cap */
	char *fetch_user_agent;
	/* scheduling and jobs */
	int64_t sched_step;	    /* grid of placements and reservations, seconds */
	double replan_min_gain_pct; /* re-plan a booked job only when it saves more than this */
	int64_t forecast_poll;	    /* how often replicas look for new forecast runs, seconds */
	char **callback_hosts;	    /* NULL-terminated allow-list of callback hosts (may be NULL) */
	size_t ncallback_hosts;
	int64_t callback_timeout; /* one callback POST, seconds */
	int max_job_count;	  /* largest job array one booking may ask for */
	/* API keys (auth.h) */
	char **auth_anonymous; /* NULL-terminated scopes granted without a key (only "read"), or NULL */
	size_t nauth_anonymous;
	double auth_rate;	/* requests per second per key / per client address; 0 = no limit */
	double auth_burst;	/* bucket size */
	int64_t auth_cache_ttl; /* seconds a verified key is trusted without asking the database */
	struct region_cfg *regions;
	size_t nregions;
	struct source_cfg *sources;
	size_t nsources;
};

/* Load and validate the JSON file at 'path', then apply environment
 * overrides (CARBONSCHED_LISTEN, CARBONSCHED_DATABASE_URL, ...: the key in
 * upper case with '.' -> '_').  On failure returns ERR_INVALID (or ERR_IO)
 * with err->msg "PATH: KEY: problem" and *ret untouched.  The result is
 * new: free with config_free. */
int config_load(const char *path, struct config **ret, struct err_detail *err);

/* Same from a string (tests, fuzzing); 'name' stands for the path. */
int config_parse(const char *name, const char *text, size_t len, struct config **ret, struct err_detail *err);

void config_free(struct config *c);

/* Region by id, NULL when unknown. */
const struct region_cfg *config_region(const struct config *c, const char *id);

/* Source by name, NULL when unknown. */
const struct source_cfg *config_source(const struct config *c, const char *name);

/* Print the key table (name, type, default, environment variable, help). */
void config_print_keys(FILE *out);

#endif
