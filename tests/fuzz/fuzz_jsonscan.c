/* libFuzzer target: the JSON pre-scan of request bodies (core/jsonscan.h)
 * on arbitrary bytes, with a tight and a loose set of caps and a list cap
 * that asks for a path at every array.  When the scan passes, jansson
 * must be able to parse the text without going past the depth cap. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "core/jsonscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t cap(void *ctx, const char *path, const char **ret_key)
{
	(void)ctx;
	*ret_key = "limits.max_list_items";
	return strlen(path) % 7 == 3 ? 2 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct jscan_limits lims[] = {
	    {2, 3, "limits.max_json_depth", "limits.max_array_items", cap, NULL},
	    {32, 1000, "limits.max_json_depth", "limits.max_array_items", NULL, NULL},
	    {JSCAN_MAX_DEPTH, 1000000, "limits.max_json_depth", "limits.max_array_items", cap, NULL},
	};
	struct err_detail err;

	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
		if (jscan_check((const char *)data, size, &lims[i], &err) == ERR_OK && i == 1) {
			json_t *j = json_loadb((const char *)data, size, 0, NULL);
			json_decref(j);
		}
	return 0;
}
