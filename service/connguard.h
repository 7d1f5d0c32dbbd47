/*
 * connguard.h - a deadline for receiving each request, against slow clients.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that
 * trickles one byte a second (slowloris) is never idle and would hold its
 * connection, and a worker's share of the connection limit, forever.  The
 * guard times what the idle timeout cannot: from the moment a connection
 * waits for a request (opened, or its previous response sent) until the
 * whole request - headers and body - has arrived.  A connection past the
 * deadline is shut down (shutdown(2), not close: the server still owns the
 * descriptor and closes it when it sees the end of the stream).  Knows
 * nothing of HTTP; http.c reports the phases.  Thread-safe.
 */
#ifndef CARBONSCHED_SERVICE_CONNGUARD_H
#define CARBONSCHED_SERVICE_CONNGUARD_H

#include <stdint.h>

struct conn_guard;
struct conn_guard_entry;

/* Start the guard's thread, checking every connection against
 * timeout_ms; on_drop (may be NULL) is told of each round's drops, from
 * the guard's thread.  New; free with conn_guard_free. */
struct conn_guard *conn_guard_new(int64_t timeout_ms, void (*on_drop)(void *ctx, unsigned n), void *ctx);
/* Stop the thread and free the guard and any entry left (NULL: no-op). */
void conn_guard_free(struct conn_guard *g);

/* Watch socket fd, waiting for a request from now.  The entry is owned
 * by the guard; give it back with conn_guard_remove before fd is closed. */
struct conn_guard_entry *conn_guard_add(struct conn_guard *g, int fd);
void conn_guard_remove(struct conn_guard *g, struct conn_guard_entry *e);
/* Phases: waiting for a request from now (the deadline runs), or a whole
 * request received (not timed: handlers and responses have other limits). */
void conn_guard_waiting(struct conn_guard_entry *e);
void conn_guard_received(struct conn_guard_entry *e);

/* Connections shut down so far. */
uint64_t conn_guard_dropped(struct conn_guard *g);

#endif
