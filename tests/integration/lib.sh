# lib.sh: start a private netcraved for one integration test (private instance
# name, sockets and state under a temporary directory) and clean up after it.
# Sourced by tests/integration/*.sh; `make check` sets NETCRAVED and friends.
set -u

: "${NETCRAVED:?NETCRAVED must name the netcraved binary}"
: "${NETCRAVECTL:?NETCRAVECTL must name the netcravectl binary}"
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

T=$(mktemp -d "${TMPDIR:-/tmp}/nc-it.XXXXXX")
chmod 0755 "$T"
INSTANCE=it$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
CONF=$T/netcraved.json
LOG=$T/netcraved.log
PLUGIN_SOCK=$T/run/plugin.sock
CONTROL_SOCK=$T/run/control.sock
METRICS_SOCK=$T/run/metrics.sock
NC_PID=
FAILURES=0

# Kill what the test started and remove its directory, whatever happened.
nc_cleanup() {
	if [ -n "$NC_PID" ] && kill -0 "$NC_PID" 2>/dev/null; then
		kill -TERM "$NC_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$NC_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NC_PID" 2>/dev/null
	fi
	if [ "$FAILURES" -ne 0 ] && [ -f "$LOG" ]; then
		echo "---- netcraved log ----"; cat "$LOG"; echo "-----------------------"
	fi
	rm -rf "$T"
}
trap nc_cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; FAILURES=$((FAILURES + 1)); }
# check DESCRIPTION COMMAND...: the command must succeed.
check() { _d=$1; shift; if "$@"; then ok "$_d"; else fail "$_d"; fi; }
# not COMMAND...: the command must fail (for check, which runs a command).
not() { ! "$@"; }
# contains HAYSTACK NEEDLE
contains() { case "$1" in *"$2"*) return 0 ;; *) echo "  expected to find: $2"; echo "  in: $1"; return 1 ;; esac; }
finish() { if [ "$FAILURES" -ne 0 ]; then echo "$FAILURES check(s) failed"; exit 1; fi; exit 0; }

# nc_write_conf [EXTRA_MEMBERS]: the test config; EXTRA_MEMBERS is JSON text
# added to the top-level object (e.g. '"http": {"max_body_bytes": 2048}').
nc_write_conf() {
	_extra=${1:-}
	[ -n "$_extra" ] && _extra=", $_extra"
	# Never a dockerd of the host: nobody serves this socket (unless the test
	# says otherwise).
	case "$_extra" in
	*'"follower"'*) ;;
	*) _extra=", \"follower\": { \"docker_socket\": \"$T/docker.sock\" }$_extra" ;;
	esac
	cat > "$CONF" <<JSON
{
	// private instance of an integration test
	"instance": "$INSTANCE",
	"paths": {
		"run_dir": "$T/run",
		"state_dir": "$T/state",
		"plugin_socket": "$PLUGIN_SOCK",
		"control_socket": "$CONTROL_SOCK"
	},
	"metrics": { "listen": "unix:$METRICS_SOCK" }$_extra
}
JSON
}

# plugin_call PATH [BODY]: POST as dockerd does; prints "STATUS BODY".
plugin_call() {
	# Files of its own: calls run at once (&) must not read each other's.
	_pc=$(mktemp -d "$T/call.XXXXXX")
	curl -s --unix-socket "$PLUGIN_SOCK" -o "$_pc/resp" -w '%{http_code}' \
	    -H 'Accept: application/vnd.docker.plugins.v1.2+json' \
	    -H 'Host: %2Frun%2Fdocker%2Fplugins%2Fnetcrave.sock' \
	    -H 'Content-Type:' -H 'User-Agent: Go-http-client/1.1' \
	    -X POST --data-binary "${2:-}" "http://localhost$1" > "$_pc/code" || true
	printf '%s %s' "$(cat "$_pc/code")" "$(cat "$_pc/resp" 2>/dev/null)"
	rm -rf "$_pc"
}

# nc_start [ARGS...]: start netcraved in the foreground and wait for its sockets.
nc_start() {
	"$NETCRAVED" -f -c "$CONF" "$@" >>"$LOG" 2>&1 &
	NC_PID=$!
	for _ in $(seq 100); do
		if [ -S "$PLUGIN_SOCK" ] && [ -S "$CONTROL_SOCK" ] &&
		    curl -sf --unix-socket "$PLUGIN_SOCK" -X POST \
		    http://localhost/Plugin.Activate >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$NC_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "netcraved did not start"
	return 1
}

# nc_stop: SIGTERM and wait; returns netcraved's exit status.
nc_stop() {
	kill -TERM "$NC_PID"
	_rc=0
	wait "$NC_PID" || _rc=$?
	NC_PID=
	return $_rc
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	_n=$(($1 * 10)); shift
	while [ "$_n" -gt 0 ]; do "$@" && return 0; sleep 0.1; _n=$((_n - 1)); done
	return 1
}
