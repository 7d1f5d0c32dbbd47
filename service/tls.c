/*
 * tls.c - a certificate and its key, checked with GnuTLS (the library
 * libmicrohttpd serves HTTPS with), so that config errors name the file.
 *
 * The certificate alone is parsed first (so a key passed as certificate
 * is blamed on tls.cert_file), then the key alone, then the pair, which
 * GnuTLS refuses when the key does not match the certificate.
 */
#include "service/tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

int tls_check_pair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
		   struct err_detail *err)
{
	gnutls_datum_t cert = {(unsigned char *)cert_pem, (unsigned)cert_len};
	gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned)key_len};
	gnutls_x509_crt_t crt[8];
	unsigned ncrt = 8;
	gnutls_x509_privkey_t pk;
	gnutls_certificate_credentials_t cred;
	int rc;

	rc = gnutls_x509_crt_list_import(crt, &ncrt, &cert, GNUTLS_X509_FMT_PEM,
					 GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
	if (rc < 0 && rc != GNUTLS_E_SHORT_MEMORY_BUFFER)
		return err_set(err, ERR_INVALID, "tls.cert_file", "not a PEM certificate: %s",
			       gnutls_strerror(rc));
	for (unsigned i = 0; rc >= 0 && i < ncrt; i++)
		gnutls_x509_crt_deinit(crt[i]);
	if (gnutls_x509_privkey_init(&pk) < 0)
		return err_set(err, ERR_INTERNAL, "tls.key_file", "cannot initialise GnuTLS");
	rc = gnutls_x509_privkey_import2(pk, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_x509_privkey_deinit(pk);
	if (rc < 0)
		return err_set(err, ERR_INVALID, "tls.key_file", "not an unencrypted PEM private key: %s",
			       gnutls_strerror(rc));
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return err_set(err, ERR_INTERNAL, "tls.key_file", "cannot initialise GnuTLS");
	rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0)
		return err_set(err, ERR_INVALID, "tls.key_file", "does not go with tls.cert_file: %s",
			       gnutls_strerror(rc));
	return ERR_OK;
}
