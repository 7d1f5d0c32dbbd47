/*
 * fuzz_entsoe.c - libFuzzer target for the entsoe connector's response
 * parsers (every endpoint gets every input); corpus: tests/fuzz/corpus/entsoe/.
 */
#include "tests/fuzz/fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_parse_ctx p = {.zone = "DE", .source = "entsoe", .now = 1717243200};

	fuzz_connector(&conn_entsoe, &p, data, size);
	return 0;
}
