/*
 * jobsrun.h - the fixture of the scheduling and jobs tests: synthetic
 * signal files with known values, a database holding them, the real
 * service on a replay clock, and JSON over HTTP.
 *
 * Data: three zones, hourly from 2022-01-01T00:00Z for 12 days, values
 * from closed formulas (jobsrun_ci, jobsrun_temp) written with three
 * decimals; the tests compute what the service should answer from the
 * same formulas, never from numbers copied out of an answer.
 */
#ifndef CARBONSCHED_TESTS_JOBSRUN_H
#define CARBONSCHED_TESTS_JOBSRUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tests/lib/itest.h"

#define JR_T0	 INT64_C(1640995200) /* 2022-01-01T00:00:00Z: first value */
#define JR_HOURS (12 * 24)
/* The replay clock starts 10 s into 2022-01-05 (so "now" is never on the
 * hour and the earliest start is always 01:00). */
#define JR_NOW0 (JR_T0 + 4 * 86400 + 10)

/* Carbon intensity of zone "AA", "BB" or "CC" at hour h (as in the file),
 * and the temperature of zone BB. */
double jobsrun_ci(const char *zone, int64_t t);
double jobsrun_temp(int64_t t);

/* PUE of the configured regions at t (BB follows the temperature). */
double jobsrun_pue(const char *region, int64_t t);

/* Regions AA (EU, DE; PUE 1.2; capacity 'cap_aa' kW), BB (EU; PUE 1.1 +
 * 0.02·max(0, T − 15); capacity 'cap_bb') and CC (US; PUE 1.0;
 * unlimited), on the replay clock at JR_NOW0 × speed, without the
 * forecasting worker (tests write the runs they need), plus 'extra' keys
 * (e.g. "\"scheduler\":{...}," - with the trailing comma) or "". */
char *jobsrun_config(double cap_aa, double cap_bb, double speed, const char *extra);

/* Migrate the database 'db' (a conninfo) and ingest the files into it. */
void jobsrun_load(const char *db);

/* A new database with the files ingested; its conninfo into db. */
void jobsrun_db(const char *prefix, char *db, size_t size);

/* Ingest the carbon intensity file into db again (rows that differ or are
 * missing are written; the service is notified). */
void jobsrun_reingest(const char *db);

/* method path [body] -> parsed JSON (new reference, NULL when the body is
 * not JSON); *ret_status; headers (NULL-terminated "Name: value", may be
 * NULL); response headers into ret_headers when not NULL (2048 bytes). */
json_t *jobsrun_call(const struct itest_server *s, const char *method, const char *path,
		     const char *const *headers, const char *body, long *ret_status, char *ret_headers);

/* Field accessors on JSON (NAN / NULL when absent). */
double jr_num(const json_t *o, const char *key);
const char *jr_str(const json_t *o, const char *key);
int64_t jr_time(const json_t *o, const char *key);

/* The best contiguous run of 'hours' hours starting in [first, last]
 * (hour starts) in region r at 'kw': its start and its emissions. */
double jobsrun_best(const char *region, double kw, int hours, int64_t first, int64_t last,
		    int64_t *ret_start);
/* Emissions of running kw for 'hours' hours from t in region r. */
double jobsrun_cost(const char *region, double kw, int hours, int64_t t);

#endif
