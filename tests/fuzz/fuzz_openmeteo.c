/*
 * fuzz_openmeteo.c - libFuzzer target for the openmeteo connector's response
 * parsers (every endpoint gets every input); corpus: tests/fuzz/corpus/openmeteo/.
 */
#include "tests/fuzz/fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_parse_ctx p = {
	    .zone = "eu-central-1", .source = "openmeteo", .now = 1717243200};

	fuzz_connector(&conn_openmeteo, &p, data, size);
	return 0;
}
