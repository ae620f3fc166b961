#!/bin/bash
# t_dns: netcraved's DNS follows a real dockerd: a container gets A, AAAA
# (network with IPv6), <name>.<network> names, aliases, PTR and SRV (label
# io.netcrave.srv) within a second of `docker run` returning, and loses them
# within a second of `docker rm`; a label record outside its own names is
# refused while its own is served.  On a netcrave network (the NetworkDriver)
# netcraved listens at the gateway inside the routing namespace: a container
# started with --dns <gateway> resolves another by name (busybox nslookup), and
# its address back to the name (PTR); the listener goes with the network.
#
# The first networks use Docker's bridge driver with netcrave IPAM, as
# t_follow does.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need dig
e2e_start_dockerd
e2e_import_busybox

ula=$(e2e_ula)
PORT=$(shuf -i 20000-40000 -n 1)
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'",
	  "network_driver": "bridge" },
	"dns": { "listen": ["127.0.0.1:'$PORT'"] },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.19.0.0/16",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "default", "ipv4_network": "198.19.0.0/20",
	    "ipv4_prefix_length": 24, "tags": ["default"] },
	  { "name": "b", "ipv4_network": "198.19.32.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':100::/56", "ipv6_prefix_length": 64,
	    "tags": ["b"] },
	  { "name": "c", "ipv4_network": "198.19.48.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':200::/56", "ipv6_prefix_length": 64,
	    "tags": ["c"] } ] } ]'
e2e_start_netcraved

q() { dig -p "$PORT" +norec +short +tries=1 +time=1 @127.0.0.1 "$@"; }
answers() { [ "$(q "$1" "$2")" = "$3" ]; }
nxdomain() { dig -p "$PORT" +norec +tries=1 +time=1 @127.0.0.1 "$1" "$2" | grep -q 'status: NXDOMAIN'; }
within() {
	local t0=$(e2e_now_ms) s=$1
	shift
	e2e_wait "$s" "$@" || return 1
	e2e_log "$* after $(( $(e2e_now_ms) - t0 ))ms"
}

Z=netcrave.internal.
DEF=$PLUGIN-default
within 10 dk network inspect "$DEF" || e2e_fail "default network $DEF was not created"
dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=b \
    --ipv6 "$PLUGIN-b" >/dev/null || e2e_fail "network create $PLUGIN-b"

dk run -d --name web --network "$PLUGIN-b" --network-alias front \
    --label io.netcrave.srv=_http._tcp.web:80 \
    --label 'io.netcrave.dns.records=@ TXT "mine"
db.'$Z' A 198.19.9.9' \
    local/busybox sleep 300 >/dev/null || e2e_fail "docker run web"
ip4=$(dk inspect web -f "{{(index .NetworkSettings.Networks \"$PLUGIN-b\").IPAddress}}")
ip6=$(dk inspect web -f "{{(index .NetworkSettings.Networks \"$PLUGIN-b\").GlobalIPv6Address}}")
within 1 answers "web.$Z" A "$ip4" || e2e_fail "web.$Z A $ip4 not served within 1s: $(q web.$Z A)"
[ -n "$ip6" ] || e2e_fail "web has no IPv6 address on $PLUGIN-b"
answers "web.$Z" AAAA "$ip6" || e2e_fail "web.$Z AAAA: $(q web.$Z AAAA), want $ip6"
answers "web.$PLUGIN-b.$Z" A "$ip4" || e2e_fail "web.$PLUGIN-b.$Z A: $(q web.$PLUGIN-b.$Z A)"
answers "front.$Z" A "$ip4" || e2e_fail "alias front.$Z A: $(q front.$Z A)"
[ "$(q -x "$ip4")" = "web.$PLUGIN-b.$Z" ] || e2e_fail "PTR of $ip4: $(q -x "$ip4")"
[ "$(q -x "$ip6")" = "web.$PLUGIN-b.$Z" ] || e2e_fail "PTR of $ip6: $(q -x "$ip6")"
answers "_http._tcp.web.$Z" SRV "0 0 80 web.$Z" || e2e_fail "SRV: $(q _http._tcp.web.$Z SRV)"
out=$(dig -p "$PORT" +norec @127.0.0.1 "_http._tcp.web.$Z" SRV)
e2e_expect_contains "$out" "$ip4" "the SRV answer's additional section"
answers "web.$Z" TXT '"mine"' || e2e_fail "label TXT: $(q web.$Z TXT)"
nxdomain "db.$Z" A || e2e_fail "a label claimed db.$Z: $(q db.$Z A)"

t0=$(e2e_now_ms)
dk rm -f web >/dev/null
within 1 nxdomain "web.$Z" A || e2e_fail "web.$Z still served 1s after docker rm"
nxdomain "_http._tcp.web.$Z" SRV || e2e_fail "SRV still served after docker rm"
[ -z "$(q -x "$ip4")" ] || e2e_fail "PTR of $ip4 still served after docker rm"
e2e_log "records gone $(( $(e2e_now_ms) - t0 ))ms after docker rm was started"
dk network rm "$PLUGIN-b" >/dev/null

# --dns <gateway>: listeners at the gateways of netcrave's own networks.
dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=c \
    --ipv6 "$PLUGIN-c" >/dev/null || e2e_fail "network create $PLUGIN-c"
gw=$(dk network inspect "$PLUGIN-c" -f '{{(index .IPAM.Config 0).Gateway}}')
gw6=$(dk network inspect "$PLUGIN-c" -f '{{(index .IPAM.Config 1).Gateway}}')
case $gw in 198.19.*) ;; *) gw6=$gw gw=$(dk network inspect "$PLUGIN-c" \
    -f '{{(index .IPAM.Config 1).Gateway}}') ;; esac
gw=${gw%/*} gw6=${gw6%/*}
[ -n "$gw" ] && [ -n "$gw6" ] || e2e_fail "gateways of $PLUGIN-c: '$gw' '$gw6'"
dk run -d --name srv --network "$PLUGIN-c" local/busybox sleep 300 >/dev/null ||
    e2e_fail "docker run srv"
dk run -d --name cli --network "$PLUGIN-c" --dns "$gw" local/busybox sleep 300 \
    >/dev/null || e2e_fail "docker run cli"
srv4=$(dk inspect srv -f "{{(index .NetworkSettings.Networks \"$PLUGIN-c\").IPAddress}}")
within 2 answers "srv.$Z" A "$srv4" || e2e_fail "srv.$Z A not served: $(q srv.$Z A)"
# Docker's embedded resolver (127.0.0.11 on user networks) forwards to the
# --dns server, from the container's namespace; then the gateway directly.
out=$(dk exec cli nslookup "srv.$Z" 2>&1) || e2e_fail "nslookup srv.$Z from cli: $out"
e2e_expect_contains "$out" "$srv4" "cli resolving srv.$Z (embedded resolver -> $gw)"
out=$(dk exec cli nslookup "srv.$Z" "$gw" 2>&1) || e2e_fail "nslookup srv.$Z $gw: $out"
e2e_expect_contains "$out" "$srv4" "cli resolving srv.$Z at its gateway $gw"
out=$(dk exec cli nslookup "srv.$PLUGIN-c.$Z" "$gw" 2>&1) ||
    e2e_fail "nslookup srv.$PLUGIN-c.$Z: $out"
e2e_expect_contains "$out" "$srv4" "cli resolving srv.$PLUGIN-c.$Z"
out=$(dk exec cli nslookup "$srv4" "$gw" 2>&1) || e2e_fail "nslookup $srv4: $out"
e2e_expect_contains "$out" "name = srv.$PLUGIN-c.${Z%.}" "cli: PTR of $srv4"
out=$(dk exec cli nslookup "nothere.$Z" "$gw" 2>&1) &&
    e2e_fail "nslookup nothere.$Z succeeded: $out"
e2e_expect_contains "$out" "NXDOMAIN" "cli: nothere.$Z"
e2e_log "a container resolves names and PTR through its gateway $gw"
# netcravectl records lists what dig gets.
if [ -n "${NETCRAVECTL:-}" ] && [ -x "$NETCRAVECTL" ]; then
	out=$("$NETCRAVECTL" -c "$E2E_NETCRAVED_CONF" records) ||
	    e2e_fail "netcravectl records: $out"
	printf '%s\n' "$out" | grep -Eq "^srv\.$PLUGIN-c\.${Z%.}\. +[0-9]+ +A +$srv4\$" ||
	    e2e_fail "netcravectl records lacks srv.$PLUGIN-c.$Z A $srv4: $out"
fi
# The IPv6 gateway answers too (asked from inside the routing namespace).
out=$(ip netns exec "_$E2E_INSTANCE" dig +norec +short +tries=1 +time=2 \
    @"$gw6" "srv.$Z" A) || e2e_fail "dig @$gw6 in the routing namespace: $out"
[ "$out" = "$srv4" ] || e2e_fail "dig @$gw6 srv.$Z: '$out', want $srv4"

# (in the routing namespace, or its VRF's namespace with the netns backend)
gone() {
	local ns
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^_$E2E_INSTANCE"); do
		ip netns exec "$ns" ss -Hlnu "src $gw" | grep -q . && return 1
	done
	return 0
}
listening() { ! gone; }
listening || e2e_fail "no listener at $gw in any namespace of the instance"
dk rm -f srv cli >/dev/null
dk network rm "$PLUGIN-c" >/dev/null || e2e_fail "network rm $PLUGIN-c"
within 2 gone || e2e_fail "still listening at $gw after the network was removed"
