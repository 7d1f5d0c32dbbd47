/*
 * metrics.h - a small thread-safe registry of Prometheus metrics:
 * counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4 by GET /metrics.
 *
 * Cheap on the hot path: finding the series of a label set is a lock-free
 * hash lookup, and every update is an atomic operation on that series.  A
 * mutex is taken only the first time a label set is seen (to insert it)
 * and while a scrape renders.  Series are never removed, so a pointer
 * returned by metric_get stays valid until metrics_free and may be cached.
 *
 * Naming (promtool's lint enforces most of it): carbonsched_ prefix,
 * snake_case, the unit in the name in base units (_seconds, _ratio,
 * _grams), counters end in _total.  Label values must come from a
 * bounded set - route *patterns*, region ids, source names, job states -
 * never raw paths or user input: each family holds at most
 * METRICS_MAX_SERIES label sets and drops (counts in
 * carbonsched_metrics_dropped_series_total) what does not fit.
 *
 * The service's own families are declared once, in the table of
 * service/metrics_table.h; see there how an area adds its series and how
 * values that live elsewhere (the database, the signal cache) are
 * collected at scrape time.
 */
#ifndef CARBONSCHED_SERVICE_METRICS_H
#define CARBONSCHED_SERVICE_METRICS_H

#include <stddef.h>

#include "core/buf.h"

#define METRICS_MAX_LABELS  6
#define METRICS_MAX_BUCKETS 24
#define METRICS_MAX_SERIES  4096

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;	      /* a registry */
struct metric_family; /* a name, its help, type and label names */
struct metric;	      /* one series: a family and one value per label */

/* A new, empty registry; free with metrics_free (NULL is a no-op), which
 * frees every family and series. Allocates; aborts on OOM. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Register a family.  'name', 'help', 'labels' (NULL-terminated, may be
 * NULL for none) and 'buckets' (histograms only: nbuckets strictly
 * increasing upper bounds, +Inf implied) are copied.  Registering a name
 * twice with the same type and labels returns the first family; anything
 * else about the name is a programmer error (assert).  The family is
 * borrowed from the registry.  Thread-safe. */
struct metric_family *metrics_family(struct metrics *m, enum metric_type type, const char *name,
				     const char *help, const char *const *labels, const double *buckets,
				     size_t nbuckets);

/* The series of 'f' for 'values' (one per label name, in order; NULL
 * when the family has no labels); created at zero on first use.  The
 * values are copied.  Borrowed: valid until metrics_free.  When the
 * family is full (METRICS_MAX_SERIES) returns a sink that accepts updates
 * and is never rendered.  Lock-free when the series exists. */
struct metric *metric_get(struct metric_family *f, const char *const *values);
#define METRIC_GET(f, ...) metric_get((f), (const char *const[]){__VA_ARGS__, NULL})

/* Updates; all atomic, none allocates.  Counters only go up: metric_add
 * ignores a negative or NaN increment.  metric_set is for gauges and for
 * counters whose running total is kept elsewhere (the database). */
void metric_inc(struct metric *s);
void metric_add(struct metric *s, double v);
void metric_set(struct metric *s, double v);
void metric_observe(struct metric *s, double v); /* histograms */

/* Current value (counter, gauge) or observation count (histogram). */
double metric_value(const struct metric *s);

/* Gauges that a scrape recomputes (current intensity per region, jobs by
 * state) are cleared first, so that a label set that no longer has a
 * value disappears; a series reappears when it is next set. */
void metrics_family_clear(struct metric_family *f);

/* Append every family with its series to 'out' in the text exposition
 * format 0.0.4 (HELP, TYPE, samples; histograms with cumulative
 * _bucket{le}, _sum, _count).  Families appear in registration order,
 * series in creation order.  Safe while other threads update. */
void metrics_render(struct metrics *m, struct buf *out);

/* The Content-Type of the rendering. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
