/*
 * log.h - one event per line: time, level, request id, message.
 *
 *   2024-03-01T12:00:00.123Z info [r-1a2b] ingested 8760 points from 'x.csv'
 *
 * Only service/ logs above debug; other modules return errors.  Messages
 * are lower-case, user values in single quotes, never secrets.  The level
 * check happens before the arguments are formatted.
 */
#ifndef CARBONSCHED_CORE_LOG_H
#define CARBONSCHED_CORE_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_SILENT };

extern enum log_level log_min_level;

void log_set_level(enum log_level level);
/* "debug", "info", "warn", "error", "silent"; false when unknown. */
bool log_parse_level(const char *s, enum log_level *ret);
/* Request id shown on the lines of the calling thread (NULL clears). */
void log_set_request_id(const char *id);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(level, ...)                             \
	do {                                           \
		if ((level) >= log_min_level)          \
			log_write(level, __VA_ARGS__); \
	} while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#endif
