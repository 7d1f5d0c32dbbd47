/*
 * 'carbonsched run-when-green' as a user runs it: against a canned
 * /v1/schedule on loopback (a small server in this file answering what a
 * test sets: a plan, a 5xx, a refusal, garbage, or nothing at all), with
 * real commands: the wait, the request it sends, exit statuses, signals
 * passed on, --strict.  The wait is measured on the service's clock (a
 * replay clock here: 2021), so none of it depends on the real date.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

/* --- the canned service ------------------------------------------------------------------- */

static struct {
	pthread_mutex_t mu;
	pthread_t thread;
	int fd, port;
	bool stop;
	int status;	 /* of POST /v1/schedule */
	char body[2048]; /* its answer */
	char ctype[64];
	char sent[4096]; /* the last body received by /v1/schedule or /v1/jobs */
	int schedules, healthz;
	char log[8192];	     /* "METHOD PATH BODY" of every request, one a line */
	int complete_status; /* of POST /v1/jobs/{id}/complete */
	char complete_body[1024];
	char url[64];
} fake = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void answer(int c, int status, const char *ctype, const char *body)
{
	char head[256];
	int n =
	    snprintf(head, sizeof(head),
		     "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, ctype, strlen(body));

	if (write(c, head, (size_t)n) < 0 || write(c, body, strlen(body)) < 0)
		return;
}

static void serve_one(int c)
{
	char req[8192];
	size_t len = 0;
	char *end = NULL;

	while (len < sizeof(req) - 1) {
		ssize_t n = read(c, req + len, sizeof(req) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if ((end = strstr(req, "\r\n\r\n"))) {
			const char *cl = strcasestr(req, "Content-Length:");
			size_t want = cl ? (size_t)atol(cl + 15) : 0;

			if (len - (size_t)(end + 4 - req) >= want)
				break;
		}
	}
	req[len] = '\0';
	if (!end)
		return;
	pthread_mutex_lock(&fake.mu);
	size_t used = strlen(fake.log);
	snprintf(fake.log + used, sizeof(fake.log) - used, "%.*s %s\n", (int)strcspn(req, "\r"), req,
		 end + 4);
	if (!strncmp(req, "GET /healthz ", 13)) {
		fake.healthz++;
		answer(
		    c, 200, "application/json",
		    "{\"status\":\"ok\",\"clock\":{\"mode\":\"replay\",\"now\":\"2021-11-01T00:00:00Z\"}}");
	} else if (!strncmp(req, "POST /v1/jobs/", 14) && strstr(req, "/start ")) {
		answer(c, 200, "application/json",
		       "{\"id\":\"job-1\",\"state\":\"running\",\"started_at\":\"2021-11-01T00:00:01Z\"}");
	} else if (!strncmp(req, "POST /v1/jobs/", 14) && strstr(req, "/complete ")) {
		answer(c, fake.complete_status,
		       fake.complete_status < 300 ? "application/json" : "application/problem+json",
		       fake.complete_body);
	} else if (!strncmp(req, "POST /v1/schedule ", 18) || !strncmp(req, "POST /v1/jobs ", 14)) {
		fake.schedules++;
		snprintf(fake.sent, sizeof(fake.sent), "%s", end + 4);
		answer(c, fake.status, fake.ctype, fake.body);
	} else {
		answer(c, 404, "application/problem+json", "{\"status\":404,\"detail\":\"no route\"}");
	}
	pthread_mutex_unlock(&fake.mu);
}

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p = {fake.fd, POLLIN, 0};
		bool stop;

		pthread_mutex_lock(&fake.mu);
		stop = fake.stop;
		pthread_mutex_unlock(&fake.mu);
		if (stop)
			break;
		if (poll(&p, 1, 100) <= 0)
			continue;
		int c = accept(fake.fd, NULL, NULL);
		if (c >= 0) {
			serve_one(c);
			close(c);
		}
	}
	return NULL;
}

static void canned(int status, const char *body)
{
	pthread_mutex_lock(&fake.mu);
	fake.status = status;
	snprintf(fake.body, sizeof(fake.body), "%s", body);
	snprintf(fake.ctype, sizeof(fake.ctype), "%s",
		 status < 300 ? "application/json" : "application/problem+json");
	fake.sent[0] = '\0';
	fake.log[0] = '\0';
	fake.schedules = fake.healthz = 0;
	fake.complete_status = 200;
	snprintf(
	    fake.complete_body, sizeof(fake.complete_body),
	    "{\"id\":\"job-1\",\"state\":\"completed\",\"realised\":{\"emissions_g\":12,\"baseline_g\":20}}");
	pthread_mutex_unlock(&fake.mu);
}

static int suite_init(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	fake.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fake.fd < 0 || bind(fake.fd, (struct sockaddr *)&a, sizeof(a)) || listen(fake.fd, 16) ||
	    getsockname(fake.fd, (struct sockaddr *)&a, &len))
		return 1;
	fake.port = ntohs(a.sin_port);
	snprintf(fake.url, sizeof(fake.url), "http://127.0.0.1:%d", fake.port);
	return pthread_create(&fake.thread, NULL, serve, NULL);
}

static int suite_clean(void)
{
	pthread_mutex_lock(&fake.mu);
	fake.stop = true;
	pthread_mutex_unlock(&fake.mu);
	pthread_join(fake.thread, NULL);
	close(fake.fd);
	return 0;
}

/* --- running it ------------------------------------------------------------------------------ */

static const char *plan_in_2s = "{\"region\":\"DE\",\"start\":\"2021-11-01T00:00:02Z\",\"end\":\"2021-11-"
				"01T02:00:02Z\",\"expected_g\":100,"
				"\"baseline_g\":400,\"saving_pct\":75,\"as_of\":\"2021-11-01T00:00:00Z\"}";

static int rwg(const char *const *extra, const char *const *command, char **out, char **err)
{
	const char *args[40];
	int n = 0;

	args[n++] = "run-when-green";
	for (; extra && *extra; extra++)
		args[n++] = *extra;
	args[n++] = "--";
	for (; *command; command++)
		args[n++] = *command;
	args[n] = NULL;
	return itest_run(args, NULL, out, err);
}

static void test_waits_then_runs(void)
{
	const char *opts[] = {"--server", fake.url,	"--origin", "DE", "--duration",
			      "PT2H",	  "--deadline", "8h",	    NULL};
	const char *cmd[] = {"sh", "-c", "echo ran; exit 3", NULL};
	char *out = NULL, *err = NULL;
	int64_t t0 = ts_mono_ms();

	canned(200, plan_in_2s);
	TL_ASSERT_INT_EQ(rwg(opts, cmd, &out, &err), 3);
	/* It waited for the planned start: 2 s on the service's clock. */
	TL_ASSERT(ts_mono_ms() - t0 >= 1900);
	TL_ASSERT_STR_EQ(out, "ran\n");
	TL_ASSERT_CONTAINS(
	    err, "the greenest start in DE is 2021-11-01T00:00:02Z, in 2s; expected 100 g CO2eq, 400 g "
		 "if run now (-75.0 %)");
	TL_ASSERT_CONTAINS(err, "starting 'sh'");
	TL_ASSERT_CONTAINS(err, "'sh' exited with status 3 after ");
	TL_ASSERT(strchr(err, '\r') == NULL); /* no countdown without a terminal */

	/* What it asked: the origin only (it runs here), a deadline 8 h after
	 * the service's now. */
	json_t *j = json_loads(fake.sent, 0, NULL);
	TL_ASSERT(j != NULL);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "duration")), "PT2H");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "deadline")), "2021-11-01T08:00:00Z");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "origin")), "DE");
	TL_ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(j, "regions"), 0)), "DE");
	TL_ASSERT_INT_EQ(json_array_size(json_object_get(j, "regions")), 1);
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(j, "power_kw")), 1, 0);
	pthread_mutex_lock(&fake.mu); /* the fake's thread counts under it */
	int healthz = fake.healthz;
	pthread_mutex_unlock(&fake.mu);
	TL_ASSERT_INT_EQ(healthz, 1);
	json_decref(j);
	free(out);
	free(err);
}

static void test_start_in_the_past_runs_now(void)
{
	const char *opts[] = {"--server",   fake.url, "--origin",   "SE",
			      "--duration", "90m",    "--deadline", "2021-11-01T06:00:00Z",
			      "--power-kw", "12.5",   NULL};
	const char *cmd[] = {"true", NULL};
	char *out = NULL, *err = NULL;
	int64_t t0 = ts_mono_ms();

	canned(200,
	       "{\"region\":\"SE\",\"start\":\"2021-10-31T23:00:00Z\",\"as_of\":\"2021-11-01T00:00:00Z\"}");
	TL_ASSERT_INT_EQ(rwg(opts, cmd, &out, &err), 0);
	TL_ASSERT_CONTAINS(err, "the greenest start in SE is now (planned 2021-10-31T23:00:00Z)");
	TL_ASSERT_CONTAINS(err, "'true' exited with status 0");
	TL_ASSERT(ts_mono_ms() - t0 < 60000);
	/* An absolute deadline is sent as given. */
	json_t *j = json_loads(fake.sent, 0, NULL);
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "deadline")), "2021-11-01T06:00:00Z");
	TL_ASSERT_STR_EQ(json_string_value(json_object_get(j, "duration")), "PT1H30M");
	TL_ASSERT_DBL_EQ(json_number_value(json_object_get(j, "power_kw")), 12.5, 0);
	TL_ASSERT_INT_EQ(fake.healthz, 1); /* the service's clock, asked once */
	json_decref(j);
	free(out);
	free(err);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* No usable plan: run at once with a warning, or with --strict fail (75)
 * without running anything. */
static void no_plan(int status, const char *body, const char *says)
{
	char marker[600], script[700];
	const char *lax[] = {"--server", fake.url,     "--origin", "DE", "--duration",
			     "PT1H",	 "--deadline", "4h",	   NULL};
	const char *strict[] = {"--server", fake.url,	  "--origin", "DE",	  "--duration",
				"PT1H",	    "--deadline", "4h",	      "--strict", NULL};
	const char *cmd[] = {"sh", "-c", script, NULL};
	char *out = NULL, *err = NULL;

	snprintf(marker, sizeof(marker), "%s/ran-%d", itest_tmpdir(), status);
	snprintf(script, sizeof(script), "touch '%s'; exit 5", marker);
	unlink(marker);
	canned(status, body);
	TL_ASSERT_INT_EQ(rwg(strict, cmd, &out, &err), 75);
	TL_ASSERT(!exists(marker));
	TL_ASSERT_CONTAINS(err, "--strict: not running 'sh'");
	TL_ASSERT_CONTAINS(err, says);
	free(out);
	free(err);
	TL_ASSERT_INT_EQ(rwg(lax, cmd, &out, &err), 5);
	TL_ASSERT(exists(marker));
	TL_ASSERT_CONTAINS(err, "warning: no plan from the service (");
	TL_ASSERT_CONTAINS(err, says);
	TL_ASSERT_CONTAINS(err, "running 'sh' now");
	free(out);
	free(err);
}

static void test_no_plan(void)
{
	no_plan(503, "{\"status\":503,\"detail\":\"the database is unavailable; retry later\"}", "HTTP 503");
	no_plan(500, "oops", "HTTP 500");
	no_plan(422, "{\"status\":422,\"detail\":\"the window reaches past the forecast horizon\"}",
		"the window reaches past the forecast horizon");
	no_plan(200, "{\"region\":\"DE\"}", "has no valid 'start'");
	no_plan(200, "not json", "has no valid 'start'");
}

static void test_unreachable(void)
{
	char url[64], marker[600], script[700];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was free a moment ago and has no listener. */
	TL_ASSERT(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
		  !getsockname(fd, (struct sockaddr *)&a, &len));
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	snprintf(marker, sizeof(marker), "%s/ran-unreachable", itest_tmpdir());
	snprintf(script, sizeof(script), "touch '%s'", marker);
	const char *opts[] = {"--server", url,		"--origin", "DE", "--duration",
			      "PT1H",	  "--deadline", "4h",	    NULL};
	const char *strict[] = {"--server", url,	  "--origin", "DE",	  "--duration",
				"PT1H",	    "--deadline", "4h",	      "--strict", NULL};
	const char *cmd[] = {"sh", "-c", script, NULL};
	char *out = NULL, *err = NULL;

	TL_ASSERT_INT_EQ(rwg(strict, cmd, &out, &err), 75);
	TL_ASSERT(!exists(marker));
	TL_ASSERT_CONTAINS(err, "Couldn't connect to server");
	free(out);
	free(err);
	TL_ASSERT_INT_EQ(rwg(opts, cmd, &out, &err), 0);
	TL_ASSERT(exists(marker));
	TL_ASSERT_CONTAINS(err, "warning: no plan from the service");
	free(out);
	free(err);
}

static void test_exit_statuses(void)
{
	const char *opts[] = {"--server", fake.url,	"--origin", "DE", "--duration",
			      "PT1H",	  "--deadline", "4h",	    NULL};
	const char *killed[] = {"sh", "-c", "kill -TERM $$", NULL};
	const char *missing[] = {"no-such-command-anywhere", "x", NULL};
	const char *args_pass[] = {"sh", "-c", "echo \"$1 $2\"; exit 0", "sh", "--deadline", "-x", NULL};
	char *out = NULL, *err = NULL;

	canned(200,
	       "{\"region\":\"DE\",\"start\":\"2021-11-01T00:00:00Z\",\"as_of\":\"2021-11-01T00:00:00Z\"}");
	/* Killed by a signal: so are we (the shell sees 128 + 15). */
	TL_ASSERT_INT_EQ(rwg(opts, killed, &out, &err), 128 + SIGTERM);
	TL_ASSERT_CONTAINS(err, "'sh' was killed by signal 15");
	free(out);
	free(err);
	TL_ASSERT_INT_EQ(rwg(opts, missing, &out, &err), 127);
	TL_ASSERT_CONTAINS(err, "cannot run 'no-such-command-anywhere'");
	free(out);
	free(err);
	/* The command's own options are its own. */
	TL_ASSERT_INT_EQ(rwg(opts, args_pass, &out, &err), 0);
	TL_ASSERT_STR_EQ(out, "--deadline -x\n");
	free(out);
	free(err);
}

static void test_usage(void)
{
	static const struct {
		const char *args[12];
		const char *says;
	} cases[] = {
	    {{"run-when-green", "--duration", "PT1H", "--deadline", "4h", "--", "true", NULL},
	     "--origin is required"},
	    {{"run-when-green", "--origin", "DE", "--deadline", "4h", "--", "true", NULL},
	     "--duration is required"},
	    {{"run-when-green", "--origin", "DE", "--duration", "PT1H", "--", "true", NULL},
	     "--deadline is required"},
	    {{"run-when-green", "--origin", "DE", "--duration", "PT1H", "--deadline", "4h", NULL},
	     "no command given"},
	    {{"run-when-green", "--origin", "DE", "--duration", "soon", "--deadline", "4h", "--", "true",
	      NULL},
	     "--duration: "},
	    {{"run-when-green", "--origin", "DE", "--duration", "PT1H", "--deadline", "tomorrow", "--",
	      "true", NULL},
	     "--deadline: 'tomorrow' is neither an RFC 3339 time nor a duration"},
	    {{"run-when-green", "--origin", "DE", "--duration", "PT1H", "--deadline", "4h", "--power-kw",
	      "-1", "--", "true", NULL},
	     "--power-kw must be a number of kW above 0"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL, *err = NULL;

		TL_ASSERT_INT_EQ(itest_run(cases[i].args, NULL, &out, &err), 2);
		TL_ASSERT_CONTAINS(err, cases[i].says);
		free(out);
		free(err);
	}
}

/* --- signals ---------------------------------------------------------------------------------- */

static pid_t spawn(const char *const *args, const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644),
		    e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(o, 1);
		dup2(e, 2);
		execv(itest_bin(), (char *const *)args);
		_exit(126);
	}
	return pid;
}

static bool wait_for_text(const char *path, const char *text, int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		char *s = itest_slurp(path);
		bool found = strstr(s, text) != NULL;

		free(s);
		if (found)
			return true;
		struct timespec t = {0, 50 * 1000000L};
		nanosleep(&t, NULL);
	}
	return false;
}

static int wait_status(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_signals_are_passed_on(void)
{
	char out[600], err[600], marker[600], script[800];
	const char *args[] = {itest_bin(),  "run-when-green", "--server",   fake.url, "--origin", "DE",
			      "--duration", "PT1H",	      "--deadline", "4h",     "--",	  "sh",
			      "-c",	    script,	      NULL};
	char *text;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/sig.out", itest_tmpdir());
	snprintf(err, sizeof(err), "%s/sig.err", itest_tmpdir());
	snprintf(script, sizeof(script),
		 "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done");
	canned(200,
	       "{\"region\":\"DE\",\"start\":\"2021-11-01T00:00:00Z\",\"as_of\":\"2021-11-01T00:00:00Z\"}");
	pid = spawn(args, out, err);
	TL_ASSERT(wait_for_text(out, "ready", 20000));
	kill(pid, SIGTERM);
	TL_ASSERT_INT_EQ(wait_status(pid), 42);
	text = itest_slurp(out);
	TL_ASSERT_STR_EQ(text, "ready\ngot-term\n");
	free(text);
	text = itest_slurp(err);
	TL_ASSERT_CONTAINS(text, "'sh' exited with status 42");
	free(text);

	/* A signal while waiting: the command never starts. */
	snprintf(marker, sizeof(marker), "%s/ran-after-signal", itest_tmpdir());
	snprintf(script, sizeof(script), "touch '%s'", marker);
	canned(200,
	       "{\"region\":\"DE\",\"start\":\"2021-11-01T01:00:00Z\",\"as_of\":\"2021-11-01T00:00:00Z\"}");
	pid = spawn(args, out, err);
	TL_ASSERT(wait_for_text(err, "in 1h00m00s", 20000));
	kill(pid, SIGTERM);
	TL_ASSERT_INT_EQ(wait_status(pid), 128 + SIGTERM);
	TL_ASSERT(!exists(marker));
	text = itest_slurp(err);
	TL_ASSERT_CONTAINS(text, "stopped by signal 15 before 'sh' started; it did not run");
	free(text);
}

/* On a terminal (script(1) gives it one), a countdown; cleared before the
 * command starts. */
static void test_countdown_on_a_terminal(void)
{
	char cmd[1200], *text;
	FILE *p;

	if (system("command -v script >/dev/null 2>&1")) {
		printf("\n  SKIP countdown on a terminal: no script(1) (Debian package bsdutils)\n");
		return;
	}
	canned(200, plan_in_2s);
	snprintf(
	    cmd, sizeof(cmd),
	    "script -qec '%s run-when-green --server %s --origin DE --duration PT1H --deadline 4h -- true' "
	    "/dev/null 2>&1",
	    itest_bin(), fake.url);
	p = popen(cmd, "r");
	TL_ASSERT(p != NULL);
	text = calloc(1, 65536);
	size_t n = p ? fread(text, 1, 65535, p) : 0;
	text[n] = '\0';
	TL_ASSERT_INT_EQ(p ? pclose(p) : -1, 0);
	TL_ASSERT_CONTAINS(text, "\r\033[Kcarbonsched run-when-green: starting in 2s ");
	TL_ASSERT_CONTAINS(text, "starting in 1s ");
	TL_ASSERT_CONTAINS(text, "\r\033[Kcarbonsched run-when-green: starting 'true'");
	free(text);
}

/* --book: the run becomes a job of the service, told when it starts and
 * ends, with the energy measured. */
static void test_book(void)
{
	const char *opts[] = {"--server", fake.url,	"--origin", "DE",	  "--duration",
			      "PT1H",	  "--deadline", "4h",	    "--power-kw", "36",
			      "--book",	  "--name",	"nightly",  NULL};
	const char *cmd[] = {"sh", "-c", "sleep 0.2; exit 4", NULL};
	char *out = NULL, *err = NULL, log[8192];
	int64_t t0 = ts_mono_ms(), elapsed;

	canned(
	    201,
	    "{\"id\":\"job-1\",\"state\":\"scheduled\",\"region\":\"DE\",\"start\":\"2021-11-01T00:00:01Z\","
	    "\"expected_g\":10,\"baseline_g\":30,\"saving_pct\":66.7}");
	TL_ASSERT_INT_EQ(rwg(opts, cmd, &out, &err), 4);
	elapsed = ts_mono_ms() - t0;
	pthread_mutex_lock(&fake.mu);
	snprintf(log, sizeof(log), "%s", fake.log);
	pthread_mutex_unlock(&fake.mu);
	/* The service's now (the answer of a booking has no as_of), the booking,
	 * the start, the completion - in that order. */
	char *h = strstr(log, "GET /healthz"), *b = strstr(log, "POST /v1/jobs HTTP/1.1 {"),
	     *st = strstr(log, "POST /v1/jobs/job-1/start HTTP/1.1 {}"),
	     *co = strstr(log, "POST /v1/jobs/job-1/complete");
	TL_ASSERT(h && b && st && co && h < b && b < st && st < co);
	TL_ASSERT_CONTAINS(log, "\"name\":\"nightly\"");
	TL_ASSERT_CONTAINS(err,
			   "in 1s; expected 10 g CO2eq, 30 g if run now (-66.7 %) (booked as job job-1)");
	TL_ASSERT_CONTAINS(err, "job job-1: 12 g CO2eq emitted, 20 g if it had run at once (-40.0 %)");
	/* measured_kwh = 36 kW over the run, at least the 0.2 s it slept */
	const char *m = co ? strstr(co, "\"measured_kwh\":") : NULL;
	double kwh = m ? strtod(m + 15, NULL) : -1;
	TL_ASSERT(kwh >= 36 * 0.2 / 3600 && kwh <= 36 * (double)elapsed / 3600000.0);
	/* The end: the service's start plus the whole seconds measured (at least one). */
	const char *ca = co ? strstr(co, "\"completed_at\":\"") : NULL;
	int64_t end = 0, st0 = 1635724801;
	TL_ASSERT(ca && ts_parse_loose(ca + 16, 20, &end));
	TL_ASSERT(end >= st0 + 1 && end <= st0 + (elapsed + 999) / 1000);
	free(out);
	free(err);

	/* The service refusing the completion changes nothing for the command. */
	canned(201, "{\"id\":\"job-1\",\"region\":\"DE\",\"start\":\"2021-11-01T00:00:00Z\"}");
	pthread_mutex_lock(&fake.mu);
	fake.complete_status = 409;
	snprintf(fake.complete_body, sizeof(fake.complete_body),
		 "{\"status\":409,\"detail\":\"job is cancelled\"}");
	pthread_mutex_unlock(&fake.mu);
	TL_ASSERT_INT_EQ(rwg(opts, cmd, &out, &err), 4);
	TL_ASSERT_CONTAINS(err, "warning: could not tell the service that job job-1 completed");
	TL_ASSERT_CONTAINS(err, "job is cancelled");
	free(out);
	free(err);
	/* A booking without an id is no plan. */
	canned(201, "{\"region\":\"DE\",\"start\":\"2021-11-01T00:00:00Z\"}");
	TL_ASSERT_INT_EQ(rwg(opts, cmd, &out, &err), 4);
	TL_ASSERT_CONTAINS(err, "has no job id");
	free(out);
	free(err);
}

static CU_TestInfo tests[] = {
    {"waits for the planned start, then runs", test_waits_then_runs},
    {"a start in the past runs now", test_start_in_the_past_runs_now},
    {"no plan: runs now, or --strict fails", test_no_plan},
    {"service unreachable", test_unreachable},
    {"exit statuses", test_exit_statuses},
    {"usage errors", test_usage},
    {"signals are passed on", test_signals_are_passed_on},
    {"countdown on a terminal", test_countdown_on_a_terminal},
    {"--book: a job told of its start and end", test_book},
    CU_TEST_INFO_NULL,
};
TL_SUITE("run-when-green", suite_init, suite_clean, tests)
