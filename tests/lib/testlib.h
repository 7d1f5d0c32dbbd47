/*
 * testlib.h - CUnit glue shared by every test binary.
 *
 * A test file declares its cases in a CU_TestInfo table and registers the
 * suite with TL_SUITE; no list of suites is kept anywhere else.  Assertion
 * helpers print both values when they fail (as systemd's tests.h).
 */
#ifndef CARBONSCHED_TESTS_TESTLIB_H
#define CARBONSCHED_TESTS_TESTLIB_H

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void tl_register(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean, CU_TestInfo *tests);

/* Run the registered suites whose name starts with one of argv[1..] (all
 * when none); returns the process exit status. */
int tl_main(int argc, char **argv);

#define TL_SUITE(name, init, clean, tests)                               \
	__attribute__((constructor)) static void tl_register_suite(void) \
	{                                                                \
		tl_register(name, init, clean, tests);                   \
	}

void tl_fail(int line, const char *file, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define TL_ASSERT(cond)                                                  \
	do {                                                             \
		if (!(cond))                                             \
			tl_fail(__LINE__, __FILE__, false, "%s", #cond); \
		else                                                     \
			CU_PASS(#cond);                                  \
	} while (0)

#define TL_ASSERT_INT_EQ(a, b)                                                                            \
	do {                                                                                              \
		long long tl_a = (long long)(a), tl_b = (long long)(b);                                   \
		if (tl_a != tl_b)                                                                         \
			tl_fail(__LINE__, __FILE__, false, "%s == %s: %lld != %lld", #a, #b, tl_a, tl_b); \
		else                                                                                      \
			CU_PASS(#a);                                                                      \
	} while (0)

#define TL_ASSERT_STR_EQ(a, b)                                                               \
	do {                                                                                 \
		const char *tl_a = (a), *tl_b = (b);                                         \
		if (!tl_a || !tl_b || strcmp(tl_a, tl_b))                                    \
			tl_fail(__LINE__, __FILE__, false, "%s == %s: '%s' != '%s'", #a, #b, \
				tl_a ? tl_a : "(null)", tl_b ? tl_b : "(null)");             \
		else                                                                         \
			CU_PASS(#a);                                                         \
	} while (0)

/* |a - b| <= tol; NAN equals NAN. */
#define TL_ASSERT_DBL_EQ(a, b, tol)                                                                     \
	do {                                                                                            \
		double tl_a = (a), tl_b = (b);                                                          \
		if (!((isnan(tl_a) && isnan(tl_b)) || fabs(tl_a - tl_b) <= (tol)))                      \
			tl_fail(__LINE__, __FILE__, false, "%s == %s (tol %g): %.10g != %.10g", #a, #b, \
				(double)(tol), tl_a, tl_b);                                             \
		else                                                                                    \
			CU_PASS(#a);                                                                    \
	} while (0)

/* Substring check, for error messages. */
#define TL_ASSERT_CONTAINS(hay, needle)                                                              \
	do {                                                                                         \
		const char *tl_h = (hay), *tl_n = (needle);                                          \
		if (!tl_h || !strstr(tl_h, tl_n))                                                    \
			tl_fail(__LINE__, __FILE__, false, "%s contains '%s': got '%s'", #hay, tl_n, \
				tl_h ? tl_h : "(null)");                                             \
		else                                                                                 \
			CU_PASS(#hay);                                                               \
	} while (0)

/* Directory of the shared data sets (../shared/data), or NULL when absent;
 * CARBONSCHED_SHARED_DATA overrides. */
const char *tl_shared_data(void);
/* Path of a test data file under tests/data/. */
const char *tl_testdata(const char *name);

#endif
