#!/bin/bash
# t_runtime: runtime.mode "supervised": netcraved writes containerd's and
# dockerd's configs and runs both as children — containerd first, dockerd once
# containerd answers; containers run through that dockerd; dockerd or containerd
# killed with SIGKILL is restarted and containers are manageable again; SIGTERM
# to netcraved stops dockerd (and its containers) first, then containerd, and
# leaves no process behind.  The follower follows that dockerd by itself.
# Both run in netcrave's routing namespace (runtime.netns "auto"), and the
# containers run on a netcrave network before and after each kill.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved

# dockerd from a bin_dir of our own (a link to the system's), containerd from PATH.
mkdir -p "$E2E_D/bin"
ln -s "$(command -v dockerd)" "$E2E_D/bin/dockerd"
E2E_CGROUP_PARENT="/netcrave-e2e-$E2E_ID"
E2E_NETCRAVED_EXTRA='"runtime": {
		"mode": "supervised",
		"bin_dir": "'"$E2E_D"'/bin",
		"storage_driver": "vfs",
		"dockerd_args": ["--cgroup-parent", "'"$E2E_CGROUP_PARENT"'",
		    "--shutdown-timeout", "2"]
	},
	"follower": { "docker_socket": "auto" },
	"default_tag": "web",
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.232.0/21",
	  "scopes": [ { "name": "web", "ipv4_network": "198.18.232.0/22",
	    "ipv4_prefix_length": 24, "tags": ["web"] } ] } ]'
e2e_start_netcraved
ctl() { e2e_ctl "$@"; }
child_field() { e2e_child_field "$@"; }
child_ready() { e2e_child_ready "$@"; }
restarted() { [ "$(child_field "$1" restarts)" -ge 1 ]; }
e2e_wait_supervised_dockerd
# Both in the routing namespace, which netcraved made before dockerd started.
ns_inode=$(ip netns exec "_$E2E_INSTANCE" readlink /proc/self/ns/net) ||
    e2e_fail "no namespace _$E2E_INSTANCE"
for role in containerd dockerd; do
	[ "$(readlink "/proc/$(child_field $role pid)/ns/net")" = "$ns_inode" ] ||
	    e2e_fail "$role is not in _$E2E_INSTANCE"
done
e2e_log "containerd $(child_field containerd pid), dockerd $E2E_DOCKERD_PID ready"
log=$E2E_D/netcraved.log
grep -q "runtime: dockerd from $E2E_D/bin/dockerd" "$log" ||
    e2e_fail "dockerd was not taken from runtime.bin_dir"
grep -q "runtime: containerd from PATH" "$log" ||
    e2e_fail "containerd should have come from PATH"
# Order: containerd ready before dockerd was started.
c_ready=$(grep -n "containerd: starting -> ready" "$log" | head -n 1 | cut -d: -f1)
d_start=$(grep -n "dockerd: stopped -> starting" "$log" | head -n 1 | cut -d: -f1)
[ -n "$c_ready" ] && [ -n "$d_start" ] && [ "$c_ready" -lt "$d_start" ] ||
    e2e_fail "dockerd started before containerd was ready (lines $c_ready, $d_start)"
# The generated configs name only our own paths.
grep -q "\"data-root\": \"$E2E_D/state/runtime/docker\"" "$E2E_D/state/runtime/daemon.json" ||
    e2e_fail "daemon.json lacks our data root: $(cat "$E2E_D/state/runtime/daemon.json")"
grep -q "\"iptables\": false" "$E2E_D/state/runtime/daemon.json" ||
    e2e_fail "daemon.json lets dockerd write iptables"
[ "$(dk info --format '{{.DockerRootDir}}')" = "$E2E_D/state/runtime/docker" ] ||
    e2e_fail "dockerd's root dir is not ours"

e2e_import_busybox
out=$(dk run --rm --network none local/busybox echo hello-runtime 2>&1)
e2e_expect_contains "$out" hello-runtime "a container through the supervised dockerd"

# The follower's "auto" socket is the dockerd netcraved runs.
cid=$(dk run -d --network none --name rt-follow local/busybox sleep 600) ||
    e2e_fail "docker run -d"
listed() { ctl containers | awk 'NR > 2 { print $1 }' | grep -qx rt-follow; }
e2e_wait 10 listed || { ctl containers; e2e_fail "the follower did not list rt-follow"; }
dk rm -f "$cid" >/dev/null

# Containers on a netcrave network: address from netcrave, gateway reachable.
dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" \
    --ipam-opt netcrave.tag=web rtnet >/dev/null || e2e_fail "network create rtnet"
gw=$(dk network inspect rtnet -f '{{(index .IPAM.Config 0).Gateway}}')
on_net() {	# on_net WHAT: a container on rtnet pings the gateway
	local out
	out=$(timeout 60 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" run --rm \
	    --network rtnet local/busybox sh -c "ping -c1 -W2 $gw >/dev/null && echo $1" 2>&1)
	[ "${out#*"$1"}" != "$out" ]
}
on_net before-kills || e2e_fail "a container on rtnet cannot reach its gateway $gw"
dk run -d --name rtkeep --network rtnet local/busybox sleep 600 >/dev/null ||
    e2e_fail "docker run -d rtkeep"

# SIGKILL dockerd: restarted within the backoff, containers manageable again.
old=$E2E_DOCKERD_PID
kill -KILL "$old"
e2e_wait 30 restarted dockerd || e2e_fail "dockerd not restarted after SIGKILL"
e2e_wait 60 child_ready dockerd || e2e_fail "restarted dockerd not ready"
E2E_DOCKERD_PID=$(child_field dockerd pid)
[ "$E2E_DOCKERD_PID" != "$old" ] || e2e_fail "dockerd has the same pid after SIGKILL"
# (A restarted dockerd may still be restoring: give it the ready probe's time.)
e2e_wait 30 on_net after-dockerd-kill ||
    e2e_fail "no container on rtnet after dockerd was killed"
dk rm -f rtkeep >/dev/null || e2e_fail "rtkeep not removable after dockerd was killed"

# SIGKILL containerd: restarted; dockerd reconnects to it.
kill -KILL "$(child_field containerd pid)"
e2e_wait 30 restarted containerd || e2e_fail "containerd not restarted after SIGKILL"
e2e_wait 30 child_ready containerd || e2e_fail "restarted containerd not ready"
ok=0
for _ in $(seq 30); do
	if out=$(timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" run --rm \
	    --network none local/busybox echo after-containerd-kill 2>&1) &&
	    [ "${out#*after-containerd-kill}" != "$out" ]; then
		ok=1; break
	fi
	sleep 1
done
[ "$ok" = 1 ] || e2e_fail "no container after containerd was killed: $out"
e2e_wait 30 on_net after-containerd-kill ||
    e2e_fail "no container on rtnet after containerd was killed"
# Every endpoint released: nothing of rtkeep or the --rm runs is left.
no_endpoints() { [ "$(ctl -j endpoints | jq '.endpoints | length')" = 0 ]; }
e2e_wait 10 no_endpoints || { ctl endpoints; e2e_fail "endpoints left on rtnet"; }

# A running container, then SIGTERM: dockerd stopped before containerd, nothing left.
cid=$(dk run -d --network none local/busybox sleep 600) || e2e_fail "docker run -d"
e2e_stop_netcraved
E2E_DOCKERD_PID=
d_stop=$(grep -n "dockerd: ready -> stopping" "$log" | tail -n 1 | cut -d: -f1)
c_stop=$(grep -n "containerd: ready -> stopping" "$log" | tail -n 1 | cut -d: -f1)
[ -n "$d_stop" ] && [ -n "$c_stop" ] && [ "$d_stop" -lt "$c_stop" ] ||
    e2e_fail "stop order: dockerd at line $d_stop, containerd at line $c_stop"
left=$(e2e_our_pids; e2e_cgroup_pids)
[ -z "$left" ] || e2e_fail "processes left after netcraved stopped: $(ps -o pid,args -p $(echo $left | tr ' ' ,))"
e2e_log "container ${cid:0:12} and both runtimes stopped with netcraved"
exit 0
