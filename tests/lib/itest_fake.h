/*
 * itest_fake.h - the fake providers as processes (build/tests/fake-provider)
 * for integration tests of the real binary: start one, switch its faults,
 * read its request counts.
 */
#ifndef CARBONSCHED_TESTS_ITEST_FAKE_H
#define CARBONSCHED_TESTS_ITEST_FAKE_H

#include <jansson.h>
#include <sys/types.h>

struct itest_fake {
	pid_t pid;
	int port;
	char url[64]; /* "http://127.0.0.1:PORT" */
};

/* Start fake-provider --provider NAME with extra arguments (NULL-terminated,
 * may be NULL), e.g. {"--fresh", "--age", "4h", NULL}.  It dies with the
 * test process.  Fatal when it does not print its port within 10 s. */
void itest_fake_start(const char *provider, const char *const *args, struct itest_fake *ret);
/* SIGTERM and wait; a zeroed fake is fine. */
void itest_fake_stop(struct itest_fake *f);
/* Switch the fault ("500", "hang", "none", ...) for 'count' answers (<= 0: all). */
void itest_fake_fault(const struct itest_fake *f, const char *fault, int count);
/* GET /_fake/stats: {"requests","faulted","logins","agents":{UA: n}} (json_decref it). */
json_t *itest_fake_stats(const struct itest_fake *f);
/* Requests the fake answered (control routes excluded), and those from one User-Agent. */
long itest_fake_requests(const struct itest_fake *f);
long itest_fake_agent_requests(const struct itest_fake *f, const char *agent);

#endif
