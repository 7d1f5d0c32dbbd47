/* simrun.c - see simrun.h. */
#include "tests/integration/simrun.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "tests/lib/itest.h"
#include "tests/lib/testlib.h"

static const char *tmpdir(void)
{
	static char dir[4096];

	if (!*dir) {
		const char *base = getenv("CARBONSCHED_TEST_TMP");

		snprintf(dir, sizeof(dir), "%s/simrun.XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "simrun: mkdtemp %s: %s\n", dir, strerror(errno));
			abort();
		}
	}
	return dir;
}

const char *simrun_path(const char *name)
{
	static char path[4096 + 256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir(), name);
	return path;
}

FILE *simrun_create(const char *name, char *ret_path, size_t size)
{
	snprintf(ret_path, size, "%s", simrun_path(name));
	FILE *f = fopen(ret_path, "w");

	if (!f) {
		fprintf(stderr, "simrun: %s: %s\n", ret_path, strerror(errno));
		abort();
	}
	return f;
}

int simrun(const char *const *args, char **ret_out, char **ret_err, long *ret_maxrss_kb)
{
	const char *bin = getenv("CARBONSCHED_BIN");
	char out[4096 + 256], errp[4096 + 256];
	const char *argv[64];
	size_t n = 0;
	struct rusage ru;
	int status;

	snprintf(out, sizeof(out), "%s", simrun_path("stdout"));
	snprintf(errp, sizeof(errp), "%s", simrun_path("stderr"));
	argv[n++] = bin && *bin ? bin : "build/carbonsched";
	for (; *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644),
		    fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return -1;
	if (ret_maxrss_kb)
		*ret_maxrss_kb = ru.ru_maxrss;
	*ret_out = itest_slurp(out);
	*ret_err = itest_slurp(errp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

json_t *simrun_json(const char *const *args)
{
	const char *argv[64];
	size_t n = 0;
	char *out, *err;
	json_error_t je;

	argv[n++] = "simulate";
	for (; *args && n < 62; args++)
		argv[n++] = *args;
	argv[n++] = "--json";
	argv[n] = NULL;
	int rc = simrun(argv, &out, &err, NULL);
	json_t *j = rc == 0 ? json_loads(out, 0, &je) : NULL;
	if (!j)
		tl_fail(__LINE__, __FILE__, false, "simulate exited %d: %s%s", rc, err, out);
	free(out);
	free(err);
	return j;
}

double simrun_num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}
