/*
 * log.c - line-buffered logging to stderr.  Each line is formatted in a
 * local buffer and written with one write(2), so lines from several
 * threads never interleave.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/time.h"

enum log_level log_min_level = LOG_INFO;
static _Thread_local char request_id[40];

static const char *const names[] = {"debug", "info", "warn", "error", "silent"};

void log_set_level(enum log_level level)
{
	log_min_level = level;
}

bool log_parse_level(const char *s, enum log_level *ret)
{
	for (int i = 0; i <= LOG_SILENT; i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum log_level)i;
			return true;
		}
	return false;
}

void log_set_request_id(const char *id)
{
	snprintf(request_id, sizeof(request_id), "%s", id ? id : "");
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char line[2048], ts[TS_BUFSZ];
	int64_t ms = ts_now_ms();
	va_list ap;
	int n;

	ts_format(ms / 1000, ts);
	ts[19] = '\0'; /* drop the 'Z', the milliseconds go before it */
	n = snprintf(line, sizeof(line), "%s.%03dZ %s ", ts, (int)(ms % 1000), names[level]);
	if (request_id[0])
		n += snprintf(line + n, sizeof(line) - (size_t)n, "[%s] ", request_id);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
