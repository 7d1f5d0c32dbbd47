/*
 * workers.h - background work inside 'serve': pollers, forecast refresh,
 * job callbacks and re-planning.
 *
 * Each worker is a row in the table of workers.c: a name and start/stop
 * functions.  start runs after the database and the HTTP port are up and
 * returns an error to abort start-up; stop runs at shutdown, before the
 * HTTP server stops, and must return promptly (workers poll app->stopping
 * or use timed waits).  A worker that needs one replica to act alone takes
 * a PostgreSQL advisory lock; workers never share state except through the
 * database and the caches of struct app.
 */
#ifndef CARBONSCHED_SERVICE_WORKERS_H
#define CARBONSCHED_SERVICE_WORKERS_H

#include "core/error.h"

struct app;

struct worker {
	const char *name;
	int (*start)(struct app *app, struct err_detail *err);
	void (*stop)(struct app *app);
};

extern const struct worker workers[];
extern const unsigned workers_count;

/* Start every worker in table order; on failure stop those started. */
int workers_start(struct app *app, struct err_detail *err);
/* Stop every worker, in reverse order. */
void workers_stop(struct app *app);

#endif
