#!/bin/bash
# t_ipam: netcrave as Docker's IPAM driver (beside Docker's own bridge driver,
# since netcrave's NetworkDriver is not built yet): pools from the schema by tag,
# container addresses from those pools, a static --ip, IPv6, a clear error for an
# unknown tag, and no address handed out twice across a kill -9 and restart.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_start_dockerd
e2e_import_busybox

# A random ULA /48, written as inet_ntop writes it (no leading zeros).
ula=$(e2e_ula)
E2E_NETCRAVED_EXTRA='"default_tag": "web",
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.0.0/16",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "web", "ipv4_network": "198.18.0.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':100::/56", "ipv6_prefix_length": 64,
	    "tags": ["web"], "egress": ["db"] },
	  { "name": "db", "ipv4_network": "198.18.16.0/20", "ipv4_prefix_length": 28,
	    "tags": ["db"], "ingress": ["web"] } ] } ]'
e2e_start_netcraved

# subnet NETWORK [INDEX]: the subnet Docker recorded for a network.
subnet() { dk network inspect "$1" -f "{{(index .IPAM.Config ${2:-0}).Subnet}}"; }
gateway() { dk network inspect "$1" -f "{{(index .IPAM.Config ${2:-0}).Gateway}}"; }
eth0_v4() { dk run --rm --network "$1" "${@:2}" local/busybox ip -4 -o addr show eth0 | awk '{print $4}'; }

out=$(dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=web web1 2>&1) ||
    e2e_fail "network create by tag web: $out"
[ "$(subnet web1)" = 198.18.0.0/24 ] || e2e_fail "web1 subnet is $(subnet web1), not 198.18.0.0/24"
[ "$(gateway web1)" = 198.18.0.1 ] || e2e_fail "web1 gateway is $(gateway web1), not 198.18.0.1"
a=$(eth0_v4 web1)
[ "$a" = 198.18.0.2/24 ] || e2e_fail "first container on web1 got $a, not 198.18.0.2/24"

out=$(dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=db db1 2>&1) ||
    e2e_fail "network create by tag db: $out"
[ "$(subnet db1)" = 198.18.16.0/28 ] || e2e_fail "db1 subnet is $(subnet db1), not 198.18.16.0/28"

# Without a tag: the default tag's scope.  Third and fourth networks get pools too.
dk network create -d bridge --ipam-driver "$PLUGIN" web2 >/dev/null || e2e_fail "network create without a tag"
dk network create -d bridge --ipam-driver "$PLUGIN" web3 >/dev/null || e2e_fail "third network"
[ "$(subnet web2)" = 198.18.1.0/24 ] || e2e_fail "web2 subnet is $(subnet web2)"
[ "$(subnet web3)" = 198.18.2.0/24 ] || e2e_fail "web3 subnet is $(subnet web3)"

# An explicit --subnet inside the schema, and one outside it.
dk network create -d bridge --ipam-driver "$PLUGIN" --subnet 198.18.9.0/24 web9 >/dev/null ||
    e2e_fail "explicit --subnet inside the web scope"
# Docker allows a static --ip only on networks with a user-given subnet.
a=$(eth0_v4 web9 --ip 198.18.9.50)
[ "$a" = 198.18.9.50/24 ] || e2e_fail "--ip 198.18.9.50 gave $a"
if out=$(dk network create -d bridge --ipam-driver "$PLUGIN" --subnet 198.19.200.0/24 far 2>&1); then
	e2e_fail "a --subnet outside the schema was accepted"
fi
e2e_expect_contains "$out" "netcrave: 198.19.200.0/24 is outside the address schema" "outside subnet error"
if out=$(dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=nope bad 2>&1); then
	e2e_fail "an unknown tag was accepted"
fi
e2e_expect_contains "$out" 'netcrave: unknown tag "nope": the schema defines web, db' "unknown tag error"

# IPv6 from the same tag's scope.
if out=$(dk network create -d bridge --ipv6 --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=web web6 2>&1); then
	s6=$(dk network inspect web6 -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}')
	e2e_expect_contains "$s6" "$ula:100::/64" "web6's IPv6 subnet"
	a6=$(dk run --rm --network web6 local/busybox ip -6 -o addr show eth0 scope global | awk '{print $4}')
	e2e_expect_contains "$a6" "$ula:100::" "a container's IPv6 address on web6"
else
	e2e_fail "network create --ipv6: $out"
fi

# A running container keeps its address across a kill -9 of netcraved; the
# next container gets a different one.
dk run -d --name keeper --network web1 local/busybox sleep 300 >/dev/null
kept=$(dk inspect keeper -f '{{.NetworkSettings.Networks.web1.IPAddress}}')
e2e_kill9_netcraved
e2e_start_netcraved
a=$(eth0_v4 web1)
[ -n "$a" ] && [ "${a%/*}" != "$kept" ] || e2e_fail "after restart a new container got $a, the running one has $kept"
dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=web web4 >/dev/null
s=$(subnet web4)
case "$s" in 198.18.0.0/24|198.18.1.0/24|198.18.2.0/24|198.18.9.0/24)
	e2e_fail "after restart web4 got $s, already in use" ;; esac
dk rm -f keeper >/dev/null

# Networks removed: pools released (and a release of an unknown pool is fine).
for n in web1 web2 web3 web4 web6 web9 db1; do dk network rm "$n" >/dev/null || e2e_fail "network rm $n"; done
grep -q "ipam: pool 198.18.0.0/24#[0-9a-f]* released" "$E2E_D/netcraved.log" ||
    e2e_fail "netcraved did not log the release of web1's pool"
dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=web again >/dev/null
[ "$(subnet again)" = 198.18.0.0/24 ] || e2e_fail "a released pool was not handed out again first"
dk network rm again >/dev/null
exit 0
