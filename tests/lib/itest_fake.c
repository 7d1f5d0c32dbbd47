/*
 * itest_fake.c - fake providers as child processes (see itest_fake.h).
 *
 * The program lives next to the binary under test ($CARBONSCHED_BIN's
 * directory + tests/fake-provider), so the sanitizer build tests its own.
 * Children get PR_SET_PDEATHSIG: a test that dies half-way leaves no fake
 * behind.
 */
#include "tests/lib/itest_fake.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/itest.h"

static void die(const char *msg, const char *detail)
{
	fprintf(stderr, "itest_fake: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
	exit(3);
}

static const char *program(void)
{
	static char path[1024];
	char bin[1024];

	snprintf(bin, sizeof(bin), "%s", itest_bin());
	snprintf(path, sizeof(path), "%s/tests/fake-provider", dirname(bin));
	return path;
}

void itest_fake_start(const char *provider, const char *const *args, struct itest_fake *ret)
{
	int out[2];
	pid_t parent = getpid();
	char line[32] = "";
	size_t n = 0;

	memset(ret, 0, sizeof(*ret));
	if (pipe(out))
		die("pipe", strerror(errno));
	ret->pid = fork();
	if (ret->pid < 0)
		die("fork", strerror(errno));
	if (ret->pid == 0) {
		const char *argv[32] = {program(), "--provider", provider};
		int k = 3;

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		for (int i = 0; args && args[i] && k < 30; i++)
			argv[k++] = args[i];
		argv[k] = NULL;
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	struct pollfd p = {.fd = out[0], .events = POLLIN};
	while (n + 1 < sizeof(line) && !strchr(line, '\n') && poll(&p, 1, 10000) > 0) {
		ssize_t r = read(out[0], line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		line[n] = '\0';
	}
	close(out[0]);
	ret->port = atoi(line);
	if (ret->port <= 0) {
		kill(ret->pid, SIGKILL);
		waitpid(ret->pid, NULL, 0);
		die("the fake provider did not start", program());
	}
	snprintf(ret->url, sizeof(ret->url), "http://127.0.0.1:%d", ret->port);
}

void itest_fake_stop(struct itest_fake *f)
{
	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
		;
	f->pid = 0;
}

void itest_fake_fault(const struct itest_fake *f, const char *fault, int count)
{
	struct itest_response r;
	char url[256];

	snprintf(url, sizeof(url), "%s/_fake/fault?set=%s&count=%d", f->url, fault, count);
	if (!itest_http("GET", url, NULL, NULL, &r) || r.status != 200)
		die("cannot switch the fault", url);
	itest_response_free(&r);
}

json_t *itest_fake_stats(const struct itest_fake *f)
{
	struct itest_response r;
	char url[256];
	json_t *j;

	snprintf(url, sizeof(url), "%s/_fake/stats", f->url);
	if (!itest_http("GET", url, NULL, NULL, &r) || r.status != 200)
		die("cannot read the stats", url);
	j = json_loads(r.body, 0, NULL);
	itest_response_free(&r);
	if (!j)
		die("stats are not JSON", url);
	return j;
}

long itest_fake_requests(const struct itest_fake *f)
{
	json_t *j = itest_fake_stats(f);
	long n = (long)json_integer_value(json_object_get(j, "requests"));

	json_decref(j);
	return n;
}

long itest_fake_agent_requests(const struct itest_fake *f, const char *agent)
{
	json_t *j = itest_fake_stats(f);
	long n = (long)json_integer_value(json_object_get(json_object_get(j, "agents"), agent));

	json_decref(j);
	return n;
}
