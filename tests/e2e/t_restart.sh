#!/bin/bash
# t_restart: netcraved killed with SIGKILL leaves a stale plugin socket; started
# again with the same config it replaces the socket, and the same dockerd (which
# cached the activation for its lifetime) reaches it again.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_start_dockerd
e2e_start_netcraved

# (Docker's own IPAM pool: netcrave's NetworkDriver refuses it in its words.)
want="netcrave: pool 198.18.11.0/24 is not from netcrave's address schema"
if out=$(dk network create -d "$PLUGIN" --subnet 198.18.11.0/24 e2enet 2>&1); then
	e2e_fail "network create succeeded: $out"
fi
e2e_expect_contains "$out" "$want" "first network create's error"

pid1=$E2E_NETCRAVED_PID
e2e_kill9_netcraved
kill -0 "$pid1" 2>/dev/null && e2e_fail "netcraved $pid1 survived SIGKILL"
[ -S "$E2E_PLUGIN_SOCK" ] ||
    e2e_log "note: no socket left at $E2E_PLUGIN_SOCK after SIGKILL"
if e2e_plugin_ready; then
	e2e_fail "something still answers on $E2E_PLUGIN_SOCK after SIGKILL"
fi

e2e_start_netcraved
[ "$E2E_NETCRAVED_PID" != "$pid1" ] || e2e_fail "same pid after restart?"
# Replaced: the stale file refused connections above, the new one answers
# (inode numbers are reused on tmpfs, so they prove nothing).

if out=$(timeout 60 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" network create \
    -d "$PLUGIN" --subnet 198.18.11.0/24 e2enet 2>&1); then
	e2e_fail "network create after restart succeeded: $out"
fi
e2e_expect_contains "$out" "$want" "network create's error after the restart"
e2e_log "restarted netcraved (pid $pid1 -> $E2E_NETCRAVED_PID) reached again"

# A clean stop should remove the socket (reported, not yet required).
e2e_stop_netcraved
[ -e "$E2E_PLUGIN_SOCK" ] &&
    e2e_log "note: netcraved left $E2E_PLUGIN_SOCK behind after SIGTERM"
exit 0
