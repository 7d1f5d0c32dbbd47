/*
 * telemetry.h - the service's Prometheus metrics: every family declared
 * once in the table below, the collectors that fill gauges at scrape time,
 * and the rendering behind GET /metrics.
 *
 * Two ways a number gets into /metrics:
 *
 *   1. Updated where it happens (the hot path, in-process state): find
 *      the series and update it, e.g. in a poller after each fetch
 *          metric_inc(TM_GET(app, SOURCE_FETCHES, src->name, "ok"));
 *          metric_observe(TM_GET(app, SOURCE_FETCH_DURATION, src->name), seconds);
 *      or in the booking handler
 *          metric_inc(TM_GET(app, SCHEDULE_REQUESTS, "booked"));
 *      A series pointer may be kept (it lives as long as the process).
 *
 *   2. Read at scrape time from where the truth lives (the database, the
 *      signal cache): a collector in the table of telemetry.c clears its
 *      gauges and sets them again.  Values derived from the database are
 *      the same on every replica (query them with max(), not sum()).
 *
 * To add a metric: a row in TELEMETRY_FAMILIES (name in base units, a
 * help line, bounded labels), then either update it where it happens or
 * write a collector.  The integration tests run promtool's lint over the
 * whole output, so a bad name fails the build's tests.
 */
#ifndef CARBONSCHED_SERVICE_TELEMETRY_H
#define CARBONSCHED_SERVICE_TELEMETRY_H

#include "core/buf.h"
#include "service/metrics.h"

struct app;

/* Label lists and bucket sets for the table. */
#define TM_LABELS(...)	 ((const char *const[]){__VA_ARGS__, NULL})
#define TM_NOLABELS	 NULL
#define TM_NOBUCKETS	 NULL, 0
#define TM_BUCKETS_HTTP	 tm_buckets_http, 13  /* 1 ms .. 10 s */
#define TM_BUCKETS_FETCH tm_buckets_fetch, 12 /* 50 ms .. 120 s */
extern const double tm_buckets_http[], tm_buckets_fetch[];

/* X(ID, TYPE, "name", "help", labels, buckets) */
#define TELEMETRY_FAMILIES(X)                                                                                \
	/* the process */                                                                                    \
	X(BUILD_INFO, GAUGE, "carbonsched_build_info", "Always 1: the version and the clock mode",           \
	  TM_LABELS("version", "clock"), TM_NOBUCKETS)                                                       \
	X(START_TIME, GAUGE, "carbonsched_start_time_seconds",                                               \
	  "When the process started serving, seconds since the Unix epoch", TM_NOLABELS, TM_NOBUCKETS)       \
	X(CLOCK_TIME, GAUGE, "carbonsched_clock_time_seconds",                                               \
	  "The service clock's now (a replay runs on historical time), seconds since the Unix epoch",        \
	  TM_NOLABELS, TM_NOBUCKETS)                                                                         \
	/* HTTP: recorded by the router with the matched route pattern, never the raw path */                \
	X(HTTP_REQUESTS, COUNTER, "carbonsched_http_requests_total",                                         \
	  "HTTP requests answered, by route pattern (\"unmatched\" when no route matched), method and "      \
	  "status",                                                                                          \
	  TM_LABELS("route", "method", "status"), TM_NOBUCKETS)                                              \
	X(HTTP_DURATION, HISTOGRAM, "carbonsched_http_request_duration_seconds",                             \
	  "Time from routing a request to its response being ready, by route pattern and method",            \
	  TM_LABELS("route", "method"), TM_BUCKETS_HTTP)                                                     \
	X(HTTP_IN_FLIGHT, GAUGE, "carbonsched_http_requests_in_flight", "HTTP requests being handled now",   \
	  TM_NOLABELS, TM_NOBUCKETS)                                                                         \
	X(HTTP_REFUSED, COUNTER, "carbonsched_http_refused_total",                                           \
	  "Requests the server refused before routing, and connections it dropped, by reason "               \
	  "(payload_too_large, uri_too_long, headers_too_large, request_timeout)",                           \
	  TM_LABELS("reason"), TM_NOBUCKETS)                                                                 \
	/* regions: collector "signals", from the signal cache at the service clock's now */                 \
	X(REGION_CI, GAUGE, "carbonsched_region_carbon_intensity_gco2eq_per_kwh",                            \
	  "Latest known carbon intensity (lifecycle) of the region's zone, gCO2eq/kWh",                      \
	  TM_LABELS("region", "zone", "source"), TM_NOBUCKETS)                                               \
	X(REGION_CI_AGE, GAUGE, "carbonsched_region_carbon_intensity_age_seconds",                           \
	  "Age of that value: the service clock's now minus the start of its interval", TM_LABELS("region"), \
	  TM_NOBUCKETS)                                                                                      \
	X(REGION_RENEWABLE, GAUGE, "carbonsched_region_renewable_share_ratio",                               \
	  "Latest known renewable share of the region's zone, 0 to 1",                                       \
	  TM_LABELS("region", "zone", "source"), TM_NOBUCKETS)                                               \
	X(REGION_PUE, GAUGE, "carbonsched_region_pue",                                                       \
	  "Power usage effectiveness of the region now (constant, or the temperature model)",                \
	  TM_LABELS("region"), TM_NOBUCKETS)                                                                 \
	X(REGION_EFFECTIVE, GAUGE, "carbonsched_region_effective_intensity_gco2eq_per_kwh",                  \
	  "Carbon intensity times PUE: what a kWh of IT energy in the region causes now, gCO2eq/kWh",        \
	  TM_LABELS("region"), TM_NOBUCKETS)                                                                 \
	/* forecasts: collector "forecasts", from forecast_runs / forecast_points / forecast_skill */        \
	X(FORECAST_AGE, GAUGE, "carbonsched_forecast_age_seconds",                                           \
	  "The service clock's now minus the issue time of the newest forecast",                             \
	  TM_LABELS("zone", "kind", "model"), TM_NOBUCKETS)                                                  \
	X(FORECAST_CI, GAUGE, "carbonsched_forecast_carbon_intensity_gco2eq_per_kwh",                        \
	  "Median (p50) carbon intensity the newest forecast gives for now + horizon, gCO2eq/kWh",           \
	  TM_LABELS("region", "model", "horizon"), TM_NOBUCKETS)                                             \
	X(FORECAST_MAE, GAUGE, "carbonsched_forecast_mae",                                                   \
	  "Recent mean absolute error of a model per lead time, in the unit of the kind",                    \
	  TM_LABELS("zone", "kind", "model", "horizon_h"), TM_NOBUCKETS)                                     \
	X(FORECAST_COVERAGE, GAUGE, "carbonsched_forecast_interval_coverage_ratio",                          \
	  "Share of recent actual values inside the forecast's p10-p90 interval (0.8 when calibrated)",      \
	  TM_LABELS("zone", "kind", "model", "horizon_h"), TM_NOBUCKETS)                                     \
	/* sources: updated by the pollers; state from source_state by collector "sources" */                \
	X(SOURCE_FETCHES, COUNTER, "carbonsched_source_fetches_total",                                       \
	  "Fetches from a source by outcome (ok, error, skipped when the breaker is open)",                  \
	  TM_LABELS("source", "outcome"), TM_NOBUCKETS)                                                      \
	X(SOURCE_FETCH_DURATION, HISTOGRAM, "carbonsched_source_fetch_duration_seconds",                     \
	  "Duration of a fetch from a source, retries included", TM_LABELS("source"), TM_BUCKETS_FETCH)      \
	X(SOURCE_ROWS, COUNTER, "carbonsched_source_rows_written_total",                                     \
	  "Rows a source's poller has written, per zone (from source_state)", TM_LABELS("source", "zone"),   \
	  TM_NOBUCKETS)                                                                                      \
	X(SOURCE_SUCCESS_AGE, GAUGE, "carbonsched_source_last_success_age_seconds",                          \
	  "Real time since a source last delivered data for a zone", TM_LABELS("source", "zone"),            \
	  TM_NOBUCKETS)                                                                                      \
	X(SOURCE_UP, GAUGE, "carbonsched_source_up",                                                         \
	  "1 when a source's last attempt for a zone succeeded, else 0", TM_LABELS("source", "zone"),        \
	  TM_NOBUCKETS)                                                                                      \
	X(SOURCE_BREAKER_OPEN, GAUGE, "carbonsched_source_breaker_open",                                     \
	  "1 when the source's circuit breaker for a zone is not closed", TM_LABELS("source", "zone"),       \
	  TM_NOBUCKETS)                                                                                      \
	/* jobs: the scheduler updates SCHEDULE_REQUESTS; collector "jobs" reads the jobs table */           \
	X(SCHEDULE_REQUESTS, COUNTER, "carbonsched_schedule_requests_total",                                 \
	  "Placement requests by outcome (advised, booked, rejected, no_capacity)", TM_LABELS("outcome"),    \
	  TM_NOBUCKETS)                                                                                      \
	X(JOBS, GAUGE, "carbonsched_jobs", "Jobs by state", TM_LABELS("state"), TM_NOBUCKETS)                \
	X(CO2_AVOIDED, COUNTER, "carbonsched_co2_avoided_grams_total",                                       \
	  "Grams of CO2eq avoided by completed jobs against their baseline (run at once in the origin "      \
	  "region): realised figures where measured, else planned",                                          \
	  TM_NOLABELS, TM_NOBUCKETS)                                                                         \
	X(CO2_EXCESS, COUNTER, "carbonsched_co2_excess_grams_total",                                         \
	  "Grams of CO2eq by which completed jobs exceeded their baseline (net saving = avoided - excess)",  \
	  TM_NOLABELS, TM_NOBUCKETS)                                                                         \
	X(CO2_PLANNED_AVOIDED, GAUGE, "carbonsched_jobs_planned_avoided_grams",                              \
	  "Grams of CO2eq that scheduled and running jobs are planned to avoid against their baseline",      \
	  TM_NOLABELS, TM_NOBUCKETS)                                                                         \
	/* the scrape itself */                                                                              \
	X(COLLECTOR_SUCCESS, GAUGE, "carbonsched_scrape_collector_success",                                  \
	  "1 when a collector ran without error in the last scrape", TM_LABELS("collector"), TM_NOBUCKETS)   \
	X(COLLECTOR_DURATION, GAUGE, "carbonsched_scrape_collector_duration_seconds",                        \
	  "How long a collector took in the last scrape", TM_LABELS("collector"), TM_NOBUCKETS)

enum telemetry_family {
#define TM_ENUM(id, type, name, help, labels, ...) TM_##id,
	TELEMETRY_FAMILIES(TM_ENUM)
#undef TM_ENUM
	    TM__COUNT
};

struct telemetry {
	struct metrics *reg;
	struct metric_family *fam[TM__COUNT];
};

/* The series of family ID (without the TM_ prefix) for the label values
 * given; TM_GET0 for families without labels.  See metric_get. */
#define TM_GET(app, id, ...) METRIC_GET((app)->telemetry->fam[TM_##id], __VA_ARGS__)
#define TM_GET0(app, id)     metric_get((app)->telemetry->fam[TM_##id], NULL)

/* A registry holding every family of the table; free with
 * telemetry_free (NULL is a no-op). */
struct telemetry *telemetry_new(void);
void telemetry_free(struct telemetry *t);

/* Set the process gauges (build info, start time); called once by serve. */
void telemetry_start(struct app *app);

/* Run every collector (each is timed; a failing one - the database is
 * down - sets its success gauge to 0 and leaves its gauges out, the rest
 * of the answer is still served), then render everything into 'out'.
 * Scrapes are serialised. */
void telemetry_scrape(struct app *app, struct buf *out);

#endif
