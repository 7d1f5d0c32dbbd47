/*
 * error.c - lookups into the error table and detail formatting.
 */
#include "core/error.h"

#include <stdio.h>
#include <string.h>

static const struct {
	int status;
	const char *code;
	const char *title;
} table[] = {
#define ERR_ROW(name, status, code, title) {status, code, title},
    ERR_TABLE(ERR_ROW)
#undef ERR_ROW
};

static int valid(int code)
{
	return code >= 0 && code < ERR__COUNT;
}

int err_http_status(int code)
{
	return valid(code) ? table[code].status : 500;
}

const char *err_code_name(int code)
{
	return valid(code) ? table[code].code : "internal";
}

const char *err_title(int code)
{
	return valid(code) ? table[code].title : "Internal error";
}

int err_setv(struct err_detail *d, int code, const char *field, const char *fmt, va_list ap)
{
	if (!d)
		return code;
	snprintf(d->field, sizeof(d->field), "%s", field ? field : "");
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	return code;
}

int err_set(struct err_detail *d, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_setv(d, code, field, fmt, ap);
	va_end(ap);
	return code;
}

void err_prefix(struct err_detail *d, const char *fmt, ...)
{
	char head[256], old[sizeof(d->msg)];
	size_t n;
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, d->msg, sizeof(old));
	n = strlen(head);
	if (n >= sizeof(d->msg))
		n = sizeof(d->msg) - 1;
	memcpy(d->msg, head, n);
	snprintf(d->msg + n, sizeof(d->msg) - n, "%.*s", (int)(sizeof(d->msg) - n - 1), old);
}

void err_clear(struct err_detail *d)
{
	if (d) {
		d->field[0] = '\0';
		d->msg[0] = '\0';
	}
}
