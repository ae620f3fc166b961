#!/bin/bash
# t_cleanup: the harness leaves nothing behind, even when a test dies half-way.
# Three runs of the harness, each in its own bash process, after dockerd (with
# running containers) and netcraved started:
#   fail    the test calls e2e_fail
#   signal  the test's process group gets SIGTERM while it waits (Ctrl-C, timeout)
#   orphans dockerd is SIGKILLed first (its containerd, shims and containers are
#           orphaned), then the test fails
# Afterwards no process, mount, cgroup, socket or directory of that run may survive.
. "$(dirname "$0")/lib.sh"
e2e_init	# our own scratch dir only; no dockerd here

if [ -n "${NETCRAVED:-}" ] && [ -x "$NETCRAVED" ]; then
	with_netcraved=1
else
	with_netcraved=0
	e2e_log "note: NETCRAVED not available, the runs start dockerd only"
fi
lib=$(cd "$(dirname "$0")" && pwd)/lib.sh

# If this test is itself interrupted, the scenario in its own process group must
# be told too (and given time for its own cleanup).
scenario_pid=
stop_scenario() {
	local i=0
	[ -n "$scenario_pid" ] && kill -0 "$scenario_pid" 2>/dev/null || return 0
	kill -TERM -- "-$scenario_pid" 2>/dev/null
	while kill -0 "$scenario_pid" 2>/dev/null && [ "$i" -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
e2e_at_cleanup stop_scenario

# The scenario: start everything, write down what was made, then end as told.
# It runs as `bash -c "$scenario"` with the state file in the environment, so no
# command line of it names our own work dir (our cleanup would take it for a
# leftover of ours).
scenario=$(cat <<'EOS'
. "$1"
how=$2 with_netcraved=$3 state=$E2E_CLEANUP_STATE
e2e_init
e2e_start_dockerd
e2e_import_busybox
dk run -d --name c1 local/busybox sleep 1000 >/dev/null || e2e_fail "run c1"
# One that ignores SIGTERM, as a stuck workload would.
dk run -d --name c2 --network none local/busybox \
    sh -c 'trap "" TERM; while :; do sleep 1; done' >/dev/null || e2e_fail "run c2"
[ "$with_netcraved" = 1 ] && e2e_start_netcraved
{
	echo "D=$E2E_D"
	echo "CG=$E2E_CGROUP_PARENT"
	echo "SOCK=$E2E_PLUGIN_SOCK"
	echo "INSTANCE=$E2E_INSTANCE"
	echo "PIDS='$(echo $(e2e_our_pids; e2e_cgroup_pids; echo $E2E_NETCRAVED_PID))'"
	echo "CIDS='$(echo $(dk ps -q --no-trunc))'"
} >"$state.tmp"
mv "$state.tmp" "$state"
case $how in
fail)	e2e_fail "failing on purpose (t_cleanup)" ;;
signal)	sleep 300; e2e_fail "no signal came" ;;
orphans)
	kill -KILL "$E2E_DOCKERD_PID"
	wait "$E2E_DOCKERD_PID" 2>/dev/null
	e2e_fail "failing on purpose after SIGKILL of dockerd (t_cleanup)" ;;
esac
EOS
)

check_gone() {	# check_gone STATEFILE NAME
	local D CG SOCK INSTANCE PIDS CIDS p id h bad= name=$2
	. "$1"
	[ -n "$D" ] || e2e_fail "$2: no work dir recorded"
	[ -n "$PIDS" ] || e2e_fail "$2: no pids recorded"
	for p in $PIDS; do
		e2e_alive "$p" && bad="$bad
  process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
	# Any process naming the work dir, recorded or not.
	for p in $(E2E_D=$D; e2e_our_pids); do
		bad="$bad
  process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
	if awk -v d="$D" '$5 == d || index($5, d "/") == 1 { f = 1 } END { exit !f }' \
	    /proc/self/mountinfo; then
		bad="$bad
  mounts: $(awk -v d="$D" 'index($5, d) == 1 { printf "%s ", $5 }' /proc/self/mountinfo)"
	fi
	[ -e "$D" ] && bad="$bad
  directory $D"
	[ -n "$(find /sys/fs/cgroup -maxdepth 3 -path "*$CG" 2>/dev/null)" ] &&
	    bad="$bad
  cgroup $CG"
	[ -n "$SOCK" ] && [ -e "$SOCK" ] && bad="$bad
  plugin socket $SOCK"
	[ -n "$INSTANCE" ] && [ -e "/run/netns/_$INSTANCE" ] && bad="$bad
  netns _$INSTANCE"
	for id in $CIDS; do
		h=$(printf '%s' "$D/exec/containerd/containerd.sock/moby/$id" | sha256sum | cut -d' ' -f1)
		[ -e "/run/containerd/s/$h" ] && bad="$bad
  shim socket /run/containerd/s/$h (container $id)"
	done
	[ -z "$bad" ] || e2e_fail "$name: left behind:$bad"
	set -- $PIDS
	e2e_log "$name: all gone ($# processes, work dir $D)"
}

run_case() {	# run_case HOW
	local how=$1 st="$E2E_D/state.$1" rc pid i=0
	rm -f "$st"
	if [ "$how" = signal ]; then
		# Own session and process group, so the group can be signalled as a
		# terminal or timeout(1) would.
		E2E_CLEANUP_STATE=$st setsid bash -c "$scenario" scenario "$lib" "$how" \
		    "$with_netcraved" >"$E2E_D/case.$how.log" 2>&1 &
		pid=$!
		scenario_pid=$pid
		while [ ! -s "$st" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 600 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		[ -s "$st" ] || { cat "$E2E_D/case.$how.log" >&2; e2e_fail "$how: scenario did not start"; }
		kill -TERM -- "-$pid"
		wait "$pid"
		rc=$?
		scenario_pid=
		[ "$rc" = 143 ] || { cat "$E2E_D/case.$how.log" >&2; e2e_fail "$how: exit $rc, wanted 143"; }
	else
		E2E_CLEANUP_STATE=$st bash -c "$scenario" scenario "$lib" "$how" \
		    "$with_netcraved" >"$E2E_D/case.$how.log" 2>&1
		rc=$?
		[ "$rc" = 1 ] || { cat "$E2E_D/case.$how.log" >&2; e2e_fail "$how: exit $rc, wanted 1"; }
	fi
	[ -s "$st" ] || { cat "$E2E_D/case.$how.log" >&2; e2e_fail "$how: scenario did not get going"; }
	sed "s/^/	[$how] /" "$E2E_D/case.$how.log" >&2
	check_gone "$st" "$how"
}

run_case fail
run_case signal
run_case orphans
exit 0
