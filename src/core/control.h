/* control.h: the operator's surfaces: the control socket that netcravectl speaks
 * to (HTTP+JSON over the one HTTP layer) and the Prometheus metrics endpoint. */
#ifndef NETCRAVE_CONTROL_H
#define NETCRAVE_CONTROL_H

#include "server.h"

extern const struct server control_server;
extern const struct server metrics_server;

#endif
