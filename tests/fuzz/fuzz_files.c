/*
 * fuzz_files.c - libFuzzer target for connectors/files.c.
 *
 * Input: the first byte picks the format (low six bits, modulo the number
 * of formats) and the options (bit 7: a 30-minute output step, bit 6 with
 * it: sample instead of mean); the rest is the file, plain or gzip.
 * Checks the contract beyond "no crash": a failure returns an error with a
 * message and an empty result, a success returns series on their grid.
 */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* File names carry the zone prefix of the format families. */
	static const char *const names[] = {"CISO_fuzz.csv", "DE_fuzz.csv", "DE_coal_fuzz.csv",
					    "ISNE_fuzz.csv", "gb_ci.csv",   "emaps.csv",
					    "wide.csv",	     "gb.csv"};
	struct files_options opt = {.max_bytes = 1 << 22};
	struct err_detail err = {{0}, {0}};
	struct sig_set set;
	size_t nformats = 0;
	int rc;

	if (size < 1)
		return 0;
	while (files_formats[nformats])
		nformats++;
	size_t f = (size_t)(data[0] & 0x3f) % nformats;
	if (data[0] & 0x80) {
		opt.step = 1800;
		opt.resample = data[0] & 0x40 ? FILES_RESAMPLE_SAMPLE : FILES_RESAMPLE_MEAN;
	}
	rc = files_parse(names[f % 8], (const char *)data + 1, size - 1, files_formats[f], &opt, &set, &err);
	if (rc) {
		if (set.n != 0 || !err.msg[0])
			abort();
	} else {
		for (size_t i = 0; i < set.n; i++) {
			const struct series *s = &set.items[i].s;

			if (s->step <= 0 || s->n == 0 || s->start % s->step)
				abort();
			for (size_t j = 0; j < s->n; j++)
				if (isinf(s->v[j]))
					abort();
		}
	}
	sig_set_release(&set);
	return 0;
}
