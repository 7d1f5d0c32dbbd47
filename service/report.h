/*
 * report.h - what booked jobs emitted, against what they would have
 * emitted run at once in their origin region: per job, per day and per
 * region, as CSV, JSON or a printable HTML page ('carbonsched report').
 *
 * The figures come from the jobs table (written by the scheduler):
 * realised ones (measured energy, emissions from the signals that really
 * happened, the realised baseline) where a job has them, planned ones
 * otherwise, never a mix within a job.  Loading is the only part that
 * touches the database; aggregation and rendering are pure.
 */
#ifndef CARBONSCHED_SERVICE_REPORT_H
#define CARBONSCHED_SERVICE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "service/db.h"

/* One job as stored (NAN where the column is NULL). */
struct report_job {
	char id[40];
	char *name;	    /* owned, may be "" */
	char state[16];	    /* scheduled, running, completed, cancelled, failed */
	char origin[64];    /* "" when none */
	char region[64];    /* where it runs or ran; "" when not placed */
	char model[48];	    /* forecast model of the plan; "" when unknown */
	int64_t start;	    /* started_at, else planned_start, else earliest_start */
	double planned_kwh; /* power_kw x duration */
	double measured_kwh, expected_g, baseline_g, realised_g, realised_baseline_g;
};

/* Sums over a set of jobs. */
struct report_sum {
	size_t jobs;	    /* counted jobs (see report_job_counts) */
	size_t realised;    /* of which with realised figures */
	double energy_kwh;  /* measured where known, else planned */
	double emissions_g; /* realised where known, else expected */
	double baseline_g;  /* of the jobs with a baseline */
	double saving_g;    /* baseline - emissions, over the jobs with a baseline */
	double emissions_with_baseline_g;
	size_t nerr;		     /* jobs with a forecast error */
	double err_sum, err_abs_sum; /* of their errors, % */
};

struct report_group {
	char key[64]; /* "2021-11-01" or a region id */
	struct report_sum sum;
};

struct report {
	int64_t from, to, generated_at;
	struct report_job *jobs;
	size_t njobs, cap;
	struct report_group *days, *regions;
	size_t ndays, nregions;
	struct report_sum total;
};

void report_init(struct report *r, int64_t from, int64_t to, int64_t generated_at);
void report_release(struct report *r);

/* Add a copy of j (the name is copied). */
void report_add(struct report *r, const struct report_job *j);

/* The jobs of the database that start (started_at, else planned_start,
 * else earliest_start) in [r->from, r->to), added to r.  ERR_DB. */
int report_load(struct db *db, struct report *r, struct err_detail *err);

/* Compute the sums per day (UTC, of the job's start), per region and in
 * all; call after the last report_add. */
void report_finish(struct report *r);

/* Derived figures of one job.  A job counts in the sums when it is
 * scheduled, running or completed, or failed with realised figures;
 * cancelled jobs are listed but emitted nothing. */
bool report_job_counts(const struct report_job *j);
bool report_job_realised(const struct report_job *j);
double report_job_energy(const struct report_job *j);
double report_job_emissions(const struct report_job *j);
double report_job_baseline(const struct report_job *j); /* NAN when unknown */
/* The forecast error of the plan, in %: the intensity the plan expected
 * (expected_g / planned_kwh) against the realised one (realised_g /
 * measured_kwh), so that a job that used more energy than announced does
 * not count as a forecast error.  NAN without realised figures. */
double report_job_forecast_error(const struct report_job *j);

enum report_format { REPORT_CSV, REPORT_JSON, REPORT_HTML };

/* "csv", "json", "html" -> format; false when unknown. */
bool report_format_parse(const char *s, enum report_format *ret);

/* Render the finished report into out (appends). */
void report_render(const struct report *r, enum report_format f, struct buf *out);

/* Replace 'path' atomically with data: a temporary file in the same
 * directory, written, fsynced, renamed over path, the directory fsynced.
 * A reader sees the old file or the new one, never a part.  ERR_IO with
 * the path and the system's reason; the temporary file is removed. */
int report_write_atomic(const char *path, const char *data, size_t len, struct err_detail *err);

#endif
