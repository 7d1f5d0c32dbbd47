/*
 * fuzz_conn.h - the body shared by the connector fuzz targets: feed one
 * input to every response parser of a connector and check the contract
 * beyond "no crash": a failure carries a message; a success yields series
 * on a positive step, no longer than CONN_MAX_STEPS, with finite values
 * or gaps.  Corpora are plain recorded responses (no selector byte).
 */
#ifndef CARBONSCHED_TESTS_FUZZ_CONN_H
#define CARBONSCHED_TESTS_FUZZ_CONN_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "connectors/connector.h"

static void fuzz_check_series(const struct series *s)
{
	if (s->step <= 0 || s->n > CONN_MAX_STEPS)
		abort();
	for (size_t i = 0; i < s->n; i++)
		if (isinf(s->v[i]))
			abort();
}

static inline void fuzz_connector(const struct connector *conn, const struct conn_parse_ctx *p,
				  const uint8_t *data, size_t size)
{
	for (const struct conn_endpoint *e = conn->endpoints; e->name; e++) {
		struct conn_result r;
		struct err_detail err = {{0}, {0}};

		conn_result_init(&r);
		int rc = e->parse(p, (const char *)data, size, &r, &err);
		if (rc && !err.msg[0])
			abort();
		if (!rc) {
			for (size_t i = 0; i < r.sigs.n; i++)
				fuzz_check_series(&r.sigs.items[i].s);
			for (size_t i = 0; i < r.nfc; i++)
				fuzz_check_series(&r.fc[i].p50);
		}
		conn_result_release(&r);
	}
}

#endif
