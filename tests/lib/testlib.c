/*
 * testlib.c - suite registry and runner over CUnit's basic interface.
 */
#include "tests/lib/testlib.h"

#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/mem.h"

struct suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc clean;
	CU_TestInfo *tests;
};

static struct suite *suites;
static size_t nsuites, capsuites;

void tl_register(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean, CU_TestInfo *tests)
{
	suites = xgrow(suites, &capsuites, nsuites + 1, sizeof(*suites));
	suites[nsuites++] = (struct suite){name, init, clean, tests};
}

void tl_fail(int line, const char *file, bool fatal, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", fatal ? CU_TRUE : CU_FALSE);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct suite *)a)->name, ((const struct suite *)b)->name);
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strncmp(name, argv[i], strlen(argv[i])))
			return true;
	return false;
}

int tl_main(int argc, char **argv)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (nsuites)
		qsort(suites, nsuites, sizeof(*suites), by_name);
	for (size_t i = 0; i < nsuites; i++) {
		if (!selected(suites[i].name, argc, argv))
			continue;
		CU_pSuite s = CU_add_suite(suites[i].name, suites[i].init, suites[i].clean);
		for (CU_TestInfo *t = suites[i].tests; t->pName; t++)
			CU_add_test(s, t->pName, t->pTestFunc);
	}
	CU_basic_set_mode(getenv("TL_VERBOSE") ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	free(suites);
	return failed ? 1 : 0;
}

const char *tl_shared_data(void)
{
	static char path[4096];
	const char *env = getenv("CARBONSCHED_SHARED_DATA");
	struct stat st;

	snprintf(path, sizeof(path), "%s", env ? env : "../shared/data");
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

const char *tl_testdata(const char *name)
{
	static _Thread_local char path[4096];

	snprintf(path, sizeof(path), "tests/data/%s", name);
	return path;
}
