/*
 * pollers.h - the worker of 'serve' that pulls every configured source on
 * its own interval (a row of the workers table, workers.c).
 *
 * One thread per source.  Across replicas sharing a database, a source is
 * polled by one replica at a time: the one holding its PostgreSQL advisory
 * lock, a session lock on a connection kept for the purpose.  A replica
 * that dies closes that connection, the lock is free, and another
 * replica's poller takes it at its next try - within one interval, so new
 * data arrives again within two.  Failures (after the fetch layer's
 * retries, or while the source's circuit breaker is open) are recorded in
 * source_state and the schedule goes on; the read path meanwhile serves
 * the last good data, or the next source of the region's list.
 */
#ifndef CARBONSCHED_SERVICE_POLLERS_H
#define CARBONSCHED_SERVICE_POLLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "connectors/fetch.h"
#include "core/error.h"

struct app;

/* Advisory lock of a source: (POLLERS_LOCK_CLASS, pollers_lock_key(name)). */
#define POLLERS_LOCK_CLASS 724811502
int32_t pollers_lock_key(const char *source);

/* The workers-table functions: start a thread per configured source (a
 * source whose credentials cannot be loaded is reported, not polled);
 * stop wakes them, abandons transfers in flight and joins them. */
int pollers_start(struct app *app, struct err_detail *err);
void pollers_stop(struct app *app);

/* What this replica knows of one source's poller (GET /v1/sources). */
struct pollers_info {
	bool polled_here;		   /* this replica runs a poller for it */
	bool held;			   /* ... and holds its lock */
	char error[512];		   /* why it is not polled here ("" when it is) */
	struct fetch_breaker_info breaker; /* this replica's breaker */
	int64_t next_run;		   /* real time of the next try, 0 = unknown */
	uint64_t polls, failures;	   /* pulls of one zone made here, and failed */
};

/* Fill *ret for 'source'; false when no poller of that name runs here.
 * Thread-safe, also while the pollers stop. */
bool pollers_info(const char *source, struct pollers_info *ret);

/* "host:pid" of this process: what GET /v1/sources shows as the holder. */
const char *pollers_identity(void);

#endif
