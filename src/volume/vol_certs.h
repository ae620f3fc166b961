/* vol_certs.h: the files of a certificate volume, issued by the internal CA. */
#ifndef NETCRAVE_VOL_CERTS_H
#define NETCRAVE_VOL_CERTS_H

#include <stddef.h>
#include <time.h>

struct dav_volume;

/*
 * Split "a,b" into a NULL-terminated list of checked DNS names or IP
 * literals (util_strv_free); NULL with err on a bad name.
 */
char	**vol_certs_names(const char *names, char *err, size_t errlen);
/*
 * Issue a server certificate for names, valid for lifetime seconds (renewed
 * at two thirds of it), and replace tls.crt (leaf + CA), tls.key and ca.crt
 * in the volume, each file atomically.  The validity period goes to
 * *not_before and *not_after.
 */
int	 vol_certs_issue(struct dav_volume *, const char *names,
	    unsigned int lifetime, time_t *not_before, time_t *not_after,
	    char *err, size_t errlen);

/*
 * Install a certificate issued elsewhere (ACME): tls.crt the PEM chain,
 * tls.key its key, ca.crt the root read from ca_file (kept as it is when
 * ca_file is NULL); each file replaced atomically.  The leaf's validity
 * goes to *not_before and *not_after.
 */
int	 vol_certs_install(struct dav_volume *, const char *chain, size_t len,
	    const char *key, size_t keylen, const char *ca_file,
	    time_t *not_before, time_t *not_after, char *err, size_t errlen);

#endif
