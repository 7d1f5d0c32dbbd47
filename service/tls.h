/*
 * tls.h - checking a PEM certificate and key before the server binds.
 *
 * libmicrohttpd serves HTTPS with GnuTLS, but only says "cannot start"
 * when it is given a bad certificate.  The configuration loader checks the
 * pair here first, so a wrong file is reported as "FILE: tls.key_file:
 * ..." before anything listens.  The one file that includes GnuTLS.
 */
#ifndef CARBONSCHED_SERVICE_TLS_H
#define CARBONSCHED_SERVICE_TLS_H

#include <stddef.h>

#include "core/error.h"

/* Check that cert_pem (a certificate chain, PEM) and key_pem (its
 * unencrypted private key, PEM) load and belong together.  ERR_INVALID
 * with err->field "tls.cert_file" or "tls.key_file" naming the culprit.
 * Allocates nothing that outlives the call. */
int tls_check_pair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
		   struct err_detail *err);

#endif
