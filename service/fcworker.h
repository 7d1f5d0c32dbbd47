/*
 * fcworker.h - the forecasting worker of 'serve' (a row of workers.c).
 *
 * In every replica it listens for NOTIFY carbonsched_forecasts and keeps a
 * version number that readers of forecasts use to drop what they derived
 * from older runs.  In the one replica holding the forecasting advisory
 * lock (forecast.enabled replicas compete; another takes over within
 * seconds when the holder dies) it keeps, for every configured region's
 * zone, forecasts of the configured kinds and of each region's PUE
 * forecast.horizon ahead: after new data arrives and at every hour of the
 * service clock it refits the models, stores a run issued at the clock's
 * hour (the ensemble, its members and seasonal naive for
 * carbon_intensity, a blend with provider forecasts where they exist),
 * scores the stored runs whose actuals have arrived into forecast_skill,
 * feeds the calibrators, deletes runs older than forecast.keep, and
 * NOTIFYs.  docs/forecasting.md ("In the service") says more.
 */
#ifndef CARBONSCHED_SERVICE_FCWORKER_H
#define CARBONSCHED_SERVICE_FCWORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct app;

/* The workers.c entry points. */
int fcworker_start(struct app *app, struct err_detail *err);
void fcworker_stop(struct app *app);

/* Version of the stored forecasts as this replica knows them: it moves on
 * every NOTIFY carbonsched_forecasts (and on this replica's own writes).
 * 0 while the listener is not connected: then nothing may be cached. */
uint64_t fcworker_version(void);

/* What the worker last did for (zone, kind) in this replica, e.g. "too
 * little history: ridge needs at least 22 days" or "issued
 * 2021-11-01T00:00:00Z", into out; false when this replica has no word on
 * it (not the forecasting replica, or not tried yet). */
bool fcworker_status(const char *zone, const char *kind, char *out, size_t size);

/* True when 'model' is one of the models this worker writes (the
 * forecasters' registry, "blend", and the PUE models "constant",
 * "temperature", "feed"); anything else is a provider's. */
bool fcworker_is_own_model(const char *model);

/* The kinds forecast per zone: the configured list or the default one
 * (NULL-terminated, borrowed from the config or static). */
const char *const *fcworker_kinds(const struct app *app);

#endif
