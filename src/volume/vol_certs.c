/* vol_certs.c: certificate volumes.  The internal CA (ca.c) issues an ECDSA
 * P-256 server certificate for the volume's names; its PEM files are written
 * into the volume through the encrypted dav store, each by a writer that
 * renames over the old file, so a reader sees the old set or the new one
 * file by file, never a torn file. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "dav_store.h"
#include "util.h"
#include "vol_certs.h"
#include "xmalloc.h"

/* A DNS name (letters, digits, '-', '.', a leading "*." allowed) or an IP. */
static int
vol_certs_name_ok(const char *s)
{
	size_t	len = strlen(s), i;

	if (len == 0 || len > 253)
		return (0);
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.' || s[i] == ':'))
			return (0);
	return (s[0] != '.' && s[0] != '-');
}

char **
vol_certs_names(const char *names, char *err, size_t errlen)
{
	char	**v = NULL, *copy, *p, *tok;
	size_t	  n = 0;

	copy = xstrdup(names);
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if (!vol_certs_name_ok(tok) || n == 32) {
			snprintf(err, errlen, n == 32 ? "at most 32 names" :
			    "names: %s is not a DNS name or an IP address", tok);
			free(copy);
			util_strv_free(v);
			return (NULL);
		}
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrdup(tok);
		v[n] = NULL;
	}
	free(copy);
	if (n == 0)
		snprintf(err, errlen, "names= holds no name");
	return (v);
}

/* Write buf as path in the volume, replacing the old file atomically. */
static int
vol_certs_put(struct dav_volume *dv, const char *path, BIO *bio, char *err,
    size_t errlen)
{
	struct dav_writer	*w;
	char			*data;
	long			 len;

	len = BIO_get_mem_data(bio, &data);
	if ((w = dav_writer_new(dv, err, errlen)) == NULL)
		return (-1);
	if (dav_writer_add(w, data, len, err, errlen) == -1) {
		dav_writer_abort(w);
		return (-1);
	}
	return (dav_writer_commit(w, path, err, errlen));
}

int
vol_certs_install(struct dav_volume *dv, const char *chain, size_t len,
    const char *key, size_t keylen, const char *ca_file, time_t *not_before,
    time_t *not_after, char *err, size_t errlen)
{
	BIO	*crt, *pem, *cab = NULL;
	X509	*leaf;
	FILE	*f;
	char	 buf[4096];
	size_t	 n;
	int	 rv = -1;

	crt = BIO_new_mem_buf(chain, (int)len);
	leaf = crt != NULL ? PEM_read_bio_X509(crt, NULL, NULL, NULL) : NULL;
	BIO_free(crt);
	if (leaf == NULL) {
		snprintf(err, errlen, "the CA's chain holds no certificate");
		return (-1);
	}
	*not_before = ca_time(X509_get0_notBefore(leaf));
	*not_after = ca_time(X509_get0_notAfter(leaf));
	X509_free(leaf);
	crt = BIO_new_mem_buf(chain, (int)len);
	pem = BIO_new_mem_buf(key, (int)keylen);
	if (ca_file != NULL) {
		if ((f = fopen(ca_file, "r")) == NULL) {
			snprintf(err, errlen, "%s: cannot read", ca_file);
			goto out;
		}
		cab = BIO_new(BIO_s_mem());
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			BIO_write(cab, buf, (int)n);
		fclose(f);
	}
	if (crt == NULL || pem == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* As vol_certs_issue: the CA, then the key, then the certificate. */
	if ((cab != NULL && vol_certs_put(dv, "ca.crt", cab, err, errlen) ==
	    -1) || vol_certs_put(dv, "tls.key", pem, err, errlen) == -1 ||
	    vol_certs_put(dv, "tls.crt", crt, err, errlen) == -1)
		goto out;
	rv = 0;
out:
	BIO_free(crt);
	BIO_free(pem);
	BIO_free(cab);
	return (rv);
}

int
vol_certs_issue(struct dav_volume *dv, const char *names, unsigned int lifetime,
    time_t *not_before, time_t *not_after, char *err, size_t errlen)
{
	EVP_PKEY	 *key = NULL;
	X509		 *cert = NULL;
	BIO		 *crt, *pem, *cab;
	char		**v, *data;
	long		  len;
	int		  rv = -1;

	if ((v = vol_certs_names(names, err, errlen)) == NULL)
		return (-1);
	if (ca_certificate() == NULL) {
		snprintf(err, errlen, "the internal CA is not open");
		util_strv_free(v);
		return (-1);
	}
	if (ca_issue_for(v[0], (const char *const *)v, 0, lifetime, &key,
	    &cert, err, errlen) == -1) {
		util_strv_free(v);
		return (-1);
	}
	crt = BIO_new(BIO_s_mem());
	pem = BIO_new(BIO_s_mem());
	cab = BIO_new(BIO_s_mem());
	if (crt == NULL || pem == NULL || cab == NULL ||
	    PEM_write_bio_X509(crt, cert) != 1 ||
	    PEM_write_bio_X509(crt, ca_certificate()) != 1 ||
	    PEM_write_bio_PrivateKey(pem, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cab, ca_certificate()) != 1) {
		snprintf(err, errlen, "PEM encoding failed");
		goto out;
	}
	/* The CA first, the key before the certificate that needs it. */
	if (vol_certs_put(dv, "ca.crt", cab, err, errlen) == -1 ||
	    vol_certs_put(dv, "tls.key", pem, err, errlen) == -1 ||
	    vol_certs_put(dv, "tls.crt", crt, err, errlen) == -1)
		goto out;
	*not_before = ca_time(X509_get0_notBefore(cert));
	*not_after = ca_time(X509_get0_notAfter(cert));
	rv = 0;
out:
	BIO_free(crt);
	if (pem != NULL) {
		/* The private key's text does not outlive its use. */
		len = BIO_get_mem_data(pem, &data);
		if (len > 0)
			explicit_bzero(data, len);
		BIO_free(pem);
	}
	BIO_free(cab);
	EVP_PKEY_free(key);
	X509_free(cert);
	util_strv_free(v);
	return (rv);
}
