/*
 * buf.h - a growable byte buffer, always NUL-terminated (after git strbuf).
 *
 * 'max' is a hard cap (0 = none) for buffers filled from user or upstream
 * input: an append that would pass it fails with ERR_TOO_LARGE and leaves
 * the buffer unchanged.  Buffers we fill ourselves leave max at 0 and may
 * ignore the return value.
 */
#ifndef CARBONSCHED_CORE_BUF_H
#define CARBONSCHED_CORE_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated; never NULL after buf_init */
	size_t len;
	size_t cap;
	size_t max;
};

/* Initialise in caller storage; allocates a small block. */
void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);

int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
int buf_add_json_string(struct buf *b, const char *s);
/* Append a double in the shortest form that reads back equal ("null" for
 * NAN and infinities). */
int buf_add_double(struct buf *b, double v);

/* Hand over the data (free with free()); the buffer becomes empty. */
char *buf_detach(struct buf *b, size_t *ret_len);

#endif
