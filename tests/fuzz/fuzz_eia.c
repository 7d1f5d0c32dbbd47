/*
 * fuzz_eia.c - libFuzzer target for the eia connector's response
 * parsers (every endpoint gets every input); corpus: tests/fuzz/corpus/eia/.
 */
#include "tests/fuzz/fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_parse_ctx p = {
	    .zone = "US-CAL-CISO", .key = "CISO", .source = "eia", .now = 1717243200};

	fuzz_connector(&conn_eia, &p, data, size);
	return 0;
}
