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
 * timeout_ms; on_drop (may be NULL) is told of each round's drops of slow
 * clients (not of idle keep-alive connections), from the guard's thread.
 * New; free with conn_guard_free. */
struct conn_guard *conn_guard_new(int64_t timeout_ms, void (*on_drop)(void *ctx, unsigned n), void *ctx);
/* Stop the thread and free the guard and any entry left (NULL: no-op). */
void conn_guard_free(struct conn_guard *g);

/* Watch socket fd, waiting for a request from now.  The entry is owned
 * by the guard; give it back with conn_guard_remove before fd is closed. */
struct conn_guard_entry *conn_guard_add(struct conn_guard *g, int fd);
void conn_guard_remove(struct conn_guard *g, struct conn_guard_entry *e);
/* Phases.  A new connection waits for its first request: timed, and a
 * drop counts as a slow client.  'started': a request has begun (its
 * request line is in); the deadline runs on, a drop counts.  'received':
 * the whole request is in; not timed (handlers and responses have other
 * limits).  'idle': its answer was sent, the connection is kept alive
 * for another request; timed from now, but a drop is an idle connection
 * closed, not counted (libmicrohttpd's idle timeout would close it too).
 * NULL entries are ignored. */
void conn_guard_started(struct conn_guard_entry *e);
void conn_guard_received(struct conn_guard_entry *e);
void conn_guard_idle(struct conn_guard_entry *e);

/* Slow clients dropped so far (idle connections not included). */
uint64_t conn_guard_dropped(struct conn_guard *g);

#endif
