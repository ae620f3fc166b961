/* squid.c: squid as the firewall's proxy, two of them: netcraved writes
 * their configurations and supervises both as built-in children.  The front
 * squid (squid.conf) serves clients from its memory cache: forward proxy for
 * egress and, with waf.squid.accel_listen, an accelerator for ingress behind
 * HAProxy.  Its misses go to the judge squid (judge.conf), where netcraved's
 * ICAP server sees each request (REQMOD) and response (RESPMOD) before any
 * backend or cache does.  Two processes, so a cache hit costs squid what it
 * costs without a firewall: a squid with ICAP enabled checks its adaptation
 * rules on every request, hits included (about 20% of a hit's work). */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/util.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "plugin.h"
#include "server.h"
#include "squid.h"
#include "supervise.h"
#include "util.h"
#include "xmalloc.h"

/* The judge ports: privileged loopback ports of the judge squid that only
 * the front squid forwards to, chosen free at start (squid cannot listen on
 * a local socket). */
static int		 squid_judge_port;
static int		 squid_judge_accel_port;
static int		 squid_judge_egress_port;

/*
 * A privileged loopback TCP port nothing listens on now, or -1.  Squid binds
 * it as root before it drops to its user; a port of 1024 or more could be
 * taken by any local user in the moment between this test and squid's bind
 * (or while squid restarts), and would then receive every miss unjudged.
 */
static int
squid_free_port(int skip, int skip2)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	unsigned char		r[2];
	int			fd, i, port = -1, span = 1024 - 600;

	/* Not root: squid cannot bind a privileged port; any free one. */
	if (geteuid() != 0)
		span = 0;
	/* From a random start, so instances starting together differ. */
	crypto_random(r, sizeof r);
	for (i = 0; i <= span; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		port = span == 0 ? 0 : 600 + ((r[0] << 8 | r[1]) + i) % span;
		sin.sin_port = htons((uint16_t)port);
		if (port != skip && port != skip2 && bind(fd, (struct sockaddr *)&sin,
		    sizeof sin) == 0 && getsockname(fd, (struct sockaddr *)&sin,
		    &len) == 0) {
			close(fd);
			return ntohs(sin.sin_port);
		}
		close(fd);
	}
	return -1;
}
static int		 squid_bump;	/* ssl-bump this run (squid has OpenSSL) */

/* The bump CA's lifetime, and how much of it must be left to keep it. */
#define SQUID_BUMP_CA_SECONDS	(365 * 86400)
#define SQUID_BUMP_CA_MARGIN	(30 * 86400)

/*
 * Readiness, by a request through each port: the front squid is ready when
 * its probe came back through the judge squid (two X-Cache fields, one per
 * squid, whatever the status; the judge refuses the probe's host, so it
 * reaches no backend), the judge squid when its own ports answer (one).
 * Squid counts a peer down until it has probed it, which takes a moment
 * after start; until then a miss would get a 502 from the front alone.
 * Non-blocking: one step per poll of the supervisor's timer.
 */
struct squid_probe {
	struct sockaddr_storage	 addr;
	int			 addrlen;
	char			*request;	/* NULL: no such port */
	int			 fd;		/* -1: not started */
	size_t			 sent;
	char			 buf[4096];
	size_t			 len;
};

/* One of the two squids: its child and its probes (forward, accelerator,
 * egress: the front reaches the egress judge port through its uplink ports). */
struct squid_instance {
	const char		*role;		/* the child's name */
	const char		*file;		/* its configuration, in run_dir/squid */
	int			 fields;	/* X-Cache fields proving the path */
	struct child		*child;
	struct squid_probe	 probe[3];
	int			 ok[3];
};

static struct squid_instance	squid_front = {
	"squid", "squid.conf", 2, NULL,
	{ { .fd = -1 }, { .fd = -1 }, { .fd = -1 } }, { 0, 0, 0 }
};
static struct squid_instance	squid_judge = {
	"squid-judge", "judge.conf", 1, NULL,
	{ { .fd = -1 }, { .fd = -1 }, { .fd = -1 } }, { 0, 0, 0 }
};

static void
squid_probe_reset(struct squid_probe *p)
{
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->sent = p->len = 0;
}

/* Probe addr with request (NULL: no probe, none of this port). */
static void
squid_probe_set(struct squid_probe *p, const struct sockaddr_storage *addr,
    int addrlen, const char *request)
{
	squid_probe_reset(p);
	free(p->request);
	p->request = NULL;
	if (request == NULL)
		return;
	memcpy(&p->addr, addr, sizeof p->addr);
	p->addrlen = addrlen;
	p->request = xstrdup(request);
}

/* Probe 127.0.0.1:port. */
static void
squid_probe_set_loopback(struct squid_probe *p, int port, const char *request)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof ss);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((uint16_t)port);
	squid_probe_set(p, &ss, sizeof *sin, request);
}

/* Count the header fields called name in a head. */
static int
squid_count_field(const char *head, const char *name)
{
	const char	*line;
	size_t		 n = strlen(name);
	int		 count = 0;

	for (line = strchr(head, '\n'); line != NULL;
	    line = strchr(line + 1, '\n'))
		if (strncasecmp(line + 1, name, n) == 0)
			count++;
	return count;
}

/* One step: 1 when an answer came back with fields X-Cache fields, else 0. */
static int
squid_probe_step(struct squid_probe *p, int fields)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 ok;

	if (p->request == NULL)
		return 1;	/* no such port */
	if (p->fd == -1) {
		p->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (p->fd == -1)
			return 0;
		if (connect(p->fd, (struct sockaddr *)&p->addr,
		    (socklen_t)p->addrlen) == -1 && errno != EINPROGRESS)
			squid_probe_reset(p);
		return 0;
	}
	pfd.fd = p->fd;
	pfd.events = p->sent < strlen(p->request) ? POLLOUT : POLLIN;
	if (poll(&pfd, 1, 0) != 1)
		return 0;
	if (pfd.events == POLLOUT) {
		n = write(p->fd, p->request + p->sent,
		    strlen(p->request) - p->sent);
		if (n <= 0) {
			squid_probe_reset(p);
			return 0;
		}
		p->sent += (size_t)n;
		return 0;
	}
	n = read(p->fd, p->buf + p->len, sizeof p->buf - 1 - p->len);
	if (n <= 0) {
		squid_probe_reset(p);
		return 0;
	}
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
	if (strstr(p->buf, "\r\n\r\n") == NULL && p->len < sizeof p->buf - 1)
		return 0;
	ok = squid_count_field(p->buf, "X-Cache:") >= fields;
	squid_probe_reset(p);
	return ok;
}

static int
squid_ready(struct child *ch, void *arg)
{
	struct squid_instance	*s = arg;
	int			 i;

	(void)ch;
	/* Polled again with all done: a restart, the probes start again. */
	if (s->ok[0] && s->ok[1] && s->ok[2])
		s->ok[0] = s->ok[1] = s->ok[2] = 0;
	for (i = 0; i < 3; i++)
		if (!s->ok[i])
			s->ok[i] = squid_probe_step(&s->probe[i], s->fields);
	return s->ok[0] && s->ok[1] && s->ok[2];
}

/* Directory for squid's own files, owned by the user squid drops to. */
static int
squid_dir(const char *path, const struct passwd *pw, char *err, size_t errlen)
{
	if (util_mkdir_p(path, 0750, err, errlen) != 0)
		return -1;
	if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The accelerator's part of the front squid (ingress), "" when there is
 * none: a port for HAProxy whose misses go to the judge's accelerator port. */
static char *
squid_accel_front_conf(const struct conf *conf)
{
	char	*text;

	if (conf->waf_squid_accel_listen[0] == '\0')
		return xstrdup("");
	xasprintf(&text,
	    "# Ingress: accelerator for HAProxy; misses to the judge.\n"
	    "http_port %s accel vhost name=netcrave_accel\n"
	    "acl netcrave_accel myportname netcrave_accel\n"
	    "cache_peer 127.0.0.1 parent %d 0 no-query no-digest "
	    "default name=netcrave_to_judge_accel\n"
	    "cache_peer_access netcrave_to_judge_accel allow netcrave_accel\n"
	    "cache_peer_access netcrave_to_judge_accel deny all\n"
	    "http_access allow netcrave_accel\n",
	    conf->waf_squid_accel_listen, squid_judge_accel_port);
	return text;
}

/* The accelerator's part of the judge squid, "" when there is none: ICAP
 * picks the rule set by the request's Host (icap.c) and clean traffic goes on
 * to the one origin peer. */
static char *
squid_accel_judge_conf(const struct conf *conf)
{
	char	*host, *port, *text;

	if (conf->waf_squid_accel_listen[0] == '\0')
		return xstrdup("");
	/* Checked by squid_init: a numeric address and a port. */
	if (util_hostport(conf->waf_squid_accel_peer, &host, &port) == -1)
		fatalx("%s: %s", __func__, conf->waf_squid_accel_peer);
	xasprintf(&text,
	    "# Ingress: the accelerator's misses; clean traffic to %s.\n"
	    "http_port 127.0.0.1:%d name=netcrave_judge_accel\n"
	    "acl netcrave_judge_accel myportname netcrave_judge_accel\n"
	    "cache_peer %s parent %s 0 no-query no-digest originserver "
	    "name=netcrave_origin\n"
	    "cache_peer_access netcrave_origin allow netcrave_judge_accel\n"
	    "cache_peer_access netcrave_origin deny all\n"
	    "never_direct allow netcrave_judge_accel\n"
	    "icap_service netcrave_accel_req reqmod_precache bypass=off "
	    "icap://%s/waf-host/reqmod\n"
	    "icap_service netcrave_accel_resp respmod_precache bypass=off "
	    "icap://%s/waf-host/respmod\n"
	    "adaptation_access netcrave_accel_req allow netcrave_judge_accel\n"
	    "adaptation_access netcrave_accel_req deny all\n"
	    "adaptation_access netcrave_accel_resp allow netcrave_judge_accel\n"
	    "adaptation_access netcrave_accel_resp deny all\n",
	    conf->waf_squid_accel_peer, squid_judge_accel_port, host, port,
	    conf->waf_icap_listen, conf->waf_icap_listen);
	free(host);
	free(port);
	return text;
}

/* The egress ports (networks of waf.egress_tag): the forward-proxy port again
 * on the host end of the uplink, IPv4 and IPv6, where their gateways' port
 * leads (nft.c). */
static char	*squid_bump_port(const struct conf *);

static char *
squid_egress_conf(const struct conf *conf)
{
	const char	*addr, *addr6;
	char		*text, *port6, *bump, *host, *port;
	uint16_t	 p;

	if (conf->waf_egress_tag[0] == '\0')
		return xstrdup("");
	if ((addr = plugin_network_uplink_host()) == NULL ||
	    util_hostport(conf->waf_squid_listen, &host, &port) == -1) {
		log_warnx("squid: waf.egress_tag %s: no uplink, so no proxy for "
		    "its networks", conf->waf_egress_tag);
		return xstrdup("");
	}
	free(host);
	/* Not a TCP port (a unix: listener): the plugin offers none either. */
	if (util_port(port, &p) == -1) {
		log_warnx("squid: waf.egress_tag %s: waf.squid.listen %s is no "
		    "HOST:PORT, so no proxy for its networks",
		    conf->waf_egress_tag, conf->waf_squid_listen);
		free(port);
		return xstrdup("");
	}
	bump = squid_bump_port(conf);
	if ((addr6 = plugin_network_uplink_host6()) != NULL)
		xasprintf(&port6, "http_port [%s]:%s name=netcrave_egress6%s\n",
		    addr6, port, bump);
	else
		port6 = xstrdup("");
	/* Containers must not reach the host's own services through it: here,
	 * and where the judge connects (squid_write_judge). */
	xasprintf(&text, "# Egress: networks tagged %s, through the uplink.\n"
	    "http_port %s:%s name=netcrave_egress%s\n"
	    "%s"
	    "acl netcrave_egress myportname netcrave_egress "
	    "netcrave_egress6\n"
	    "http_access deny netcrave_egress to_localhost\n",
	    conf->waf_egress_tag, addr, port, bump, port6);
	free(port6);
	free(bump);
	free(port);
	return text;
}

#define SQUID_RUN_TIMEOUT_MS	10000

/*
 * Run argv as pw (NULL: ourselves) and wait; its standard output into out
 * (NUL-ended, cut to outlen) unless out is NULL.  Only at start: squid -v and
 * the certificate database's creation take milliseconds; one that takes more
 * than SQUID_RUN_TIMEOUT_MS is killed.  Its exit status, or -1 with err.
 */
static int
squid_run(char *const argv[], const struct passwd *pw, char *out,
    size_t outlen, char *err, size_t errlen)
{
	pid_t	 pid;
	int	 fds[2], status, null;
	size_t	 len = 0;
	ssize_t	 n;
	long long deadline;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		if ((null = open("/dev/null", O_RDWR)) != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDERR_FILENO);
		}
		dup2(fds[1], STDOUT_FILENO);
		if (pw != NULL && (setgroups(0, NULL) == -1 ||
		    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	/* A program that hangs, with its output open or not, must not hang
	 * netcraved's start. */
	deadline = util_monotonic_ms() + SQUID_RUN_TIMEOUT_MS;
	for (;;) {
		char		buf[4096];
		struct pollfd	pfd = { .fd = fds[0], .events = POLLIN };
		long long	left = deadline - util_monotonic_ms();
		pid_t		r;

		if (left <= 0)
			goto timeout;
		if (fds[0] == -1) {	/* output done: wait for its exit */
			if ((r = waitpid(pid, &status, WNOHANG)) == pid)
				break;
			if (r == -1 && errno != EINTR) {
				snprintf(err, errlen, "waitpid: %s",
				    strerror(errno));
				return -1;
			}
			poll(NULL, 0, left < 10 ? (int)left : 10);
			continue;
		}
		if ((n = poll(&pfd, 1, (int)left)) == -1 && errno != EINTR)
			goto timeout;
		if (n <= 0)
			continue;
		if ((n = read(fds[0], buf, sizeof buf)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fds[0]);
			fds[0] = -1;
			continue;
		}
		if (out != NULL && len + 1 < outlen) {
			if ((size_t)n > outlen - 1 - len)
				n = (ssize_t)(outlen - 1 - len);
			memcpy(out + len, buf, (size_t)n);
			len += (size_t)n;
		}
	}
	if (out != NULL && outlen > 0)
		out[len] = '\0';
	if (!WIFEXITED(status)) {
		snprintf(err, errlen, "%s: killed by signal %d", argv[0],
		    WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
timeout:
	kill(pid, SIGKILL);
	if (fds[0] != -1)
		close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	snprintf(err, errlen, "%s: no answer in %d s, killed", argv[0],
	    SQUID_RUN_TIMEOUT_MS / 1000);
	return -1;
}

/* Whether squid was built with OpenSSL: only then can it bump (Debian's
 * "squid" is the GnuTLS flavour, "squid-openssl" can). */
static int
squid_has_openssl(char *program)
{
	char	 out[16384], err[256], version[] = "-v";
	char	*argv[3] = { program, version, NULL };

	if (squid_run(argv, NULL, out, sizeof out, err, sizeof err) != 0) {
		log_warnx("squid: %s -v: %s", program, err);
		return 0;
	}
	return strstr(out, "--with-openssl") != NULL;
}

/* Write a PEM file of cert (and key, when not NULL) atomically. */
static int
squid_write_pem(const char *path, X509 *cert, EVP_PKEY *key, mode_t mode,
    const struct passwd *pw, char *err, size_t errlen)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	char	*data;
	long	 len;
	int	 rc = -1;

	if ((cert != NULL && PEM_write_bio_X509(bio, cert) != 1) ||
	    (key != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL) != 1)) {
		snprintf(err, errlen, "%s: PEM encoding failed", path);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (util_write_atomic(path, data, (size_t)len, mode, err, errlen) != 0)
		goto out;
	/* lchown: the directory is the squid user's, and root must not
	 * follow a link it put there. */
	if (pw != NULL && lchown(path, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

/* The bump CA kept in dir when the internal CA signed it, it has a while
 * left and bump-ca.key is its key; NULL otherwise. */
/* Open a file of the squid user's directory for reading, never through a
 * link (root must not read what a link there points at). */
static FILE *
squid_open_own(const char *dir, const char *name)
{
	char	*path;
	FILE	*f = NULL;
	int	 fd;

	xasprintf(&path, "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1 &&
	    (f = fdopen(fd, "r")) == NULL)
		close(fd);
	free(path);
	return f;
}

static X509 *
squid_bump_ca_load(const char *dir)
{
	X509		*cert = NULL;
	EVP_PKEY	*key = NULL;
	FILE		*f;
	time_t		 left;

	if ((f = squid_open_own(dir, "bump-ca.crt")) != NULL) {
		cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if ((f = squid_open_own(dir, "bump-ca.key")) != NULL) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (cert == NULL || key == NULL)
		goto stale;
	left = ca_time(X509_get0_notAfter(cert)) - time(NULL);
	/* A root of its own (an older one under the internal CA verified only
	 * in clients taking a partial chain), not the internal CA itself. */
	if (X509_check_issued(cert, cert) != X509_V_OK ||
	    X509_verify(cert, key) != 1 ||
	    X509_cmp(cert, ca_certificate()) == 0 ||
	    left < SQUID_BUMP_CA_MARGIN || X509_check_private_key(cert, key) != 1)
		goto stale;
	EVP_PKEY_free(key);
	return cert;
stale:
	X509_free(cert);
	EVP_PKEY_free(key);
	return NULL;
}

/* Remove the files of dir, then dir (its subdirectories must be gone). */
static void
squid_remove_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	/* Never through a link: the directory is the squid user's. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		if ((d = fdopendir(fd)) == NULL)
			close(fd);
		else {
			while ((de = readdir(d)) != NULL)
				if (strcmp(de->d_name, ".") != 0 &&
				    strcmp(de->d_name, "..") != 0)
					unlinkat(dirfd(d), de->d_name, 0);
			closedir(d);
		}
	}
	rmdir(dir);
}

/* Remove the certificate database of an earlier run (files and a certs
 * directory of files), which security_file_certgen -c recreates. */
static void
squid_bump_db_remove(const char *db)
{
	char	*sub;

	xasprintf(&sub, "%s/certs", db);
	squid_remove_dir(sub);
	free(sub);
	squid_remove_dir(db);
}

/*
 * What ssl-bump needs in dir (run_dir/squid): the bump CA, issued by the
 * internal CA and kept while it is valid (bump-ca.crt for clients to trust,
 * bump-ca.key for squid only), the internal CA's certificate (ca.crt: squid
 * trusts origins it issued) and a fresh certificate database (ssl_db).
 */
static int
squid_bump_prepare(const struct conf *conf, const char *dir,
    const struct passwd *pw, char *err, size_t errlen)
{
	EVP_PKEY	*key = NULL;
	X509		*cert;
	char		*cadir, *path, *db, *cn, size[] = "-M", mb[] = "16MB";
	char		 create[] = "-c", store[] = "-s", out[256];
	char		*argv[7];
	int		 rc = -1, st;

	xasprintf(&cadir, "%s/ca", conf->state_dir);
	if (ca_open(cadir, conf->instance, err, errlen) != 0) {
		free(cadir);
		return -1;
	}
	free(cadir);
	if ((cert = squid_bump_ca_load(dir)) == NULL) {
		xasprintf(&cn, "%s ssl-bump CA", conf->instance);
		st = ca_make_root(cn, SQUID_BUMP_CA_SECONDS, &key, &cert, err,
		    errlen);
		free(cn);
		if (st != 0)
			return -1;
		/* The key first: a certificate without its key is not kept. */
		xasprintf(&path, "%s/bump-ca.key", dir);
		st = squid_write_pem(path, NULL, key, 0600, pw, err, errlen);
		free(path);
		xasprintf(&path, "%s/bump-ca.crt", dir);
		if (st == 0)
			st = squid_write_pem(path, cert, NULL, 0644, NULL, err,
			    errlen);
		free(path);
		if (st != 0)
			goto out;
		log_info("squid: new ssl-bump CA in %s/bump-ca.crt", dir);
	}
	xasprintf(&path, "%s/ca.crt", dir);
	st = squid_write_pem(path, ca_certificate(), NULL, 0644, NULL, err,
	    errlen);
	free(path);
	if (st != 0)
		goto out;
	/* Made-up certificates of an earlier CA must not be served again. */
	xasprintf(&db, "%s/ssl_db", dir);
	squid_bump_db_remove(db);
	argv[0] = conf->waf_squid_certgen_program;
	argv[1] = create;
	argv[2] = store;
	argv[3] = db;
	argv[4] = size;
	argv[5] = mb;
	argv[6] = NULL;
	st = squid_run(argv, pw, out, sizeof out, err, errlen);
	free(db);
	if (st > 0)
		snprintf(err, errlen, "%s -c failed (exit %d)",
		    conf->waf_squid_certgen_program, st);
	if (st != 0)
		goto out;
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* What an ssl-bump forward-proxy port adds to http_port ("" without). */
static char *
squid_bump_port(const struct conf *conf)
{
	char	*text, *dir;

	if (!squid_bump)
		return xstrdup("");
	xasprintf(&dir, "%s/squid", conf->run_dir);
	xasprintf(&text, " ssl-bump tls-cert=%s/bump-ca.crt "
	    "tls-key=%s/bump-ca.key generate-host-certificates=on "
	    "dynamic_cert_mem_cache_size=4MB", dir, dir);
	free(dir);
	return text;
}

/* The rest of squid.conf for ssl-bump ("" without): the helper making
 * certificates, peek at the client's hello (SNI) then bump, and the origins'
 * CAs besides the system's. */
static char *
squid_bump_conf(const struct conf *conf)
{
	char	*text, *dir, *extra;

	if (!squid_bump)
		return xstrdup("");
	xasprintf(&dir, "%s/squid", conf->run_dir);
	if (conf->waf_squid_ssl_bump_cafile[0] != '\0')
		xasprintf(&extra, " cafile=%s", conf->waf_squid_ssl_bump_cafile);
	else
		extra = xstrdup("");
	xasprintf(&text, "# TLS inspection: CONNECTs are bumped with the CA of "
	    "%s/bump-ca.crt.\n"
	    "sslcrtd_program %s -s %s/ssl_db -M 16MB\n"
	    "sslcrtd_children 8 startup=1 idle=1\n"
	    "acl netcrave_step1 at_step SslBump1\n"
	    "ssl_bump peek netcrave_step1\n"
	    "ssl_bump bump all\n"
	    "tls_outgoing_options cafile=%s/ca.crt%s\n",
	    dir, conf->waf_squid_certgen_program, dir, dir, extra);
	free(extra);
	free(dir);
	return text;
}

/*
 * With ssl-bump, CONNECTs and the requests bumped out of them (https://) stay
 * in the front squid: squid pins a bumped request to the connection its
 * CONNECT went out on, and through the judge that would be a tunnel the judge
 * sees nothing in.  They are judged by the front squid, every one of them,
 * cache hits included, and go to their origins from there.
 */
#define SQUID_BUMPED_DIRECT						\
	"acl netcrave_bumped proto HTTPS\n"				\
	"acl netcrave_tunnel method CONNECT\n"				\
	"cache_peer_access netcrave_to_judge deny netcrave_bumped\n"	\
	"cache_peer_access netcrave_to_judge deny netcrave_tunnel\n"	\
	"always_direct allow netcrave_bumped\n"				\
	"always_direct allow netcrave_tunnel\n"

/* What both squids say of themselves: names, files (NAME.pid, NAMEcache.log,
 * NAMEaccess.log in dir) and the manners of one squid forwarding to another. */
static char *
squid_common_conf(const struct conf *conf, const char *dir, const char *pid,
    const char *prefix)
{
	char	*text;

	xasprintf(&text,
	    "visible_hostname %s\n"
	    "pid_filename %s/%s.pid\n"
	    "cache_log %s/%scache.log\n"
	    "access_log stdio:%s/%saccess.log squid\n"
	    "cache_store_log none\n"
	    "coredump_dir %s\n"
	    "shutdown_lifetime 1 seconds\n"
	    /* The front forwards to the judge: no Via, nothing to loop. */
	    "via off\n",
	    conf->instance, dir, pid, dir, prefix, dir, prefix, dir);
	return text;
}

/* ICAP on, and the egress rule set's two services. */
static char *
squid_icap_conf(const struct conf *conf)
{
	char	*text;

	xasprintf(&text,
	    "icap_enable on\n"
	    "icap_preview_enable on\n"
	    "icap_persistent_connections on\n"
	    "icap_send_client_ip on\n"
	    "icap_service_failure_limit -1\n"
	    "icap_service netcrave_req reqmod_precache bypass=off "
	    "icap://%s/waf/%s/reqmod\n"
	    "icap_service netcrave_resp respmod_precache bypass=off "
	    "icap://%s/waf/%s/respmod\n",
	    conf->waf_icap_listen, conf->waf_egress_rule_set,
	    conf->waf_icap_listen, conf->waf_egress_rule_set);
	return text;
}

/* Write a configuration: root reads it at start, the squid user may (its
 * group), others not (it names the judge ports). */
static int
squid_write_file(const char *path, char *text, char *err, size_t errlen)
{
	const struct passwd	*pw;
	int			 rc;

	rc = util_write_atomic(path, text, strlen(text), 0640, err, errlen);
	if (rc == 0 && geteuid() == 0 && (pw = getpwnam("proxy")) != NULL &&
	    lchown(path, 0, pw->pw_gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(text);
	return rc;
}

/* The front squid: the client ports, the memory cache, misses to the judge.
 * ICAP only with ssl-bump, for the bumped requests (SQUID_BUMPED_DIRECT). */
static int
squid_write_front(const struct conf *conf, const char *dir, char *err,
    size_t errlen)
{
	char	*text, *path, *common, *accel, *egress, *bump, *bumpconf;
	char	*icap, *egress_peer, *host, *port;

	xasprintf(&path, "%s/%s", dir, squid_front.file);
	common = squid_common_conf(conf, dir, "squid", "");
	accel = squid_accel_front_conf(conf);
	egress = squid_egress_conf(conf);
	bump = squid_bump_port(conf);
	bumpconf = squid_bump_conf(conf);
	icap = squid_bump ? squid_icap_conf(conf) :
	    xstrdup("icap_enable off\n");
	/* Egress misses to a judge port of their own, where the judge refuses
	 * the host's own addresses as it connects (a name may resolve to a
	 * public address here and to loopback there). */
	if (*egress != '\0')
		xasprintf(&egress_peer, "cache_peer 127.0.0.1 parent %d 0 "
		    "no-query no-digest default name=netcrave_to_judge_egress\n"
		    "%s"
		    "cache_peer_access netcrave_to_judge_egress allow "
		    "netcrave_egress\n"
		    "cache_peer_access netcrave_to_judge_egress deny all\n",
		    squid_judge_egress_port, squid_bump ?
		    "cache_peer_access netcrave_to_judge_egress deny "
		    "netcrave_bumped\n"
		    "cache_peer_access netcrave_to_judge_egress deny "
		    "netcrave_tunnel\n" : "");
	else
		egress_peer = xstrdup("");
	/* Checked by squid_init. */
	if (util_hostport(conf->waf_squid_listen, &host, &port) == -1)
		fatalx("%s: %s", __func__, conf->waf_squid_listen);
	xasprintf(&text,
	    "# squid.conf: written by netcraved at every start; edits are lost.\n"
	    "# The front squid: forward proxy (egress) on %s.  It answers\n"
	    "# from its memory cache; every miss goes to the judge squid\n"
	    "# (judge.conf), where netcraved's ICAP server judges the request\n"
	    "# (rule set \"%s\") before any backend sees it and the response\n"
	    "# before it is cached or served.  A cache hit reaches no backend\n"
	    "# and is not judged again.\n"
	    "http_port %s name=netcrave_forward%s\n"
	    "%s"
	    "acl netcrave_forward myportname netcrave_forward\n"
	    "cache_peer 127.0.0.1 parent %d 0 no-query no-digest "
	    "default name=netcrave_to_judge\n"
	    "%s"
	    "cache_peer_access netcrave_to_judge allow netcrave_forward\n"
	    "cache_peer_access netcrave_to_judge deny all\n"
	    "%s"
	    "%s"
	    "%s"
	    "cache_mem %u MB\n"
	    "maximum_object_size_in_memory 1 MB\n"
	    "%s"
	    "%s"
	    "never_direct allow all\n"
	    /* 169.254/16: the uplink, under which egress networks come */
	    "acl netcrave_clients src 127.0.0.0/8 ::1 10.0.0.0/8 "
	    "172.16.0.0/12 192.168.0.0/16 198.18.0.0/15 169.254.0.0/16 "
	    "fc00::/7\n"
	    "acl SSL_ports port 443\n"
	    "acl CONNECT method CONNECT\n"
	    "http_access deny CONNECT !SSL_ports\n"
	    /* The readiness probe, from the listening address, whatever it
	     * is; the judge refuses it.  -n: by the name, never by an
	     * address's reverse lookup. */
	    "acl netcrave_probe dstdomain -n netcrave-ready.invalid\n"
	    "acl netcrave_probe_src src 127.0.0.1 ::1 %s\n"
	    "http_access allow netcrave_probe netcrave_probe_src\n"
	    "http_access allow netcrave_clients\n"
	    "http_access deny all\n"
	    "%s",
	    conf->waf_squid_listen, conf->waf_egress_rule_set,
	    conf->waf_squid_listen, bump, egress, squid_judge_port,
	    squid_bump ? SQUID_BUMPED_DIRECT : "", egress_peer, bumpconf,
	    common, conf->waf_squid_cache_mem_mb, icap, accel, host,
	    squid_bump ? "adaptation_access netcrave_req allow netcrave_bumped\n"
	    "adaptation_access netcrave_req allow netcrave_tunnel\n"
	    "adaptation_access netcrave_req deny all\n"
	    "adaptation_access netcrave_resp allow netcrave_bumped\n"
	    "adaptation_access netcrave_resp deny all\n" : "");
	free(common);
	free(accel);
	free(egress);
	free(egress_peer);
	free(bump);
	free(bumpconf);
	free(icap);
	free(host);
	free(port);
	if (squid_write_file(path, text, err, errlen) != 0) {
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* The judge squid: its loopback ports take the front's misses, ICAP judges
 * them, and what passes goes to its origin; it caches nothing. */
static int
squid_write_judge(const struct conf *conf, const char *dir, char *err,
    size_t errlen)
{
	char	*text, *path, *common, *accel, *icap;
	int	 rc;

	xasprintf(&path, "%s/%s", dir, squid_judge.file);
	common = squid_common_conf(conf, dir, "judge", "judge-");
	accel = squid_accel_judge_conf(conf);
	icap = squid_icap_conf(conf);
	xasprintf(&text,
	    "# judge.conf: written by netcraved at every start; edits are lost.\n"
	    "# The judge squid: the front squid's misses, judged by netcraved's\n"
	    "# ICAP server, then to their origins.  Only loopback reaches it.\n"
	    "http_port 127.0.0.1:%d name=netcrave_judge\n"
	    "http_port 127.0.0.1:%d name=netcrave_judge_egress\n"
	    "acl netcrave_judge myportname netcrave_judge\n"
	    "acl netcrave_judge_egress myportname netcrave_judge_egress\n"
	    /* The readiness probes end here (squid_ready). */
	    "acl netcrave_probe dstdomain -n netcrave-ready.invalid\n"
	    "%s"
	    "cache deny all\n"
	    "cache_mem 0 MB\n"
	    /* The front caches what comes back: no header it need not keep. */
	    "reply_header_access X-Cache-Lookup deny all\n"
	    /* Backends' X-Forwarded-For names the client as the front saw it,
	     * not the front too.  (The client's own X-Forwarded-For is not
	     * followed: through HAProxy every hop is loopback, and it would
	     * name whatever the client wrote.) */
	    "forwarded_for transparent\n"
	    "%s"
	    "%s"
	    "always_direct allow netcrave_judge\n"
	    "always_direct allow netcrave_judge_egress\n"
	    "http_access deny netcrave_probe\n"
	    /* Containers must not reach the host's own services. */
	    "http_access deny netcrave_judge_egress to_localhost\n"
	    "http_access allow localhost\n"
	    "http_access deny all\n"
	    "adaptation_access netcrave_req allow netcrave_judge\n"
	    "adaptation_access netcrave_req allow netcrave_judge_egress\n"
	    "adaptation_access netcrave_req deny all\n"
	    "adaptation_access netcrave_resp allow netcrave_judge\n"
	    "adaptation_access netcrave_resp allow netcrave_judge_egress\n"
	    "adaptation_access netcrave_resp deny all\n",
	    squid_judge_port, squid_judge_egress_port, common, icap, accel);
	free(common);
	free(accel);
	free(icap);
	rc = squid_write_file(path, text, err, errlen);
	free(path);
	return rc;
}

/* Squid takes numeric addresses only ("" too is refused here); -1 with err. */
static int
squid_check_addr(const char *key, const char *value, char *err,
    size_t errlen)
{
	struct sockaddr_storage	ss;
	int			sslen = sizeof ss;

	if (evutil_parse_sockaddr_port(value, (struct sockaddr *)&ss,
	    &sslen) == 0)
		return 0;
	snprintf(err, errlen, "%s: \"%s\": expected ADDRESS:PORT", key, value);
	return -1;
}

/*
 * The front squid runs only while the judge squid is ready: while the judge
 * is down its port is free, and whatever bound it (anything holding
 * CAP_NET_BIND_SERVICE on the host, or any user when netcraved is not root)
 * would get every miss unjudged and could fill the cache.  So the judge
 * leaving ready stops the front, and the judge ready again starts it.
 */
static int	squid_front_held;	/* stopped for the judge: start again */

static void
squid_front_start_if_held(void)
{
	if (!squid_front_held || squid_front.child == NULL ||
	    squid_judge.child == NULL ||
	    supervise_state(squid_judge.child) != CHILD_READY ||
	    supervise_state(squid_front.child) != CHILD_STOPPED)
		return;
	squid_front_held = 0;
	log_info("squid: judge ready again, starting the front squid");
	supervise_start(squid_front.child);
}

static void
squid_judge_state(struct child *ch, enum child_state old,
    enum child_state new, void *arg)
{
	(void)ch;
	(void)arg;
	if (new == CHILD_READY) {
		squid_front_start_if_held();
		return;
	}
	/* When netcraved stops, the front has stopped first. */
	if (old != CHILD_READY || squid_front.child == NULL ||
	    supervise_state(squid_front.child) == CHILD_STOPPED)
		return;
	log_warnx("squid: the judge squid is down, stopping the front squid "
	    "until it is back (misses would reach its free port)");
	squid_front_held = 1;
	supervise_stop(squid_front.child);
}

static void
squid_front_state(struct child *ch, enum child_state old,
    enum child_state new, void *arg)
{
	(void)ch;
	(void)old;
	(void)arg;
	if (new == CHILD_STOPPED)
		squid_front_start_if_held();
}

/* Add one squid to the child table, ready when squid_ready says so. */
static int
squid_add_child(const struct conf *conf, struct squid_instance *s,
    const char *dir, int stop_order, const char *after, char *err,
    size_t errlen)
{
	struct conf_child	 spec;
	static char		 nodaemon[] = "-N", file[] = "-f";
	char			*argv[5], *envv[1] = { NULL }, *path, *role;
	char			*after_copy;

	xasprintf(&path, "%s/%s", dir, s->file);
	role = xstrdup(s->role);
	memset(&spec, 0, sizeof spec);
	spec.role = role;
	argv[0] = conf->waf_squid_program;
	argv[1] = nodaemon;	/* stay in the foreground: we supervise */
	argv[2] = file;
	argv[3] = path;
	argv[4] = NULL;
	spec.argv = argv;
	spec.env = envv;
	spec.restart = CONF_RESTART_ALWAYS;
	spec.backoff_initial_ms = 500;
	spec.backoff_max_ms = 30000;
	spec.ready_timeout_ms = 30000;
	spec.stop_order = stop_order;
	spec.stop_timeout_ms = 5000;
	after_copy = after != NULL ? xstrdup(after) : NULL;
	spec.start_after = after_copy;
	s->ok[0] = s->ok[1] = s->ok[2] = 0;
	s->child = supervise_add(&spec, squid_ready, s);	/* copies spec */
	free(path);
	free(role);
	free(after_copy);
	if (s->child == NULL) {
		snprintf(err, errlen, "a child called \"%s\" exists already",
		    s->role);
		return -1;
	}
	return 0;
}

static int
squid_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*conf = env->conf;
	const struct passwd	*pw;
	char			*dir;
	struct sockaddr_storage	 ss;
	int			 sslen, rc = -1;
	/* The judge refuses this host: no backend sees a probe (a failed
	 * connection to the accelerator's origin would count against it). */
	static const char	 probe[] =
	    "HEAD http://netcrave-ready.invalid/ HTTP/1.0\r\n\r\n";

	if (!conf->waf_squid_enabled)
		return 0;
	if (conf->waf_icap_listen[0] == '\0') {
		snprintf(err, errlen, "waf.squid.enabled needs waf.icap_listen");
		return -1;
	}
	if ((squid_judge_port = squid_free_port(0, 0)) == -1 ||
	    (squid_judge_accel_port = squid_free_port(squid_judge_port, 0)) ==
	    -1 || (squid_judge_egress_port = squid_free_port(squid_judge_port,
	    squid_judge_accel_port)) == -1) {
		snprintf(err, errlen, "no free privileged loopback port (600 to "
		    "1023) for squid's judge ports");
		return -1;
	}
	sslen = sizeof ss;
	if (evutil_parse_sockaddr_port(conf->waf_squid_listen,
	    (struct sockaddr *)&ss, &sslen) != 0)
		return squid_check_addr("waf.squid.listen",
		    conf->waf_squid_listen, err, errlen);
	squid_probe_set(&squid_front.probe[0], &ss, sslen, probe);
	squid_probe_set_loopback(&squid_judge.probe[0], squid_judge_port,
	    probe);
	squid_probe_set(&squid_front.probe[1], NULL, 0, NULL);
	squid_probe_set(&squid_judge.probe[1], NULL, 0, NULL);
	squid_probe_set(&squid_front.probe[2], NULL, 0, NULL);
	squid_probe_set_loopback(&squid_judge.probe[2], squid_judge_egress_port,
	    probe);
	if (conf->waf_squid_accel_listen[0] != '\0') {
		if (squid_check_addr("waf.squid.accel_peer",
		    conf->waf_squid_accel_peer, err, errlen) != 0)
			return -1;
		sslen = sizeof ss;
		if (evutil_parse_sockaddr_port(conf->waf_squid_accel_listen,
		    (struct sockaddr *)&ss, &sslen) != 0)
			return squid_check_addr("waf.squid.accel_listen",
			    conf->waf_squid_accel_listen, err, errlen);
		squid_probe_set(&squid_front.probe[1], &ss, sslen,
		    "HEAD / HTTP/1.0\r\nHost: netcrave-ready.invalid\r\n\r\n");
		/* The front forwards to it as to a proxy. */
		squid_probe_set_loopback(&squid_judge.probe[1],
		    squid_judge_accel_port, probe);
	}
	/* Squid refuses to run as root and drops to its own user. */
	pw = geteuid() == 0 ? getpwnam("proxy") : NULL;
	xasprintf(&dir, "%s/squid", conf->run_dir);
	if (squid_dir(dir, pw, err, errlen) != 0)
		goto out;
	squid_bump = 0;
	if (conf->waf_squid_ssl_bump &&
	    !squid_has_openssl(conf->waf_squid_program))
		log_warnx("squid: waf.squid.ssl_bump: %s is built without "
		    "OpenSSL (no --with-openssl in \"squid -v\"), so it cannot "
		    "bump: egress HTTPS passes uninspected (install "
		    "squid-openssl)", conf->waf_squid_program);
	else if (conf->waf_squid_ssl_bump) {
		if (squid_bump_prepare(conf, dir, pw, err, errlen) != 0)
			goto out;
		squid_bump = 1;
	}
	if (squid_write_judge(conf, dir, err, errlen) != 0 ||
	    squid_write_front(conf, dir, err, errlen) != 0)
		goto out;
	/* The front starts once the judge is ready; both stop after the
	 * containers using them, the front first. */
	if (squid_add_child(conf, &squid_judge, dir, 11, NULL, err,
	    errlen) != 0 || squid_add_child(conf, &squid_front, dir, 10,
	    squid_judge.role, err, errlen) != 0)
		goto out;
	squid_front_held = 0;
	supervise_set_state_cb(squid_judge.child, squid_judge_state, NULL);
	supervise_set_state_cb(squid_front.child, squid_front_state, NULL);
	log_info("squid: forward proxy on %s, judged through icap://%s/waf/%s "
	    "by a second squid on 127.0.0.1:%d", conf->waf_squid_listen,
	    conf->waf_icap_listen, conf->waf_egress_rule_set,
	    squid_judge_port);
	if (squid_bump)
		log_info("squid: ssl-bump on, clients trust %s/bump-ca.crt",
		    dir);
	if (conf->waf_squid_accel_listen[0] != '\0')
		log_info("squid: accelerator on %s for %s, rule set by Host",
		    conf->waf_squid_accel_listen, conf->waf_squid_accel_peer);
	rc = 0;
out:
	free(dir);
	return rc;
}

static int
squid_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	if (old->waf_squid_enabled != new->waf_squid_enabled ||
	    strcmp(old->waf_squid_program, new->waf_squid_program) != 0 ||
	    strcmp(old->waf_squid_listen, new->waf_squid_listen) != 0 ||
	    strcmp(old->waf_egress_rule_set, new->waf_egress_rule_set) != 0 ||
	    strcmp(old->waf_egress_tag, new->waf_egress_tag) != 0 ||
	    strcmp(old->waf_squid_accel_listen,
	    new->waf_squid_accel_listen) != 0 ||
	    strcmp(old->waf_squid_accel_peer, new->waf_squid_accel_peer) != 0 ||
	    old->waf_squid_cache_mem_mb != new->waf_squid_cache_mem_mb ||
	    old->waf_squid_ssl_bump != new->waf_squid_ssl_bump ||
	    strcmp(old->waf_squid_certgen_program,
	    new->waf_squid_certgen_program) != 0 ||
	    strcmp(old->waf_squid_ssl_bump_cafile,
	    new->waf_squid_ssl_bump_cafile) != 0) {
		snprintf(err, errlen, "waf.squid changed, which needs a "
		    "restart");
		return -1;
	}
	return 0;
}

static void
squid_instance_shutdown(struct squid_instance *s)
{
	int	i;

	for (i = 0; i < 3; i++)
		squid_probe_set(&s->probe[i], NULL, 0, NULL);
	/* supervise_stop_all has run: squid is stopped and may be removed. */
	if (s->child != NULL && supervise_remove(s->child) == 0)
		s->child = NULL;
}

static void
squid_shutdown(void)
{
	squid_instance_shutdown(&squid_front);
	squid_instance_shutdown(&squid_judge);
}

const struct server squid_server_entry = {
	"squid", squid_init, squid_reload, squid_shutdown
};
