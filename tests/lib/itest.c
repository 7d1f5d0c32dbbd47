/*
 * itest.c - integration helpers (see itest.h).  Test code may use libpq,
 * libcurl and jansson directly: the one-adapter rule is for the product.
 */
#include "tests/lib/itest.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "tests/lib/testlib.h"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "itest: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(3);
}

bool itest_have_db(void)
{
	return getenv("CARBONSCHED_TEST_PGHOST") != NULL;
}

static void admin_conninfo(char *out, size_t size, const char *db)
{
	snprintf(out, size, "host=%s user=carbonsched dbname=%s", getenv("CARBONSCHED_TEST_PGHOST"), db);
}

void itest_db_new(const char *prefix, char *out, size_t size)
{
	static int counter;
	char admin[512], sql[256], name[96];
	PGconn *c;
	PGresult *r;

	if (!itest_have_db())
		die("no test database (run through 'make test')");
	admin_conninfo(admin, sizeof(admin), "postgres");
	snprintf(name, sizeof(name), "t_%s_%d_%d", prefix, (int)getpid(), ++counter);
	for (char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	c = PQconnectdb(admin);
	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect to the test cluster: %s", PQerrorMessage(c));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	admin_conninfo(out, size, name);
}

char *itest_sql(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;
	char *v = NULL;

	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
		die("%s: %s", sql, PQerrorMessage(c));
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

long long itest_sql_int(const char *conninfo, const char *sql)
{
	char *v = itest_sql(conninfo, sql);
	long long n = v ? atoll(v) : 0;

	free(v);
	return n;
}

const char *itest_bin(void)
{
	const char *b = getenv("CARBONSCHED_BIN");

	return b ? b : "build/carbonsched";
}

const char *itest_tmpdir(void)
{
	static char dir[512];

	if (!dir[0]) {
		const char *base = getenv("CARBONSCHED_TEST_TMP");

		snprintf(dir, sizeof(dir), "%s/itest-%d", base ? base : "/tmp", (int)getpid());
		if (mkdir(dir, 0755) && errno != EEXIST)
			die("mkdir %s: %s", dir, strerror(errno));
	}
	return dir;
}

const char *itest_write_file(const char *name, const char *text)
{
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", itest_tmpdir(), name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f))
		die("cannot write %s", path);
	return path;
}

char *itest_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b, 0);
	if (f) {
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&b, chunk, n);
		fclose(f);
	}
	return buf_detach(&b, NULL);
}

int itest_timeout_scale(void)
{
	const char *s = getenv("CARBONSCHED_TEST_TIMEOUT_SCALE");
	int k = s ? atoi(s) : 1;

	return k > 0 ? k : 1;
}

static pid_t spawn(const char *const *args, const char *const *env, const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		const char *argv[64];
		char *wrapper = getenv("CARBONSCHED_TEST_WRAPPER"), *save = NULL;
		int n = 0;

		/* make valgrind: the binary runs under the wrapper's words. */
		for (char *w = wrapper ? strtok_r(wrapper, " ", &save) : NULL; w && n < 32;
		     w = strtok_r(NULL, " ", &save))
			argv[n++] = w;
		argv[n++] = itest_bin();
		for (int i = 0; args[i] && n < 62; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		int fo = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fo < 0 || fe < 0)
			_exit(126);
		dup2(fo, 1);
		dup2(fe, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int itest_run(const char *const *args, const char *const *env, char **ret_out, char **ret_err)
{
	static int n;
	char out[600], err[600];

	snprintf(out, sizeof(out), "%s/run-%d.out", itest_tmpdir(), ++n);
	snprintf(err, sizeof(err), "%s/run-%d.err", itest_tmpdir(), n);
	int status = wait_status(spawn(args, env, out, err));
	if (ret_out)
		*ret_out = itest_slurp(out);
	if (ret_err)
		*ret_err = itest_slurp(err);
	return status;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Servers' admin keys by base URL, for itest_http. */
static struct {
	char base[64], auth[160];
} served[256];
static int nserved;

static const char *auth_for(const char *url)
{
	for (int i = nserved - 1; i >= 0; i--) {
		size_t n = strlen(served[i].base);
		if (!strncmp(url, served[i].base, n) && (url[n] == '/' || !url[n]))
			return served[i].auth;
	}
	return NULL;
}

/* 'carbonsched keys create --scopes admin' on the database; "" when it fails. */
static void make_key(const char *dbenv, char *out, size_t size)
{
	const char *args[] = {"keys", "create", "--scopes", "admin", "--name", "itest", NULL};
	const char *env[] = {dbenv, NULL};
	char *o = NULL, *e = NULL;
	int st = itest_run(args, env, &o, &e);

	out[0] = '\0';
	if (st == 0 && o)
		snprintf(out, size, "%.*s", (int)strcspn(o, "\n"), o);
	else
		fprintf(stderr, "itest: keys create failed (%d): %s\n", st, e ? e : "");
	free(o);
	free(e);
}

static bool serve_probe(const char *url, const char *ca)
{
	struct itest_response r;
	bool ok;

	if (!ca) {
		ok = itest_http("GET", url, NULL, NULL, &r) && r.status == 200;
		itest_response_free(&r);
		return ok;
	}
	CURL *c = curl_easy_init();
	long status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	ok = curl_easy_perform(c) == CURLE_OK;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return ok && status == 200;
}

static void serve(const char *config_json, const char *conninfo, const char *const *env, const char *ca,
		  struct itest_server *ret);

void itest_serve(const char *config_json, const char *conninfo, const char *const *env,
		 struct itest_server *ret)
{
	serve(config_json, conninfo, env, NULL, ret);
}

void itest_serve_https(const char *config_json, const char *conninfo, const char *ca_file,
		       struct itest_server *ret)
{
	serve(config_json, conninfo, NULL, ca_file, ret);
}

static void serve(const char *config_json, const char *conninfo, const char *const *env, const char *ca,
		  struct itest_server *ret)
{
	static int n;
	char cfg[600], portfile[600], dbenv[600];
	const char *args[] = {"serve", "--config", cfg, "--port-file", portfile, NULL};
	const char *envs[32];
	int k = 0;

	memset(ret, 0, sizeof(*ret));
	n++;
	snprintf(cfg, sizeof(cfg), "%s/serve-%d.json", itest_tmpdir(), n);
	snprintf(portfile, sizeof(portfile), "%s/serve-%d.port", itest_tmpdir(), n);
	snprintf(ret->log, sizeof(ret->log), "%s/serve-%d.log", itest_tmpdir(), n);
	snprintf(dbenv, sizeof(dbenv), "CARBONSCHED_DATABASE_URL=%s", conninfo);
	FILE *f = fopen(cfg, "w");
	if (!f || fputs(config_json, f) < 0 || fclose(f))
		die("cannot write %s", cfg);
	unlink(portfile);
	make_key(dbenv, ret->key, sizeof(ret->key));
	if (ret->key[0])
		snprintf(ret->auth, sizeof(ret->auth), "Authorization: Bearer %s", ret->key);
	envs[k++] = dbenv;
	envs[k++] = "CARBONSCHED_LISTEN=127.0.0.1:0";
	if (!strstr(config_json, "rate_per_s"))
		envs[k++] = "CARBONSCHED_AUTH_RATE_PER_S=0"; /* env entries after it may still set it */
	for (int i = 0; env && env[i] && k < 30; i++)
		envs[k++] = env[i];
	envs[k] = NULL;
	ret->pid = spawn(args, envs, NULL, ret->log);
	for (int waited = 0; waited < 20000 * itest_timeout_scale(); waited += 50) {
		char *p = itest_slurp(portfile);
		int port = atoi(p);

		free(p);
		if (port > 0) {
			ret->port = port;
			snprintf(ret->base, sizeof(ret->base), "%s://127.0.0.1:%d", ca ? "https" : "http",
				 port);
			if (!auth_for(ret->base) || strcmp(auth_for(ret->base), ret->auth)) {
				int slot = nserved < (int)ARRAY_SIZE(served) ? nserved++
									     : (int)ARRAY_SIZE(served) - 1;
				snprintf(served[slot].base, sizeof(served[slot].base), "%s", ret->base);
				snprintf(served[slot].auth, sizeof(served[slot].auth), "%s", ret->auth);
			}
			char url[128];
			snprintf(url, sizeof(url), "%s/healthz", ret->base);
			if (serve_probe(url, ca))
				return;
		}
		if (waitpid(ret->pid, NULL, WNOHANG) == ret->pid)
			break;
		sleep_ms(50);
	}
	char *log = itest_slurp(ret->log);
	fprintf(stderr, "itest: the service did not start; its log:\n%s\n", log);
	free(log);
	kill(ret->pid, SIGKILL);
	die("serve did not start");
}

int itest_stop(struct itest_server *s)
{
	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	int st = wait_status(s->pid);
	s->pid = 0;
	return st;
}

static size_t body_cb(char *p, size_t size, size_t n, void *ud)
{
	buf_add(ud, p, size * n);
	return size * n;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
	struct itest_response *r = ud;
	size_t len = strlen(r->headers);

	snprintf(r->headers + len, sizeof(r->headers) - len, "%.*s", (int)(size * n), p);
	return size * n;
}

bool itest_http(const char *method, const char *url, const char *const *headers, const char *body,
		struct itest_response *ret)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct buf b;
	char *ct = NULL;
	CURLcode rc;

	bool own_key = false;

	memset(ret, 0, sizeof(*ret));
	buf_init(&b, 0);
	for (int i = 0; headers && headers[i]; i++) {
		own_key |= !strncasecmp(headers[i], "Authorization:", 14) ||
			   !strncasecmp(headers[i], "X-Api-Key:", 10);
		h = curl_slist_append(h, headers[i]);
	}
	const char *auth = own_key ? NULL : auth_for(url);
	if (auth && auth[0])
		h = curl_slist_append(h, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, ret);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L * itest_timeout_scale());
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(ret->content_type, sizeof(ret->content_type), "%s", ct ? ct : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	ret->body = buf_detach(&b, NULL);
	return rc == CURLE_OK;
}

void itest_response_free(struct itest_response *r)
{
	free(r->body);
	r->body = NULL;
}

json_t *itest_get_json(const struct itest_server *s, const char *path, long *ret_status)
{
	struct itest_response r;
	char url[1024];
	json_error_t je;
	json_t *j;

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	if (!itest_http("GET", url, NULL, NULL, &r))
		die("GET %s failed", url);
	j = json_loads(r.body, 0, &je);
	if (!j)
		die("GET %s: not JSON (%s): %.300s", url, je.text, r.body);
	if (ret_status)
		*ret_status = r.status;
	itest_response_free(&r);
	return j;
}

int itest_suite_init(void)
{
	if (!itest_have_db()) {
		fprintf(stderr, "integration tests need the throwaway PostgreSQL of 'make test'\n");
		return 1;
	}
	return 0;
}
