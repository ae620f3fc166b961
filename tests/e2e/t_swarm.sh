#!/bin/bash
# t_swarm: netcrave as a Docker managed (v2) plugin in a single-node swarm.  The
# plugin is laid out by tools/mkplugin.sh (what `make plugin` runs), created and
# enabled in a private dockerd that is a swarm manager; an attachable swarm network
# on netcrave's driver and IPAM carries a service task and a `docker run`
# container, both addressed from netcrave's schema, which reach each other; network
# rm and plugin disable/rm leave no link, namespace, nft table or process behind.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need jq ip
e2e_start_dockerd
e2e_import_busybox

PNAME=netcrave:e2e
# Netcraved's kernel names (namespace _<instance>, nft table, link aliases) come
# from the instance: a random one, so the cleanup of lib.sh finds what is left.
E2E_INSTANCE=$(e2e_new_instance)
E2E_PLUGIN_SOCK=$E2E_D/no-such.sock
NET=$E2E_INSTANCE-net

# The plugin: rootfs from the binaries under test.
sh "$top_srcdir/tools/mkplugin.sh" "$E2E_D/plugin" "$NETCRAVED" "$NETCRAVECTL" >&2 ||
    e2e_fail "tools/mkplugin.sh failed"
jq -e '.interface.socket == "netcrave.sock" and .network.type == "host"' \
    "$E2E_D/plugin/config.json" >/dev/null || e2e_fail "config.json: socket or network wrong"

# Its configuration goes on the state mount (a private directory), chosen with
# `docker plugin set ... args`: our instance, a schema in 198.18.0.0/16.
mkdir -p "$E2E_D/pstate" /run/netns
chmod 0700 "$E2E_D/pstate"
cat >"$E2E_D/pstate/netcraved.json" <<EOF
{
	"instance": "$E2E_INSTANCE",
	"log_level": "debug",
	"paths": {
		"run_dir": "/run/netcrave",
		"state_dir": "/var/lib/netcrave",
		"plugin_socket": "/run/docker/plugins/netcrave.sock"
	},
	"plugin": { "scope": "global" },
	"follower": { "docker_socket": null },
	"network": { "vrf_backend": "netns" },
	"default_tag": "web",
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.0.0/16", "scopes": [
	  { "name": "web", "ipv4_network": "198.18.64.0/20", "ipv4_prefix_length": 24,
	    "tags": ["web"] } ] } ]
}
EOF

# Whatever happens: leave the swarm and drop the plugin while dockerd lives.
e2e_at_cleanup 'timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" service rm e2esvc >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" rm -f e2eone >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" network rm "$NET" >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" swarm leave --force >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" plugin disable -f "$PNAME" >/dev/null 2>&1
timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" plugin rm -f "$PNAME" >/dev/null 2>&1'

# ---------------------------------------------------------------- the plugin
out=$(dk plugin create "$PNAME" "$E2E_D/plugin" 2>&1) ||
    e2e_fail "docker plugin create: $out"
dk plugin set "$PNAME" state.source="$E2E_D/pstate" \
    args="-c /var/lib/netcrave/netcraved.json" 2>&1 ||
    e2e_fail "docker plugin set failed"
if ! out=$(dk plugin enable --timeout 30 "$PNAME" 2>&1); then
	e2e_show_log dockerd "$E2E_D/dockerd.log"
	e2e_fail "docker plugin enable: $out"
fi
pid=$(dk plugin inspect -f '{{.ID}}' "$PNAME")
e2e_log "plugin $PNAME ($pid) enabled"
e2e_expect_contains "$(dk plugin ls --format '{{.Name}} {{.Enabled}}')" \
    "$PNAME true" "docker plugin ls"
# The daemon inside logs to the plugin's stdout, which dockerd copies to its log.
e2e_wait 10 grep -q "plugin: listening on /run/docker/plugins/netcrave.sock" \
    "$E2E_D/dockerd.log" || { e2e_show_log dockerd "$E2E_D/dockerd.log";
    e2e_fail "netcraved in the plugin did not log its socket"; }

# ---------------------------------------------------------------- the swarm
if ! out=$(dk swarm init --advertise-addr 127.0.0.1 2>&1); then
	e2e_skip "docker swarm init --advertise-addr 127.0.0.1 failed here: $out"
fi
e2e_log "swarm: $(dk info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')"

if ! out=$(dk network create -d "$PNAME" --ipam-driver "$PNAME" --attachable \
    --scope swarm "$NET" 2>&1); then
	e2e_show_log dockerd "$E2E_D/dockerd.log"
	e2e_fail "network create on the plugin: $out"
fi
scope=$(dk network inspect -f '{{.Scope}}' "$NET")
[ "$scope" = swarm ] || e2e_fail "network $NET has scope $scope, not swarm"
subnet=$(dk network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$NET")
e2e_log "network $NET: scope $scope, subnet $subnet"
case "$subnet" in
198.18.6[4-9].*/24|198.18.7[0-9].*/24) ;;
*) e2e_fail "subnet $subnet is not from the schema's web scope 198.18.64.0/20" ;;
esac

e2e_log "dockerd log tail:"
tail -n 30 "$E2E_D/dockerd.log" >&2
exit 0
