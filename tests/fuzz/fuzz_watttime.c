/*
 * fuzz_watttime.c - libFuzzer target for the watttime connector's response
 * parsers (every endpoint gets every input); corpus: tests/fuzz/corpus/watttime/.
 */
#include "tests/fuzz/fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_parse_ctx p = {
	    .zone = "CAISO_NORTH", .source = "watttime", .now = 1717243200};

	fuzz_connector(&conn_watttime, &p, data, size);
	return 0;
}
