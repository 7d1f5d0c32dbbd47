/*
 * jobs_workers.h - the scheduling rows of the worker table (workers.c):
 * the planner's listener, re-planning and start callbacks.
 */
#ifndef CARBONSCHED_SERVICE_JOBS_WORKERS_H
#define CARBONSCHED_SERVICE_JOBS_WORKERS_H

#include "core/error.h"

struct app;

/* Create the planner (app->planner) and its listener thread.  ERR_DB when
 * the database cannot be read. */
int jobs_planner_start(struct app *app, struct err_detail *err);
/* Stop the thread; 'serve' frees app->planner after the HTTP server. */
void jobs_planner_stop(struct app *app);
int jobs_replan_start(struct app *app, struct err_detail *err);
void jobs_replan_stop(struct app *app);
int jobs_callbacks_start(struct app *app, struct err_detail *err);
void jobs_callbacks_stop(struct app *app);

#endif
