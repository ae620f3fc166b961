#!/bin/bash
# t_reset: `netcravectl reset`: refused without --yes when nobody can be asked;
# with --yes, after containers ran through the supervised dockerd on a netcrave
# network with a netcrave volume, it stops netcraved (which stops dockerd, then
# containerd), and leaves no process, namespace, link, nft table, mount, socket
# or directory of the instance behind -- while a namespace and a link of
# someone else (the link even aliased like another netcrave instance) survive.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need ip nft jq

# Someone else's: must survive.
other_ns="ncby-$E2E_ID"
other_link="ncby$E2E_ID"
ip netns add "$other_ns" || e2e_fail "ip netns add $other_ns"
e2e_at_cleanup "ip netns delete $other_ns 2>/dev/null; ip link delete $other_link 2>/dev/null"
ip link add "$other_link" type veth peer name "${other_link}p" ||
    e2e_fail "ip link add $other_link"
ip link set "$other_link" alias "netcrave:other$E2E_ID:net:x"

E2E_CGROUP_PARENT="/netcrave-e2e-$E2E_ID"
E2E_NETCRAVED_EXTRA='"runtime": {
		"mode": "supervised",
		"storage_driver": "vfs",
		"dockerd_args": ["--cgroup-parent", "'"$E2E_CGROUP_PARENT"'",
		    "--shutdown-timeout", "2"]
	},
	"default_tag": "web",
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.224.0/20",
	  "scopes": [ { "name": "web", "ipv4_network": "198.18.224.0/21",
	    "ipv4_prefix_length": 24, "tags": ["web"] } ] } ]'
e2e_start_netcraved
ctl() { e2e_ctl "$@"; }
e2e_wait_supervised_dockerd
ns="_$E2E_INSTANCE"
# dockerd runs in netcrave's namespace (runtime.netns defaults to it).
[ "$(readlink "/proc/$E2E_DOCKERD_PID/ns/net")" = \
  "$(ip netns exec "$ns" readlink /proc/self/ns/net)" ] ||
    e2e_fail "dockerd is not in $ns"
out=$(ctl children)
e2e_expect_contains "$out" "containerd" "netcravectl children"
e2e_expect_contains "$out" "ready" "netcravectl children"

e2e_import_busybox
dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" \
    --ipam-opt netcrave.tag=web rnet >/dev/null || e2e_fail "network create"
dk volume create -d "$PLUGIN" rvol >/dev/null || e2e_fail "volume create"
dk run --rm --network rnet -v rvol:/data local/busybox \
    sh -c 'echo kept >/data/f' || e2e_fail "writing the volume"
dk run -d --name rrun --network rnet -v rvol:/data local/busybox \
    sleep 600 >/dev/null || e2e_fail "a running container"
grep -q " $E2E_D/run/volumes/rvol " /proc/self/mountinfo ||
    e2e_fail "the volume is not FUSE-mounted at $E2E_D/run/volumes/rvol"
[ -n "$(ip -o link show | grep "alias netcrave:$E2E_INSTANCE:")" ] ||
    ip netns exec "$ns" ip -o link show | grep -q "alias netcrave:$E2E_INSTANCE:" ||
    e2e_fail "no netcrave link to reset"

# No --yes and no terminal: refused, nothing touched.
if out=$(ctl reset </dev/null 2>&1); then
	e2e_fail "reset without --yes and without a terminal went ahead: $out"
fi
e2e_expect_contains "$out" "refusing without --yes" "reset without --yes"
e2e_alive "$E2E_NETCRAVED_PID" || e2e_fail "netcraved stopped by a refused reset"

# On a terminal it lists what it would remove and asks; "no" declines.
if command -v script >/dev/null 2>&1; then
	out=$(printf 'no\n' | script -qec "$NETCRAVECTL -c $E2E_D/netcraved.json reset" /dev/null 2>&1)
	e2e_expect_contains "$out" "network namespace $ns" "reset's question on a terminal"
	e2e_expect_contains "$out" "nothing done" "reset declined on a terminal"
	e2e_alive "$E2E_NETCRAVED_PID" || e2e_fail "netcraved stopped by a declined reset"
fi

pid=$E2E_NETCRAVED_PID
out=$(ctl reset --yes 2>&1) || {
	printf '%s\n' "$out" >&2
	e2e_fail "netcravectl reset --yes failed"
}
printf '%s\n' "$out" >&2
wait "$pid" 2>/dev/null
E2E_NETCRAVED_PID= E2E_DOCKERD_PID=
e2e_alive "$pid" && e2e_fail "netcraved $pid still runs after reset"
# netcraved stopped its children in order (dockerd first).
log=$E2E_D/netcraved.log
d_stop=$(grep -n "dockerd: ready -> stopping" "$log" | tail -n 1 | cut -d: -f1)
c_stop=$(grep -n "containerd: ready -> stopping" "$log" | tail -n 1 | cut -d: -f1)
[ -n "$d_stop" ] && [ -n "$c_stop" ] && [ "$d_stop" -lt "$c_stop" ] ||
    e2e_fail "stop order: dockerd at line $d_stop, containerd at line $c_stop"

nothing_left() {	# nothing_left WHEN
	local left
	left=$(e2e_our_pids; e2e_cgroup_pids)
	[ -z "$left" ] || e2e_fail "$1: processes left: $(ps -o pid,args -p "$(echo $left | tr ' ' ,)")"
	[ -e "/run/netns/$ns" ] && e2e_fail "$1: namespace $ns left"
	ip -o link show | grep "alias netcrave:$E2E_INSTANCE:" &&
	    e2e_fail "$1: links aliased netcrave:$E2E_INSTANCE: left"
	nft list tables | awk -v t="$E2E_INSTANCE" '$3 == t' | grep . &&
	    e2e_fail "$1: nft table $E2E_INSTANCE left"
	grep -E " $E2E_D/(run|state)[/ ]" /proc/self/mountinfo &&
	    e2e_fail "$1: mounts left under $E2E_D"
	for f in "$E2E_D/run" "$E2E_D/state" "$E2E_PLUGIN_SOCK"; do
		[ -e "$f" ] && e2e_fail "$1: $f left"
	done
	# Someone else's survived.
	[ -e "/run/netns/$other_ns" ] || e2e_fail "$1: reset removed $other_ns"
	ip link show "$other_link" >/dev/null 2>&1 ||
	    e2e_fail "$1: reset removed $other_link"
	return 0
}
nothing_left "after reset"
# Nothing left to do: a second reset, alone, succeeds too.
out=$(ctl reset --yes 2>&1) || e2e_fail "a second reset failed: $out"
e2e_expect_contains "$out" "no netcraved answers" "second reset"

# netcraved SIGKILLed leaves dockerd, containerd and a container running in
# its namespace: reset, with no daemon to ask, stops those too.
e2e_start_netcraved
e2e_wait_supervised_dockerd
e2e_import_busybox
dk run -d --name orphan --network none local/busybox sleep 600 >/dev/null ||
    e2e_fail "docker run orphan"
e2e_kill9_netcraved
[ -n "$(e2e_our_pids)" ] || e2e_fail "no orphans to reset after SIGKILL"
out=$(ctl reset --yes 2>&1) || {
	printf '%s\n' "$out" >&2
	e2e_fail "reset after SIGKILL failed"
}
printf '%s\n' "$out" >&2
E2E_DOCKERD_PID=
e2e_expect_contains "$out" "no netcraved answers" "reset after SIGKILL"
e2e_expect_contains "$out" "leftover process" "reset after SIGKILL"
nothing_left "after a reset of orphans"
e2e_log "reset removed everything of $E2E_INSTANCE and nothing else"
exit 0
