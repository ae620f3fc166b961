#!/bin/bash
# t_swarm: netcrave as a Docker managed (v2) plugin in a single-node swarm.  The
# plugin is laid out by tools/mkplugin.sh (what `make plugin` runs), created and
# enabled in a private dockerd; a volume of its VolumeDriver (FUSE inside the
# plugin) is written and read back; the dockerd becomes a swarm manager; an
# attachable swarm network
# on netcrave's driver and IPAM carries a service task and a `docker run`
# container, both addressed from netcrave's schema, which reach each other; network
# rm and plugin disable/rm leave no link, namespace, nft table or process behind.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need jq ip
e2e_start_dockerd
e2e_import_busybox

PNAME=netcrave:e2e
# Netcraved's kernel names (namespace _<instance>, nft table, link aliases) come
# from the instance: a random one, so the cleanup of lib.sh finds what is left.
E2E_INSTANCE=$(e2e_new_instance)
E2E_PLUGIN_SOCK=$E2E_D/no-such.sock
NET=$E2E_INSTANCE-net

# The plugin: rootfs from the binaries under test.
sh "$top_srcdir/tools/mkplugin.sh" "$E2E_D/plugin" "$NETCRAVED" "$NETCRAVECTL" >&2 ||
    e2e_fail "tools/mkplugin.sh failed"
jq -e '.interface.socket == "netcrave.sock" and .network.type == "host"' \
    "$E2E_D/plugin/config.json" >/dev/null || e2e_fail "config.json: socket or network wrong"

# A /20 of 198.18.0.0/15 that nothing on the host uses (other tests run
# beside this one), in random order.
free20=$( { ip -o -4 addr show; ip -4 route show table all; } 2>/dev/null | python3 -c '
import ipaddress, random, re, sys
used = [ipaddress.ip_network(m, strict=False) for m in
    re.findall(r"\b(\d+\.\d+\.\d+\.\d+(?:/\d+)?)", sys.stdin.read())]
nets = list(ipaddress.ip_network("198.18.0.0/15").subnets(new_prefix=20))
random.shuffle(nets)
print(next((str(n) for n in nets if not any(n.overlaps(u) for u in used)), ""))')
[ -n "$free20" ] || e2e_skip "no /20 of 198.18.0.0/15 is free on this host"
e2e_log "schema: $free20"

# Its configuration goes on the state mount (a private directory), chosen with
# `docker plugin set ... args`: our instance, a schema in $free20.
mkdir -p "$E2E_D/pstate" /run/netns
chmod 0700 "$E2E_D/pstate"
cat >"$E2E_D/pstate/netcraved.json" <<EOF
{
	"instance": "$E2E_INSTANCE",
	"log_level": "debug",
	"paths": {
		"run_dir": "/mnt/propagated",
		"state_dir": "/var/lib/netcrave",
		"plugin_socket": "/run/docker/plugins/netcrave.sock"
	},
	"plugin": { "scope": "global" },
	"follower": { "docker_socket": null },
	"network": { "vrf_backend": "netns" },
	"default_tag": "web",
	"scopes": [ { "name": "web", "ipv4_network": "$free20",
	  "ipv4_prefix_length": 24, "tags": ["web"] } ]
}
EOF

# Whatever happens: leave the swarm and drop the plugin while dockerd lives.
e2e_at_cleanup 'timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" volume rm -f e2evol >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" service rm e2esvc >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" rm -f e2eone >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" network rm "$NET" >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" swarm leave --force >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" plugin disable -f "$PNAME" >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" plugin rm -f "$PNAME" >/dev/null 2>&1'

# ---------------------------------------------------------------- the plugin
out=$(dk plugin create "$PNAME" "$E2E_D/plugin" 2>&1) ||
    e2e_fail "docker plugin create: $out"
dk plugin set "$PNAME" state.source="$E2E_D/pstate" \
    args="-c /var/lib/netcrave/netcraved.json" 2>&1 ||
    e2e_fail "docker plugin set failed"
if ! out=$(dk plugin enable --timeout 30 "$PNAME" 2>&1); then
	e2e_show_log dockerd "$E2E_D/dockerd.log"
	e2e_fail "docker plugin enable: $out"
fi
pid=$(dk plugin inspect -f '{{.ID}}' "$PNAME")
e2e_log "plugin $PNAME ($pid) enabled"
e2e_expect_contains "$(dk plugin ls --format '{{.Name}} {{.Enabled}}')" \
    "$PNAME true" "docker plugin ls"
# The daemon inside logs to the plugin's stdout, which dockerd copies to its log.
e2e_wait 10 grep -q "plugin: listening on /run/docker/plugins/netcrave.sock" \
    "$E2E_D/dockerd.log" || { e2e_show_log dockerd "$E2E_D/dockerd.log";
    e2e_fail "netcraved in the plugin did not log its socket"; }

# ---------------------------------------------------------------- a volume
# The VolumeDriver inside the plugin: a FUSE mount (/dev/fuse) under the
# propagatedMount, which dockerd sees through the plugin's rootfs.
out=$(dk volume create -d "$PNAME" e2evol 2>&1) || e2e_fail "volume create: $out"
if ! dk run --rm -v e2evol:/data local/busybox sh -c 'echo swarmvol > /data/f'; then
	grep 'netcraved:' "$E2E_D/dockerd.log" | grep -v http_conn | tail -n 20 >&2
	e2e_fail "a container could not write to the plugin's volume"
fi
r=$(dk run --rm -v e2evol:/data local/busybox sh -c 'cat /data/f; grep " /data " /proc/mounts' 2>&1)
e2e_expect_contains "$r" swarmvol "the volume read back by another container"
e2e_expect_contains "$r" fuse "the volume's mount in the container"
dk volume rm e2evol >/dev/null || e2e_fail "volume rm e2evol"
e2e_log "volume through the plugin: written, read back, removed"

# ---------------------------------------------------------------- the swarm
if ! out=$(dk swarm init --advertise-addr 127.0.0.1 2>&1); then
	e2e_skip "docker swarm init --advertise-addr 127.0.0.1 failed here: $out"
fi
e2e_log "swarm: $(dk info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')"

# Docker's own IPAM hands out a pool netcrave's AllocateNetwork refuses, with
# the way out in its words.  The manager allocates after `network create`
# returned, so the refusal is in dockerd's log, and the network never allocated.
id=$(dk network create -d "$PNAME" --attachable "$NET-default" 2>&1) ||
    e2e_fail "network create (Docker's IPAM): $id"
refused() {
	grep "Failed allocation for network $id" "$E2E_D/dockerd.log" |
	    grep -q "AllocateNetwork: netcrave: pool .* is not from netcrave's address schema: create the network with --ipam-driver"
}
e2e_wait 20 refused || e2e_fail "AllocateNetwork did not refuse Docker's pool (dockerd.log)"
dk network rm "$NET-default" >/dev/null || e2e_fail "network rm $NET-default"
# Scope global: without --scope, the driver's network is a swarm network.
if ! out=$(dk network create -d "$PNAME" --ipam-driver "$PNAME" --attachable \
    "$NET" 2>&1); then
	e2e_show_log dockerd "$E2E_D/dockerd.log"
	e2e_fail "network create on the plugin: $out"
fi
scope=$(dk network inspect -f '{{.Scope}}' "$NET")
[ "$scope" = swarm ] || e2e_fail "network $NET has scope $scope, not swarm"
subnet=$(dk network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$NET")
e2e_log "network $NET: scope $scope, subnet $subnet"
in_free20() { python3 -c 'import ipaddress, sys
sys.exit(0 if ipaddress.ip_network(sys.argv[1]).subnet_of(ipaddress.ip_network(sys.argv[2])) else 1)' "$1" "$free20"; }
in_free20 "$subnet" || e2e_fail "subnet $subnet is not from the schema's web scope $free20"

# A second swarm network naming the first one's subnet: the IPAM driver grants
# it (it cannot tell it from the node's own request), AllocateNetwork refuses.
id=$(dk network create -d "$PNAME" --ipam-driver "$PNAME" --subnet "$subnet" \
    "$NET-dup" 2>&1) || e2e_fail "network create $NET-dup: $id"
dup_refused() {
	grep "Failed allocation for network $id" "$E2E_D/dockerd.log" |
	    grep -q "AllocateNetwork: netcrave: pool $subnet overlaps swarm network"
}
e2e_wait 20 dup_refused || e2e_fail "a second swarm network on $subnet was allocated"
dk network rm "$NET-dup" >/dev/null || e2e_fail "network rm $NET-dup"
e2e_log "a second swarm network on $subnet: refused"

# ---------------------------------------------------------------- a task, a container
# The service's task: its address is the manager's allocation from netcrave's
# pool, built on this node by the plugin's CreateNetwork/Join.
if ! out=$(dk service create --detach --name e2esvc --network "$NET" \
    --restart-condition none local/busybox sh -c \
    'mkdir -p /www && echo hello >/www/index.html && httpd -f -p 80 -h /www' 2>&1); then
	e2e_fail "service create: $out"
fi
svc_running() {
	[ "$(dk service ps -q --filter desired-state=running e2esvc | wc -l)" = 1 ] &&
	    [ -n "$(dk ps -q --filter label=com.docker.swarm.service.name=e2esvc)" ]
}
if ! e2e_wait 60 svc_running; then
	dk service ps --no-trunc e2esvc >&2
	grep 'netcraved:' "$E2E_D/dockerd.log" | grep -v http_conn | tail -n 20 >&2
	e2e_fail "the service's task did not start on $NET"
fi
task=$(dk ps -q --filter label=com.docker.swarm.service.name=e2esvc)
task_ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$task")
e2e_log "task $task: $task_ip"

if ! out=$(dk run -d --name e2eone --network "$NET" local/busybox sleep 600 2>&1); then
	grep 'netcraved:' "$E2E_D/dockerd.log" | grep -v http_conn | tail -n 20 >&2
	e2e_fail "docker run --network $NET: $out"
fi
one_ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" e2eone)
e2e_log "container e2eone: $one_ip"
for a in "$task_ip" "$one_ip"; do
	case "$a" in
	"${subnet%.*/24}".*) ;;
	*) e2e_fail "address $a is not in the network's subnet $subnet" ;;
	esac
done
[ "$task_ip" != "$one_ip" ] || e2e_fail "task and container share $task_ip"

dk exec e2eone ping -c1 -W2 "$task_ip" >/dev/null ||
    e2e_fail "e2eone cannot ping the task at $task_ip"
r=$(dk exec e2eone sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 $task_ip 80" 2>&1)
e2e_expect_contains "$r" hello "HTTP from the container to the task"
dk exec "$task" ping -c1 -W2 "$one_ip" >/dev/null ||
    e2e_fail "the task cannot ping e2eone at $one_ip"
e2e_log "task and container reach each other"

# What the plugin built is on the host: the routing namespace (on the host's
# /run/netns through the rshared mount) forwarding, and the nft table loaded
# (libnftables inside the plugin resolves protocol names: /etc/protocols).
ns=_$E2E_INSTANCE
[ -e "/run/netns/$ns" ] || e2e_fail "routing namespace $ns is not on the host's /run/netns"
[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] ||
    e2e_fail "forwarding is off in $ns (/proc/sys read-only in the plugin?)"
if command -v nft >/dev/null 2>&1; then
	ip netns exec "$ns" nft list tables | grep -qw "$E2E_INSTANCE" ||
	    e2e_fail "no nft table $E2E_INSTANCE in $ns"
fi
if grep 'netcraved:' "$E2E_D/dockerd.log" | grep -q 'nft.*Error\|sysctl.*Read-only'; then
	grep 'netcraved:' "$E2E_D/dockerd.log" | grep 'nft.*Error\|sysctl.*Read-only' | head -5 >&2
	e2e_fail "netcraved in the plugin could not program nft or sysctls"
fi

# ---------------------------------------------------------------- removal
dk service rm e2esvc >/dev/null || e2e_fail "service rm failed"
dk rm -f e2eone >/dev/null || e2e_fail "rm -f e2eone failed"
no_task() { [ -z "$(dk ps -aq --filter label=com.docker.swarm.service.name=e2esvc)" ]; }
e2e_wait 30 no_task || e2e_fail "the service's task container stayed"
# The node drops its part of a swarm network once nothing on it is left.
out=$(dk network rm "$NET" 2>&1) || e2e_fail "network rm $NET: $out"
# (The uplink is netcraved's own, not the network's: it stays while netcraved runs.)
net_links() { e2e_links_ours | grep "netcrave:$E2E_INSTANCE:" | grep -v ":uplink:"; }
no_bridge() { [ -z "$(net_links)" ]; }
if ! e2e_wait 30 no_bridge; then
	net_links >&2
	e2e_fail "links of the network stayed after network rm"
fi
e2e_log "network rm: no link of the network left"

dk plugin disable "$PNAME" >/dev/null || e2e_fail "plugin disable failed"
dk plugin rm "$PNAME" >/dev/null || e2e_fail "plugin rm failed"
[ -z "$(dk plugin ls -q)" ] || e2e_fail "a plugin is still listed"
pgrep -f "^/usr/sbin/netcraved -f -c /var/lib/netcrave/netcraved.json" >/dev/null &&
    e2e_fail "the plugin's netcraved still runs"
e2e_log "plugin disable/rm: nothing of the plugin runs"

# Like any netcraved stop, the plugin's leaves the routing namespace and its
# uplink (a plugin upgrade must not cut containers off).  `netcravectl reset`,
# given the plugin's configuration with the host's view of its paths, removes
# the rest: then nothing is left.
[ -e "/run/netns/$ns" ] || e2e_fail "routing namespace $ns went with the plugin (expected to stay)"
sed -e "s|\"/mnt/propagated\"|\"$E2E_D/prun\"|" \
    -e "s|\"/var/lib/netcrave\"|\"$E2E_D/pstate\"|" \
    -e "s|\"/run/docker/plugins/netcrave.sock\"|\"$E2E_D/prun/netcrave.sock\"|" \
    "$E2E_D/pstate/netcraved.json" >"$E2E_D/host.json"
out=$("$NETCRAVECTL" -c "$E2E_D/host.json" reset --yes 2>&1) ||
    e2e_fail "netcravectl reset: $out"
[ -z "$(e2e_netns_ours)" ] || e2e_fail "namespaces left after reset: $(e2e_netns_ours)"
left=$(ip -o link show | grep "alias netcrave:$E2E_INSTANCE:")
[ -z "$left" ] || e2e_fail "links left after reset: $left"
if command -v nft >/dev/null 2>&1; then
	nft list tables | awk -v t="$E2E_INSTANCE" '$3 == t' | grep . &&
	    e2e_fail "nft table $E2E_INSTANCE left"
fi
[ ! -e "$E2E_D/pstate" ] || e2e_fail "reset left the plugin's state directory"
e2e_log "after plugin rm and netcravectl reset: nothing of $E2E_INSTANCE left"

exit 0
