#!/bin/bash
# t_volume_cluster: a volume of one host used by containers of another (issue
# 10).  Host 1 is the usual e2e netcraved under a real dockerd; host 2 a second
# netcraved with no dockerd of its own (a second dockerd would need a mount
# namespace of its own for /run/docker/plugins).  Both share one store on a
# private PostgreSQL 15 and the internal CA, and set cluster.host_address.
# Host 2 creates the volume; dockerd on host 1 lists it, `docker volume create`
# is accepted, and containers write and read it through host 1's FUSE mount,
# which speaks h2 over mutual TLS to host 2's WebDAV: the bytes are host 2's.
# `docker volume rm` on host 1 is refused: the volume is host 2's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../helpers/pg.sh"
e2e_init
e2e_need_netcraved
e2e_need openssl python3
[ -c /dev/fuse ] || e2e_skip "no /dev/fuse"
pg_available || e2e_skip "PostgreSQL 15 not found in $PG_BINDIR (postgresql-15)"
e2e_start_dockerd
e2e_import_busybox

pg_start "$E2E_D/pg" || e2e_fail "PostgreSQL does not start"
e2e_at_cleanup pg_stop

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
P1=$(free_port)
P2=$(free_port)
store='"store": { "backend": "pg", "host": "'$PG_SOCKDIR'", "port": "'$PG_PORT'",
	  "dbname": "netcrave", "user": "netcrave", "sslmode": "disable",
	  "poll_ms": 100 }'
E2E_NETCRAVED_EXTRA=$store',
	"cluster": { "host_address": "198.18.65.1" },
	"dav": { "listen": ["127.0.0.1:'$P1'"] }'
e2e_start_netcraved

# Host 2: its own run and state dirs, the cluster's keys and internal CA.
H2=$E2E_D/h2
mkdir -p "$H2/run" "$H2/state/ca"
chmod 0700 "$H2/run" "$H2/state"
cp -a "$E2E_D/state/keys" "$H2/state/keys"
cp -a "$E2E_D/state/ca/ca.crt" "$E2E_D/state/ca/ca.key.sealed" "$H2/state/ca/"
cat >"$H2/netcraved.json" <<JSON
{
	"instance": "${E2E_INSTANCE}b",
	"paths": { "run_dir": "$H2/run", "state_dir": "$H2/state",
	  "plugin_socket": "$H2/plugin.sock", "control_socket": "$H2/control.sock" },
	"metrics": { "listen": "" },
	"follower": { "docker_socket": null },
	"dns": { "listen": [], "gateway_port": 0 },
	$store,
	"cluster": { "host_address": "198.18.65.2" },
	"dav": { "listen": ["127.0.0.1:$P2"] }
}
JSON
setsid "$NETCRAVED" -f -c "$H2/netcraved.json" </dev/null >>"$H2/log" 2>&1 &
H2_PID=$!
e2e_at_cleanup 'e2e_stop_pid "$H2_PID" host2'
e2e_wait 15 curl -sf --unix-socket "$H2/plugin.sock" -X POST \
    http://localhost/Plugin.Activate -o /dev/null ||
    { cat "$H2/log"; e2e_fail "host 2's netcraved does not start"; }

V=vc-$E2E_ID
out=$(curl -s --unix-socket "$H2/plugin.sock" -X POST -H 'Content-Type:' \
    --data-binary '{"Name":"'$V'","Opts":{}}' http://localhost/VolumeDriver.Create)
[ "$out" = '{}' ] || e2e_fail "host 2: Create $V: $out"

listed() { dk volume ls --format '{{.Driver}} {{.Name}}' | grep -qx "$PLUGIN $V"; }
e2e_wait 10 listed || e2e_fail "dockerd on host 1 does not list host 2's volume"
e2e_log "dockerd on host 1 lists host 2's volume $V"
out=$(dk volume create -d "$PLUGIN" "$V" 2>&1) ||
    e2e_fail "docker volume create $V on host 1: $out"
out=$(dk volume inspect "$V")
e2e_expect_contains "$out" '"owner": "198.18.65.2"' "inspect on host 1: owner"

run() { timeout 120 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" run --rm "$@"; }
marker="netcrave-e2e-$E2E_ID"
run -v "$V:/data" local/busybox sh -c "echo $marker > /data/hello &&
    busybox dd if=/dev/urandom of=/data/big bs=1048576 count=20 2>/dev/null &&
    sha256sum /data/big > /data/big.sum" || e2e_fail "writing container on host 1 failed"
out=$(curl -sf --unix-socket "$H2/run/dav.sock" "http://x/$V/hello")
[ "$out" = "$marker" ] || e2e_fail "host 2's WebDAV has '$out', not the container's marker"
curl -sf --unix-socket "$H2/run/dav.sock" -o "$E2E_D/big" "http://x/$V/big" ||
    e2e_fail "GET big from host 2"
sum=$(curl -sf --unix-socket "$H2/run/dav.sock" "http://x/$V/big.sum" | cut -d' ' -f1)
[ "$(sha256sum <"$E2E_D/big" | cut -d' ' -f1)" = "$sum" ] ||
    e2e_fail "the 20 MiB on host 2 differ from what the container wrote"
e2e_log "a container on host 1 wrote 20 MiB that host 2's WebDAV serves unchanged"
grep -q "volume $V: mounted from its owner 198.18.65.2 at 127.0.0.1:$P2" \
    "$E2E_D/netcraved.log" || e2e_fail "host 1 did not mount from host 2's listener"

# The reverse: host 2 writes through its WebDAV, a container on host 1 reads.
curl -sf --unix-socket "$H2/run/dav.sock" -X PUT --data-binary "from-host-2 $marker" \
    "http://x/$V/from2" -o /dev/null || e2e_fail "PUT on host 2"
out=$(run -v "$V:/data" local/busybox cat /data/from2 2>&1)
e2e_expect_contains "$out" "from-host-2 $marker" "a container on host 1 reads host 2's file"

out=$(dk volume rm "$V" 2>&1) && e2e_fail "docker volume rm on host 1 removed host 2's volume"
e2e_expect_contains "$out" "belongs to host 198.18.65.2" "docker volume rm on host 1"
out=$(curl -s --unix-socket "$H2/plugin.sock" -X POST -H 'Content-Type:' \
    --data-binary '{"Name":"'$V'"}' http://localhost/VolumeDriver.Remove)
[ "$out" = '{}' ] || e2e_fail "host 2: Remove $V: $out"
e2e_wait 10 sh -c "! curl -s --unix-socket '$E2E_PLUGIN_SOCK' -X POST \
    http://localhost/VolumeDriver.List | grep -q '\"$V\"'" ||
    e2e_fail "host 1 still lists $V after host 2 removed it"
e2e_log "host 2 removed $V; host 1 forgot it"
