/*
 * files.h - readers for the historical data-set formats (../shared/data).
 *
 * A reader turns one file (plain or gzip-compressed, detected by content)
 * into named series; it never touches the database.  A bad row stops the
 * read: the error is ERR_MALFORMED with "FILE:LINE: what is wrong" in
 * err->msg, and *ret is left empty.
 *
 * Formats (the --format names of 'carbonsched ingest'):
 *   dacf         DACF <R>_direct_emissions.csv: direct intensity, generation
 *                by fuel, weather-forecast columns
 *   dacf-de      DACF DE_2019_clean.csv: generation by fuel (direct intensity
 *                recomputed from the mix, see the README of the data)
 *   dacf-forecast DACF <R>_carbon_from_src_prod_forecasts_direct.csv
 *   lwa          Let's Wait Awhile <zone>_ci.csv: Time,Carbon Intensity
 *   emaps        Electricity Maps hourly export CSV (direct and LCA)
 *   wide         datetime_utc,<zone>,<zone>,... matrix (one kind)
 *   gb-forecast  time,deltaseconds,unix,intensity (GB half-hourly forecast)
 */
#ifndef CARBONSCHED_CONNECTORS_FILES_H
#define CARBONSCHED_CONNECTORS_FILES_H

#include "core/error.h"
#include "core/signal.h"

struct files_options {
	const char *zone;  /* zone for single-zone formats; NULL = from the file name */
	const char *kind;  /* kind for 'wide' and 'lwa' (default carbon_intensity) */
	size_t max_bytes;  /* refuse files larger than this once decompressed (0 = 1 GiB) */
};

/* Read 'path' in 'format' into *ret (initialised by the callee; the caller
 * releases it with sig_set_release, also after a failure).  Errors:
 * ERR_INVALID (unknown format or zone), ERR_IO (cannot open/read),
 * ERR_MALFORMED (bad content: "FILE:LINE: ..."), ERR_TOO_LARGE. */
int files_read(const char *path, const char *format, const struct files_options *opt, struct sig_set *ret,
	       struct err_detail *err);

/* Same, from a memory buffer; 'name' is used in messages in place of FILE.
 * For fuzzing and tests. */
int files_parse(const char *name, const char *data, size_t len, const char *format,
		const struct files_options *opt, struct sig_set *ret, struct err_detail *err);

/* NULL-terminated list of format names, for help texts and validation. */
extern const char *const files_formats[];

#endif
