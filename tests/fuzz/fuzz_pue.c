/*
 * fuzz_pue.c - libFuzzer target for the pue connector's response
 * parsers (every endpoint gets every input); corpus: tests/fuzz/corpus/pue/.
 */
#include "tests/fuzz/fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_parse_ctx p = {
	    .zone = "*", .source = "pue", .now = 1717243200, .from = 1717200000, .to = 1717286400};

	fuzz_connector(&conn_pue, &p, data, size);
	return 0;
}
