#!/bin/bash
# network.sh: `docker run --rm ... true` on a netcrave network against the same
# on dockerd's built-in bridge driver (a second private dockerd with a default
# bridge and --iptables=false), median of N (20) each, and their ratio (target
# <= 1.2).  Usage: NETCRAVED=/abs/netcraved bench/network.sh [N]
# Runs on the e2e harness (tests/e2e/lib.sh): root, dockerd, busybox-static.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/e2e/lib.sh"
n=${1:-20}
e2e_init
e2e_need_netcraved
e2e_start_dockerd
e2e_import_busybox
E2E_NETCRAVED_EXTRA='"default_tag": "bench",
	"scopes": [ { "name": "bench", "ipv4_network": "198.18.0.0/20",
	  "ipv4_prefix_length": 24, "tags": ["bench"] } ]'
e2e_start_netcraved
dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" benchnet >/dev/null ||
    e2e_fail "network create"

# The peer: its own dockerd on the same machine, default bridge on a bridge we
# make (never the host's docker0), no iptables.
P="$E2E_D/peer"
br="ncb$E2E_ID"
br=${br:0:15}
mkdir -p "$P/root" "$P/exec"
ip link add "$br" type bridge && ip addr add 198.18.200.1/24 dev "$br" && ip link set "$br" up ||
    e2e_fail "cannot make bridge $br"
e2e_at_cleanup "ip link delete $br 2>/dev/null"
printf '{ "deprecated-key-path": "%s/key.json" }\n' "$P" >"$P/daemon.json"
setsid dockerd --config-file "$P/daemon.json" --data-root "$P/root" \
    --exec-root "$P/exec" -H "unix://$P/docker.sock" --pidfile "$P/docker.pid" \
    --iptables=false --ip6tables=false --bridge "$br" --storage-driver=vfs \
    --cgroup-parent "/netcrave-e2e-$E2E_ID-peer" --shutdown-timeout 2 \
    </dev/null >"$P/dockerd.log" 2>&1 &
peer_pid=$!
e2e_at_cleanup "kill $peer_pid 2>/dev/null; sleep 1"
pk() { "$E2E_DOCKER" -H "unix://$P/docker.sock" "$@"; }
e2e_wait 30 pk version || e2e_fail "the peer dockerd did not start"
"$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" save local/busybox | pk load >/dev/null ||
    e2e_fail "cannot load busybox into the peer"

# time_ms CMD...: one run's wall time in ms.
time_ms() {
	local t0 t1
	t0=$(e2e_now_ms)
	"$@" >/dev/null || e2e_fail "run failed: $*"
	t1=$(e2e_now_ms)
	echo $((t1 - t0))
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
# One warm-up each, then the two alternate so the machine's load drifts alike.
dk run --rm --network benchnet local/busybox true >/dev/null
pk run --rm local/busybox true >/dev/null
: >"$E2E_D/ours"
: >"$E2E_D/theirs"
for i in $(seq "$n"); do
	time_ms dk run --rm --network benchnet local/busybox true >>"$E2E_D/ours"
	time_ms pk run --rm local/busybox true >>"$E2E_D/theirs"
done
ours=$(median <"$E2E_D/ours")
theirs=$(median <"$E2E_D/theirs")
echo "docker run --rm true, median of $n: netcrave ${ours} ms, built-in bridge ${theirs} ms, ratio $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }') (target <= 1.2)"
dk network rm benchnet >/dev/null
