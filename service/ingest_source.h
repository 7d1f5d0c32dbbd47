/*
 * ingest_source.h - 'carbonsched ingest --source NAME': pull a provider
 * once, and print what was parsed (--dry-run) as JSON.
 *
 * cmd_ingest.c owns the command; this module is what it calls for
 * --source, so that wiring it is a few lines: ingest_source_main() parses
 * the --source options itself, or a caller fills ingest_source_opts and
 * uses ingest_source() and ingest_dry_run_json() directly.
 */
#ifndef CARBONSCHED_SERVICE_INGEST_SOURCE_H
#define CARBONSCHED_SERVICE_INGEST_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "connectors/connector.h"
#include "core/buf.h"
#include "core/error.h"

struct ingest_source_opts {
	const char *source;	      /* connector name: electricitymaps, watttime, ukgrid, entsoe, eia,
					 openmeteo, pue */
	const char *zone;	      /* "DE", "NAME@LAT,LON" or "LAT,LON" (coordinates), "*" (pue) */
	const char *key;	      /* the provider's name for the zone, or NULL */
	int64_t from, to;	      /* both 0: the recent past and the provider's forecast */
	const char *base_url;	      /* another host (a proxy, a mirror, a fake); for pue the feed's
					 file or URL */
	const char *const *endpoints; /* NULL-terminated, or NULL for the connector's defaults */
	const char *signal_type;      /* WattTime signal (co2_moer, co2_aoer) */
	bool direct;		      /* Electricity Maps: direct instead of lifecycle factors */
	bool dry_run;		      /* print, write nothing */
};

/* Fetch once with 'f' (borrowed) into *ret (initialised here; release
 * with conn_result_release, also after a failure).  Credentials come from
 * the environment (CARBONSCHED_*; VAR_FILE for a file).  Errors: those of
 * conn_ctx_init and conn_fetch, ERR_INVALID for an unknown source or a bad
 * zone; each message starts with the source. */
int ingest_source(const struct ingest_source_opts *o, struct fetch *f, struct conn_result *ret,
		  struct err_detail *err);

/* Append {"series":[{"zone","kind","source","unit","step_s","points":[{"ts","value"[,"estimated"]}]}],
 *         "forecasts":[{"zone","kind","source","unit","step_s","model","issued_at",
 *                       "points":[{"ts","p50"[,"p10","p90"]}]}]}
 * to out (series as cli_print_set_json prints them); gaps are left out of
 * "points". */
void ingest_dry_run_json(const struct conn_result *r, struct buf *out);

/* Split a zone argument: "NAME@LAT,LON", "LAT,LON" or a plain zone.  Sets
 * q->zone (pointing into 'buf', which receives a copy), q->has_coords,
 * q->lat, q->lon.  ERR_INVALID for malformed coordinates. */
int ingest_parse_zone(const char *arg, char *buf, size_t size, struct conn_query *q, struct err_detail *err);

/* The --source form of the command: argv[0] is "ingest".  Options:
 * --source, --zone, --key, --from, --to, --base-url, --endpoint (repeat),
 * --signal-type, --direct, --dry-run, --help.  Prints the JSON on stdout
 * with --dry-run; errors on stderr.  Returns the exit status (0, 1, or 2
 * for a usage error). */
int ingest_source_main(int argc, char **argv);

#endif
