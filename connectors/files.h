/*
 * files.h - readers for the historical data-set formats (../shared/data).
 *
 * A reader turns one file (plain or gzip-compressed, detected by content)
 * into named series; it never touches the database.  A bad row stops the
 * read: the error is ERR_MALFORMED with "FILE:LINE: what is wrong" in
 * err->msg (and the column in err->field), and *ret is left empty.
 *
 * Formats (the --format names of 'carbonsched ingest'), all source "file"
 * unless said, times UTC, a step's timestamp is the start of its interval:
 *   dacf          DACF <R>_direct_emissions.csv, hourly: carbon_intensity_direct
 *                 (the file's column), generation:<fuel> (MW), carbon_intensity
 *                 (lifecycle, from the mix), renewable_share, low_carbon_share,
 *                 and the weather forecast: wind_speed, temperature, dewpoint
 *                 (K -> degC), solar_irradiance, precipitation.  A row whose
 *                 five weather columns are all 0 (DACF's "missing") gives gaps.
 *   dacf-de       DACF DE_2019_clean.csv: as dacf without weather; the mix is
 *                 divided by 4 (the file holds sums of four quarter-hours) and
 *                 carbon_intensity_direct is recomputed from the mix.
 *   dacf-weather  only the five weather columns of any DACF file.
 *   dacf-forecast DACF <R>_carbon_from_src_prod_forecasts_direct.csv:
 *                 carbon_intensity_direct (actual, source "file") and DACF's
 *                 day-ahead forecast (same kind, source "dacf").
 *   lwa           Let's Wait Awhile <zone>_ci.csv: Time,Carbon Intensity.
 *   emaps         Electricity Maps hourly export CSV (zones from 'Zone Id'):
 *                 carbon_intensity (LCA), carbon_intensity_direct,
 *                 low_carbon_share, renewable_share; 'Data Estimated' marks
 *                 points estimated.
 *   wide          datetime_utc,<zone>,<zone>,... (one kind, one series a zone;
 *                 the step is the spacing of the first two rows).
 *   gb-forecast   time,deltaseconds,unix,intensity (GB half-hourly forecast).
 *
 * In every format a missing row and an empty cell are gaps (NAN); a DACF row
 * with an empty fuel cell derives no intensity or share.  Values are checked
 * by kind: intensities >= 0, shares 0-100, all finite.
 *
 * Zones: opt->zone, else from the file name prefix (dacf family: CISO_,
 * PJM_, ERCO_, ISNE_, SE_, DE_; lwa: ger_, gb_, fr_, cal_; a zone key such as
 * US-CAL-CISO_ is accepted too).  For emaps and wide, opt->zone selects one
 * zone of the file.
 */
#ifndef CARBONSCHED_CONNECTORS_FILES_H
#define CARBONSCHED_CONNECTORS_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/signal.h"

/* How steps of the file become one coarser output step ('step' option). */
enum files_resample {
	FILES_RESAMPLE_MEAN,   /* mean of the valid sub-steps; a gap when none (default) */
	FILES_RESAMPLE_SAMPLE, /* the value stamped exactly at each grid instant, as the
				  Let's Wait Awhile protocol's "keep minute in {0, 30}" */
};

struct files_options {
	const char *zone;	      /* zone for single-zone formats, zone filter for emaps and wide;
					 NULL = from the file name / every zone of the file */
	const char *kind;	      /* kind for 'wide', 'lwa' (default carbon_intensity) and
					 'gb-forecast' (default carbon_intensity_direct) */
	size_t max_bytes;	      /* refuse files larger than this once decompressed (0 = 1 GiB) */
	int32_t step;		      /* output step in seconds, a multiple of the file's own step;
					 0 = the file's step (lwa: its coarsest regular spacing, i.e.
					 the largest spacing between rows that at least 10 % of the
					 rows have: 30 min for GB, which switches from 30 to 15 min,
					 15 min for DE, whose two missing rows become gaps) */
	enum files_resample resample; /* used when the output step is coarser */
};

/* Read 'path' in 'format' into *ret (initialised by the callee; the caller
 * releases it with sig_set_release, also after a failure).  'opt' may be
 * NULL (all defaults).  Errors: ERR_INVALID (unknown format, bad option,
 * zone not found from the name), ERR_IO (cannot open/read), ERR_MALFORMED
 * (bad content: "FILE:LINE: ..."), ERR_TOO_LARGE.  Allocates only the
 * result and one buffer holding the (decompressed) file. */
int files_read(const char *path, const char *format, const struct files_options *opt, struct sig_set *ret,
	       struct err_detail *err);

/* Same, from a memory buffer (borrowed, not modified); 'name' is used in
 * messages in place of FILE and for the zone prefix.  For fuzzing and
 * tests. */
int files_parse(const char *name, const char *data, size_t len, const char *format,
		const struct files_options *opt, struct sig_set *ret, struct err_detail *err);

/* NULL-terminated list of format names, for help texts and validation. */
extern const char *const files_formats[];

/* One-line description of a format, NULL when unknown. */
const char *files_format_description(const char *format);

#endif
