#!/bin/bash
# ingress.sh: convergence of ingress through haproxy: from `docker run`
# returning to the first 200 (from that very container) through haproxy, p50
# and p95 over N (20) runs, for the push path (runtime-API commands from the
# loop) beside the DNS-only path (haproxy's server-template over the SRV
# name, hold valid 1 s as configured by default), and their ratio.  Target:
# push p50 <= 100 ms.
# Usage: NETCRAVED=/abs/netcraved bench/ingress.sh [N]
# Runs on the e2e harness (tests/e2e/lib.sh): root, dockerd, busybox-static,
# haproxy.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/e2e/lib.sh"
n=${1:-20}
e2e_init
e2e_need_netcraved
e2e_need haproxy curl
e2e_start_dockerd
e2e_import_busybox
B=$(( $(shuf -i 1-15 -n 1) * 16 ))
set -- $(shuf -i 20000-40000 -n 3)
DNS=$1 HTTP=$2 HTTPS=$3
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'",
	  "network_driver": "bridge" },
	"dns": { "listen": ["127.0.0.1:'$DNS'"] },
	"ingress": { "enabled": true, "http_listen": "127.0.0.1:'$HTTP'",
	  "https_listen": "" },
	"scopes": [ { "name": "bench", "ipv4_network": "198.18.'$B'.0/20",
	  "scopes": [
	  { "name": "default", "ipv4_network": "198.18.'$B'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["default"] },
	  { "name": "web", "ipv4_network": "198.18.'$((B + 4))'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["web"], "ingress": ["host"] } ] } ]'
e2e_start_netcraved
e2e_wait 20 grep -q "haproxy: starting -> ready" "$E2E_D/netcraved.log" ||
    e2e_fail "haproxy did not become ready"
dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=web \
    benchweb >/dev/null || e2e_fail "network create"

page() { curl -s --max-time 1 -H "Host: $1" "http://127.0.0.1:$HTTP/"; }
run() {	# run NAME HOST [LABELS...]
	local name=$1 host=$2
	shift 2
	dk run -d --name "$name" --hostname "$name" --network benchweb \
	    --label io.netcrave.ingress.host="$host" "$@" local/busybox \
	    sh -c 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www' \
	    >/dev/null || e2e_fail "docker run $name"
}
# converge HOST NAME [LABELS...]: ms from docker run returning to NAME's page.
converge() {
	local host=$1 name=$2 t0 t1
	shift 2
	run "$name" "$host" "$@"
	t0=$(e2e_now_ms)
	until [ "$(page "$host")" = "$name" ]; do
		[ $(( $(e2e_now_ms) - t0 )) -lt 20000 ] || e2e_fail "$name not served in 20 s"
	done
	t1=$(e2e_now_ms)
	echo $(( t1 - t0 ))
}
# measure HOST [LABELS...]: N runs, one container at a time; prints the times.
measure() {
	local host=$1 i
	shift
	# The first container makes the service (a reload); not measured.
	converge "$host" "${host%%.*}-warm" "$@" >/dev/null
	dk rm -f "${host%%.*}-warm" >/dev/null
	for i in $(seq "$n"); do
		converge "$host" "${host%%.*}-$i" "$@"
		dk rm -f "${host%%.*}-$i" >/dev/null
	done
}
pct() {	# pct P: the P-th percentile of the numbers on stdin (nearest rank)
	sort -n | awk -v p="$1" '{ v[NR] = $1 } END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'
}

push=$(measure push.bench.test)
dns=$(measure dns.bench.test --label io.netcrave.ingress.mode=dns)
p50=$(echo "$push" | pct 50) p95=$(echo "$push" | pct 95)
d50=$(echo "$dns" | pct 50) d95=$(echo "$dns" | pct 95)
echo "ingress convergence, docker run returned -> first 200 through haproxy, $n runs each:"
echo "  push (runtime API)     p50 ${p50} ms  p95 ${p95} ms  (target p50 <= 100 ms)"
echo "  DNS only (SRV, 1 s)    p50 ${d50} ms  p95 ${d95} ms"
echo "  ratio DNS/push p50     $(awk -v a="$d50" -v b="$p50" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }')"
echo "  push runs: $(echo $push)"
echo "  dns runs:  $(echo $dns)"
