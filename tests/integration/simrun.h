/*
 * simrun.h - running 'carbonsched simulate' from the tests that reproduce
 * published evaluations: scratch files, the real binary, its JSON.
 */
#ifndef CARBONSCHED_TESTS_SIMRUN_H
#define CARBONSCHED_TESTS_SIMRUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* A new scratch file path "<tmp>/<name>" (static storage, one per call
 * site is enough: the caller copies it when it needs several). */
const char *simrun_path(const char *name);
/* Open a scratch file for writing; fatal on failure. */
FILE *simrun_create(const char *name, char *ret_path, size_t size);

/* Run the binary with argv (NULL-terminated, without argv[0]); capture
 * stdout and stderr (new strings, free them).  Returns the exit status;
 * *ret_maxrss_kb (when non-NULL) gets the child's peak resident size. */
int simrun(const char *const *args, char **ret_out, char **ret_err, long *ret_maxrss_kb);

/* Run simulate with args and --json; returns the parsed totals (new
 * reference) or NULL after reporting the failure as a test failure. */
json_t *simrun_json(const char *const *args);

/* Number at key (object) or NAN. */
double simrun_num(const json_t *o, const char *key);

#endif
