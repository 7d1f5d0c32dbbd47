/*
 * db.h - the PostgreSQL store's connection layer: the one file that
 * includes libpq.
 *
 * Every statement the service runs is declared once in db_stmts.h and
 * prepared on each connection when it opens; callers pass parameters as
 * text ($1...) and read results through struct db_res, never PGresult.
 * Times cross this boundary as seconds since the epoch: statements take
 * to_timestamp($n) and return extract(epoch from ...)::int8.
 *
 * A struct db is used by one thread at a time.  The pool hands out
 * connections, reconnecting broken ones; when PostgreSQL is down, calls
 * fail with ERR_DB and the caller answers 503.
 */
#ifndef CARBONSCHED_SERVICE_DB_H
#define CARBONSCHED_SERVICE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "service/db_stmts.h"

enum db_stmt {
#define DB_STMT_ENUM(name, sql) DB_##name,
	DB_STMT_TABLE(DB_STMT_ENUM)
#undef DB_STMT_ENUM
	    DB__STMT_COUNT
};

struct db;
struct db_pool;
struct db_res;

/* Open one connection and prepare every statement.  ERR_DB with the
 * server's message (the conninfo's password is never included). */
int db_connect(const char *conninfo, struct db **ret, struct err_detail *err);
/* Close; NULL is a no-op. */
void db_close(struct db *db);
/* Open the connection without preparing statements (for migrations,
 * which must run before the tables the statements name exist). */
int db_connect_raw(const char *conninfo, struct db **ret, struct err_detail *err);
/* Prepare the statement table on a raw connection. */
int db_prepare_all(struct db *db, struct err_detail *err);

/* A pool of 'size' connections opened lazily.  The first is opened now to
 * check the conninfo; ERR_DB when that fails. */
int db_pool_new(const char *conninfo, int size, struct db_pool **ret, struct err_detail *err);
void db_pool_free(struct db_pool *p);
/* Borrow a connection, waiting while all are in use (at most
 * 'timeout_ms').  Broken connections are reopened; ERR_DB when the
 * database cannot be reached, ERR_UNAVAILABLE on timeout. */
int db_acquire(struct db_pool *p, int timeout_ms, struct db **ret, struct err_detail *err);
void db_release(struct db_pool *p, struct db *db);

/* Run a prepared statement with nparams text parameters (NULL = SQL
 * NULL).  *ret (when ret is non-NULL) is new: free with db_res_free.
 * Errors: ERR_DB (connection lost or server error), ERR_CONFLICT (unique
 * violation), ERR_INVALID (check/foreign-key violation). */
int db_exec(struct db *db, enum db_stmt st, const char *const *params, int nparams, struct db_res **ret,
	    struct err_detail *err);
/* Run literal SQL without parameters (migrations, BEGIN/COMMIT). */
int db_exec_sql(struct db *db, const char *sql, struct err_detail *err);
/* Run a fixed literal query that returns one integer (no parameters: only
 * for constant SQL text). */
int db_query_int(struct db *db, const char *sql, int *ret, struct err_detail *err);
int db_begin(struct db *db, struct err_detail *err);
int db_commit(struct db *db, struct err_detail *err);
/* Roll back; errors are ignored (the connection is marked broken). */
void db_rollback(struct db *db);

size_t db_res_rows(const struct db_res *r);
/* Value text of row/col ("" for NULL); borrowed from r. */
const char *db_res_get(const struct db_res *r, size_t row, int col);
bool db_res_is_null(const struct db_res *r, size_t row, int col);
double db_res_double(const struct db_res *r, size_t row, int col); /* NAN for NULL */
int64_t db_res_int64(const struct db_res *r, size_t row, int col); /* 0 for NULL */
bool db_res_bool(const struct db_res *r, size_t row, int col);
/* Rows affected by an INSERT/UPDATE/DELETE. */
int64_t db_res_affected(const struct db_res *r);
void db_res_free(struct db_res *r);
/* For arena_defer. */
void db_res_free_void(void *r);

/* COPY ... FROM STDIN in PostgreSQL's binary format.  Begin with the COPY
 * statement, add rows field by field, end to commit the stream (the
 * surrounding transaction still decides).  Rows are buffered and sent in
 * large chunks. */
struct db_copy;
int db_copy_begin(struct db *db, const char *copy_sql, struct db_copy **ret, struct err_detail *err);
void db_copy_row(struct db_copy *c, int nfields);
void db_copy_int4(struct db_copy *c, int32_t v);
void db_copy_int8(struct db_copy *c, int64_t v);
void db_copy_float8(struct db_copy *c, double v);
void db_copy_bool(struct db_copy *c, bool v);
/* A timestamptz from seconds since the Unix epoch. */
void db_copy_time(struct db_copy *c, int64_t t);
void db_copy_null(struct db_copy *c);
/* Finish (or, when 'abort' is set, cancel) the COPY; frees c.  Returns the
 * first error of the stream. */
int db_copy_end(struct db_copy *c, bool abort, struct err_detail *err);

/* Format seconds since the epoch as a parameter for to_timestamp($n);
 * out needs 24 bytes. */
const char *db_param_time(int64_t t, char out[24]);

/* True when the connection is usable. */
bool db_is_ok(struct db *db);

/* LISTEN on a channel; db_wait_notify waits up to timeout_ms for a
 * notification and copies its payload into buf (returns true when one
 * arrived). */
int db_listen(struct db *db, const char *channel, struct err_detail *err);
bool db_wait_notify(struct db *db, int timeout_ms, char *buf, size_t size);
/* The same, also copying the channel's name (for a connection listening
 * on several channels). */
bool db_wait_notification(struct db *db, int timeout_ms, char *channel, size_t csize, char *buf, size_t size);

#endif
