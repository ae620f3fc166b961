#!/bin/bash
# t_network_leak: 200 create/run/rm cycles on a netcrave network (four at a time)
# leave nothing behind: no netcrave link but the uplink, no namespace but the
# routing one, no address still allocated, no endpoint still recorded.  Prints
# its runtime (about 160 s for 200 cycles on 2 cores; docker run itself is most
# of it, see bench/network.sh).
# e2e-timeout: 400
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need jq
[ -n "${NETCRAVECTL:-}" ] && [ -x "$NETCRAVECTL" ] || e2e_skip "NETCRAVECTL is not set"
e2e_start_dockerd
e2e_import_busybox

: "${E2E_VRF_BACKEND:=netns}"
ula=$(e2e_ula)
E2E_NETCRAVED_EXTRA='"default_tag": "web",
	"scopes": [ { "name": "web", "ipv4_network": "198.18.0.0/20",
	  "ipv4_prefix_length": 24, "ipv6_network": "'$ula'::/48",
	  "ipv6_prefix_length": 64, "tags": ["web"] } ]'
e2e_start_netcraved
ctl() { "$NETCRAVECTL" -c "$E2E_NETCRAVED_CONF" "$@"; }
rns() { ip netns exec "_$E2E_INSTANCE" "$@"; }
ours() { e2e_links_ours | grep "netcrave:$E2E_INSTANCE:" |
    grep -vc "netcrave:$E2E_INSTANCE:uplink:"; }
addresses() { ctl -j pools | jq '[.pools[].addresses] | add'; }

cycles=${T_LEAK_CYCLES:-200}
dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" --ipv6 leak >/dev/null ||
    e2e_fail "network create"
before=$(addresses)
links_before=$(ours)
# (Only this instance's: other tests on the machine make namespaces too.)
ns_before=$(ip netns list | grep -c "$E2E_INSTANCE")
t0=$(e2e_now_ms)
worker() {
	local i=$1
	while [ "$i" -le "$cycles" ]; do
		dk create --name "leak$i" --network leak local/busybox true >/dev/null &&
		    dk start -a "leak$i" >/dev/null && dk rm "leak$i" >/dev/null ||
		    echo "cycle $i failed" >>"$E2E_D/leak-errors"
		i=$((i + 4))
	done
}
pids=
for w in 1 2 3 4; do
	worker "$w" &
	pids="$pids $!"
done
# (Only the workers: a bare wait would wait for dockerd and netcraved too.)
wait $pids
t1=$(e2e_now_ms)
[ ! -s "$E2E_D/leak-errors" ] || e2e_fail "$(head -3 "$E2E_D/leak-errors")"
e2e_log "$cycles cycles in $(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 ))s"

[ "$(ours)" = "$links_before" ] || e2e_fail "$(ours) netcrave links after the cycles, $links_before before"
[ "$(ip netns list | grep -c "$E2E_INSTANCE")" = "$ns_before" ] ||
    e2e_fail "namespaces leaked: $(ip netns list | grep "$E2E_INSTANCE")"
# (Docker's own sandbox namespace files under exec/netns are removed by its
# garbage collector about a minute later: not netcrave's, not checked.)
[ "$(addresses)" = "$before" ] || e2e_fail "$(addresses) addresses allocated after the cycles, $before before"
n=$(ctl -j endpoints | jq '.endpoints | length')
[ "$n" = 0 ] || e2e_fail "$n endpoints still recorded"
dk network rm leak >/dev/null || e2e_fail "network rm"
[ "$(ours)" = 0 ] || e2e_fail "$(ours) netcrave links after network rm"
e2e_log "PASS: nothing leaked"
