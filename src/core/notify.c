/* notify.c: the service manager's readiness protocol.  systemd (Type=notify)
 * hands us a datagram socket in $NOTIFY_SOCKET, a path or, with a leading '@',
 * an abstract name; each message is "KEY=value" lines in one datagram.  A few
 * lines of our own instead of a dependency on libsystemd. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

int
notify_send(const char *fmt, ...)
{
	struct sockaddr_un	 sun;
	const char		*path;
	char			 msg[512];
	socklen_t		 sunlen;
	va_list			 ap;
	size_t			 len;
	int			 fd, n;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return (0);
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof msg) {
		log_warnx("notify: message too long");
		return (-1);
	}
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof sun.sun_path) {
		log_warnx("notify: NOTIFY_SOCKET %s is not a socket path", path);
		return (-1);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')	/* abstract namespace: leading NUL, no terminator */
		sun.sun_path[0] = '\0';
	sunlen = offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '@' ? 0 : 1);

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify: socket");
		return (-1);
	}
	if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    sunlen) == -1) {
		log_warn("notify: %s", path);
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}
