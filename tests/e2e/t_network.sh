#!/bin/bash
# t_network: netcrave as Docker's NetworkDriver: containers on a netcrave network
# reach their gateway and each other (ping and TCP, IPv4 and IPv6), a static --ip,
# a -o netcrave.tag that disagrees with the pool is refused, and removing
# everything leaves no netcrave link behind.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_start_dockerd
e2e_import_busybox

# The netns VRF backend always (l3mdev: t_network_l3mdev.sh runs this with
# E2E_VRF_BACKEND=l3mdev where the kernel has VRF).
: "${E2E_VRF_BACKEND:=netns}"
ula=$(e2e_ula)
# A routed (non-ULA) IPv6 scope: a random /48 of the documentation prefix
# 2001:db8::/32 (RFC 3849), which nothing routes; it stays on this machine.
set -- $(od -An -N2 -tu1 /dev/urandom)
pub6=$(printf '2001:db8:%x' $(($1 * 256 + $2)))
# Gateway DNS on a port of its own: the input chain must follow
# dns.gateway_port (t_dns covers names and answers there).
E2E_NETCRAVED_EXTRA='"default_tag": "web", "dns": { "gateway_port": 5354 },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.0.0/16",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "web", "ipv4_network": "198.18.0.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':100::/56", "ipv6_prefix_length": 64,
	    "tags": ["web"], "egress": ["db", "internet"] },
	  { "name": "db", "ipv4_network": "198.18.16.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':200::/56", "ipv6_prefix_length": 64,
	    "tags": ["db"], "ingress": ["web", "host"] },
	  { "name": "other", "ipv4_network": "198.18.32.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':300::/56", "ipv6_prefix_length": 64,
	    "tags": ["other"] } ] },
	  { "name": "pub", "ipv4_network": "198.19.240.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$pub6'::/48", "ipv6_prefix_length": 64,
	    "tags": ["pub"], "egress": ["internet"] } ]'
e2e_start_netcraved

netcreate() {	# netcreate NAME TAG [ARGS...]
	local name=$1 tag=$2
	shift 2
	dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" \
	    --ipam-opt netcrave.tag="$tag" "$@" "$name"
}
ip4() { dk inspect "$1" -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}"; }
ip6() { dk inspect "$1" -f "{{(index .NetworkSettings.Networks \"$2\").GlobalIPv6Address}}"; }
# reach FROM ADDR: one ping and one TCP connection to the httpd on ADDR:80.
ping_ok() { dk exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1; }
# (busybox nc: its static wget crashes in this image.)
tcp_ok() {
	dk exec "$1" sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $2 80" 2>/dev/null |
	    grep -q hello
}
server() {	# server NAME NETWORK [ARGS...]
	local name=$1 netw=$2
	shift 2
	dk run -d --name "$name" --network "$netw" "$@" local/busybox sh -c \
	    'mkdir -p /www && echo hello >/www/index.html && httpd -f -p 80 -h /www' >/dev/null ||
	    e2e_fail "cannot start $name on $netw"
}

out=$(netcreate web1 web --ipv6 2>&1) || e2e_fail "network create web1: $out"
n=$(e2e_links_ours type bridge | grep -c "alias netcrave:$E2E_INSTANCE:net:")
[ "$n" = 1 ] || e2e_fail "expected one bridge, found $n"
grep -q "vrf: backend $E2E_VRF_BACKEND" "$E2E_D/netcraved.log" ||
    e2e_fail "the VRF backend in use ($E2E_VRF_BACKEND) is not logged"
if [ "$E2E_VRF_BACKEND" = netns ]; then
	# web's bridge lives in web's VRF namespace, none in the routing one.
	n=$(ip -n "_$E2E_INSTANCE-vrf-web" -o link show type bridge | grep -c "alias netcrave:")
	[ "$n" = 1 ] || e2e_fail "expected web's bridge in _$E2E_INSTANCE-vrf-web, found $n"
	n=$(ip -n "_$E2E_INSTANCE" -o link show type bridge | grep -c .)
	[ "$n" = 0 ] || e2e_fail "expected no bridge in the routing namespace, found $n"
else
	n=$(ip -n "_$E2E_INSTANCE" -o link show type vrf | grep -c "alias netcrave:$E2E_INSTANCE:vrf:web")
	[ "$n" = 1 ] || e2e_fail "expected web's vrf device, found $n"
fi

server ca web1
server cb web1
a4=$(ip4 ca web1) b4=$(ip4 cb web1) b6=$(ip6 cb web1)
gw=$(dk network inspect web1 -f '{{(index .IPAM.Config 0).Gateway}}')
[ -n "$a4" ] && [ -n "$b4" ] && [ -n "$b6" ] || e2e_fail "addresses: a=$a4 b=$b4 b6=$b6"
ping_ok ca "$gw" || e2e_fail "a cannot ping its gateway $gw"
ping_ok ca "$b4" || e2e_fail "a cannot ping its peer $b4"
tcp_ok ca "$b4" || e2e_fail "a cannot open TCP to $b4:80"
ping_ok ca "$b6" || e2e_fail "a cannot ping its peer over IPv6 $b6"
tcp_ok ca "$b6" || e2e_fail "a cannot open TCP to [$b6]:80"
e2e_log "same network: ping and TCP over IPv4 and IPv6"

# The gateway serves containers only netcraved's services there: its DNS
# on dns.gateway_port (5354 here) is reached, a listener of the test's own on
# 8053 is not (though it answers inside its namespace: the drop is the input
# chain's).
gns="_$E2E_INSTANCE-vrf-web"
[ -e "/run/netns/$gns" ] || gns="_$E2E_INSTANCE"
mkdir -p "$E2E_D/gw" && echo hello >"$E2E_D/gw/index.html"
ip netns exec "$gns" busybox httpd -f -p "$gw:8053" -h "$E2E_D/gw" &
e2e_at_cleanup "kill $! 2>/dev/null"
gw_tcp() {
	dk exec ca sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $gw $1" 2>/dev/null |
	    grep -q hello
}
# dig from a's network namespace: any DNS answer means the port was reached.
gw_dns() {
	nsenter -t "$(dk inspect -f '{{.State.Pid}}' ca)" -n \
	    dig +tries=1 +time=2 $1 -p 5354 @"$gw" netcrave.internal SOA 2>&1 |
	    grep -q 'status:'
}
e2e_wait 5 sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec $gns busybox nc -w 2 $gw 8053 | grep -q hello" ||
    e2e_fail "the test's listener at $gw:8053 does not answer inside $gns"
e2e_wait 5 gw_dns +notcp || e2e_fail "a gets no answer from netcraved's DNS at $gw:5354 (UDP)"
gw_dns +tcp || e2e_fail "a gets no answer from netcraved's DNS at $gw:5354 (TCP)"
gw_tcp 8053 && e2e_fail "a reached its gateway's port 8053: only netcraved's services may pass"
e2e_log "gateway input: netcraved's DNS on 5354 reached over UDP and TCP, 8053 dropped"

# netcravectl shows the model.
if [ -n "${NETCRAVECTL:-}" ] && [ -x "$NETCRAVECTL" ]; then
	ctl() { "$NETCRAVECTL" -c "$E2E_NETCRAVED_CONF" "$@"; }
	out=$(ctl networks) || e2e_fail "netcravectl networks: $out"
	e2e_expect_contains "$out" "$(dk network inspect web1 -f '{{.Id}}' | cut -c1-12) web" "netcravectl networks"
	e2e_expect_contains "$out" "$gw/24" "netcravectl networks (gateway)"
	out=$(ctl endpoints) || e2e_fail "netcravectl endpoints: $out"
	e2e_expect_contains "$out" "$b4/24" "netcravectl endpoints"
	out=$(ctl -j endpoints)
	e2e_expect_contains "$out" '"address6":"'"$b6"'/64"' "netcravectl -j endpoints"
fi

# A -o netcrave.tag that disagrees with the pool's tag is refused.
if out=$(dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=web \
    -o netcrave.tag=db bad 2>&1); then
	e2e_fail "a -o netcrave.tag disagreeing with the pool was accepted"
fi
e2e_expect_contains "$out" "netcrave: -o netcrave.tag=db disagrees with the pool" "tag mismatch error"

# A static --ip on a network with a user-given subnet.
netcreate web9 web --subnet 198.18.9.0/24 >/dev/null || e2e_fail "network create --subnet"
server cs web9 --ip 198.18.9.50
[ "$(ip4 cs web9)" = 198.18.9.50 ] || e2e_fail "--ip gave $(ip4 cs web9)"
dk run --rm --network web9 local/busybox ping -c1 -W1 198.18.9.50 >/dev/null ||
    e2e_fail "cannot reach the static 198.18.9.50"

if [ "${T_NETWORK_POLICY:-1}" = 1 ]; then
	. "$(dirname "$0")/t_network_policy.inc"
fi

# Egress: an "internet" namespace behind the host; web's egress names the uplink
# tag, db's does not.  The far side sees the uplink's address, not the container's.
inet="e2einet$$"
ip netns add "$inet" || e2e_fail "ip netns add $inet"
e2e_at_cleanup "ip netns delete $inet 2>/dev/null; ip link delete e2ei$$ 2>/dev/null"
ip link add "e2ei$$" type veth peer name eth0 netns "$inet"
ip addr add 198.19.254.1/30 dev "e2ei$$" && ip link set "e2ei$$" up
ip -n "$inet" addr add 198.19.254.2/30 dev eth0
ip -n "$inet" link set eth0 up
ip -n "$inet" link set lo up
ip -n "$inet" route add 169.254.0.0/16 via 198.19.254.1
# IPv6: a ULA /64 of the test's own (the host forwards IPv6 already, or skip).
inet6=$(e2e_ula)
v6_egress=0
if [ "$(sysctl -n net.ipv6.conf.all.forwarding)" = 1 ]; then
	v6_egress=1
	ip addr add "$inet6::1/64" dev "e2ei$$" nodad
	ip -n "$inet" addr add "$inet6::2/64" dev eth0 nodad
	ip -n "$inet" route add fd6e:6372::/32 via "$inet6::1"
else
	e2e_log "skip IPv6 egress: the host does not forward IPv6 (net.ipv6.conf.all.forwarding=0)"
fi
mkdir -p "$E2E_D/www/cgi-bin"
printf '#!/bin/sh\necho Content-type: text/plain\necho\necho "from $REMOTE_ADDR"\n' \
    >"$E2E_D/www/cgi-bin/ip"
chmod +x "$E2E_D/www/cgi-bin/ip"
ip netns exec "$inet" busybox httpd -f -p 80 -h "$E2E_D/www" &
e2e_at_cleanup "kill $! 2>/dev/null"
sleep 0.3
seen=$(dk exec ca sh -c "printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 3 198.19.254.2 80" 2>&1)
# (httpd listens on both families: IPv4 peers show as ::ffff:a.b.c.d.)
e2e_expect_contains "$seen" "169.254." "what the internet sees of web's container"
e2e_expect_not_contains "$seen" "$a4" "masquerade"
if [ "$v6_egress" = 1 ]; then
	seen=$(dk exec ca sh -c "printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $inet6::2 80" 2>&1)
	e2e_expect_contains "$seen" "fd6e:6372:" "what the internet sees of web's container over IPv6 (NAT66)"
	# Routed IPv6: a non-ULA network leaves under its own address, and the
	# host has the route back through the uplink.
	ip -n "$inet" route add "$pub6::/48" via "$inet6::1"
	uh=$(ip -o link show | grep "alias netcrave:$E2E_INSTANCE:uplink:" | awk -F': ' '{print $2}' | cut -d@ -f1)
	netcreate pub1 pub --ipv6 >/dev/null || e2e_fail "network create pub1"
	server cp pub1
	p6=$(ip6 cp pub1)
	[ -n "$p6" ] || e2e_fail "no IPv6 address on pub1"
	ip -6 route show | grep -q "^${p6%:*}:/64 via fd6e:6372:.* dev $uh" ||
	    e2e_fail "no host route back to pub1's pool via the uplink: $(ip -6 route show | grep "$pub6")"
	seen=$(dk exec cp sh -c "printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $inet6::2 80" 2>&1)
	e2e_expect_contains "$seen" "from [$p6]" "what the internet sees of pub's container (routed IPv6, no NAT66)"
	dk rm -f cp >/dev/null
	dk network rm pub1 >/dev/null || e2e_fail "network rm pub1"
	ip -6 route show | grep -q "^$pub6" && e2e_fail "the host route to pub1's pool stayed after network rm"
	e2e_log "routed IPv6 egress: the container's own address seen, the host routes it back"
fi
netcreate db2 db >/dev/null || e2e_fail "network create db2"
dk run --rm --network db2 local/busybox ping -c1 -W1 198.19.254.2 >/dev/null 2>&1 &&
    e2e_fail "db reached the internet, its egress does not name it"
dk network rm db2 >/dev/null
e2e_log "egress: web masqueraded to the uplink, db kept in"

# Every link netcrave made carries its alias (reconcile depends on it).
n=$(e2e_links_ours type bridge | grep -c "alias netcrave:$E2E_INSTANCE:net:")
[ "$n" = 2 ] || e2e_fail "expected 2 bridges with netcrave's alias, found $n"

dk rm -f ca cb cs >/dev/null
dk network rm web1 web9 >/dev/null || e2e_fail "network rm"
# Only the uplink (one end each side) stays while netcraved runs.
left=$(e2e_links_ours | grep "netcrave:$E2E_INSTANCE:" |
    grep -vc "netcrave:$E2E_INSTANCE:uplink:")
[ "$left" = 0 ] || e2e_fail "$left netcrave links left after removing everything"
[ "$(e2e_netns_ours | grep -c -- -vrf-)" = 0 ] ||
    e2e_fail "VRF namespaces left: $(e2e_netns_ours | grep -- -vrf-)"
n=$(e2e_links_ours | grep -c "netcrave:$E2E_INSTANCE:uplink:")
[ "$n" = 2 ] || e2e_fail "the uplink has $n ends with netcrave's alias, not 2"
e2e_log "PASS"
