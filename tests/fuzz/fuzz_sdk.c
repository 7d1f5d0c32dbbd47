/*
 * fuzz_sdk.c - libFuzzer target for the Carbon Aware SDK compatibility
 * layer (service/sdk.c): the input, as text, goes to both date parsers
 * (query strings and JSON bodies are untrusted); as bytes, it becomes a
 * series of points with holes and window bounds for the rolling average,
 * whose results must stay inside the bounds.  Corpus: tests/fuzz/corpus/sdk/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/sdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct sdk_point p[64], out[128];
	int64_t t = 0, start, end, window;
	size_t n = 0, k, idx[128];
	double v;

	memcpy(text, data, size);
	text[size] = '\0';
	sdk_time_parse(text, true, "time", &t, NULL);
	sdk_time_parse(text, false, "time", &t, NULL);
	free(text);

	if (size < 4)
		return 0;
	/* bytes 0-2: window (minutes), start and end offsets; then one byte per
	 * 5-minute step, 255 = a hole. */
	window = (int64_t)data[0] * 60;
	start = (int64_t)data[1] * 60;
	end = start + (int64_t)data[2] * 60;
	for (size_t i = 3; i < size && n < 64; i++)
		if (data[i] != 255)
			p[n++] = (struct sdk_point){(int64_t)(i - 3) * 300, 300, data[i]};
	n = sdk_filter(p, n, start, end);
	k = sdk_rolling_average(p, n, window, start, end, out, 128);
	if (k > 128)
		abort();
	for (size_t i = 0; i < k; i++)
		if (out[i].t < start || out[i].t + window > end || out[i].v < 0 || out[i].v > 254.0000001)
			abort();
	if (sdk_optimal(out, k, idx) > k)
		abort();
	if (sdk_average(p, n, start, end, &v, &t) && (v < 0 || v > 254.0000001))
		abort();
	return 0;
}
