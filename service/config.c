/*
 * config.c - declarative configuration keys and their validation.
 *
 * Three tables - top-level keys, region keys, source keys - each row
 * giving the key, its type, default, bounds and help.  One generic loop
 * reads a JSON object against a table into a struct (by offset), so a new
 * key is one row.  Unknown keys are errors, not silently ignored: a typo
 * in a config file should never go unnoticed.  Environment variables
 * override top-level keys after the file is read; the combined result is
 * validated once more as a whole (unique ids, references between regions
 * and sources).  Source keys that belong to some connectors only (a
 * WattTime signal type, a token file) say so in their row, and are refused
 * on sources of other types.
 */
#include "service/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonh.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/signal.h"
#include "core/time.h"
#include "connectors/connector.h"
#include "service/tls.h"

enum key_type {
	K_STRING,
	K_INT,
	K_INT64,
	K_DOUBLE,
	K_TIME,
	K_DURATION,
	K_LISTEN,
	K_CLOCK_MODE,
	K_STRINGS,
	K_MAP,
	K_BOOL
};

struct key {
	const char *name; /* dotted path for nested objects: "clock.start" */
	enum key_type type;
	size_t offset;
	size_t count_offset; /* K_STRINGS: where the element count goes */
	const char *def;     /* default as text, NULL = none (required unless 'optional') */
	double min, max;
	bool optional;
	const char *help;
};

#define TOP(field) offsetof(struct config, field)
static const struct key top_keys[] = {
    {"listen", K_LISTEN, TOP(listen_host), 0, "127.0.0.1:8080", 0, 0, false,
     "address:port to serve HTTP on (port 0 = any free port)"},
    {"database_url", K_STRING, TOP(database_url), 0, NULL, 0, 0, true,
     "libpq connection string or URI of the PostgreSQL database"},
    {"threads", K_INT, TOP(threads), 0, "4", 1, 256, false, "HTTP worker threads"},
    {"db_pool_size", K_INT, TOP(db_pool_size), 0, "0", 0, 256, false,
     "PostgreSQL connections (0 = one per HTTP thread plus two)"},
    {"log_level", K_STRING, TOP(log_level), 0, "info", 0, 0, false, "debug, info, warn or error"},
    {"shutdown_grace", K_DURATION, TOP(shutdown_grace), 0, "PT10S", 1, 3600, false,
     "on SIGTERM: how long requests in flight may take before the process exits anyway"},
    {"clock.mode", K_CLOCK_MODE, TOP(clock_mode), 0, "real", 0, 0, false,
     "'real', or 'replay' to run on historical data from clock.start"},
    {"clock.start", K_TIME, TOP(clock_start), 0, NULL, 0, 0, true,
     "replay: the instant the service believes it is when it starts"},
    {"clock.speed", K_DOUBLE, TOP(clock_speed), 0, "1", 0.001, 100000, false,
     "replay: simulated seconds per real second"},
    {"limits.max_range", K_DURATION, TOP(max_range), 0, "P93D", 3600, 5 * 366 * 86400.0, false,
     "longest time range one signals request may cover"},
    {"limits.max_body_bytes", K_INT64, TOP(max_body), 0, "1048576", 1024, 1 << 30, false,
     "largest request body accepted (413)"},
    {"limits.max_url_bytes", K_INT64, TOP(max_url), 0, "8192", 256, 1 << 20, false,
     "longest request target, path and query string (414)"},
    {"limits.max_header_bytes", K_INT64, TOP(max_header), 0, "16384", 1024, 1 << 20, false,
     "largest total of the request's header lines (431)"},
    {"limits.max_json_depth", K_INT, TOP(max_json_depth), 0, "32", 2, 256, false,
     "deepest nesting of arrays and objects in a request body (422)"},
    {"limits.max_array_items", K_INT, TOP(max_array_items), 0, "1000", 1, 1000000, false,
     "most items of any array or object in a request body (422)"},
    {"limits.max_list_items", K_INT, TOP(max_list_items), 0, "64", 1, 256, false,
     "most entries of a list of regions, jurisdictions or repeated 'location' parameters (422)"},
    {"limits.max_batch_items", K_INT, TOP(max_batch_items), 0, "100", 1, 10000, false,
     "most requests in one Carbon Aware SDK batch body (422)"},
    {"limits.max_jobs_range", K_DURATION, TOP(max_jobs_range), 0, "P366D", 3600, 100 * 366 * 86400.0, false,
     "longest from..to of a jobs listing that gives both (422)"},
    {"limits.max_connections", K_INT, TOP(max_connections), 0, "512", 1, 100000, false,
     "open HTTP connections at most; more are refused at accept"},
    {"limits.max_connections_per_ip", K_INT, TOP(max_connections_per_ip), 0, "256", 0, 100000, false,
     "open connections from one client address at most (0 = no limit; behind a proxy, its address)"},
    {"limits.idle_timeout", K_DURATION, TOP(idle_timeout), 0, "PT30S", 1, 3600, false,
     "a connection that sends and reads nothing for this long is closed"},
    {"limits.request_timeout", K_DURATION, TOP(request_timeout), 0, "PT30S", 1, 3600, false,
     "time a client has to send a whole request (headers and body), however slowly it trickles"},
    {"tls.cert_file", K_STRING, TOP(tls_cert_file), 0, NULL, 0, 0, true,
     "PEM certificate (chain) to serve HTTPS with; set with tls.key_file"},
    {"tls.key_file", K_STRING, TOP(tls_key_file), 0, NULL, 0, 0, true,
     "PEM private key of tls.cert_file (unencrypted); keep it readable by the service only"},
    {"cache.max_points", K_INT64, TOP(cache_points), 0, "8000000", 0, 1e10, false,
     "signal points kept in memory (8 bytes each); 0 disables the cache"},
    {"forecast.horizon", K_DURATION, TOP(forecast_horizon), 0, "P4D", 3600, 14 * 86400.0, false,
     "how far ahead forecasts reach"},
    {"fetch.timeout", K_DURATION, TOP(fetch_timeout), 0, "PT30S", 1, 3600, false,
     "pollers: longest one HTTP attempt may take, headers to last byte"},
    {"fetch.connect_timeout", K_DURATION, TOP(fetch_connect_timeout), 0, "PT5S", 1, 300, false,
     "pollers: longest a connection may take to open"},
    {"fetch.attempts", K_INT, TOP(fetch_attempts), 0, "4", 1, 20, false,
     "pollers: tries per request (network errors, timeouts, 429 and 5xx are retried)"},
    {"fetch.backoff_ms", K_INT64, TOP(fetch_backoff_ms), 0, "500", 1, 600000, false,
     "pollers: first retry delay in ms, doubled per retry, with jitter"},
    {"fetch.breaker_failures", K_INT, TOP(fetch_breaker_failures), 0, "5", 1, 1000, false,
     "pollers: consecutive failed requests of a source that open its circuit breaker"},
    {"fetch.breaker_cooldown", K_DURATION, TOP(fetch_breaker_cooldown), 0, "PT60S", 1, 86400, false,
     "pollers: how long an open breaker refuses requests before one probe"},
    {"fetch.max_bytes", K_INT64, TOP(fetch_max_bytes), 0, "67108864", 1024, 1 << 30, false,
     "pollers: largest response accepted (after decompression)"},
    {"fetch.user_agent", K_STRING, TOP(fetch_user_agent), 0, "carbonsched", 0, 0, false,
     "pollers: User-Agent of requests to providers"},
    {"forecast.enabled", K_BOOL, TOP(forecast_enabled), 0, "true", 0, 0, false,
     "run the forecasting worker in this replica (one replica at a time forecasts; the others stand by)"},
    {"forecast.kinds", K_STRINGS, TOP(forecast_kinds), TOP(nforecast_kinds), NULL, 0, 0, true,
     "signal kinds forecast per zone (default: carbon_intensity, carbon_intensity_direct, "
     "renewable_share, generation:wind, generation:solar; PUE per region always)"},
    {"forecast.history", K_DURATION, TOP(forecast_history), 0, "P730D", 28 * 86400.0, 5 * 366 * 86400.0,
     false, "history the live models are fitted on"},
    {"forecast.keep", K_DURATION, TOP(forecast_keep), 0, "P7D", 86400, 366 * 86400.0, false,
     "forecast runs older than this are deleted (their skill stays); at least the horizon plus a day"},
    {"forecast.skill_half_life", K_DURATION, TOP(forecast_skill_half_life), 0, "P7D", 3600, 366 * 86400.0,
     false, "recent skill: errors count half after this long"},
    {"scheduler.step", K_DURATION, TOP(sched_step), 0, "PT1H", 300, 3600, false,
     "grid of placements and capacity reservations (a divisor of one hour: 5, 10, 15, 20, 30 or 60 min)"},
    {"scheduler.replan_min_gain_pct", K_DOUBLE, TOP(replan_min_gain_pct), 0, "5", 0, 100, false,
     "re-plan a booked job on a new forecast only when that saves more than this % of its emissions"},
    {"scheduler.forecast_poll", K_DURATION, TOP(forecast_poll), 0, "PT5S", 1, 3600, false,
     "how often each replica looks for new forecast runs (besides LISTEN carbonsched_forecasts)"},
    {"scheduler.callback_hosts", K_STRINGS, TOP(callback_hosts), TOP(ncallback_hosts), NULL, 0, 0, true,
     "hosts job callbacks may go to ('hooks.example.com', '*.example.com'); loopback and private "
     "addresses only when named exactly (environment: comma-separated)"},
    {"scheduler.callback_timeout", K_DURATION, TOP(callback_timeout), 0, "PT5S", 1, 60, false,
     "time allowed for one callback request"},
    {"scheduler.max_job_count", K_INT, TOP(max_job_count), 0, "1000", 1, 100000, false,
     "largest 'count' (job array) one booking may ask for"},
    {"auth.anonymous", K_STRINGS, TOP(auth_anonymous), TOP(nauth_anonymous), NULL, 0, 0, true,
     "scopes granted without an API key: [] (default) or [\"read\"] (docs/security.md)"},
    {"auth.rate_per_s", K_DOUBLE, TOP(auth_rate), 0, "100", 0, 1e6, false,
     "requests per second per API key, and per client address without one (0 = no limit)"},
    {"auth.burst", K_DOUBLE, TOP(auth_burst), 0, "200", 1, 1e7, false,
     "requests one key or address may make at once before the rate applies"},
    {"auth.cache_ttl", K_DURATION, TOP(auth_cache_ttl), 0, "PT30S", 1, 3600, false,
     "how long a verified key is trusted without asking the database: a revocation takes effect "
     "within this time"},
};
#undef TOP

#define REG(field) offsetof(struct region_cfg, field)
static const struct key region_keys[] = {
    {"id", K_STRING, REG(id), 0, NULL, 0, 0, false, "unique region id, e.g. 'DE' or 'eu-central-1'"},
    {"name", K_STRING, REG(name), 0, NULL, 0, 0, true, "display name (default: the id)"},
    {"zone", K_STRING, REG(zone), 0, NULL, 0, 0, true, "grid zone of its carbon signal (default: the id)"},
    {"latitude", K_DOUBLE, REG(latitude), 0, NULL, -90, 90, false, "degrees north"},
    {"longitude", K_DOUBLE, REG(longitude), 0, NULL, -180, 180, false, "degrees east"},
    {"jurisdictions", K_STRINGS, REG(jurisdictions), REG(njurisdictions), NULL, 0, 0, true,
     "data-residency tags, e.g. [\"EU\", \"DE\", \"GDPR\"]"},
    {"capacity_kw", K_DOUBLE, REG(capacity_kw), 0, "0", 0, 1e9, false,
     "power available to flexible jobs in each step, kW (0 = unlimited)"},
    {"sources", K_STRINGS, REG(sources), REG(nsources), NULL, 0, 0, true,
     "source names in order of preference for this region's zone"},
};
#undef REG

#define SRC(field) offsetof(struct source_cfg, field)
#define CONNECTORS "electricitymaps watttime ukgrid entsoe eia openmeteo pue"
static const struct key source_keys[] = {
    {"name", K_STRING, SRC(name), 0, NULL, 0, 0, false, "unique source name (regions[].sources refer to it)"},
    {"type", K_STRING, SRC(type), 0, NULL, 0, 0, false,
     "connector: electricitymaps, watttime, ukgrid, ..., or file"},
    {"zones", K_STRINGS, SRC(zones), SRC(nzones), NULL, 0, 0, true,
     "zones this source serves (openmeteo: region ids; pue: regions, default all)"},
    {"interval", K_DURATION, SRC(interval), 0, "PT15M", 1, 7 * 86400.0, false, "time between pulls"},
    {"stale_after", K_DURATION, SRC(stale_after), 0, NULL, 1, 30 * 86400.0, true,
     "data whose newest point is older is stale (default 3 x max(step, interval))"},
    {"base_url", K_STRING, SRC(base_url), 0, NULL, 0, 0, true,
     "another host for the provider (mirror, fake)"},
    {"path", K_STRING, SRC(path), 0, NULL, 0, 0, true, "the file (file sources, PUE feeds)"},
    {"format", K_STRING, SRC(format), 0, NULL, 0, 0, true, "file sources: the format (see ingest --help)"},
    {"keys", K_MAP, SRC(keys), 0, NULL, 0, 0, true,
     "the provider's name of a zone: {\"GB-NW\": \"3\"} (GB region, EIC code, EIA respondent, WattTime "
     "region)"},
    {"endpoints", K_STRINGS, SRC(endpoints), SRC(nendpoints), NULL, 0, 0, true,
     "endpoints to pull (default: the connector's plan; docs/sources.md)"},
    {"token_env", K_STRING, SRC(token_env), 0, NULL, 0, 0, true, "variable holding the token"},
    {"token_file", K_STRING, SRC(token_file), 0, NULL, 0, 0, true, "file holding the token"},
    {"username_env", K_STRING, SRC(username_env), 0, NULL, 0, 0, true, "variable holding the user name"},
    {"username_file", K_STRING, SRC(username_file), 0, NULL, 0, 0, true, "file holding the user name"},
    {"password_env", K_STRING, SRC(password_env), 0, NULL, 0, 0, true, "variable holding the password"},
    {"password_file", K_STRING, SRC(password_file), 0, NULL, 0, 0, true, "file holding the password"},
    {"emission_factors", K_STRING, SRC(emission_factors), 0, NULL, 0, 0, true,
     "'lifecycle' (default) or 'direct' intensity"},
    {"signal_type", K_STRING, SRC(signal_type), 0, NULL, 0, 0, true, "'co2_moer' (default) or 'co2_aoer'"},
    {"horizon", K_DURATION, SRC(horizon), 0, NULL, 3600, 16 * 86400.0, true,
     "forecast horizon (default: the provider's)"},
    {"step", K_DURATION, SRC(step), 0, NULL, 60, 86400, true, "step of the PUE series (default PT1H)"},
};
#undef SRC

/* Source keys that fit some types only, and string keys with a closed set
 * of values. */
#define CONNECTORS "electricitymaps watttime ukgrid entsoe eia openmeteo pue"
static const struct key_rule {
	const char *key;
	const char *only;    /* space-separated types; NULL = every type */
	const char *choices; /* '|'-separated values; NULL = any */
} source_rules[] = {
    {"base_url", CONNECTORS, NULL},
    {"path", "file pue", NULL},
    {"format", "file", NULL},
    {"keys", "electricitymaps watttime ukgrid entsoe eia", NULL},
    {"endpoints", CONNECTORS, NULL},
    {"token_env", "electricitymaps entsoe eia", NULL},
    {"token_file", "electricitymaps entsoe eia", NULL},
    {"username_env", "watttime", NULL},
    {"username_file", "watttime", NULL},
    {"password_env", "watttime", NULL},
    {"password_file", "watttime", NULL},
    {"emission_factors", "electricitymaps", "lifecycle|direct"},
    {"signal_type", "watttime", "co2_moer|co2_aoer"},
    {"horizon", "electricitymaps watttime openmeteo", NULL},
    {"step", "pue", NULL},
};
#undef CONNECTORS

static const char *const type_names[] = {"string",	     "integer",		  "integer",   "number",
					 "RFC 3339 time",    "duration",	  "host:port", "real|replay",
					 "array of strings", "object of strings", "boolean"};

static int fail(struct err_detail *err, const char *file, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct err_detail *err, const char *file, const char *key, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(err, ERR_INVALID, key, "%s: %s: %s", file, key, msg);
}

/* Look a dotted name up in obj; NULL when absent. */
static json_t *lookup(json_t *obj, const char *name)
{
	char part[64];
	const char *dot;

	while ((dot = strchr(name, '.'))) {
		snprintf(part, sizeof(part), "%.*s", (int)(dot - name), name);
		obj = json_object_get(obj, part);
		if (!json_is_object(obj))
			return NULL;
		name = dot + 1;
	}
	return json_object_get(obj, name);
}

static char **strings_from(json_t *arr, size_t *ret_n)
{
	size_t n = json_array_size(arr);
	char **v = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(json_string_value(json_array_get(arr, i)));
	*ret_n = n;
	return v;
}

static void strings_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void map_release(struct cfg_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->names[i]);
		free(m->values[i]);
	}
	free(m->names);
	free(m->values);
	memset(m, 0, sizeof(*m));
}

const char *cfg_map_get(const struct cfg_map *m, const char *name)
{
	for (size_t i = 0; name && i < m->n; i++)
		if (!strcmp(m->names[i], name))
			return m->values[i];
	return NULL;
}

/* Is 'word' one of the space-separated words of 'list'? */
static bool in_list(const char *list, const char *word, char sep)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, word, n))
			return true;
		p = end ? end + 1 : p + len;
	}
	return false;
}

static int parse_listen(const char *s, char **ret_host, int *ret_port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s)
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	*ret_host = xstrndup(s, (size_t)(colon - s));
	*ret_port = (int)port;
	return 0;
}

/* Store one value (JSON, or text from a default or the environment) into
 * the struct at base + k->offset. */
static int set_value(const struct key *k, void *base, json_t *v, const char *text, const char *file,
		     const char *path, struct err_detail *err)
{
	char *field = (char *)base + k->offset;
	char key[160];
	struct err_detail e;

	snprintf(key, sizeof(key), "%s%s%s", path, *path ? "." : "", k->name);
	if (v && json_is_null(v))
		return fail(err, file, key, "must be a %s, not null", type_names[k->type]);
	switch (k->type) {
	case K_STRING:
	case K_LISTEN:
	case K_TIME:
	case K_DURATION:
	case K_CLOCK_MODE:
		if (v && !json_is_string(v))
			return fail(err, file, key, "must be a string (%s)", type_names[k->type]);
		if (v)
			text = json_string_value(v);
		break;
	case K_INT:
	case K_INT64:
	case K_DOUBLE:
		if (v && !json_is_number(v))
			return fail(err, file, key, "must be a number");
		break;
	case K_STRINGS:
	case K_MAP: break;
	case K_BOOL:
		if (v && !json_is_boolean(v))
			return fail(err, file, key, "must be true or false");
		if (v)
			text = json_is_true(v) ? "true" : "false";
		break;
	}

	switch (k->type) {
	case K_STRING:
		if (!*text)
			return fail(err, file, key, "must not be empty");
		free(*(char **)field);
		*(char **)field = xstrdup(text);
		return ERR_OK;
	case K_LISTEN: {
		char *host;
		int port;

		if (parse_listen(text, &host, &port))
			return fail(err, file, key, "'%s' is not host:port with a port 0-65535", text);
		free(*(char **)field);
		*(char **)field = host;
		((struct config *)base)->listen_port = port;
		return ERR_OK;
	}
	case K_TIME:
		if (ts_parse(text, key, (int64_t *)field, &e))
			return fail(err, file, key, "%s", e.msg);
		return ERR_OK;
	case K_DURATION: {
		int64_t s;

		if (ts_parse_duration(text, key, &s, &e))
			return fail(err, file, key, "%s", e.msg);
		if (s < k->min || s > k->max)
			return fail(err, file, key, "'%s' must be between %.0f and %.0f seconds", text,
				    k->min, k->max);
		*(int64_t *)field = s;
		return ERR_OK;
	}
	case K_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			*(bool *)field = true;
		else if (!strcmp(text, "false") || !strcmp(text, "0"))
			*(bool *)field = false;
		else
			return fail(err, file, key, "'%s' must be true or false", text);
		return ERR_OK;
	case K_CLOCK_MODE:
		if (!strcmp(text, "real"))
			*(enum clock_mode *)field = CLOCK_REAL;
		else if (!strcmp(text, "replay"))
			*(enum clock_mode *)field = CLOCK_REPLAY;
		else
			return fail(err, file, key, "'%s' must be 'real' or 'replay'", text);
		return ERR_OK;
	case K_INT:
	case K_INT64:
	case K_DOUBLE: {
		double d;
		char *end;

		if (v) {
			d = json_number_value(v);
		} else {
			errno = 0;
			d = strtod(text, &end);
			if (errno || end == text || *end)
				return fail(err, file, key, "'%s' is not a number", text);
		}
		if (k->type != K_DOUBLE && d != floor(d))
			return fail(err, file, key, "must be a whole number (got %g)", d);
		if (!(d >= k->min && d <= k->max))
			return fail(err, file, key, "must be between %g and %g (got %g)", k->min, k->max, d);
		if (k->type == K_INT64)
			*(int64_t *)field = (int64_t)d;
		else if (k->type == K_INT)
			*(int *)field = (int)d;
		else {
			*(double *)field = d;
		}
		return ERR_OK;
	}
	case K_STRINGS: {
		json_t *it;
		size_t i;

		if (!v && text) {
			/* From the environment: a comma-separated list. */
			json_t *arr = json_array();
			const char *p = text;

			while (*p) {
				size_t len = strcspn(p, ",");
				if (len)
					json_array_append_new(arr, json_stringn(p, len));
				p += len + (p[len] == ',');
			}
			int rc = set_value(k, base, arr, NULL, file, path, err);
			json_decref(arr);
			return rc;
		}
		if (!json_is_array(v))
			return fail(err, file, key, "must be an array of strings");
		json_array_foreach (v, i, it) {
			if (!json_is_string(it) || !*json_string_value(it))
				return fail(err, file, key, "entry %zu must be a non-empty string", i);
		}
		size_t n;
		char **old = *(char ***)field;
		strings_free(old);
		*(char ***)field = strings_from(v, &n);
		*(size_t *)((char *)base + k->count_offset) = n;
		return ERR_OK;
	}
	case K_MAP: {
		struct cfg_map *m = (struct cfg_map *)field;
		const char *name;
		json_t *it;
		size_t i = 0;

		if (!json_is_object(v))
			return fail(err, file, key, "must be an object of strings, e.g. {\"GB-NW\": \"3\"}");
		json_object_foreach (v, name, it) {
			if (!json_is_string(it) || !*json_string_value(it))
				return fail(err, file, key, "'%s' must map to a non-empty string", name);
		}
		map_release(m);
		m->names = xcalloc(json_object_size(v) + 1, sizeof(char *));
		m->values = xcalloc(json_object_size(v) + 1, sizeof(char *));
		json_object_foreach (v, name, it) {
			m->names[i] = xstrdup(name);
			m->values[i++] = xstrdup(json_string_value(it));
		}
		m->n = i;
		return ERR_OK;
	}
	}
	return ERR_INTERNAL;
}

static const struct key *find_key(const struct key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* True when some key lives under "name." (a nested object). */
static bool is_section(const struct key *keys, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (!strncmp(keys[i].name, name, len) && keys[i].name[len] == '.')
			return true;
	return false;
}

/* Read 'obj' against 'keys' into 'base'.  Defaults first, then the file. */
static int read_object(const struct key *keys, size_t nkeys, json_t *obj, void *base, const char *file,
		       const char *path, struct err_detail *err)
{
	const char *name;
	json_t *v;
	char key[160];

	if (!json_is_object(obj))
		return fail(err, file, *path ? path : "(top level)", "must be an object");
	/* Refuse unknown keys, also inside nested objects ("clock": {...}). */
	json_object_foreach (obj, name, v) {
		const char *sub;
		json_t *sv;

		if (find_key(keys, nkeys, name))
			continue;
		if (!is_section(keys, nkeys, name))
			return fail(err, file, jh_field(key, sizeof(key), path, name), "unknown key");
		if (!json_is_object(v))
			return fail(err, file, jh_field(key, sizeof(key), path, name), "must be an object");
		json_object_foreach (v, sub, sv) {
			char full[128];

			snprintf(full, sizeof(full), "%s.%s", name, sub);
			if (!find_key(keys, nkeys, full))
				return fail(err, file, jh_field(key, sizeof(key), path, full), "unknown key");
		}
	}
	for (size_t i = 0; i < nkeys; i++) {
		const struct key *k = &keys[i];
		int rc;

		v = lookup(obj, k->name);
		if (v)
			rc = set_value(k, base, v, NULL, file, path, err);
		else if (k->def)
			rc = set_value(k, base, NULL, k->def, file, path, err);
		else if (!k->optional)
			rc = fail(err, file, jh_field(key, sizeof(key), path, k->name), "is required (%s)",
				  k->help);
		else
			rc = ERR_OK;
		if (rc)
			return rc;
	}
	return ERR_OK;
}

static bool valid_id(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

static int read_pue(json_t *v, struct region_cfg *r, const char *file, const char *path,
		    struct err_detail *err)
{
	char key[160];

	snprintf(key, sizeof(key), "%s.pue", path);
	if (!v)
		return fail(
		    err, file, key,
		    "is required: a constant such as 1.2, or {\"base\": 1.1, \"k\": 0.01, \"t0\": 18}");
	if (json_is_number(v)) {
		r->pue_kind = PUE_CONSTANT;
		r->pue = json_number_value(v);
	} else if (json_is_object(v)) {
		static const char *const allowed[] = {"base", "k", "t0", NULL};
		struct err_detail e;

		if (jh_only_keys(v, allowed, key, &e) || jh_number(v, "base", key, true, 1, 5, &r->pue, &e) ||
		    jh_number(v, "k", key, true, 0, 1, &r->pue_k, &e) ||
		    jh_number(v, "t0", key, true, -50, 60, &r->pue_t0, &e))
			return err_set(err, ERR_INVALID, e.field, "%s: %s", file, e.msg);
		r->pue_kind = PUE_TEMPERATURE;
		return ERR_OK;
	} else {
		return fail(err, file, key, "must be a number or an object {base, k, t0}");
	}
	if (!(r->pue >= 1.0 && r->pue <= 5.0))
		return fail(err, file, key,
			    "must be between 1.0 and 5.0 (got %g): PUE is facility energy over IT energy",
			    r->pue);
	return ERR_OK;
}

static int read_regions(json_t *arr, struct config *c, struct err_detail *err)
{
	size_t i;
	json_t *o;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return fail(err, c->path, "regions", "must be a non-empty array of region objects");
	c->regions = xcalloc(json_array_size(arr), sizeof(*c->regions));
	json_array_foreach (arr, i, o) {
		struct region_cfg *r = &c->regions[i];
		char path[32];
		json_t *pue = json_is_object(o) ? json_object_get(o, "pue") : NULL;
		json_t *copy;
		int rc;

		c->nregions = i + 1;
		snprintf(path, sizeof(path), "regions[%zu]", i);
		/* 'pue' has its own reader: hide it from the table-driven pass. */
		copy = json_is_object(o) ? json_deep_copy(o) : json_incref(o);
		if (json_is_object(copy))
			json_object_del(copy, "pue");
		rc = read_object(region_keys, ARRAY_SIZE(region_keys), copy, r, c->path, path, err);
		json_decref(copy);
		if (rc)
			return rc;
		if (!valid_id(r->id))
			return fail(err, c->path, "regions[].id",
				    "'%s' must be 1-63 letters, digits, '-', '_' or '.'", r->id);
		if ((rc = read_pue(pue, r, c->path, path, err)))
			return rc;
		if (!r->name)
			r->name = xstrdup(r->id);
		if (!r->zone)
			r->zone = xstrdup(r->id);
		if (!r->jurisdictions)
			r->jurisdictions = xcalloc(1, sizeof(char *));
		if (!r->sources)
			r->sources = xcalloc(1, sizeof(char *));
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->regions[j].id, r->id))
				return fail(err, c->path, path, "duplicate region id '%s'", r->id);
	}
	return ERR_OK;
}

/* What the table alone cannot say about one source: a known type, keys
 * that fit it, endpoints it has, 'keys' naming its zones. */
static int check_source(const struct config *c, const struct source_cfg *s, json_t *o, const char *path,
			struct err_detail *err)
{
	const struct connector *conn = conn_find(s->type);
	char key[160];

	if (strlen(s->name) > 23 || !valid_id(s->name))
		return fail(err, c->path, jh_field(key, sizeof(key), path, "name"),
			    "'%s' must be 1-23 letters, digits, '-', '_' or '.'", s->name);
	if (!conn && strcmp(s->type, "file")) {
		struct buf b;
		buf_init(&b, 0);
		for (const struct connector *const *x = conn_table; *x; x++)
			buf_addf(&b, "%s, ", (*x)->name);
		fail(err, c->path, jh_field(key, sizeof(key), path, "type"),
		     "'%s' is not a source type (%sfile)", s->type, b.data);
		buf_release(&b);
		return ERR_INVALID;
	}
	for (size_t k = 0; k < ARRAY_SIZE(source_rules); k++) {
		const struct key_rule *r = &source_rules[k];
		json_t *v = json_object_get(o, r->key);

		if (!v)
			continue;
		if (r->only && !in_list(r->only, s->type, ' '))
			return fail(err, c->path, jh_field(key, sizeof(key), path, r->key),
				    "applies to %s sources only, not %s", r->only, s->type);
		if (r->choices && !in_list(r->choices, json_string_value(v), '|'))
			return fail(err, c->path, jh_field(key, sizeof(key), path, r->key),
				    "'%s' must be one of %s", json_string_value(v), r->choices);
	}
	if (!strcmp(s->type, "file") && (!s->path || !s->format))
		return fail(err, c->path, path, "a file source needs 'path' and 'format'");
	for (size_t k = 0; conn && k < s->nendpoints; k++) {
		if (conn_endpoint(conn, s->endpoints[k]))
			continue;
		struct buf b;
		buf_init(&b, 0);
		for (const struct conn_endpoint *e = conn->endpoints; e->name; e++)
			buf_addf(&b, "%s%s", e == conn->endpoints ? "" : ", ", e->name);
		fail(err, c->path, jh_field(key, sizeof(key), path, "endpoints"),
		     "%s has no endpoint '%s' (it has %s)", s->type, s->endpoints[k], b.data);
		buf_release(&b);
		return ERR_INVALID;
	}
	for (size_t k = 0; k < s->keys.n; k++) {
		bool listed = false;
		for (size_t z = 0; z < s->nzones && !listed; z++)
			listed = !strcmp(s->zones[z], s->keys.names[k]);
		if (!listed)
			return fail(err, c->path, jh_field(key, sizeof(key), path, "keys"),
				    "'%s' is not one of this source's zones", s->keys.names[k]);
	}
	return ERR_OK;
}

/* A region whose id, or else zone, is 'name': where coordinates come from. */
static const struct region_cfg *region_for(const struct config *c, const char *name)
{
	const struct region_cfg *r = config_region(c, name);

	for (size_t i = 0; i < c->nregions && !r; i++)
		if (!strcmp(c->regions[i].zone, name))
			r = &c->regions[i];
	return r;
}

static int read_sources(json_t *arr, struct config *c, struct err_detail *err)
{
	size_t i;
	json_t *o;

	if (!arr)
		return ERR_OK;

	if (!json_is_array(arr))
		return fail(err, c->path, "sources", "must be an array of source objects");
	c->sources = xcalloc(json_array_size(arr) + 1, sizeof(*c->sources));
	json_array_foreach (arr, i, o) {
		struct source_cfg *s = &c->sources[i];
		char path[32];
		int rc;

		c->nsources = i + 1;
		snprintf(path, sizeof(path), "sources[%zu]", i);
		if (!json_is_object(o))
			return fail(err, c->path, path, "must be an object");
		if ((rc = read_object(source_keys, ARRAY_SIZE(source_keys), o, s, c->path, path, err)))
			return rc;
		s->raw = json_incref(o);
		if (!s->zones)
			s->zones = xcalloc(1, sizeof(char *));
		if ((rc = check_source(c, s, o, path, err)))
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->sources[j].name, s->name))
				return fail(err, c->path, path, "duplicate source name '%s'", s->name);
	}
	return ERR_OK;
}

static int apply_env(struct config *c, struct err_detail *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(top_keys); i++) {
		char env[96], *p;
		const char *v;

		snprintf(env, sizeof(env), "CARBONSCHED_%s", top_keys[i].name);
		for (p = env; *p; p++)
			*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
		if (!(v = getenv(env)))
			continue;
		char where[128];
		snprintf(where, sizeof(where), "environment %s", env);
		int rc = set_value(&top_keys[i], c, NULL, v, where, "", err);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

/* The text of a small file (a PEM), new; NULL with errno on failure. */
static char *read_small(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&b, chunk, n)) {
			fclose(f);
			buf_release(&b);
			errno = EFBIG;
			return NULL;
		}
	fclose(f);
	return buf_detach(&b, ret_len);
}

/* HTTPS: both files or neither, readable, a certificate and its key. */
static int check_tls(struct config *c, struct err_detail *err)
{
	struct err_detail e;
	size_t ncert = 0, nkey = 0;

	if (!c->tls_cert_file && !c->tls_key_file)
		return ERR_OK;
	if (!c->tls_cert_file || !c->tls_key_file)
		return fail(err, c->path, c->tls_cert_file ? "tls.key_file" : "tls.cert_file",
			    "is required with %s (HTTPS needs both)",
			    c->tls_cert_file ? "tls.cert_file" : "tls.key_file");
	if (!(c->tls_cert_pem = read_small(c->tls_cert_file, &ncert)))
		return fail(err, c->path, "tls.cert_file", "cannot read '%s': %s", c->tls_cert_file,
			    strerror(errno));
	if (!(c->tls_key_pem = read_small(c->tls_key_file, &nkey)))
		return fail(err, c->path, "tls.key_file", "cannot read '%s': %s", c->tls_key_file,
			    strerror(errno));
	if (tls_check_pair(c->tls_cert_pem, ncert, c->tls_key_pem, nkey, &e))
		return fail(err, c->path, e.field, "'%s' %s",
			    !strcmp(e.field, "tls.cert_file") ? c->tls_cert_file : c->tls_key_file, e.msg);
	return ERR_OK;
}

static int check_whole(struct config *c, struct err_detail *err)
{
	enum log_level lvl;

	if (!log_parse_level(c->log_level, &lvl))
		return fail(err, c->path, "log_level", "'%s' must be debug, info, warn or error",
			    c->log_level);
	if (!c->database_url)
		return fail(
		    err, c->path, "database_url",
		    "is required: a libpq connection string, in the file or in CARBONSCHED_DATABASE_URL");
	if (c->clock_mode == CLOCK_REPLAY && !c->clock_start)
		return fail(err, c->path, "clock.start", "is required when clock.mode is 'replay'");
	for (size_t i = 0; i < c->nsources; i++) {
		const struct source_cfg *s = &c->sources[i];
		char path[48];

		snprintf(path, sizeof(path), "sources[%zu].zones", i);
		if (!s->nzones && strcmp(s->type, "pue") && strcmp(s->type, "file"))
			return fail(err, c->path, path, "%s source '%s' needs at least one zone", s->type,
				    s->name);
		if (!strcmp(s->type, "pue") && !s->path && !s->base_url)
			return fail(err, c->path, path, "pue source '%s' needs 'path' (a file) or 'base_url'",
				    s->name);
		/* Coordinates: Open-Meteo always, WattTime for zones without a 'keys' entry. */
		for (size_t z = 0; z < s->nzones; z++) {
			bool coords = !strcmp(s->type, "openmeteo") ||
				      (!strcmp(s->type, "watttime") && !cfg_map_get(&s->keys, s->zones[z]));
			if (coords && !region_for(c, s->zones[z]))
				return fail(err, c->path, path,
					    "'%s' is neither a region id nor a region's zone: %s needs its "
					    "coordinates "
					    "(or, for watttime, a 'keys' entry)",
					    s->zones[z], s->type);
		}
	}
	for (size_t i = 0; i < c->nregions; i++) {
		struct region_cfg *r = &c->regions[i];

		for (size_t j = 0; j < r->nsources; j++) {
			bool found = false;

			for (size_t k = 0; k < c->nsources && !found; k++)
				found = !strcmp(c->sources[k].name, r->sources[j]);
			if (!found && strcmp(r->sources[j], "file"))
				return fail(err, c->path, "regions[].sources",
					    "region '%s' names source '%s', which is not in 'sources'", r->id,
					    r->sources[j]);
		}
	}
	/* Without a configured order, the sources serving a region's zone (or
	 * its id) are preferred in the order of 'sources'. */
	for (size_t i = 0; i < c->nregions; i++) {
		struct region_cfg *r = &c->regions[i];
		size_t n = 0;

		if (r->nsources)
			continue;
		char **v = xcalloc(c->nsources + 1, sizeof(char *));
		for (size_t k = 0; k < c->nsources; k++)
			for (size_t z = 0; z < c->sources[k].nzones; z++)
				if (!strcmp(c->sources[k].zones[z], r->zone) ||
				    !strcmp(c->sources[k].zones[z], r->id)) {
					v[n++] = xstrdup(c->sources[k].name);
					break;
				}
		strings_free(r->sources);
		r->sources = v;
		r->nsources = n;
	}
	for (size_t i = 0; i < c->nforecast_kinds; i++) {
		enum sig_kind k;
		struct err_detail e;

		if (sig_kind_parse(c->forecast_kinds[i], "forecast.kinds", &k, NULL, &e))
			return fail(err, c->path, "forecast.kinds", "%s", e.msg);
		if (k == SIG_PUE)
			return fail(
			    err, c->path, "forecast.kinds",
			    "'pue' is forecast per region from the regions' PUE settings, not listed here");
	}
	if (c->forecast_keep < c->forecast_horizon + 86400)
		return fail(err, c->path, "forecast.keep",
			    "must be at least forecast.horizon plus a day (%lld s), so that runs are scored "
			    "before they are deleted",
			    (long long)(c->forecast_horizon + 86400));
	if (3600 % c->sched_step)
		return fail(err, c->path, "scheduler.step", "%lld s does not divide one hour",
			    (long long)c->sched_step);
	for (size_t i = 0; i < c->ncallback_hosts; i++)
		if (strspn(c->callback_hosts[i],
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.*:[]") !=
		    strlen(c->callback_hosts[i]))
			return fail(err, c->path, "scheduler.callback_hosts",
				    "'%s' is not a host name or address", c->callback_hosts[i]);
	if (c->max_connections < c->threads)
		return fail(
		    err, c->path, "limits.max_connections",
		    "%d is fewer than threads (%d): the connections are shared out between the worker "
		    "threads, each needs at least one",
		    c->max_connections, c->threads);
	for (size_t i = 0; i < c->nauth_anonymous; i++)
		if (strcmp(c->auth_anonymous[i], "read"))
			return fail(err, c->path, "auth.anonymous",
				    "'%s' cannot be granted without an API key: only \"read\" may be listed",
				    c->auth_anonymous[i]);
	if (!c->db_pool_size)
		c->db_pool_size = c->threads + 2;
	return check_tls(c, err);
}

int config_parse(const char *name, const char *text, size_t len, struct config **ret, struct err_detail *err)
{
	static const char *const top_objects[] = {"regions", "sources"};
	struct config *c = xcalloc(1, sizeof(*c));
	json_error_t je;
	json_t *root, *filtered;
	int rc;

	c->path = xstrdup(name);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rc = err_set(err, ERR_INVALID, "", "%s:%d:%d: malformed JSON: %s", name, je.line, je.column,
			     je.text);
		config_free(c);
		return rc;
	}
	/* The table-driven pass sees every key except the two arrays. */
	filtered = json_is_object(root) ? json_deep_copy(root) : json_incref(root);
	for (size_t i = 0; i < ARRAY_SIZE(top_objects) && json_is_object(filtered); i++)
		json_object_del(filtered, top_objects[i]);
	rc = read_object(top_keys, ARRAY_SIZE(top_keys), filtered, c, name, "", err);
	json_decref(filtered);
	if (!rc)
		rc = read_regions(json_object_get(root, "regions"), c, err);
	if (!rc)
		rc = read_sources(json_object_get(root, "sources"), c, err);
	if (!rc)
		rc = apply_env(c, err);
	if (!rc)
		rc = check_whole(c, err);
	json_decref(root);
	if (rc) {
		config_free(c);
		return rc;
	}
	*ret = c;
	return ERR_OK;
}

int config_load(const char *path, struct config **ret, struct err_detail *err)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[8192];
	size_t n;
	int rc;

	if (!f)
		return err_set(err, ERR_IO, "config", "%s: cannot open: %s", path, strerror(errno));
	buf_init(&b, 16 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&b, chunk, n)) {
			fclose(f);
			buf_release(&b);
			return err_set(err, ERR_INVALID, "config", "%s: larger than 16 MiB", path);
		}
	fclose(f);
	rc = config_parse(path, b.data, b.len, ret, err);
	buf_release(&b);
	return rc;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nregions; i++) {
		struct region_cfg *r = &c->regions[i];
		free(r->id);
		free(r->name);
		free(r->zone);
		strings_free(r->jurisdictions);
		strings_free(r->sources);
	}
	free(c->regions);
	for (size_t i = 0; i < c->nsources; i++) {
		struct source_cfg *s = &c->sources[i];
		free(s->name);
		free(s->type);
		free(s->base_url);
		free(s->path);
		free(s->format);
		strings_free(s->zones);
		strings_free(s->endpoints);
		map_release(&s->keys);
		free(s->token_env);
		free(s->token_file);
		free(s->username_env);
		free(s->username_file);
		free(s->password_env);
		free(s->password_file);
		free(s->emission_factors);
		free(s->signal_type);
		json_decref(s->raw);
	}
	free(c->sources);
	strings_free(c->forecast_kinds);
	strings_free(c->callback_hosts);
	strings_free(c->auth_anonymous);
	free(c->path);
	free(c->listen_host);
	free(c->database_url);
	free(c->log_level);
	free(c->fetch_user_agent);
	free(c->tls_cert_file);
	free(c->tls_key_file);
	free(c->tls_cert_pem);
	if (c->tls_key_pem)
		explicit_bzero(c->tls_key_pem, strlen(c->tls_key_pem));
	free(c->tls_key_pem);
	free(c);
}

const struct region_cfg *config_region(const struct config *c, const char *id)
{
	for (size_t i = 0; i < c->nregions; i++)
		if (!strcmp(c->regions[i].id, id))
			return &c->regions[i];
	return NULL;
}

const struct source_cfg *config_source(const struct config *c, const char *name)
{
	for (size_t i = 0; name && i < c->nsources; i++)
		if (!strcmp(c->sources[i].name, name))
			return &c->sources[i];
	return NULL;
}

static void print_table(FILE *out, const char *prefix, const struct key *keys, size_t n, bool env)
{
	for (size_t i = 0; i < n; i++) {
		char name[96], var[96] = "", *p;

		snprintf(name, sizeof(name), "%s%s", prefix, keys[i].name);
		if (env) {
			snprintf(var, sizeof(var), "CARBONSCHED_%s", keys[i].name);
			for (p = var; *p; p++)
				*p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
		}
		const char *only = NULL;

		for (size_t k = 0; keys == source_keys && k < ARRAY_SIZE(source_rules); k++)
			if (!strcmp(source_rules[k].key, keys[i].name))
				only = source_rules[k].only;
		fprintf(out, "  %-26s %-17s %-16s %-28s %s%s%s%s\n", name, type_names[keys[i].type],
			keys[i].def ? keys[i].def : (keys[i].optional ? "(none)" : "(required)"), var,
			keys[i].help, only ? " [" : "", only ? only : "", only ? "]" : "");
	}
}

void config_print_keys(FILE *out)
{
	fprintf(out, "  %-26s %-17s %-16s %-28s %s\n", "key", "type", "default", "environment", "meaning");
	print_table(out, "", top_keys, ARRAY_SIZE(top_keys), true);
	print_table(out, "regions[].", region_keys, ARRAY_SIZE(region_keys), false);
	fprintf(out, "  %-26s %-17s %-16s %-28s %s\n", "regions[].pue", "number|object", "(required)", "",
		"constant PUE, or {\"base\", \"k\", \"t0\"}: base + k*max(0, T_out - t0)");
	print_table(out, "sources[].", source_keys, ARRAY_SIZE(source_keys), false);
}
