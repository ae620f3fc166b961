#!/bin/bash
# t_activate: a real dockerd finds netcraved's socket, activates it, asks the
# capabilities and reaches CreateNetwork / VolumeDriver.Create, whose refusal (a
# pool from Docker's own IPAM; volumes not implemented yet) comes back to the
# docker client word for word.
# Also proves the harness runs real containers.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_start_dockerd
e2e_import_busybox

out=$(dk run --rm --network none local/busybox echo hello 2>&1) ||
    e2e_fail "docker run local/busybox failed: $out"
[ "$out" = hello ] || e2e_fail "docker run printed \"$out\", not hello"

e2e_start_netcraved
# Our own readiness probe sent Plugin.Activate too: count what dockerd adds.
# (netcraved logs "plugin: activated (...)" per Activate; a request log, when
# there is one, names the path.)
act='Plugin\.Activate|plugin: activated'
n0=$(grep -cE "$act" "$E2E_D/netcraved.log")

if out=$(dk network create -d "$PLUGIN" --subnet 198.18.10.0/24 e2enet 2>&1); then
	e2e_fail "network create with the $PLUGIN driver succeeded: $out"
fi
e2e_expect_contains "$out" "netcrave: pool 198.18.10.0/24 is not from netcrave's address schema" \
    "network create's error"
# Nothing was left half-made in dockerd.
out=$(dk network ls --format '{{.Name}}')
e2e_expect_not_contains "$out" e2enet "network ls"

# An unknown option is refused in netcrave's words (t_volume makes volumes).
if out=$(dk volume create -d "$PLUGIN" -o colour=red v1 2>&1); then
	e2e_fail "volume create with an unknown option succeeded: $out"
fi
e2e_expect_contains "$out" "netcrave: volume v1: unknown option colour" \
    "volume create's error"

n1=$(grep -cE "$act" "$E2E_D/netcraved.log")
if [ "$n1" -le "$n0" ]; then
	e2e_show_log netcraved "$E2E_D/netcraved.log"
	e2e_fail "netcraved's log shows no Plugin.Activate from dockerd ($n0 before, $n1 after)"
fi
e2e_log "dockerd's requests reached netcraved ($((n1 - n0)) Plugin.Activate)"
exit 0
