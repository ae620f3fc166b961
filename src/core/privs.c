/* privs.c: least privilege (issue 12): once started, netcraved keeps only the
 * capabilities its own work needs, and sets no_new_privs when no child of its
 * would need more.  Raw capget/capset: two calls do not need libcap. */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"

/* What netcraved itself does after start, and the capability it takes. */
static const struct {
	int		 cap;
	const char	*name;
} privs_keep[] = {
	{ CAP_NET_ADMIN, "cap_net_admin" },	/* links, addresses, routes, nft */
	{ CAP_SYS_ADMIN, "cap_sys_admin" },	/* setns, unshare, mount, FUSE */
	{ CAP_NET_BIND_SERVICE, "cap_net_bind_service" },	/* DNS on 53 */
	/* Files of other owners: squid's directory, operator's config. */
	{ CAP_DAC_OVERRIDE, "cap_dac_override" },
	{ CAP_CHOWN, "cap_chown" },		/* squid's directory to its user */
	{ CAP_FOWNER, "cap_fowner" },		/* chmod of such files */
	{ CAP_KILL, "cap_kill" },		/* children that changed user */
};

/* The capability mask to keep, 64 bits wide (two capset words). */
uint64_t
privs_keep_mask(void)
{
	uint64_t	mask = 0;
	size_t		i;

	for (i = 0; i < sizeof privs_keep / sizeof privs_keep[0]; i++)
		mask |= (uint64_t)1 << privs_keep[i].cap;
	return (mask);
}

int
privs_drop(int no_new_privs, char *err, size_t errlen)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];
	uint64_t			eff, keep = privs_keep_mask();
	char				names[256];
	size_t				i;

	memset(&hdr, 0, sizeof hdr);
	memset(data, 0, sizeof data);
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return (-1);
	}
	eff = (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
	/*
	 * Effective and permitted shrink to what is kept; inheritable is
	 * emptied.  The bounding set stays whole: a child (dockerd, squid) is
	 * root and regains it at exec, which is what it needs -- unless
	 * no_new_privs is set, which is why that is only done without children.
	 */
	eff &= keep;
	data[0].effective = data[0].permitted = (uint32_t)eff;
	data[1].effective = data[1].permitted = (uint32_t)(eff >> 32);
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return (-1);
	}
	if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return (-1);
	}
	names[0] = '\0';
	for (i = 0; i < sizeof privs_keep / sizeof privs_keep[0]; i++) {
		if (eff & (uint64_t)1 << privs_keep[i].cap)
			snprintf(names + strlen(names), sizeof names -
			    strlen(names), "%s%s", names[0] != '\0' ? "," : "",
			    privs_keep[i].name);
	}
	log_info("privileges: kept %s, no_new_privs %s",
	    names[0] != '\0' ? names : "no capabilities",
	    no_new_privs ? "set" : "not set (children regain theirs at exec)");
	return (0);
}
