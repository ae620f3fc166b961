/* notify.h: the service manager's readiness protocol (sd_notify(3) datagrams to
 * $NOTIFY_SOCKET), spoken without linking libsystemd. */
#ifndef NETCRAVE_NOTIFY_H
#define NETCRAVE_NOTIFY_H

/*
 * Send one state message ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=…")
 * when $NOTIFY_SOCKET names a socket; nothing otherwise.  Returns 0 when sent or
 * not asked for, -1 (logged) when the socket named cannot be reached.
 */
int	notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
