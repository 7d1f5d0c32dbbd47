/*
 * mem.h - allocation that never returns NULL, and scope cleanup helpers.
 *
 * Out of memory is fatal by policy (as in Redis zmalloc and git xmalloc):
 * the process logs one line and aborts, so callers never check for NULL.
 * Every buffer that grows from user or upstream input has its own, smaller,
 * configured cap, checked by its owner before it grows.
 */
#ifndef CARBONSCHED_CORE_MEM_H
#define CARBONSCHED_CORE_MEM_H

#include <stddef.h>
#include <stdlib.h>

/* Like malloc/calloc/realloc/strdup but abort on failure.  xmalloc(0) and
 * xcalloc(0, n) return a unique pointer that must be freed. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grow an array of *cap elements of size 'size' to hold at least 'need'
 * elements, doubling; returns the (possibly moved) array. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Declares a local that is freed when it leaves scope:
 *     _cleanup_free_ char *s = xstrdup("x"); */
#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
