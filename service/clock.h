/*
 * clock.h - the service's idea of "now".
 *
 * Live deployments use the real clock.  The demo replays historical data:
 * the replay clock starts at a configured instant inside the data and
 * advances in real time (or faster, by 'speed').  Everything that asks
 * "what is known now" - signals up to now, forecasts issued now, the
 * baseline of "run now" - asks this clock, never time(2).
 */
#ifndef CARBONSCHED_SERVICE_CLOCK_H
#define CARBONSCHED_SERVICE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "service/config.h"

struct clock {
	enum clock_mode mode;
	int64_t start; /* replay: simulated instant at real_start_ms */
	double speed;  /* replay: simulated seconds per real second */
	int64_t real_start_ms;
};

void clock_init(struct clock *c, enum clock_mode mode, int64_t start, double speed);
/* Seconds since the epoch on this clock. */
int64_t clock_now(const struct clock *c);
bool clock_is_replay(const struct clock *c);
const char *clock_mode_name(const struct clock *c);

#endif
