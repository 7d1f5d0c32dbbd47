/*
 * fuzz_jobbody.c - libFuzzer target for the bodies of the job lifecycle
 * routes (POST /v1/jobs/{id}/start and /complete) and the 'cursor' query
 * parameter of GET /v1/jobs (service/jobs.c); every input goes to all
 * three.  The handlers reach these only after borrowing a database
 * connection, so the route fuzzer (fuzz_routes.c) cannot.  Checks beyond
 * "no crash": an error names a field and says why; an accepted time is
 * never after now + 60 s.  Corpus: tests/fuzz/corpus/jobbody/.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/jobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW INT64_C(1635724800) /* 2021-11-01T00:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err_detail err = {{0}, {0}};
	char *text = malloc(size + 1), id[37] = "";
	double kwh;
	int64_t at = 0, done = 0, began = 0, cts = -1;

	memcpy(text, data, size);
	text[size] = '\0';
	if (jobs_start_body_parse(text, size, NOW, &at, &err)) {
		if (!err.msg[0])
			abort();
	} else if (at > NOW + 60) {
		abort();
	}
	err = (struct err_detail){{0}, {0}};
	if (jobs_complete_body_parse(text, size, NOW, &kwh, &done, &began, &err)) {
		if (!err.msg[0])
			abort();
	} else if (!(kwh >= 0 && kwh <= 1e9) || done > NOW + 60 || began > NOW + 60) {
		abort();
	}
	err = (struct err_detail){{0}, {0}};
	if (jobs_cursor_parse(text, &cts, id, &err)) {
		if (strcmp(err.field, "cursor"))
			abort();
	} else if (*text && (strlen(id) != 36 || !jobs_is_uuid(id))) {
		abort();
	}
	free(text);
	return 0;
}
