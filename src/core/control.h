/* control.h: the operator's surfaces: the control socket that netcravectl speaks
 * to (HTTP+JSON over the one HTTP layer) and the Prometheus metrics endpoint. */
#ifndef NETCRAVE_CONTROL_H
#define NETCRAVE_CONTROL_H

#include <time.h>

#include <yajl/yajl_gen.h>

#include "server.h"

extern const struct server control_server;
extern const struct server metrics_server;

/*
 * GET /certs (`netcravectl certs`): control.c opens the array and each holder
 * of certificates (volume, acme, ingress) adds its entries with
 * control_cert_entry, so every entry has the same form.
 */
struct control_cert {
	const char	*volume;	/* the volume, "-" for none */
	const char	*names;		/* comma separated */
	const char	*issuer;	/* "acme" or "internal" */
	time_t		 not_before;	/* 0: no certificate yet */
	time_t		 not_after;
	time_t		 renew_at;
	const char	*error;		/* the last failed ACME order, or NULL */
};
void	control_cert_entry(yajl_gen, const struct control_cert *);

#endif
