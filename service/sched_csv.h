/*
 * sched_csv.h - the CSV files of 'carbonsched simulate': jobs, capacity
 * and signals in the 'long' format.
 *
 * Every reader works on a FILE * (a file, stdin, or fmemopen for the fuzz
 * target) and fails on the first bad row with "NAME:LINE: ..." in
 * err->msg and the column in err->field.  Formats (docs/scheduling.md):
 *
 *   jobs      id,region,submit,earliest_start,deadline,duration_min,power_kw,
 *             interruptible,allowed_regions[,min_segment_min,max_segments]
 *             (columns by name, in any order; earliest_start, interruptible,
 *             allowed_regions and the last two optional)
 *   capacity  region,capacity_kw
 *   long      zone,ts,value (an empty value is a gap)
 *
 * Times are RFC 3339 or "YYYY-MM-DD HH:MM[:SS]" (UTC).
 */
#ifndef CARBONSCHED_SERVICE_SCHED_CSV_H
#define CARBONSCHED_SERVICE_SCHED_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/error.h"
#include "core/signal.h"
#include "service/sched.h"

#define SCHED_CSV_MAX_LINE    (1 << 20)
#define SCHED_CSV_MAX_COLUMNS 32
#define SCHED_CSV_MAX_ID      128
/* 'long' signals: at most a 31-day step and 10 M steps per zone */
#define SCHED_CSV_MAX_STEP  (31 * 86400)
#define SCHED_CSV_MAX_STEPS 10000000

/* Read signals in the 'long' format from f into set (initialised by the
 * caller; series of 'kind', source "file"), rows in any order; a zone's
 * step is the smallest spacing of its times (at most SCHED_CSV_MAX_STEP,
 * SCHED_CSV_MAX_STEPS steps a zone).  'name' is used in messages.
 * Errors: ERR_MALFORMED, ERR_TOO_LARGE, ERR_IO.  Allocates the series. */
int sched_csv_read_long(FILE *f, const char *name, const char *kind, struct sig_set *set,
			struct err_detail *err);

/* Read 'region,capacity_kw' rows into cap (every step of each region
 * listed; the others keep their value).  Errors: ERR_MALFORMED (header,
 * field count), ERR_INVALID (unknown region, capacity not a number >= 0),
 * ERR_IO. */
int sched_csv_read_capacity(FILE *f, const char *name, const struct sched_model *m,
			    struct sched_capacity *cap, struct err_detail *err);

/* A streaming reader of the jobs file: one row in memory at a time. */
struct sched_jobs_reader {
	FILE *f;
	const char *name;
	const struct sched_model *m;
	size_t line;		   /* line of the last row read */
	char id[SCHED_CSV_MAX_ID]; /* id of the last job read */
	/* private */
	char *buf;
	size_t buf_cap, regions_cap;
	size_t *regions;
	int col[16], ncols;
	bool header_done;
};

/* Borrowed f, name and model; the reader allocates its line buffer. */
void sched_jobs_reader_init(struct sched_jobs_reader *rd, FILE *f, const char *name,
			    const struct sched_model *m);
void sched_jobs_reader_release(struct sched_jobs_reader *rd);

/* Next job into *ret (origin = its region, candidates = allowed_regions or
 * the origin; the region list is borrowed from the reader until the next
 * call); *ret_more is false at the end of the file.  Errors:
 * ERR_MALFORMED (header, field count, empty file), ERR_INVALID (a bad
 * value, naming the column), ERR_TOO_LARGE (a line over
 * SCHED_CSV_MAX_LINE), ERR_IO. */
int sched_jobs_next(struct sched_jobs_reader *rd, struct sched_job *ret, bool *ret_more,
		    struct err_detail *err);

#endif
