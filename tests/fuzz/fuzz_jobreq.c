/* libFuzzer target: the body of /v1/schedule and /v1/jobs (both modes)
 * and the callback URL parser, on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/callback.h"
#include "service/jobreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_req r;
	struct err_detail err;
	struct callback_url u;
	char fp[33], *url;

	for (int booking = 0; booking < 2; booking++)
		if (jobreq_parse((const char *)data, size, booking, 1000, &r, &err) == ERR_OK) {
			jobreq_fingerprint(&r, fp);
			if (r.callback_url)
				callback_parse_url(r.callback_url, "callback_url", &u, &err);
			jobreq_release(&r);
		}
	url = malloc(size + 1);
	memcpy(url, data, size);
	url[size] = '\0';
	callback_parse_url(url, "callback_url", &u, &err);
	free(url);
	return 0;
}
