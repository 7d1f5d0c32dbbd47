/*
 * connguard.c - see connguard.h.
 *
 * One list under one mutex, walked by one thread four times a second:
 * connections are at most limits.max_connections, so a walk is cheap and
 * a deadline is kept to within a quarter second.  Entries carry their
 * deadline as an atomic so the server's threads mark phases without the
 * lock.
 */
#include "service/connguard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"

#define CHECK_MS 250

struct conn_guard_entry {
	int fd;
	int64_t timeout_ms;		 /* the guard's, copied: phases are marked without the lock */
	atomic_int_fast64_t deadline_ms; /* 0 = not timed (a request is being served) */
	atomic_bool counts;		 /* a drop now is a slow client, not an idle connection */
	bool dropped;			 /* under the lock */
	struct conn_guard_entry *prev, *next;
};

struct conn_guard {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stop;
	int64_t timeout_ms;
	void (*on_drop)(void *ctx, unsigned n);
	void *ctx;
	struct conn_guard_entry *head;
	atomic_uint_fast64_t dropped;
};

static void *run(void *arg)
{
	struct conn_guard *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec until;
		int64_t now = ts_mono_ms();
		unsigned n = 0;

		for (struct conn_guard_entry *e = g->head; e; e = e->next) {
			int64_t d = atomic_load(&e->deadline_ms);

			if (d && now > d && !e->dropped) {
				shutdown(e->fd, SHUT_RDWR);
				e->dropped = true;
				if (atomic_load(&e->counts))
					n++;
			}
		}
		if (n) {
			atomic_fetch_add(&g->dropped, n);
			log_info("http: dropped %u slow client%s: no whole request within %lld ms "
				 "(limits.request_timeout)",
				 n, n == 1 ? "" : "s", (long long)g->timeout_ms);
			if (g->on_drop)
				g->on_drop(g->ctx, n);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += CHECK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct conn_guard *conn_guard_new(int64_t timeout_ms, void (*on_drop)(void *ctx, unsigned n), void *ctx)
{
	struct conn_guard *g = xcalloc(1, sizeof(*g));

	g->on_drop = on_drop;
	g->ctx = ctx;

	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	g->timeout_ms = timeout_ms;
	atomic_init(&g->dropped, 0);
	if (pthread_create(&g->thread, NULL, run, g)) {
		log_error("cannot start the connection guard thread");
		abort();
	}
	return g;
}

void conn_guard_free(struct conn_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	for (struct conn_guard_entry *e = g->head, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

struct conn_guard_entry *conn_guard_add(struct conn_guard *g, int fd)
{
	struct conn_guard_entry *e = xcalloc(1, sizeof(*e));

	e->fd = fd;
	e->timeout_ms = g->timeout_ms;
	atomic_init(&e->deadline_ms, ts_mono_ms() + g->timeout_ms);
	atomic_init(&e->counts, true);
	pthread_mutex_lock(&g->lock);
	e->next = g->head;
	if (g->head)
		g->head->prev = e;
	g->head = e;
	pthread_mutex_unlock(&g->lock);
	return e;
}

void conn_guard_remove(struct conn_guard *g, struct conn_guard_entry *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&g->lock);
	if (e->prev)
		e->prev->next = e->next;
	else
		g->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&g->lock);
	free(e);
}

void conn_guard_started(struct conn_guard_entry *e)
{
	if (e)
		atomic_store(&e->counts, true);
}

void conn_guard_idle(struct conn_guard_entry *e)
{
	if (!e)
		return;
	atomic_store(&e->counts, false);
	atomic_store(&e->deadline_ms, ts_mono_ms() + e->timeout_ms);
}

void conn_guard_received(struct conn_guard_entry *e)
{
	if (e)
		atomic_store(&e->deadline_ms, 0);
}

uint64_t conn_guard_dropped(struct conn_guard *g)
{
	return g ? atomic_load(&g->dropped) : 0;
}
