/*
 * cmd_run_when_green.c - 'carbonsched run-when-green': make any command
 * (a cron job, a CI step) carbon-aware in one line.  It asks the service
 * when the grid of the origin region will be greenest before the deadline
 * (POST /v1/schedule, restricted to that region: the command runs here,
 * so only its start can move), waits, then runs the command.
 *
 * Exec semantics: the command inherits stdin, stdout and stderr, its exit
 * status becomes ours (a command killed by a signal kills us with the
 * same signal), and signals sent to us are forwarded to it.  Our own
 * messages go to stderr: the plan, the start and the completion with the
 * measured duration; a countdown only when stderr is a terminal.
 *
 * The service must never be why a job does not run: when it cannot be
 * reached or does not answer with a plan, the command runs at once with a
 * warning - unless --strict, which then exits with 75 (EX_TEMPFAIL) and
 * runs nothing.
 *
 * Times: the wait is the planned start minus the service's own now
 * (as_of of its answer), so a service replaying historical data on a demo
 * clock works as well as a live one; a --deadline given as a duration is
 * likewise counted from the service's now (GET /healthz).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "connectors/fetch.h"
#include "core/buf.h"
#include "core/time.h"
#include "service/commands.h"

#define EXIT_TEMPFAIL 75 /* sysexits.h: --strict and no plan */

static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

/* The API key (CARBONSCHED_API_KEY or --key-file) as a request header,
 * and as a secret that no message may show. */
static char key_header[192];
static const char *key_headers[2], *key_secrets[2];

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t stop_signal; /* a stop asked for while waiting */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: carbonsched run-when-green [--server URL] --origin R --duration D --deadline D\n"
	    "                                  [--power-kw P] [--strict] -- COMMAND [ARG...]\n\n"
	    "Ask the service when the grid of region R is greenest for a run of D that must end by the\n"
	    "deadline, wait until then, and run COMMAND (its stdin, stdout and stderr are ours, its exit\n"
	    "status becomes ours, signals sent to us are passed on to it).\n\n"
	    "  --server URL     the service (default $CARBONSCHED_SERVER, else http://127.0.0.1:8080)\n"
	    "  --key-file FILE  the file holding the API key (default: $CARBONSCHED_API_KEY); advice\n"
	    "                   needs scope schedule, --book too\n"
	    "  --origin R       the region this machine is in (a region id of the service)\n"
	    "  --duration D     how long COMMAND runs: PT2H, 90m, 1h30m\n"
	    "  --deadline D     when it must have finished: an RFC 3339 time, or a duration from now (8h)\n"
	    "  --power-kw P     its power draw, for the emissions reported (default 1)\n"
	    "  --strict         when the service cannot be asked, fail (exit 75) instead of running at "
	    "once\n\n"
	    "Progress and the outcome go to stderr (a countdown when it is a terminal).  Exit status: the\n"
	    "command's; 75 with --strict and no plan; 126/127 when COMMAND cannot be run; 2 usage error.\n"
	    "Cron: 0 22 * * * carbonsched run-when-green --origin DE --duration PT2H --deadline 8h -- "
	    "./nightly.sh\n");
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("carbonsched run-when-green: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *duration_text(int64_t s, char out[32])
{
	if (s < 0)
		s = 0;
	if (s >= TS_DAY)
		snprintf(out, 32, "%lldd%02lldh%02lldm", (long long)(s / TS_DAY),
			 (long long)(s % TS_DAY / 3600), (long long)(s % 3600 / 60));
	else if (s >= 3600)
		snprintf(out, 32, "%lldh%02lldm%02llds", (long long)(s / 3600), (long long)(s % 3600 / 60),
			 (long long)(s % 60));
	else if (s >= 60)
		snprintf(out, 32, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, 32, "%llds", (long long)s);
	return out;
}

/* --- asking the service ----------------------------------------------------------------- */

struct plan {
	bool ok;	   /* the service answered with a start */
	int64_t start;	   /* planned start (service clock) */
	int64_t as_of;	   /* the service's now when it answered */
	double expected_g; /* NAN when absent */
	double baseline_g;
	double saving_pct;
	char region[64];
	char id[64];   /* the booked job (--book), "" otherwise */
	char why[600]; /* when !ok */
};

/* The service's clock (GET /healthz): its now and, for a replay, how many
 * of its seconds pass in one real second.  Without an answer: ours. */
static void service_clock(struct fetch *f, const char *server, int64_t *ret_now, double *ret_speed)
{
	char url[1024];
	struct fetch_request rq = {.source = "service",
				   .url = url,
				   .accept = "json",
				   .headers = key_headers,
				   .secrets = key_secrets};
	struct fetch_response res;
	struct err_detail err;
	json_t *j, *c;
	const char *s;

	*ret_now = ts_now();
	*ret_speed = 1;
	snprintf(url, sizeof(url), "%s/healthz", server);
	if (fetch_get(f, &rq, &res, &err))
		return;
	j = json_loadb(res.body, res.len, 0, NULL);
	c = json_object_get(j, "clock");
	s = json_string_value(json_object_get(c, "now"));
	if (s && ts_parse(s, NULL, ret_now, NULL))
		*ret_now = ts_now();
	if (json_number_value(json_object_get(c, "speed")) > 0)
		*ret_speed = json_number_value(json_object_get(c, "speed"));
	json_decref(j);
	fetch_response_release(&res);
}

struct ask {
	const char *server, *origin, *name; /* name: book the run as a job under it (NULL: advice only) */
	int64_t duration, deadline;
	double power_kw;
	int64_t now; /* the service's now, for answers without as_of (bookings) */
};

static void ask(struct fetch *f, const struct ask *a, struct plan *p)
{
	char url[1024], dur[32], dl[TS_BUFSZ];
	struct fetch_request rq = {.source = "service",
				   .url = url,
				   .accept = "json",
				   .headers = key_headers,
				   .secrets = key_secrets};
	struct fetch_response res;
	struct err_detail err = {{0}, {0}};
	json_t *body, *j;
	char *text;
	const char *s;

	memset(p, 0, sizeof(*p));
	p->expected_g = p->baseline_g = p->saving_pct = NAN;
	snprintf(url, sizeof(url), "%s/v1/%s", a->server, a->name ? "jobs" : "schedule");
	/* Only the origin: the command runs on this machine. */
	body = json_pack("{s:s, s:s, s:s, s:[s], s:f}", "duration", ts_format_duration(a->duration, dur),
			 "deadline", ts_format(a->deadline, dl), "origin", a->origin, "regions", a->origin,
			 "power_kw", a->power_kw);
	if (a->name)
		json_object_set_new(body, "name", json_string(a->name));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	rq.body = text;
	rq.body_len = strlen(text);
	rq.content_type = "application/json";
	if (fetch_post(f, &rq, &res, &err)) {
		snprintf(p->why, sizeof(p->why), "%s", err.msg);
		free(text);
		return;
	}
	free(text);
	j = json_loadb(res.body, res.len, 0, NULL);
	fetch_response_release(&res);
	s = json_string_value(json_object_get(j, "start"));
	if (!s || ts_parse(s, NULL, &p->start, NULL)) {
		snprintf(p->why, sizeof(p->why), "the answer of %.400s has no valid 'start'", url);
		json_decref(j);
		return;
	}
	s = json_string_value(json_object_get(j, "as_of"));
	if (!s || ts_parse(s, NULL, &p->as_of, NULL))
		p->as_of = a->now;
	if (a->name) {
		s = json_string_value(json_object_get(j, "id"));
		if (!s || !*s || strlen(s) >= sizeof(p->id)) {
			snprintf(p->why, sizeof(p->why), "the answer of %.400s has no job id", url);
			json_decref(j);
			return;
		}
		snprintf(p->id, sizeof(p->id), "%s", s);
	}
	if (json_is_number(json_object_get(j, "expected_g")))
		p->expected_g = json_number_value(json_object_get(j, "expected_g"));
	if (json_is_number(json_object_get(j, "baseline_g")))
		p->baseline_g = json_number_value(json_object_get(j, "baseline_g"));
	if (json_is_number(json_object_get(j, "saving_pct")))
		p->saving_pct = json_number_value(json_object_get(j, "saving_pct"));
	snprintf(p->region, sizeof(p->region), "%s",
		 json_string_value(json_object_get(j, "region"))
		     ? json_string_value(json_object_get(j, "region"))
		     : a->origin);
	json_decref(j);
	p->ok = true;
}

/* Tell the service about a booked job: POST /v1/jobs/{id}/{what}.  A
 * failure is a warning: it never changes what happens to the command.
 * The answer (new, may be NULL) goes to *ret when ret is not NULL. */
static void tell(struct fetch *f, const char *server, const char *id, const char *what, const char *body,
		 json_t **ret)
{
	char url[1024];
	struct fetch_request rq = {.source = "service",
				   .url = url,
				   .accept = "json",
				   .headers = key_headers,
				   .secrets = key_secrets};
	struct fetch_response res;
	struct err_detail err = {{0}, {0}};

	if (ret)
		*ret = NULL;
	snprintf(url, sizeof(url), "%s/v1/jobs/%s/%s", server, id, what);
	rq.body = body;
	rq.body_len = strlen(body);
	rq.content_type = "application/json";
	if (fetch_post(f, &rq, &res, &err)) {
		say("warning: could not tell the service that job %s %s: %s", id,
		    !strcmp(what, "start") ? "started" : "completed", err.msg);
		return;
	}
	if (ret)
		*ret = json_loadb(res.body, res.len, 0, NULL);
	fetch_response_release(&res);
}

/* --- signals ------------------------------------------------------------------------------ */

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (child_pid > 0) {
		/* A signal the terminal sent to the whole foreground group has
		 * reached the command already: pass on only those sent to us. */
		if (si->si_code != SI_KERNEL || sig == SIGCONT || sig == SIGWINCH)
			kill((pid_t)child_pid, sig);
	} else if (sig != SIGCONT && sig != SIGWINCH) {
		stop_signal = sig;
	}
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
}

static void default_handlers(void)
{
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		signal(forwarded[i], SIG_DFL);
}

/* Die of 'sig' as the command did (the exit status a shell shows is then
 * 128 + sig, as if the command had run without us). */
static int die_of(int sig)
{
	sigset_t set;

	default_handlers();
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	fflush(NULL);
	raise(sig);
	return 128 + sig; /* a signal that does not kill (SIGCHLD...) */
}

/* --- waiting ------------------------------------------------------------------------------ */

static void sleep_ms(int64_t ms)
{
	struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&t, &t) && errno == EINTR && !stop_signal)
		;
}

/* Wait 'seconds' (monotonic), with a countdown on a terminal.  False when a
 * signal asked us to stop. */
static bool wait_for(int64_t seconds, const char *label)
{
	int64_t end = ts_mono_ms() + seconds * 1000;
	bool tty = isatty(STDERR_FILENO);
	char d[32];

	while (!stop_signal) {
		int64_t left = end - ts_mono_ms();

		if (left <= 0)
			break;
		if (tty) {
			fprintf(stderr, "\r\033[Kcarbonsched run-when-green: %s in %s ", label,
				duration_text((left + 999) / 1000, d));
			fflush(stderr);
		}
		sleep_ms(tty ? (left % 1000 ? left % 1000 : 1000) : (left < 60000 ? left : 60000));
	}
	if (tty)
		fputs("\r\033[K", stderr);
	return !stop_signal;
}

/* --- running ------------------------------------------------------------------------------ */

static int run(char **argv, int64_t *ret_ms)
{
	int64_t t0 = ts_mono_ms(), wall0 = ts_now();
	char t1[TS_BUFSZ], t2[TS_BUFSZ], d[32];
	sigset_t block, old;
	int status = 0;
	pid_t pid;

	/* Hold the forwarded signals until the child's pid is known. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		say("cannot start '%s': %s", argv[0], strerror(errno));
		return 1;
	}
	if (pid == 0) {
		default_handlers();
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[0], argv);
		int e = errno;
		say("cannot run '%s': %s", argv[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (stop_signal) /* asked to stop just before: pass it on */
		kill(pid, stop_signal);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			say("lost '%s': %s", argv[0], strerror(errno));
			return 1;
		}
	}
	child_pid = 0;
	int64_t ms = ts_mono_ms() - t0;
	*ret_ms = ms;
	ts_format(wall0, t1);
	ts_format(ts_now(), t2);
	if (WIFSIGNALED(status)) {
		say("'%s' was killed by signal %d (%s) after %s (%s to %s)", argv[0], WTERMSIG(status),
		    strsignal(WTERMSIG(status)), duration_text((ms + 500) / 1000, d), t1, t2);
		return -WTERMSIG(status);
	}
	say("'%s' exited with status %d after %s (%.3f s, %s to %s)", argv[0], WEXITSTATUS(status),
	    duration_text((ms + 500) / 1000, d), (double)ms / 1000, t1, t2);
	return WEXITSTATUS(status);
}

/* The realised figures of a completed job's answer, when already known. */
static void say_realised(const json_t *job, const char *id)
{
	json_t *r = json_object_get(job, "realised");
	double e = json_number_value(json_object_get(r, "emissions_g")),
	       b = json_number_value(json_object_get(r, "baseline_g"));

	if (json_is_number(json_object_get(r, "emissions_g")) &&
	    json_is_number(json_object_get(r, "baseline_g")))
		say("job %s: %.*f g CO2eq emitted, %.*f g if it had run at once (%+.1f %%)", id,
		    e < 10 ? 2 : 0, e, b < 10 ? 2 : 0, b, b > 0 ? (e - b) / b * 100 : 0.0);
	else
		say("job %s: completion reported; its emissions are computed when the grid's figures for the "
		    "run "
		    "arrive",
		    id);
}

int cmd_run_when_green(int argc, char **argv)
{
	static const struct option opts[] = {{"server", required_argument, NULL, 's'},
					     {"origin", required_argument, NULL, 'o'},
					     {"duration", required_argument, NULL, 'd'},
					     {"deadline", required_argument, NULL, 'D'},
					     {"power-kw", required_argument, NULL, 'p'},
					     {"strict", no_argument, NULL, 'S'},
					     {"book", no_argument, NULL, 'b'},
					     {"name", required_argument, NULL, 'n'},
					     {"key-file", required_argument, NULL, 'k'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *server = getenv("CARBONSCHED_SERVER"), *dur_s = NULL, *dl_s = NULL, *name = NULL,
		   *key = getenv("CARBONSCHED_API_KEY"), *key_file = NULL;
	char key_buf[160];
	struct err_detail err = {{0}, {0}};
	struct ask a = {.power_kw = 1};
	struct fetch_options fo;
	bool strict = false, book = false, deadline_relative = false;
	int64_t rel = 0, ms = 0, started_at = 0;
	double speed = 1;
	char srv[512], t1[TS_BUFSZ], d[32];
	struct fetch *f;
	struct plan p;
	int c, rc;

	optind = 1;
	/* '+': stop at the first non-option, the command's own options stay its own. */
	while ((c = getopt_long(argc, argv, "+s:o:d:D:p:Sbn:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'o': a.origin = optarg; break;
		case 'd': dur_s = optarg; break;
		case 'D': dl_s = optarg; break;
		case 'p': {
			char *end;
			a.power_kw = strtod(optarg, &end);
			if (*end || end == optarg || !(a.power_kw > 0) || a.power_kw > 1e6) {
				say("--power-kw must be a number of kW above 0, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'S': strict = true; break;
		case 'b': book = true; break;
		case 'n': name = optarg; break;
		case 'k': key_file = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!a.origin || !dur_s || !dl_s || optind >= argc) {
		say("%s", !a.origin ? "--origin is required"
			  : !dur_s  ? "--duration is required"
			  : !dl_s   ? "--deadline is required"
				    : "no command given (after --)");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (name && !book) {
		say("--name names a booked job: give --book too");
		return EXIT_USAGE;
	}
	if (ts_parse_duration(dur_s, "duration", &a.duration, &err)) {
		say("--duration: %s", err.msg);
		return EXIT_USAGE;
	}
	if (ts_parse(dl_s, "deadline", &a.deadline, NULL)) {
		if (ts_parse_duration(dl_s, "deadline", &rel, NULL)) {
			say("--deadline: '%s' is neither an RFC 3339 time nor a duration (8h, PT8H)", dl_s);
			return EXIT_USAGE;
		}
		deadline_relative = true;
	}
	if (key_file) {
		FILE *kf = fopen(key_file, "r");

		if (!kf || !fgets(key_buf, sizeof(key_buf), kf)) {
			say("--key-file: cannot read '%s'", key_file);
			if (kf)
				fclose(kf);
			return EXIT_USAGE;
		}
		fclose(kf);
		key_buf[strcspn(key_buf, "\r\n")] = '\0';
		key = key_buf;
	}
	if (key && *key) {
		snprintf(key_header, sizeof(key_header), "Authorization: Bearer %s", key);
		key_headers[0] = key_header;
		key_secrets[0] = key;
	}
	snprintf(srv, sizeof(srv), "%s", server && *server ? server : "http://127.0.0.1:8080");
	while (strlen(srv) > 1 && srv[strlen(srv) - 1] == '/')
		srv[strlen(srv) - 1] = '\0';
	a.server = srv;
	argv += optind;
	if (book) {
		const char *base = strrchr(argv[0], '/');

		a.name = name ? name : base ? base + 1 : argv[0];
	}

	install_handlers();
	fetch_options_default(&fo);
	fo.connect_timeout_ms = 3000;
	fo.timeout_ms = 15000;
	fo.max_attempts = 2;
	fo.backoff_base_ms = 300;
	fo.max_bytes = 4 << 20;
	fo.user_agent = "carbonsched-run-when-green";
	f = fetch_new(&fo);
	service_clock(f, srv, &a.now, &speed);
	if (deadline_relative)
		a.deadline = a.now + rel;
	ask(f, &a, &p);

	if (!p.ok) {
		if (strict) {
			say("no plan from the service (%s); --strict: not running '%s'", p.why, argv[0]);
			fetch_free(f);
			return EXIT_TEMPFAIL;
		}
		say("warning: no plan from the service (%s); running '%s' now", p.why, argv[0]);
	} else {
		/* Service seconds to real ones: a replay may run faster. */
		int64_t wait = (int64_t)ceil((double)(p.start - p.as_of) / speed);
		char saving[96] = "", job[96] = "", pace[64] = "";

		if (isfinite(p.saving_pct) && isfinite(p.expected_g) && isfinite(p.baseline_g))
			snprintf(saving, sizeof(saving),
				 "; expected %.0f g CO2eq, %.0f g if run now (%+.1f %%)", p.expected_g,
				 p.baseline_g, -p.saving_pct);
		if (p.id[0])
			snprintf(job, sizeof(job), " (booked as job %s)", p.id);
		if (wait <= 0) {
			say("the greenest start in %s is now (planned %s)%s%s", p.region,
			    ts_format(p.start, t1), saving, job);
		} else {
			if (speed != 1)
				snprintf(pace, sizeof(pace), " (the service's clock runs at %gx)", speed);
			say("the greenest start in %s is %s, in %s%s%s%s", p.region, ts_format(p.start, t1),
			    duration_text(wait, d), pace, saving, job);
			wait_for(wait, "starting");
		}
	}
	if (stop_signal) {
		say("stopped by signal %d before '%s' started; it did not run%s%s%s", (int)stop_signal,
		    argv[0], p.id[0] ? " (job " : "", p.id,
		    p.id[0] ? " stays booked: DELETE /v1/jobs/{id} cancels it)" : "");
		fetch_free(f);
		return die_of((int)stop_signal);
	}
	if (p.id[0]) {
		json_t *started;
		const char *at;

		tell(f, srv, p.id, "start", "{}", &started);
		at = json_string_value(json_object_get(started, "started_at"));
		if (!at || ts_parse(at, NULL, &started_at, NULL))
			started_at = 0;
		json_decref(started);
	}
	say("starting '%s'", argv[0]);
	rc = run(argv, &ms);
	if (p.id[0] && ms > 0) {
		char body[160], ts[TS_BUFSZ];
		json_t *done;

		/* The energy is the power announced over the time measured; the
		 * end is the service's start plus that time (whole seconds, at
		 * least one), whatever pace the service's clock keeps. */
		snprintf(body, sizeof(body), "{\"measured_kwh\":%.6f", a.power_kw * (double)ms / 3600000.0);
		if (started_at)
			snprintf(body + strlen(body), sizeof(body) - strlen(body), ",\"completed_at\":\"%s\"",
				 ts_format(started_at + (ms + 999) / 1000, ts));
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "}");
		tell(f, srv, p.id, "complete", body, &done);
		if (done)
			say_realised(done, p.id);
		json_decref(done);
	}
	fetch_free(f);
	return rc < 0 ? die_of(-rc) : rc;
}
