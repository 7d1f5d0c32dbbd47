/* libFuzzer target: what a client presents as an API key - the
 * Authorization header value, the key's shape, its hash and comparison -
 * and the scope lists of the keys CLI, on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), prefix[AUTH_PREFIX_LEN + 1];
	unsigned char h[AUTH_HASH_LEN], zero[AUTH_HASH_LEN] = {0};
	struct err_detail err;
	unsigned scopes;
	bool bad;

	memcpy(s, data, size);
	s[size] = '\0';
	const char *key = auth_header_key(s, NULL, &bad);
	if (!key)
		key = auth_header_key(NULL, s, &bad);
	if (key && auth_key_parse(key, prefix)) {
		auth_key_hash(key, h);
		(void)auth_ct_equal(h, zero, sizeof(h));
	}
	if (!auth_scopes_parse(s, "scopes", &scopes, &err)) {
		char out[64];
		auth_scopes_format(scopes, out, sizeof(out));
		(void)auth_scopes_allow(scopes, AUTH_SCHEDULE);
	}
	(void)auth_tenant_is_valid(s);
	free(s);
	return 0;
}
