/*
 * buf.c - growable buffers with an optional hard cap.
 */
#include "core/buf.h"

#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/mem.h"

void buf_init(struct buf *b, size_t max)
{
	b->cap = 64;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

static int reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (b->max && b->len + extra > b->max)
		return ERR_TOO_LARGE;
	if (need > b->cap)
		b->data = xgrow(b->data, &b->cap, need, 1);
	return ERR_OK;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	if (reserve(b, n))
		return ERR_TOO_LARGE;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return ERR_OK;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ERR_INTERNAL;
	if ((size_t)n >= b->cap - b->len) {
		if (reserve(b, (size_t)n))
			return ERR_TOO_LARGE;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	} else if (b->max && b->len + (size_t)n > b->max) {
		b->data[b->len] = '\0';
		return ERR_TOO_LARGE;
	}
	b->len += (size_t)n;
	return ERR_OK;
}

int buf_add_json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int rc = buf_addc(b, '"');

	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		/* A run of characters that need no escape goes in at once. */
		const unsigned char *q = p;
		while (*q >= 0x20 && *q != '"' && *q != '\\')
			q++;
		if (q > p) {
			rc = buf_add(b, p, (size_t)(q - p));
			p = q - 1;
			continue;
		}
		switch (*p) {
		case '"': rc = buf_add(b, "\\\"", 2); break;
		case '\\': rc = buf_add(b, "\\\\", 2); break;
		case '\n': rc = buf_add(b, "\\n", 2); break;
		case '\r': rc = buf_add(b, "\\r", 2); break;
		case '\t': rc = buf_add(b, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
				rc = buf_add(b, esc, sizeof(esc));
			} else {
				rc = buf_addc(b, (char)*p);
			}
		}
	}
	return rc ? rc : buf_addc(b, '"');
}

/* Shortest exact decimal with at most six fraction digits, by integer
 * arithmetic: when llround(v·10^k)/10^k == v, that quotient is the double
 * nearest to the decimal N/10^k (both are exact integers below 2^53 and
 * IEEE division rounds correctly), so the text reads back as v.  Stored
 * signals have a few decimals, so this path handles nearly every value in
 * tens of nanoseconds; anything else falls back to printf. */
static bool fast_decimal(struct buf *b, double v)
{
	static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
	/* Adding and subtracting 1.5·2^52 rounds to the nearest integer in
	 * registers, without a call to llround (|scaled| < 2^51 here). */
	const double magic = 6755399441055744.0;
	char tmp[32], *p = tmp + sizeof(tmp);

	if (!(fabs(v) < 1e9))
		return false;
	for (int k = 0; k < 7; k++) {
		double sum = v * pow10[k] + magic;
		double r = sum - magic;

		if (r / pow10[k] != v)
			continue;
		long long n = (long long)r;
		bool neg = n < 0;
		unsigned long long u = neg ? (unsigned long long)-n : (unsigned long long)n;
		for (int d = 0; d < k; d++) {
			*--p = (char)('0' + u % 10);
			u /= 10;
		}
		if (k)
			*--p = '.';
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (neg)
			*--p = '-';
		buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
		return true;
	}
	return false;
}

int buf_add_double(struct buf *b, double v)
{
	char tmp[32];

	if (!isfinite(v))
		return buf_add(b, "null", 4);
	if (fast_decimal(b, v))
		return ERR_OK;
	/* %.15g avoids 0.30000000000000004 noise; %.17g when needed to round-trip. */
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	return buf_adds(b, tmp);
}

char *buf_detach(struct buf *b, size_t *ret_len)
{
	char *p = b->data;

	if (ret_len)
		*ret_len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
