#!/bin/bash
# t_network_uplink: the uplink's 169.254.N.0/30 is one the host neither has nor
# routes (so two instances never share one), and the choice is kept in the
# store: after a restart the same N, even once the first choice is free again.
# No dockerd: the plugin socket is called directly.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need curl

E2E_NETCRAVED_EXTRA='"default_tag": "up",
	"scopes": [ { "name": "up", "ipv4_network": "198.18.240.0/20",
	  "ipv4_prefix_length": 24, "tags": ["up"], "egress": ["internet"] } ]'
e2e_start_netcraved
call() {	# call METHOD JSON: the plugin's answer
	curl -s --max-time 10 --unix-socket "$E2E_PLUGIN_SOCK" -X POST \
	    -d "$2" "http://x/$1"
}
# The first N netcraved would try: djb2 of the instance name, as it computes it.
h=5381
for ((i = 0; i < ${#E2E_INSTANCE}; i++)); do
	h=$(( (h * 33 + $(printf '%d' "'${E2E_INSTANCE:i:1}")) & 0xffffffff ))
done
first=$((1 + h % 254))
# The host routes that /30 already (a route of the test's own, nowhere).
ip route add blackhole "169.254.$first.0/30" || e2e_fail "ip route add blackhole 169.254.$first.0/30"
e2e_at_cleanup "ip route del blackhole 169.254.$first.0/30 2>/dev/null"

net='{"NetworkID":"e2euplink","IPv4Data":[{"Pool":"198.18.240.0/24","Gateway":"198.18.240.1/24"}]}'
out=$(call NetworkDriver.CreateNetwork "$net")
[ "$out" = "{}" ] || e2e_fail "CreateNetwork: $out"
uplink_addr() {
	local uh
	uh=$(ip -o link show | grep "alias netcrave:$E2E_INSTANCE:uplink:" | awk -F': ' '{print $2}' | cut -d@ -f1)
	[ -n "$uh" ] && ip -o -4 addr show dev "$uh" | awk '{print $4}'
}
a=$(uplink_addr)
[ -n "$a" ] || e2e_fail "no uplink on the host"
[ "$a" != "169.254.$first.1/30" ] || e2e_fail "the uplink took 169.254.$first.0/30, which the host routes"
grep -q "uplink on ${a%.1/30}.0/30 (free on the host)" "$E2E_D/netcraved.log" ||
    e2e_fail "the uplink's choice is not logged"
e2e_log "uplink on $a, not on 169.254.$first.0/30 (routed by the host)"

# Restart with the first choice free again: the stored one is kept.
e2e_kill9_netcraved
ip route del blackhole "169.254.$first.0/30"
e2e_start_netcraved
e2e_wait 5 sh -c "ip -o -4 addr show | grep -q 'inet $a '" || e2e_fail "the uplink lost $a"
[ "$(uplink_addr)" = "$a" ] || e2e_fail "after a restart the uplink is on $(uplink_addr), not $a"
out=$(call NetworkDriver.DeleteNetwork '{"NetworkID":"e2euplink"}')
[ "$out" = "{}" ] || e2e_fail "DeleteNetwork: $out"
e2e_log "PASS"
