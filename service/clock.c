/*
 * clock.c - real and replay clocks.
 */
#include "service/clock.h"

#include "core/time.h"

void clock_init(struct clock *c, enum clock_mode mode, int64_t start, double speed)
{
	c->mode = mode;
	c->start = start;
	c->speed = speed > 0 ? speed : 1;
	c->real_start_ms = ts_now_ms();
}

int64_t clock_now(const struct clock *c)
{
	if (c->mode == CLOCK_REAL)
		return ts_now();
	return c->start + (int64_t)((double)(ts_now_ms() - c->real_start_ms) * c->speed / 1000.0);
}

bool clock_is_replay(const struct clock *c)
{
	return c->mode == CLOCK_REPLAY;
}

const char *clock_mode_name(const struct clock *c)
{
	return c->mode == CLOCK_REPLAY ? "replay" : "real";
}
