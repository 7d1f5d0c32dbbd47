/* libFuzzer target: the config parser on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "service/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct err_detail err;

	if (config_parse("fuzz.json", (const char *)data, size, &c, &err) == ERR_OK)
		config_free(c);
	return 0;
}
