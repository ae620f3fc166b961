/* log.h: logging to stderr (foreground) or syslog, in the OpenBSD daemon style. */
#ifndef NETCRAVE_LOG_H
#define NETCRAVE_LOG_H

#include <stdarg.h>

#define LOG_LEVEL_INFO	0
#define LOG_LEVEL_DEBUG	1

void	log_init(int foreground, int level, const char *ident);
void	log_setlevel(int level);
int	log_getlevel(void);
/* log_warn appends strerror(errno); log_warnx does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* fatal: only at start-up or for a broken invariant. */
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
