#!/bin/sh
# mkplugin.sh: lay out netcrave as a Docker managed (v2) plugin: DIR/config.json
# and DIR/rootfs/ holding netcraved, netcravectl, the shared libraries they link
# (as ldd finds them), a default configuration and the directories the mounts
# need.  `docker plugin create NAME DIR` takes the result as it is.
#
# usage: mkplugin.sh DIR NETCRAVED NETCRAVECTL
#
# No helper program goes in: netcraved speaks rtnetlink (libnl) and nftables
# (libnftables) itself, never through ip(8) or nft(8), and a plugin supervises
# no dockerd.
set -eu

[ $# -eq 3 ] || { echo "usage: $0 DIR NETCRAVED NETCRAVECTL" >&2; exit 1; }
dir=$1
netcraved=$2
netcravectl=$3
for b in "$netcraved" "$netcravectl"; do
	[ -x "$b" ] || { echo "$0: $b is not an executable" >&2; exit 1; }
done
# A sanitizer build links libasan, which wants /proc/self/maps and a big
# address space: it works, but it is not what anyone should ship.
if ldd "$netcraved" | grep -q 'libasan\|libubsan'; then
	echo "$0: warning: $netcraved is a sanitizer build" >&2
fi

rm -rf "$dir"
r=$dir/rootfs
mkdir -p "$r/usr/sbin" "$r/usr/bin" "$r/etc/netcrave" "$r/run/docker/plugins" \
    "$r/run/netns" "$r/var/lib/netcrave" "$r/mnt/propagated" "$r/tmp" "$r/proc" \
    "$r/sys" "$r/dev"
chmod 1777 "$r/tmp"
cp "$netcraved" "$r/usr/sbin/netcraved"
cp "$netcravectl" "$r/usr/bin/netcravectl"

# Every library both binaries load, at the path the host's loader found it (the
# loader's default directories are the same inside), and the loader itself.
ldd "$netcraved" "$netcravectl" |
    awk '/:$/ { next } $2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' |
    sort -u |
while read -r lib; do
	mkdir -p "$r$(dirname "$lib")"
	cp -L "$lib" "$r$lib"
done

printf 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n' \
    >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
# libnftables resolves protocol and service names ("tcp", "domain") here.
for f in /etc/protocols /etc/services; do
	[ -f "$f" ] || { echo "$0: $f is missing (netbase)" >&2; exit 1; }
	cp "$f" "$r$f"
done

# The plugin's own configuration: the socket dockerd looks for (it bind-mounts
# its per-plugin directory on /run/docker/plugins), state on the "state" mount,
# run_dir on the propagatedMount (volumes are FUSE-mounted in run_dir/volumes,
# and dockerd must see them), and Scope global so that in a swarm the networks
# are swarm networks.  Another
# file is chosen with `docker plugin set NAME args="-c FILE"` (a path inside the
# plugin, e.g. under /var/lib/netcrave).
cat >"$r/etc/netcrave/netcraved.json" <<'EOF'
{
	// netcrave as a Docker managed plugin (tools/mkplugin.sh)
	"instance": "netcrave",
	"paths": {
		"run_dir": "/mnt/propagated",
		"state_dir": "/var/lib/netcrave",
		"plugin_socket": "/run/docker/plugins/netcrave.sock"
	},
	"plugin": { "scope": "global", "managed": true },
	"follower": { "docker_socket": null }
}
EOF

# Docker's plugin config (v1 of plugin v2): network host, because the driver
# makes the containers' veth ends in dockerd's namespace; CAP_NET_ADMIN for
# links, addresses and nftables; CAP_SYS_ADMIN for setns(2) and the routing
# namespace's bind mount, which goes to the host's /run/netns (rshared) so it
# outlives a plugin restart as containers do.  The propagatedMount carries the
# volumes' FUSE mounts (/dev/fuse) out to dockerd; it also makes dockerd ask for
# an rshared root, without which runc makes it rslave and the namespaces
# netcraved binds under /run/netns would stay inside the plugin.
cat >"$dir/config.json" <<'EOF'
{
	"description": "netcrave: network and IPAM driver handing out networks from an address schema",
	"documentation": "netcraved(8), section MANAGED PLUGIN",
	"entrypoint": ["/usr/sbin/netcraved", "-f"],
	"workdir": "/",
	"args": {
		"name": "args",
		"description": "more netcraved arguments",
		"settable": ["value"],
		"value": ["-c", "/etc/netcrave/netcraved.json"]
	},
	"interface": {
		"socket": "netcrave.sock",
		"types": ["docker.networkdriver/1.0", "docker.ipamdriver/1.0",
		    "docker.volumedriver/1.0"]
	},
	"network": { "type": "host" },
	"propagatedMount": "/mnt/propagated",
	"linux": {
		"capabilities": ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
		"devices": [ { "path": "/dev/fuse" } ]
	},
	"mounts": [
		{
			"name": "state",
			"description": "netcraved's state (the store, keys)",
			"settable": ["source"],
			"source": "/var/lib/netcrave",
			"destination": "/var/lib/netcrave",
			"type": "bind",
			"options": ["rbind", "rw"]
		},
		{
			"name": "netns",
			"description": "named network namespaces, shared with the host",
			"source": "/run/netns",
			"destination": "/run/netns",
			"type": "bind",
			"options": ["rbind", "rshared"]
		}
	]
}
EOF
echo "plugin in $dir: $(du -sh "$r" | cut -f1) rootfs, $(find "$r" -type f | wc -l) files"
