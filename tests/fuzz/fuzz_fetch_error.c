/*
 * fuzz_fetch_error.c - libFuzzer target for what connectors/fetch.c reads
 * from a provider besides the body it hands on: the error-body summary
 * (JSON, XML, HTML, text), the Retry-After header and URL redaction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[240], url[600];
	static const char *const secrets[] = {"s3cr3t", NULL};
	int64_t ms;
	char *s = malloc(size + 1);

	fetch_error_summary((const char *)data, size, out, sizeof(out));
	if (strlen(out) >= sizeof(out))
		abort();
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (fetch_parse_retry_after(s, 1700000000, &ms) && ms < 0)
		abort();
	fetch_redact_url(s, secrets, url, sizeof(url));
	if (strstr(url, "s3cr3t"))
		abort();
	fetch_redact_text(s, size + 1, secrets);
	if (strstr(s, "s3cr3t"))
		abort();
	free(s);
	return 0;
}
