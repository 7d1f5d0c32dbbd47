/*
 * workers.c - the table of background workers of 'serve'.
 */
#include "service/workers.h"

#include <stddef.h>

#include "core/log.h"
#include "service/app.h"
#include "service/fcworker.h"
#include "service/jobs_workers.h"
#include "service/pollers.h"

const struct worker workers[] = {
    {"pollers", pollers_start, pollers_stop}, /* live sources, one replica per source */
    {"forecasts", fcworker_start, fcworker_stop},
    /* scheduling and jobs */
    {"scheduler inputs", jobs_planner_start, jobs_planner_stop},
    {"re-planning", jobs_replan_start, jobs_replan_stop},
    {"callbacks", jobs_callbacks_start, jobs_callbacks_stop},
    {NULL, NULL, NULL}, /* sentinel: keeps the array non-empty; areas add rows above */
};
const unsigned workers_count = sizeof(workers) / sizeof(workers[0]) - 1;

static unsigned started;

int workers_start(struct app *app, struct err_detail *err)
{
	for (started = 0; started < workers_count; started++) {
		int rc = workers[started].start(app, err);

		if (rc) {
			err_prefix(err, "worker '%s': ", workers[started].name);
			workers_stop(app);
			return rc;
		}
		log_info("worker '%s' started", workers[started].name);
	}
	return ERR_OK;
}

void workers_stop(struct app *app)
{
	while (started > 0) {
		started--;
		if (workers[started].stop)
			workers[started].stop(app);
	}
}
