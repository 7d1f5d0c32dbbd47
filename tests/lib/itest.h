/*
 * itest.h - integration-test helpers: the throwaway PostgreSQL started by
 * tests/run.sh, the real binary, HTTP against it.
 *
 * Every test gets its own database (itest_db_new) in the shared throwaway
 * cluster, so tests never see each other's rows.
 */
#ifndef CARBONSCHED_TESTS_ITEST_H
#define CARBONSCHED_TESTS_ITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* True when tests/run.sh provided a cluster; tests skip (saying so) when not. */
bool itest_have_db(void);

/* Create a fresh database; writes its conninfo into out. Fatal on failure. */
void itest_db_new(const char *prefix, char *out, size_t size);

/* Run one SQL query on a database and return the first column of the
 * first row as a new string (NULL when no row).  Fatal on SQL error. */
char *itest_sql(const char *conninfo, const char *sql);
long long itest_sql_int(const char *conninfo, const char *sql);

/* A CUnit suite init for suites that need the database: 1 (the suite
 * fails, saying why) without the throwaway cluster of 'make test'. */
int itest_suite_init(void);

/* The whole of a file as a new string; "" when it cannot be read. */
char *itest_slurp(const char *path);

/* Path of the binary under test ($CARBONSCHED_BIN or build/carbonsched). */
const char *itest_bin(void);
/* A scratch directory private to this process (under the harness tmp). */
const char *itest_tmpdir(void);
/* Write text to a new file in the scratch directory; returns its path
 * (static storage, valid until the next call). */
const char *itest_write_file(const char *name, const char *text);

/* The binary runs under $CARBONSCHED_TEST_WRAPPER when set (words split on
 * spaces, e.g. "valgrind --error-exitcode=99": make valgrind), in
 * itest_run and itest_serve.  Waits of the harness (start-up, HTTP) are
 * multiplied by $CARBONSCHED_TEST_TIMEOUT_SCALE (default 1); tests with
 * their own deadlines may use it too. */
int itest_timeout_scale(void);

/* Run the binary with args (NULL-terminated, without argv[0]) and extra
 * environment "K=V" entries (NULL-terminated, may be NULL).  Captures
 * stdout and stderr (new strings, may be NULL); returns the exit status
 * (128 + signal when killed). */
int itest_run(const char *const *args, const char *const *env, char **ret_out, char **ret_err);

struct itest_server {
	pid_t pid;
	int port;
	char base[64];	/* "http://127.0.0.1:PORT" */
	char log[1024]; /* its stderr */
	char key[128];	/* an admin API key of its database ("" when it could not be made) */
	char auth[160]; /* "Authorization: Bearer <key>", for clients of a test's own */
};

/* Start 'carbonsched serve' with config text (listen forced to
 * 127.0.0.1:0) and database; waits until /healthz answers.  Fatal when
 * it does not start within 20 s (the log is printed).
 *
 * Before serving it makes an admin API key in the database with
 * 'carbonsched keys create' (ret->key); itest_http sends it on every
 * request to this server that does not carry its own Authorization or
 * X-Api-Key header.  Unless the config text mentions "rate_per_s" or env
 * sets it, the server runs without rate limits
 * (CARBONSCHED_AUTH_RATE_PER_S=0): tests of other features send requests
 * as fast as they can. */
void itest_serve(const char *config_json, const char *conninfo, const char *const *env,
		 struct itest_server *ret);
/* The same for a config that serves HTTPS (tls.*): waits on
 * https://127.0.0.1:PORT/healthz trusting only the PEM file ca_file. */
void itest_serve_https(const char *config_json, const char *conninfo, const char *ca_file,
		       struct itest_server *ret);
/* SIGTERM, wait; returns the exit status. */
int itest_stop(struct itest_server *s);

struct itest_response {
	long status;
	char *body; /* new, NUL-terminated */
	char content_type[128];
	char headers[2048]; /* raw response headers */
};

/* One HTTP request; body may be NULL; headers is a NULL-terminated list of
 * "Name: value" (may be NULL).  Returns false on transport failure.
 * Requests to a server started by itest_serve carry its admin key unless
 * headers has Authorization or X-Api-Key (an empty "Authorization:" sends
 * none: the request goes without a key). */
bool itest_http(const char *method, const char *url, const char *const *headers, const char *body,
		struct itest_response *ret);
void itest_response_free(struct itest_response *r);

/* GET base+path and parse the JSON body; fatal when not JSON.  The result
 * is a new json_t (json_decref it); *ret_status gets the status. */
struct json_t *itest_get_json(const struct itest_server *s, const char *path, long *ret_status);

#endif
