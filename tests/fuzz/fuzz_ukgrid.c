/*
 * fuzz_ukgrid.c - libFuzzer target for the ukgrid connector's response
 * parsers (every endpoint gets every input); corpus: tests/fuzz/corpus/ukgrid/.
 */
#include "tests/fuzz/fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_parse_ctx p = {
	    .zone = "GB-3", .key = "3", .source = "ukgrid", .now = 1717243200};

	fuzz_connector(&conn_ukgrid, &p, data, size);
	return 0;
}
