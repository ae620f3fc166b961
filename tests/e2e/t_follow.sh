#!/bin/bash
# t_follow: netcraved follows a real dockerd from the side: containers appear in
# and disappear from `netcravectl containers` within a second of docker run/rm; a
# container labelled io.netcrave.tags=a,b is connected to <instance>-a and
# <instance>-b by netcraved itself (networks created on demand, IPv6 where the
# tag's scope has it); an unknown tag is reported; a burst of eight containers;
# netcraved killed and restarted: the map is rebuilt from dockerd's list; dockerd
# killed with SIGKILL and restarted: nothing known is lost meanwhile, the follower
# reconnects and resyncs.
#
# The tag networks use netcrave's own NetworkDriver and IPAM (the default
# follower.network_driver).
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need jq
e2e_start_dockerd
e2e_import_busybox

ula=$(e2e_ula)
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'" },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.19.0.0/16",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "default", "ipv4_network": "198.19.0.0/20",
	    "ipv4_prefix_length": 24, "tags": ["default"] },
	  { "name": "a", "ipv4_network": "198.19.16.0/20", "ipv4_prefix_length": 24,
	    "tags": ["a"] },
	  { "name": "b", "ipv4_network": "198.19.32.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':100::/56", "ipv6_prefix_length": 64,
	    "tags": ["b"] } ] } ]'
e2e_start_netcraved

ctl() { "$NETCRAVECTL" -c "$E2E_NETCRAVED_CONF" "$@"; }
following() { ctl containers | head -1 | grep -q ': following$'; }
listed() { ctl containers | awk 'NR > 2 { print $1 }' | grep -qx "$1"; }
not_listed() { ! listed "$1"; }
on_network() { dk inspect "$1" -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' | tr ' ' '\n' | grep -qx "$2"; }
# within SECONDS CMD...: poll, and say how long it took.
within() {
	local t0=$(e2e_now_ms) s=$1
	shift
	e2e_wait "$s" "$@" || return 1
	e2e_log "$* after $(( $(e2e_now_ms) - t0 ))ms"
}

[ -n "${NETCRAVECTL:-}" ] && [ -x "$NETCRAVECTL" ] || e2e_skip "NETCRAVECTL is not set"
within 10 following || { ctl containers; e2e_fail "the follower did not reach dockerd"; }

# The default network exists once dockerd answers, on netcrave IPAM.
DEF=$PLUGIN-default
within 10 dk network inspect "$DEF" || e2e_fail "default network $DEF was not created"
[ "$(dk network inspect "$DEF" -f '{{.IPAM.Driver}}')" = "$PLUGIN" ] ||
    e2e_fail "$DEF's IPAM driver is not $PLUGIN"

# A container appears within a second of docker run, with its address, and
# disappears within a second of docker rm.
dk run -d --name plain --network "$DEF" local/busybox sleep 300 >/dev/null ||
    e2e_fail "docker run plain"
within 1 listed plain || { ctl containers; e2e_fail "plain not listed within 1s"; }
ip=$(dk inspect plain -f "{{(index .NetworkSettings.Networks \"$DEF\").IPAddress}}")
out=$(ctl containers)
e2e_expect_contains "$out" "$ip" "netcravectl containers (plain's address)"
e2e_expect_contains "$out" "$DEF" "netcravectl containers (plain's network)"
out=$(ctl -j containers)
e2e_expect_contains "$out" "\"id\":\"$(dk inspect plain -f '{{.Id}}')\"" "containers JSON"
dk rm -f plain >/dev/null
within 1 not_listed plain || { ctl containers; e2e_fail "plain still listed 1s after docker rm"; }

# Tag assignment: connected to <instance>-a and <instance>-b by netcraved.
dk run -d --name tagged --label io.netcrave.tags=a,b --network "$DEF" \
    local/busybox sleep 300 >/dev/null || e2e_fail "docker run tagged"
within 10 on_network tagged "$PLUGIN-a" || e2e_fail "tagged is not on $PLUGIN-a"
within 10 on_network tagged "$PLUGIN-b" || e2e_fail "tagged is not on $PLUGIN-b"
[ "$(dk network inspect "$PLUGIN-b" -f '{{.EnableIPv6}} {{.IPAM.Driver}} {{index .IPAM.Options "netcrave.tag"}}')" = "true $PLUGIN b" ] ||
    e2e_fail "$PLUGIN-b: $(dk network inspect "$PLUGIN-b" -f '{{.EnableIPv6}} {{.IPAM.Driver}} {{.IPAM.Options}}')"
[ "$(dk network inspect "$PLUGIN-a" -f '{{.EnableIPv6}}')" = false ] ||
    e2e_fail "$PLUGIN-a has IPv6, its scope has none"
a=$(dk exec tagged ip -4 -o addr show | awk '$4 ~ /^198\.19\.16\./ { print $4 }')
[ -n "$a" ] || e2e_fail "tagged has no address from scope a: $(dk exec tagged ip -o addr)"
a6=$(dk exec tagged ip -6 -o addr show scope global | awk '{ print $4 }')
e2e_expect_contains "$a6" "$ula:100:" "tagged's IPv6 address (scope b)"
haveb() { ctl containers | grep '^tagged ' | grep -q "$PLUGIN-b"; }
within 2 haveb || e2e_fail "netcravectl does not show tagged on $PLUGIN-b"
out=$(ctl containers | grep '^tagged ')
e2e_expect_contains "$out" "$PLUGIN-a" "tagged's row"
e2e_expect_contains "$out" " a,b " "tagged's row (tags)"

# A second tagged container reuses the networks made for the first.
dk run -d --name tagged2 --label io.netcrave.tags=b --network "$DEF" \
    local/busybox sleep 300 >/dev/null || e2e_fail "docker run tagged2"
within 10 on_network tagged2 "$PLUGIN-b" || e2e_fail "tagged2 is not on $PLUGIN-b"
[ "$(dk network ls -q --filter name="^$PLUGIN-b\$" | wc -l)" = 1 ] ||
    e2e_fail "more than one network $PLUGIN-b"

# An unknown tag is reported (netcravectl and the log), the known one still served.
dk run -d --name oddtag --label 'io.netcrave.tags=a, nope' --network "$DEF" \
    local/busybox sleep 300 >/dev/null || e2e_fail "docker run oddtag"
within 10 on_network oddtag "$PLUGIN-a" || e2e_fail "oddtag is not on $PLUGIN-a"
reported() { ctl containers | grep '^oddtag ' | grep -q 'unknown tag "nope"'; }
within 2 reported || { ctl containers; e2e_fail "unknown tag not reported"; }
grep -q 'container oddtag: unknown tag "nope"' "$E2E_D/netcraved.log" ||
    e2e_fail "unknown tag not logged"

# A container on --network none cannot be connected: dockerd's error is logged
# with the container's name and shown as a problem.
dk run -d --name lonely --label io.netcrave.tags=a --network none \
    local/busybox sleep 300 >/dev/null || e2e_fail "docker run lonely"
failed() { ctl containers | grep '^lonely ' | grep -q 'a: '; }
within 10 failed || { ctl containers; e2e_fail "lonely's failed connect not reported"; }
grep -q 'container lonely: tag a: connecting to' "$E2E_D/netcraved.log" ||
    e2e_fail "lonely's failed connect not logged with its name"

# A burst: eight containers started at once (several events per read), all
# listed within a second of the last docker run; removed at once, all gone
# within a second.
pids=
for i in 1 2 3 4 5 6 7 8; do
	dk run -d --name "burst$i" --network "$DEF" local/busybox sleep 300 >/dev/null &
	pids="$pids $!"
done
# Only these: the daemons are children of this shell too.
wait $pids
all_listed() { for i in 1 2 3 4 5 6 7 8; do listed "burst$i" || return 1; done; }
none_listed() { for i in 1 2 3 4 5 6 7 8; do not_listed "burst$i" || return 1; done; }
within 1 all_listed || { ctl containers; e2e_fail "the burst is not all listed within 1s"; }
dk rm -f burst1 burst2 burst3 burst4 burst5 burst6 burst7 burst8 >/dev/null
within 1 none_listed || { ctl containers; e2e_fail "the burst is still listed 1s after docker rm"; }

# The map's metrics come through dockerd_watch: the follower's own watcher.
metric() { curl -s --unix-socket "$E2E_D/run/metrics.sock" http://x/metrics | awk -v m="$1" '$1 == m { print $2 }'; }
n=$(ctl -j containers | jq '.containers | length')
[ "$(metric netcrave_dockerd_containers)" = "$n" ] ||
    e2e_fail "netcrave_dockerd_containers is $(metric netcrave_dockerd_containers), netcravectl lists $n"
[ "$(metric 'netcrave_dockerd_changes_total{change="down"}')" -ge 1 ] ||
    e2e_fail "no DOWN counted (plain was removed)"
[ "$(metric 'netcrave_dockerd_assignments_total{result="ok"}')" -ge 4 ] ||
    e2e_fail "assignments ok: $(metric 'netcrave_dockerd_assignments_total{result="ok"}')"
[ "$(metric 'netcrave_dockerd_assignments_total{result="failed"}')" -ge 1 ] ||
    e2e_fail "the failed assignment of lonely was not counted"
[ "$(metric netcrave_dockerd_following)" = 1 ] || e2e_fail "netcrave_dockerd_following is not 1"

# netcraved SIGKILLed and started again: the running containers are known at
# once from the list, tags and problems included.
e2e_kill9_netcraved
e2e_start_netcraved
within 5 following || e2e_fail "the follower did not start following again"
within 2 haveb || { ctl containers; e2e_fail "tagged not known after netcraved's restart"; }
within 2 reported || { ctl containers; e2e_fail "oddtag's unknown tag not reported after the restart"; }

# dockerd SIGKILLed: what is known stays; dockerd back: the follower resyncs.
kill -KILL "$E2E_DOCKERD_PID"
wait "$E2E_DOCKERD_PID" 2>/dev/null
E2E_DOCKERD_PID=
away() { ctl containers | head -1 | grep -q ': away'; }
within 5 away || { ctl containers; e2e_fail "the follower did not notice dockerd went"; }
listed tagged || e2e_fail "tagged was forgotten while dockerd is away"
listed tagged2 || e2e_fail "tagged2 was forgotten while dockerd is away"
[ "$(metric netcrave_dockerd_following)" = 0 ] || e2e_fail "netcrave_dockerd_following is not 0 while away"
# Its containerd died with it, but may linger as a zombie nobody reaps here,
# which a new dockerd would take for a live containerd: forget its pid file.
rm -f "$E2E_D/exec/containerd/containerd.pid"
e2e_start_dockerd
within 10 following || { ctl containers; e2e_fail "the follower did not reconnect"; }
# Without a restart policy the containers did not come back: DOWN after the resync.
within 5 not_listed tagged || { ctl containers; e2e_fail "tagged still listed after the resync"; }
grep -q 'container tagged (.*) is down' "$E2E_D/netcraved.log" ||
    e2e_fail "no DOWN for tagged in the log"
dk rm -f tagged tagged2 oddtag lonely >/dev/null 2>&1
dk run -d --name again --label io.netcrave.tags=a --network "$DEF" \
    local/busybox sleep 300 >/dev/null || e2e_fail "docker run after the dockerd restart"
within 1 listed again || { ctl containers; e2e_fail "again not listed within 1s"; }
within 10 on_network again "$PLUGIN-a" || e2e_fail "again is not on $PLUGIN-a"
grep -q 'dockerd: following' "$E2E_D/netcraved.log" || e2e_fail "no reconnect in the log"
echo "ok - t_follow"
