/*
 * arena.h - a request's memory (after PostgreSQL memory contexts and nginx
 * pools).
 *
 * Everything a request allocates comes from its arena and is freed at once
 * when the request completes.  Foreign objects (json_t, PGresult) register
 * a cleanup with arena_defer so that no handler frees anything itself.
 */
#ifndef CARBONSCHED_CORE_ARENA_H
#define CARBONSCHED_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* New arena; free with arena_free (NULL is a no-op), which runs the
 * deferred cleanups in reverse order of registration, then frees blocks. */
struct arena *arena_new(void);
void arena_free(struct arena *a);

/* Memory aligned for any type, zero-filled; lives as long as the arena. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run fn(p) when the arena is freed. */
void arena_defer(struct arena *a, void (*fn)(void *), void *p);

#endif
