#!/bin/bash
# t_torture (issue 12): TORTURE_CYCLES (default 100) `docker run`/`docker rm`
# cycles on a netcrave network with a netcrave volume, while netcraved is
# SIGKILLed at random moments (in about one cycle out of TORTURE_KILL_EVERY,
# default 3, somewhere in the first TORTURE_KILL_MS ms of the cycle) and
# started again.  After every restart, once the cycle's docker commands are
# done: no leaked link (ep-aliased links equal the endpoints dockerd has, none
# left in the host namespace), no namespace but the routing one, the nft
# table's rule count as at the start, no FUSE mount nobody uses; no address
# handed out twice (the two long-running anchors keep theirs, no cycle
# container got one of them, netcraved's endpoints unique); DNS answers the
# anchors' addresses and NXDOMAIN for the cycle's container; every cycle's
# container checks the volume's checksum, and a last one at the end.
# By hand: TORTURE_CYCLES=1000 E2E_TIMEOUT=3600 sh tests/e2e/run t_torture
# e2e-timeout: 420
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need jq dig nft ip
[ -n "${NETCRAVECTL:-}" ] && [ -x "$NETCRAVECTL" ] || e2e_skip "NETCRAVECTL is not set"
CYCLES=${TORTURE_CYCLES:-100}
KILL_EVERY=${TORTURE_KILL_EVERY:-3}
KILL_MS=${TORTURE_KILL_MS:-1500}
# A seed of its own, printed, so a failing run can be repeated.
SEED=${TORTURE_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
e2e_start_dockerd ${TORTURE_DOCKERD_DEBUG:+--debug}
e2e_import_busybox

PORT=$(shuf -i 20000-40000 -n 1)
Z=netcrave.internal.
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'" },
	"dns": { "listen": ["127.0.0.1:'$PORT'"] },
	"default_tag": "web",
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.240.0/21",
	  "scopes": [ { "name": "web", "ipv4_network": "198.18.240.0/22",
	    "ipv4_prefix_length": 24, "tags": ["web"] } ] } ]'
e2e_start_netcraved
ns="_$E2E_INSTANCE"
ctl() { "$NETCRAVECTL" -c "$E2E_D/netcraved.json" "$@"; }
q() { dig -p "$PORT" +norec +short +tries=1 +time=1 @127.0.0.1 "$@"; }
nxdomain() { dig -p "$PORT" +norec +tries=1 +time=1 @127.0.0.1 "$1" A | grep -q 'status: NXDOMAIN'; }
ip4() { dk inspect "$1" -f '{{(index .NetworkSettings.Networks "tnet").IPAddress}}'; }

dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" \
    --ipam-opt netcrave.tag=web tnet >/dev/null || e2e_fail "network create tnet"
dk volume create -d "$PLUGIN" tvol >/dev/null || e2e_fail "volume create tvol"
# 256 KiB of random data and its checksum, written once.
dk run --rm -v tvol:/data local/busybox sh -c \
    'dd if=/dev/urandom of=/data/blob bs=1024 count=256 2>/dev/null &&
     cd /data && sha256sum blob >blob.sha256' || e2e_fail "writing the volume"
for a in anchor1 anchor2; do
	dk run -d --name "$a" --network tnet local/busybox sleep 100000 >/dev/null ||
	    e2e_fail "docker run $a"
done
# A holder keeps tvol mounted, so netcraved refuses VolumeDriver.Remove: on a
# shared host another test's dockerd lists (and its old cleanup removed) the
# volumes of every plugin socket in /run/docker/plugins.
dk run -d --name vholder --network none -v tvol:/hold local/busybox \
    sleep 100000 >/dev/null || e2e_fail "docker run vholder"
A1=$(ip4 anchor1) A2=$(ip4 anchor2)
[ -n "$A1" ] && [ -n "$A2" ] && [ "$A1" != "$A2" ] || e2e_fail "anchor addresses: $A1 $A2"
anchors_served() {
	[ "$(q "anchor1.$Z")" = "$A1" ] && [ "$(q "anchor2.$Z")" = "$A2" ]
}
e2e_wait 10 anchors_served || e2e_fail "anchors not in DNS: $(q anchor1.$Z) $(q anchor2.$Z)"
# nft rules in the routing namespace and the VRF namespaces (netns backend).
rules() {
	local n
	for n in $(e2e_netns_ours); do
		ip netns exec "$n" nft -a list table inet "$E2E_INSTANCE" 2>/dev/null
	done | grep -c '# handle'
}
RULES=$(rules)
e2e_log "seed $SEED, $CYCLES cycles, anchors $A1 $A2, $RULES nft rules"

# Endpoints dockerd has on netcrave-driver networks, and netcraved's.
docker_endpoints() {
	local n total=0
	for n in $(dk network ls -q --filter driver="$PLUGIN"); do
		total=$(( total + $(dk network inspect "$n" -f '{{len .Containers}}') ))
	done
	echo "$total"
}
nc_endpoints() { ctl -j endpoints | jq '.endpoints | length'; }
# Endpoint links (the bridge ends) in the routing and VRF namespaces.
ep_links() {
	local n
	for n in $(e2e_netns_ours); do ip -n "$n" -o link show; done |
	    grep -c "alias netcrave:$E2E_INSTANCE:ep:"
}
host_ep_links() { ip -o link show | grep -c "alias netcrave:$E2E_INSTANCE:ep:"; }
fuse_mounts() { grep -c " $E2E_D/run/volumes/" /proc/self/mountinfo; }
# No dead FUSE mount of a killed netcraved, none stacked: tvol (held by
# vholder) is mounted once and answers.
fuse_ok() {
	[ "$(fuse_mounts)" = 1 ] && stat "$E2E_D/run/volumes/tvol/blob" >/dev/null 2>&1
}
settled() {
	local d
	d=$(docker_endpoints)
	[ "$(nc_endpoints)" = "$d" ] && [ "$(ep_links)" = "$d" ] &&
	    [ "$(host_ep_links)" = 0 ] && fuse_ok
}

# check CYCLE NAME: the invariants, once the kernel and dockerd have settled.
check() {
	local i=$1 name=$2 d extra addrs
	# An endpoint dockerd gave up on (a kill cut its CreateEndpoint and the
	# retry failed) is swept by netcraved 30-40 s after its restart.
	if ! e2e_wait 50 settled; then
		e2e_log "cycle $i: docker $(docker_endpoints) endpoints, netcraved" \
		    "$(nc_endpoints), ep links $(ep_links), host ep links" \
		    "$(host_ep_links), fuse mounts $(fuse_mounts)"
		grep " $E2E_D/run/volumes/" /proc/self/mountinfo >&2
		ls -la "$E2E_D/run/volumes/tvol/" >&2
		grep "tvol" "$E2E_D/netcraved.log" | tail -n 5 >&2
		ctl endpoints >&2
		curl -s --unix-socket "$E2E_D/run/metrics.sock" http://x/metrics |
		    grep -i 'volume' | grep -v '_bucket' >&2
		e2e_fail "cycle $i: leaked endpoint, link or mount after a restart"
	fi
	# The routing namespace and the VRF of tnet's tag only.
	extra=$(ls /run/netns | grep -F "$E2E_INSTANCE" | grep -vx "$ns" | grep -vx "$ns-vrf-web")
	[ -z "$extra" ] || e2e_fail "cycle $i: namespaces left: $extra"
	[ "$(rules)" = "$RULES" ] || e2e_fail "cycle $i: $(rules) nft rules, $RULES at the start"
	[ "$(ip4 anchor1)" = "$A1" ] && [ "$(ip4 anchor2)" = "$A2" ] ||
	    e2e_fail "cycle $i: an anchor's address changed"
	addrs=$(ctl -j endpoints | jq -r '.endpoints[].address' | sort)
	[ -z "$(printf '%s\n' "$addrs" | uniq -d)" ] ||
	    e2e_fail "cycle $i: an address recorded twice: $(printf '%s\n' "$addrs" | uniq -d)"
	e2e_wait 5 anchors_served ||
	    e2e_fail "cycle $i: DNS for the anchors: $(q anchor1.$Z) $(q anchor2.$Z)"
	e2e_wait 5 nxdomain "$name.$Z" ||
	    e2e_fail "cycle $i: $name.$Z still answers $(q "$name.$Z") after docker rm"
}

# One cycle's docker commands: the container prints its address and checks
# the volume, then is removed.  Output in $E2E_D/cycle.out.
cycle_ops() {
	local name=$1
	timeout 120 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" run --name "$name" \
	    --network tnet -v tvol:/data local/busybox sh -c \
	    'ip -4 -o addr show eth0 | sed "s/.* inet \([0-9.]*\).*/addr \1/";
	     cd /data && sha256sum -c blob.sha256' >"$E2E_D/cycle.out" 2>&1
	echo "run-exit $?" >>"$E2E_D/cycle.out"
	timeout 120 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" rm -f "$name" \
	    >>"$E2E_D/cycle.out" 2>&1 || echo "rm-failed" >>"$E2E_D/cycle.out"
}

kills=0 ok=0 failed_runs=0
t0=$(e2e_now_ms)
for i in $(seq "$CYCLES"); do
	name=tc$i
	cycle_ops "$name" &
	ops=$!
	killed=0
	if [ $(( RANDOM % KILL_EVERY )) = 0 ]; then
		sleep "$(awk -v ms=$(( RANDOM % KILL_MS )) 'BEGIN { printf "%.3f", ms / 1000 }')"
		e2e_kill9_netcraved
		kills=$(( kills + 1 ))
		killed=1
		sleep "0.$(( RANDOM % 3 ))"
		e2e_start_netcraved 2>/dev/null
	fi
	wait "$ops"
	out=$(cat "$E2E_D/cycle.out")
	grep -q rm-failed "$E2E_D/cycle.out" && e2e_fail "cycle $i: docker rm failed: $out"
	if grep -q "run-exit 0" "$E2E_D/cycle.out"; then
		grep -q "blob: OK" "$E2E_D/cycle.out" ||
		    e2e_fail "cycle $i: the volume's checksum: $out"
		ok=$(( ok + 1 ))
	else
		# A run may fail when the kill cut one of its plugin calls; what
		# matters is that nothing leaks and the next cycles work.  Without
		# a kill, or with the volume's data gone, it is a failure.
		[ "$killed" = 1 ] || e2e_fail "cycle $i (no kill): docker run failed: $out"
		# (A read cut by the kill fails with ENOTCONN and sha256sum then
		# says FAILED too: that is the mount dying, not the data.)
		grep -q "No such file\|FAILED" "$E2E_D/cycle.out" &&
		    ! grep -q "Transport endpoint is not connected" "$E2E_D/cycle.out" &&
		    e2e_fail "cycle $i: the volume's data is gone: $out"
		failed_runs=$(( failed_runs + 1 ))
		e2e_log "cycle $i: docker run failed (killed=$killed): $(tail -n 3 "$E2E_D/cycle.out" | tr '\n' ' ')"
	fi
	addr=$(sed -n 's/^addr //p' "$E2E_D/cycle.out")
	[ "$addr" != "$A1" ] && [ "$addr" != "$A2" ] ||
	    e2e_fail "cycle $i: $name got an anchor's address $addr"
	[ "$killed" = 1 ] && check "$i" "$name"
done
t1=$(e2e_now_ms)
check end "tc$CYCLES"
out=$(dk run --rm -v tvol:/data local/busybox sh -c 'cd /data && sha256sum -c blob.sha256' 2>&1)
e2e_expect_contains "$out" "blob: OK" "the volume after the torture"
# Most runs must succeed: a kill cuts at most the cycle it lands in.
[ "$ok" -ge $(( CYCLES - kills )) ] ||
    e2e_fail "$ok of $CYCLES runs succeeded with $kills kills"
# Mount IDs beyond vholder's: Unmounts a kill cut off (reported, see README).
mounts=$(ctl -j volumes | jq '.volumes[] | select(.Name == "tvol") | .Status.mounts')
e2e_log "torture: $CYCLES cycles, $kills SIGKILLs and restarts, $ok runs ok," \
    "$failed_runs failed, $(( mounts - 1 )) mount IDs left beyond the holder's," \
    "$(( (t1 - t0) / 1000 ))s (seed $SEED)"
exit 0
