#!/bin/bash
# t_network_l3mdev: t_network.sh (networks, tag policy over IPv4 and IPv6, egress,
# no links left) with the l3mdev VRF backend, where the kernel has VRF; skipped
# with the kernel's answer where it does not (the netns backend's run is
# t_network.sh itself).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || e2e_skip "not root"
probe="e2evrf$$"
if ! out=$(ip link add "$probe" type vrf table 1 2>&1); then
	out=${out#Error: }
	e2e_skip "kernel lacks VRF (ip link add type vrf: ${out%.})"
fi
ip link delete "$probe"
E2E_VRF_BACKEND=l3mdev exec bash "$(dirname "$0")/t_network.sh"
