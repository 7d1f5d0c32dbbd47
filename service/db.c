/*
 * db.c - libpq, adapted once.
 *
 * Invariants: every PGresult is cleared on every path; a connection that
 * reports CONNECTION_BAD is marked broken and reopened by the pool before
 * it is lent again; statements are prepared as "s_<index>" right after the
 * connection opens (and after a reopen), so a db_exec never prepares.
 * Errors carry the server's primary message and SQLSTATE, never the
 * conninfo (which may hold a password).
 *
 * Outages: a connection whose server went away (restart, failover) is
 * noticed when it is lent - the socket is readable with the server's
 * goodbye or EOF - and reopened then, so the first request after a
 * restart does not fail on a dead session.  Connecting has a timeout
 * (DB_CONNECT_TIMEOUT_S unless the conninfo sets connect_timeout), so a
 * request during an outage gets its 503 in bounded time.
 */
#include "service/db.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"

static const char *const stmt_sql[] = {
#define DB_STMT_SQL(name, sql) sql,
    DB_STMT_TABLE(DB_STMT_SQL)
#undef DB_STMT_SQL
};

/* Default for connect_timeout (seconds); the conninfo may override it. */
#define DB_CONNECT_TIMEOUT_S "5"

/* Per-session objects the prepared statements need. */
static const char session_setup[] =
    "CREATE TEMP TABLE IF NOT EXISTS signals_stage (series_id int, ts timestamptz,"
    " value double precision, estimated boolean) ON COMMIT DELETE ROWS";

struct db {
	PGconn *conn;
	bool prepared;
	bool broken;
	bool in_use;
};

struct db_pool {
	char *conninfo;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int size;
	struct db *conns;
};

struct db_res {
	PGresult *res;
};

static int server_error(struct db *db, const PGresult *res, const char *what, struct err_detail *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	int code = ERR_DB;

	if (!msg)
		msg = PQerrorMessage(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		db->broken = true;
	} else if (state) {
		if (!strcmp(state, "23505"))
			code = ERR_CONFLICT;
		else if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2))
			code = ERR_INVALID;
		else if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
			code = ERR_CONFLICT; /* serialization failure, deadlock: retryable */
		else if (!strncmp(state, "57", 2) || !strncmp(state, "08", 2))
			db->broken = true;
	}
	char clean[300];
	snprintf(clean, sizeof(clean), "%s", msg ? msg : "unknown error");
	clean[strcspn(clean, "\n")] = '\0';
	if (detail && code != ERR_DB) {
		size_t n = strlen(clean);
		snprintf(clean + n, sizeof(clean) - n, ": %s", detail);
		clean[strcspn(clean, "\n")] = '\0';
	}
	return err_set(err, code, NULL, "%s: %s%s%s%s", what, clean, state ? " (SQLSTATE " : "",
		       state ? state : "", state ? ")" : "");
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Open a connection into caller storage (no statements prepared). */
static int open_into(struct db *db, const char *conninfo, struct err_detail *err)
{
	/* The expanded conninfo overrides the keywords before it. */
	static const char *const keys[] = {"connect_timeout", "dbname", NULL};
	const char *vals[] = {DB_CONNECT_TIMEOUT_S, conninfo, NULL};

	memset(db, 0, sizeof(*db));
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
		msg[strcspn(msg, "\n")] = '\0';
		PQfinish(db->conn);
		db->conn = NULL;
		return err_set(err, ERR_DB, NULL, "cannot connect to PostgreSQL: %s", msg);
	}
	/* Quiet NOTICEs (e.g. "relation already exists, skipping"). */
	PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
	return ERR_OK;
}

int db_connect_raw(const char *conninfo, struct db **ret, struct err_detail *err)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int rc = open_into(db, conninfo, err);

	if (rc) {
		free(db);
		return rc;
	}
	*ret = db;
	return ERR_OK;
}

int db_prepare_all(struct db *db, struct err_detail *err)
{
	PGresult *res = PQexec(db->conn, session_setup);

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		int rc = server_error(db, res, "session setup", err);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	for (int i = 0; i < DB__STMT_COUNT; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s_%d", i);
		res = PQprepare(db->conn, name, stmt_sql[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			char what[64];
			int rc;

			snprintf(what, sizeof(what), "preparing statement %d", i);
			rc = server_error(db, res, what, err);
			PQclear(res);
			return rc;
		}
		PQclear(res);
	}
	db->prepared = true;
	return ERR_OK;
}

int db_connect(const char *conninfo, struct db **ret, struct err_detail *err)
{
	struct db *db;
	int rc = db_connect_raw(conninfo, &db, err);

	if (rc)
		return rc;
	if ((rc = db_prepare_all(db, err))) {
		db_close(db);
		return rc;
	}
	*ret = db;
	return ERR_OK;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	PQfinish(db->conn);
	free(db);
}

bool db_is_ok(struct db *db)
{
	return db && !db->broken && PQstatus(db->conn) == CONNECTION_OK;
}

int db_pool_new(const char *conninfo, int size, struct db_pool **ret, struct err_detail *err)
{
	struct db_pool *p = xcalloc(1, sizeof(*p));
	struct db *first;
	int rc;

	if ((rc = db_connect(conninfo, &first, err))) {
		free(p);
		return rc;
	}
	p->conninfo = xstrdup(conninfo);
	p->size = size < 1 ? 1 : size;
	p->conns = xcalloc((size_t)p->size, sizeof(*p->conns));
	p->conns[0] = *first;
	free(first);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	*ret = p;
	return ERR_OK;
}

void db_pool_free(struct db_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->size; i++)
		if (p->conns[i].conn)
			PQfinish(p->conns[i].conn);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	free(p->conns);
	free(p->conninfo);
	free(p);
}

/* An idle connection has nothing to read unless the server said goodbye
 * (a FATAL on shutdown) or the socket closed: read it then, and let libpq
 * judge.  No round trip. */
static void check_idle(struct db *db)
{
	struct pollfd pfd = {.fd = db->conn ? PQsocket(db->conn) : -1, .events = POLLIN};

	if (db->broken || pfd.fd < 0) {
		db->broken = true;
		return;
	}
	/* A goodbye and the EOF after it may take two reads. */
	for (int i = 0; i < 4 && !db->broken && poll(&pfd, 1, 0) > 0; i++)
		if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK)
			db->broken = true;
}

/* Make a pooled slot usable: open or reopen its connection. */
static int revive(struct db_pool *p, struct db *db, struct err_detail *err)
{
	struct db fresh;
	int rc;

	if (db->conn)
		check_idle(db);
	if (db->conn && !db->broken && PQstatus(db->conn) == CONNECTION_OK && db->prepared)
		return ERR_OK;
	if ((rc = open_into(&fresh, p->conninfo, err)))
		return rc;
	if ((rc = db_prepare_all(&fresh, err))) {
		PQfinish(fresh.conn);
		return rc;
	}
	if (db->conn)
		PQfinish(db->conn);
	db->conn = fresh.conn;
	db->prepared = true;
	db->broken = false;
	return ERR_OK;
}

int db_acquire(struct db_pool *p, int timeout_ms, struct db **ret, struct err_detail *err)
{
	struct timespec deadline;
	struct db *db;
	int rc, k = -1;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		/* Prefer an open connection, then an empty slot. */
		for (int i = 0; i < p->size && k < 0; i++)
			if (!p->conns[i].in_use && p->conns[i].conn)
				k = i;
		for (int i = 0; i < p->size && k < 0; i++)
			if (!p->conns[i].in_use)
				k = i;
		if (k >= 0)
			break;
		if (pthread_cond_timedwait(&p->freed, &p->lock, &deadline) == ETIMEDOUT) {
			pthread_mutex_unlock(&p->lock);
			return err_set(err, ERR_UNAVAILABLE, NULL, "all %d database connections are busy",
				       p->size);
		}
	}
	db = &p->conns[k];
	db->in_use = true;
	pthread_mutex_unlock(&p->lock);
	/* Reconnecting happens outside the lock: it may take a while. */
	if ((rc = revive(p, db, err))) {
		db_release(p, db);
		return rc;
	}
	*ret = db;
	return ERR_OK;
}

void db_release(struct db_pool *p, struct db *db)
{
	if (!db)
		return;
	/* A connection left inside a transaction is not reusable as is. */
	if (db->conn && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		db->broken = true;
	pthread_mutex_lock(&p->lock);
	db->in_use = false;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

int db_exec(struct db *db, enum db_stmt st, const char *const *params, int nparams, struct db_res **ret,
	    struct err_detail *err)
{
	char name[16];
	PGresult *res;
	ExecStatusType status;

	if (db->broken)
		return err_set(err, ERR_DB, NULL, "database connection lost");
	snprintf(name, sizeof(name), "s_%d", (int)st);
	res = PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
	status = PQresultStatus(res);
	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		char what[64];
		int rc;

		snprintf(what, sizeof(what), "statement %d", (int)st);
		rc = server_error(db, res, what, err);
		PQclear(res);
		return rc;
	}
	if (ret) {
		struct db_res *r = xmalloc(sizeof(*r));

		r->res = res;
		*ret = r;
	} else {
		PQclear(res);
	}
	return ERR_OK;
}

int db_exec_sql(struct db *db, const char *sql, struct err_detail *err)
{
	PGresult *res = PQexec(db->conn, sql);
	ExecStatusType status = PQresultStatus(res);

	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		int rc = server_error(db, res, "query", err);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	return ERR_OK;
}

int db_query_int(struct db *db, const char *sql, int *ret, struct err_detail *err)
{
	PGresult *res = PQexec(db->conn, sql);
	int rc = ERR_OK;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = server_error(db, res, "query", err);
	else if (PQntuples(res) != 1 || PQnfields(res) != 1)
		rc = err_set(err, ERR_INTERNAL, NULL, "expected one value from '%s'", sql);
	else
		*ret = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int db_begin(struct db *db, struct err_detail *err)
{
	return db_exec_sql(db, "BEGIN", err);
}

int db_commit(struct db *db, struct err_detail *err)
{
	return db_exec_sql(db, "COMMIT", err);
}

void db_rollback(struct db *db)
{
	PGresult *res = PQexec(db->conn, "ROLLBACK");

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		db->broken = true;
	PQclear(res);
}

size_t db_res_rows(const struct db_res *r)
{
	return (size_t)PQntuples(r->res);
}

const char *db_res_get(const struct db_res *r, size_t row, int col)
{
	return PQgetvalue(r->res, (int)row, col);
}

bool db_res_is_null(const struct db_res *r, size_t row, int col)
{
	return PQgetisnull(r->res, (int)row, col);
}

double db_res_double(const struct db_res *r, size_t row, int col)
{
	return db_res_is_null(r, row, col) ? NAN : strtod(PQgetvalue(r->res, (int)row, col), NULL);
}

int64_t db_res_int64(const struct db_res *r, size_t row, int col)
{
	return db_res_is_null(r, row, col) ? 0 : strtoll(PQgetvalue(r->res, (int)row, col), NULL, 10);
}

bool db_res_bool(const struct db_res *r, size_t row, int col)
{
	return !db_res_is_null(r, row, col) && PQgetvalue(r->res, (int)row, col)[0] == 't';
}

int64_t db_res_affected(const struct db_res *r)
{
	return strtoll(PQcmdTuples(r->res), NULL, 10);
}

void db_res_free(struct db_res *r)
{
	if (!r)
		return;
	PQclear(r->res);
	free(r);
}

void db_res_free_void(void *r)
{
	db_res_free(r);
}

const char *db_param_time(int64_t t, char out[24])
{
	snprintf(out, 24, "%lld", (long long)t);
	return out;
}

/* --- binary COPY --------------------------------------------------------- */

#define COPY_FLUSH (256 * 1024)
/* Seconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
#define PG_EPOCH_OFFSET INT64_C(946684800)

struct db_copy {
	struct db *db;
	struct buf b;
	int error;
	char msg[300];
};

static void put_be16(struct buf *b, uint16_t v)
{
	v = htons(v);
	buf_add(b, &v, 2);
}

static void put_be32(struct buf *b, uint32_t v)
{
	v = htonl(v);
	buf_add(b, &v, 4);
}

static void put_be64(struct buf *b, uint64_t v)
{
	put_be32(b, (uint32_t)(v >> 32));
	put_be32(b, (uint32_t)v);
}

static void flush(struct db_copy *c, bool force)
{
	if (c->error || (!force && c->b.len < COPY_FLUSH) || !c->b.len)
		return;
	if (PQputCopyData(c->db->conn, c->b.data, (int)c->b.len) != 1) {
		c->error = ERR_DB;
		snprintf(c->msg, sizeof(c->msg), "COPY failed: %s", PQerrorMessage(c->db->conn));
	}
	buf_reset(&c->b);
}

int db_copy_begin(struct db *db, const char *copy_sql, struct db_copy **ret, struct err_detail *err)
{
	PGresult *res = PQexec(db->conn, copy_sql);

	if (PQresultStatus(res) != PGRES_COPY_IN) {
		int rc = server_error(db, res, "COPY", err);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	struct db_copy *c = xcalloc(1, sizeof(*c));
	c->db = db;
	buf_init(&c->b, 0);
	buf_add(&c->b, "PGCOPY\n\377\r\n\0", 11);
	put_be32(&c->b, 0); /* flags */
	put_be32(&c->b, 0); /* header extension length */
	*ret = c;
	return ERR_OK;
}

void db_copy_row(struct db_copy *c, int nfields)
{
	flush(c, false);
	put_be16(&c->b, (uint16_t)nfields);
}

void db_copy_int4(struct db_copy *c, int32_t v)
{
	put_be32(&c->b, 4);
	put_be32(&c->b, (uint32_t)v);
}

void db_copy_int8(struct db_copy *c, int64_t v)
{
	put_be32(&c->b, 8);
	put_be64(&c->b, (uint64_t)v);
}

void db_copy_float8(struct db_copy *c, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	put_be32(&c->b, 8);
	put_be64(&c->b, u);
}

void db_copy_bool(struct db_copy *c, bool v)
{
	put_be32(&c->b, 1);
	buf_addc(&c->b, v ? 1 : 0);
}

void db_copy_time(struct db_copy *c, int64_t t)
{
	db_copy_int8(c, (t - PG_EPOCH_OFFSET) * 1000000);
}

void db_copy_null(struct db_copy *c)
{
	put_be32(&c->b, 0xffffffffu);
}

int db_copy_end(struct db_copy *c, bool abort, struct err_detail *err)
{
	struct db *db = c->db;
	int rc = ERR_OK;
	PGresult *res;

	if (!abort) {
		put_be16(&c->b, 0xffffu);
		flush(c, true);
	}
	if (PQputCopyEnd(db->conn, abort || c->error ? "aborted by carbonsched" : NULL) != 1 && !c->error) {
		c->error = ERR_DB;
		snprintf(c->msg, sizeof(c->msg), "COPY end failed: %s", PQerrorMessage(db->conn));
	}
	while ((res = PQgetResult(db->conn))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !c->error && !abort)
			rc = server_error(db, res, "COPY", err);
		PQclear(res);
	}
	if (c->error && !abort)
		rc = err_set(err, c->error, NULL, "%s", c->msg);
	buf_release(&c->b);
	free(c);
	return rc;
}

/* --- LISTEN/NOTIFY --------------------------------------------------------- */

int db_listen(struct db *db, const char *channel, struct err_detail *err)
{
	char *ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
	char sql[200];
	int rc;

	if (!ident)
		return err_set(err, ERR_DB, NULL, "cannot quote channel name");
	snprintf(sql, sizeof(sql), "LISTEN %s", ident);
	PQfreemem(ident);
	rc = db_exec_sql(db, sql, err);
	return rc;
}

bool db_wait_notify(struct db *db, int timeout_ms, char *buf, size_t size)
{
	return db_wait_notification(db, timeout_ms, NULL, 0, buf, size);
}

bool db_wait_notification(struct db *db, int timeout_ms, char *channel, size_t csize, char *buf, size_t size)
{
	PGnotify *n;
	struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};

	PQconsumeInput(db->conn);
	if (!(n = PQnotifies(db->conn))) {
		if (pfd.fd < 0 || poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		if (!PQconsumeInput(db->conn)) {
			db->broken = true;
			return false;
		}
		if (!(n = PQnotifies(db->conn)))
			return false;
	}
	snprintf(buf, size, "%s", n->extra);
	if (channel && csize)
		snprintf(channel, csize, "%s", n->relname);
	PQfreemem(n);
	return true;
}
