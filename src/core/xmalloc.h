/* xmalloc.h: allocation that cannot fail (it exits instead), as in OpenSSH and tmux. */
#ifndef NETCRAVE_XMALLOC_H
#define NETCRAVE_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Zero then free secret material. */
void	 freezero_secret(void *, size_t);

#endif
