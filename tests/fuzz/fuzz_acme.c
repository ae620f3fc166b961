/* fuzz_acme.c: libFuzzer target for the parsers of the ACME CA's answers:
 * the first byte picks directory, order, authorization, problem document,
 * renewalInfo, Retry-After, a Link header or a PEM chain's issuer; the rest
 * is the answer.  Any input is read or
 * refused without a crash or leak, and what is read is well-formed. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acme_directory	 d;
	struct acme_order_doc	 o;
	struct acme_authz_doc	 a;
	const char		*text;
	char			 err[256], *s, **links;
	time_t			 start, end;
	size_t			 i, len, n;

	if (size < 1)
		return (0);
	text = (const char *)data + 1;
	len = size - 1;
	switch (data[0] % 8) {
	case 0:
		if (acme_parse_directory(text, len, &d, err, sizeof err) == 0) {
			if (strncmp(d.new_order, "https://", 8) != 0)
				abort();
			acme_directory_clear(&d);
		}
		break;
	case 1:
		if (acme_parse_order(text, len, &o, err, sizeof err) == 0) {
			for (i = 0; i < o.nauthz; i++)
				if (o.authz[i] == NULL)
					abort();
			acme_order_doc_clear(&o);
		}
		break;
	case 2:
		if (acme_parse_authz(text, len, (data[0] & 8) ? "http-01" :
		    "dns-01", &a, err, sizeof err) == 0) {
			if ((a.token == NULL) != (a.url == NULL))
				abort();
			if (a.token != NULL && strspn(a.token,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-_") != strlen(a.token))
				abort();
			acme_authz_doc_clear(&a);
		}
		break;
	case 3:
		free(acme_parse_problem(text, len));
		break;
	case 4:
		if (acme_parse_renewal_info(text, len, &start, &end) == 0 &&
		    end <= start)
			abort();
		break;
	case 5:
		s = strndup(text, len);
		if (acme_retry_after(s, 946684799) > 86400)
			abort();
		free(s);
		break;
	case 6:
		s = strndup(text, len);
		links = NULL;
		n = 0;
		acme_parse_links(s, "alternate", &links, &n);
		for (i = 0; i < n; i++) {
			if (strncmp(links[i], "https://", 8) != 0)
				abort();
			free(links[i]);
		}
		free(links);
		free(s);
		break;
	case 7:
		if (acme_chain_issued_by(text, len, "Pebble Root CA") > 1)
			abort();
		break;
	}
	return (0);
}
