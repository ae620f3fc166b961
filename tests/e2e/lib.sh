# tests/e2e/lib.sh: harness for netcraved's end-to-end tests (bash).
#
# A test does:   . "$(dirname "$0")/lib.sh"; e2e_init; e2e_start_dockerd; ...
# Everything a run makes lives under one private work dir ($E2E_D); the cleanup
# trap (EXIT, INT, TERM, HUP) removes it, stops every process of this run and
# unmounts what dockerd mounted, even when the test fails half-way.  See README.md.
#
# Environment: NETCRAVED, NETCRAVECTL (binaries under test), top_srcdir,
# top_builddir; E2E_KEEP=1 keeps the work dir (processes are still stopped);
# E2E_VERBOSE=1 traces the test (set -x).

E2E_SKIP=77

# ---------------------------------------------------------------- messages

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }

e2e_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

e2e_skip() {
	printf 'SKIP: %s\n' "$*" >&2
	# The runner shows the reason from this file.
	[ -n "${E2E_SKIP_FILE:-}" ] && printf '%s\n' "$*" >"$E2E_SKIP_FILE"
	exit "$E2E_SKIP"
}

# e2e_expect_contains OUTPUT TEXT [WHAT]
e2e_expect_contains() {
	case "$1" in
	*"$2"*) return 0 ;;
	esac
	printf 'expected %s to contain: %s\n--- got:\n%s\n---\n' \
	    "${3:-output}" "$2" "$1" >&2
	e2e_fail "${3:-output} does not contain \"$2\""
}

e2e_expect_not_contains() {
	case "$1" in
	*"$2"*)
		printf 'expected %s NOT to contain: %s\n--- got:\n%s\n---\n' \
		    "${3:-output}" "$2" "$1" >&2
		e2e_fail "${3:-output} contains \"$2\""
		;;
	esac
	return 0
}

# e2e_wait TIMEOUT_S COMMAND...: run COMMAND every 0.1s until it succeeds.
e2e_wait() {
	local limit=$(( $1 * 10 )) i=0
	shift
	while [ "$i" -lt "$limit" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$(( i + 1 ))
	done
	return 1
}

e2e_show_log() {	# e2e_show_log NAME FILE
	printf -- '----- %s (%s, last 60 lines) -----\n' "$1" "$2" >&2
	tail -n 60 "$2" >&2 2>/dev/null || true
	printf -- '----- end of %s -----\n' "$1" >&2
}

e2e_now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- set-up

e2e_need() {	# e2e_need PROGRAM...: skip unless every program is installed
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || e2e_skip "$p is not installed (tools/install-deps)"
	done
}

e2e_need_netcraved() {
	[ -n "${NETCRAVED:-}" ] || e2e_skip "NETCRAVED is not set (run through make check-e2e)"
	[ -x "$NETCRAVED" ] || e2e_skip "$NETCRAVED is not an executable (not built?)"
}

e2e_init() {
	[ "${E2E_VERBOSE:-0}" = 1 ] && set -x
	[ "$(id -u)" = 0 ] || e2e_skip "needs root (dockerd, /run/docker/plugins)"
	e2e_need dockerd containerd runc curl tar busybox setsid timeout sha256sum

	E2E_D=$(mktemp -d "${TMPDIR:-/tmp}/netcrave-e2e.XXXXXX") ||
	    e2e_fail "mktemp failed"
	chmod 0711 "$E2E_D"
	# The runner checks afterwards that nothing of this dir survived.
	[ -n "${E2E_WORKDIR_FILE:-}" ] && printf '%s\n' "$E2E_D" >>"$E2E_WORKDIR_FILE"
	E2E_ID=$(basename "$E2E_D" | sed 's/^netcrave-e2e\.//')
	E2E_NETCRAVED_PID=
	E2E_DOCKERD_PID=
	E2E_INSTANCE=
	E2E_PLUGIN_SOCK=
	E2E_CGROUP_PARENT=
	E2E_CLEANED=0
	E2E_AT_CLEANUP=
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	# The docker client: docker.io's own 20.10 client matches the daemon.
	if [ -x /usr/bin/docker ]; then
		E2E_DOCKER=/usr/bin/docker
	else
		E2E_DOCKER=$(command -v docker) || e2e_skip "no docker client"
	fi
	# Keep the client away from the user's contexts and config.
	unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
	export DOCKER_CONFIG="$E2E_D/client"
	mkdir -p "$DOCKER_CONFIG"
	e2e_log "work dir $E2E_D"
}

# ---------------------------------------------------------------- dockerd

dk() { "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" "$@"; }

e2e_dockerd_ping() {
	[ "$(curl -s --max-time 2 --unix-socket "$E2E_D/docker.sock" http://x/_ping 2>/dev/null)" = OK ]
}

# A private dockerd: its own data root, exec root, API socket, pidfile, config file
# and cgroup parent.  Left without --containerd it starts its own containerd with
# root $E2E_D/root/containerd/daemon, state and gRPC socket under $E2E_D/exec/containerd,
# so nothing is shared with a system containerd.  Extra dockerd flags: "$@".
e2e_start_dockerd() {
	local t0 t1
	mkdir -p "$E2E_D/root" "$E2E_D/exec"
	# Our own (empty) daemon.json: never read /etc/docker/daemon.json; the trust key
	# goes under the work dir instead of /etc/docker/key.json.
	printf '{ "deprecated-key-path": "%s/key.json" }\n' "$E2E_D" >"$E2E_D/daemon.json"
	E2E_CGROUP_PARENT="/netcrave-e2e-$E2E_ID"
	t0=$(e2e_now_ms)
	setsid dockerd \
	    --config-file "$E2E_D/daemon.json" \
	    --data-root "$E2E_D/root" --exec-root "$E2E_D/exec" \
	    -H "unix://$E2E_D/docker.sock" --pidfile "$E2E_D/docker.pid" \
	    --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
	    --cgroup-parent "$E2E_CGROUP_PARENT" --shutdown-timeout 2 \
	    "$@" </dev/null >"$E2E_D/dockerd.log" 2>&1 &
	E2E_DOCKERD_PID=$!
	if ! e2e_wait 30 e2e_dockerd_ping; then
		e2e_show_log dockerd "$E2E_D/dockerd.log"
		e2e_fail "dockerd did not answer /_ping on $E2E_D/docker.sock within 30s"
	fi
	t1=$(e2e_now_ms)
	E2E_DOCKERD_START_MS=$(( t1 - t0 ))
	e2e_log "dockerd $E2E_DOCKERD_PID ready in ${E2E_DOCKERD_START_MS}ms"
}

# local/busybox: /bin/busybox from busybox-static plus applet links, imported.
E2E_APPLETS="sh ash ls cat echo ip ifconfig route sleep wget nc hostname mount umount
ps ping ping6 grep sed awk head tail wc test [ true false id env printf mkdir rm
touch sync nslookup httpd df stat readlink sha256sum date kill uname"
e2e_import_busybox() {
	local r="$E2E_D/rootfs" a bb
	bb=$(command -v busybox)
	# Must be static: the image has no libc.
	if command -v file >/dev/null 2>&1 && ! file -L "$bb" | grep -q static; then
		e2e_skip "$bb is not statically linked (install busybox-static)"
	fi
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/root" "$r/data"
	cp "$bb" "$r/bin/busybox"
	for a in $E2E_APPLETS; do
		ln -s busybox "$r/bin/$a"
	done
	mkdir -p "$r/sbin" "$r/usr/bin"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\n' >"$r/etc/group"
	tar -C "$r" -c . | dk import - local/busybox >/dev/null ||
	    e2e_fail "docker import of local/busybox failed"
	rm -rf "$r"
}

# e2e_ula: a random ULA /48 prefix without "::/48", written as inet_ntop writes
# it (no leading zeros), e.g. "fd3a:1b:c00d".
e2e_ula() {
	set -- $(od -An -N5 -tu1 /dev/urandom)
	printf 'fd%02x:%x:%x' "$1" $(($2 * 256 + $3)) $(($4 * 256 + $5))
}

# ---------------------------------------------------------------- netcraved

e2e_new_instance() {
	printf 'e2e%s' "$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
}

e2e_plugin_activate() {
	curl -s --max-time 2 --unix-socket "$E2E_PLUGIN_SOCK" -X POST \
	    http://x/Plugin.Activate 2>/dev/null
}

e2e_plugin_ready() {
	e2e_plugin_activate | grep -q NetworkDriver
}

# The namespaces netcraved made: the routing one and those of its VRFs.
e2e_netns_ours() {
	[ -n "$E2E_INSTANCE" ] || return 0
	ls /run/netns 2>/dev/null | grep -E "^_$E2E_INSTANCE(-vrf-.*)?\$"
}

# "ip -o link show [ARGS]" of the host and of every namespace of ours.
e2e_links_ours() {
	local _ns
	ip -o link show "$@"
	for _ns in $(e2e_netns_ours); do ip -n "$_ns" -o link show "$@"; done
}

# Write the config once (first call), start "$NETCRAVED -f -c CONF", wait until the
# plugin socket answers Plugin.Activate with NetworkDriver.  Exports PLUGIN.
e2e_start_netcraved() {
	e2e_need_netcraved
	if [ -z "$E2E_INSTANCE" ]; then
		E2E_INSTANCE=$(e2e_new_instance)
		E2E_PLUGIN_SOCK="/run/docker/plugins/$E2E_INSTANCE.sock"
		[ -e "$E2E_PLUGIN_SOCK" ] && e2e_fail "$E2E_PLUGIN_SOCK already exists"
		mkdir -p "$E2E_D/run" "$E2E_D/state"
		chmod 0700 "$E2E_D/run" "$E2E_D/state"
		# A child dropping to its own user (squid: proxy) must enter run.
		[ -n "${E2E_RUN_DIR_MODE:-}" ] && chmod "$E2E_RUN_DIR_MODE" "$E2E_D/run"
		# Never the host's dockerd: a test that wants the follower points it
		# at its private one in E2E_NETCRAVED_EXTRA (t_follow).
		local _follower=', "follower": { "docker_socket": null }'
		case "${E2E_NETCRAVED_EXTRA:-}" in
		*'"follower"'*) _follower= ;;
		esac
		# E2E_VRF_BACKEND: network.vrf_backend (auto, l3mdev, netns).
		if [ -n "${E2E_VRF_BACKEND:-}" ]; then
			_follower="$_follower"', "network": { "vrf_backend": "'"$E2E_VRF_BACKEND"'" }'
		fi

		cat >"$E2E_D/netcraved.json" <<-EOF
		{
			"instance": "$E2E_INSTANCE",
			"log_level": "debug",
			"paths": {
				"run_dir": "$E2E_D/run",
				"state_dir": "$E2E_D/state"
			}$_follower${E2E_NETCRAVED_EXTRA:+,
			$E2E_NETCRAVED_EXTRA}
		}
		EOF
	fi
	export PLUGIN="$E2E_INSTANCE"
	E2E_NETCRAVED_CONF="$E2E_D/netcraved.json"
	setsid "$NETCRAVED" -f -c "$E2E_NETCRAVED_CONF" </dev/null \
	    >>"$E2E_D/netcraved.log" 2>&1 &
	E2E_NETCRAVED_PID=$!
	local i=0
	while ! e2e_plugin_ready && [ "$i" -lt 150 ] &&
	    e2e_alive "$E2E_NETCRAVED_PID"; do
		sleep 0.1
		i=$(( i + 1 ))
	done
	if ! e2e_plugin_ready; then
		if ! e2e_alive "$E2E_NETCRAVED_PID"; then
			wait "$E2E_NETCRAVED_PID"
			e2e_log "netcraved exited with status $?"
			E2E_NETCRAVED_PID=
		fi
		e2e_log "Plugin.Activate answered: $(e2e_plugin_activate)"
		e2e_show_log netcraved "$E2E_D/netcraved.log"
		e2e_fail "netcraved did not answer Plugin.Activate on $E2E_PLUGIN_SOCK (it exited, or 15s passed)"
	fi
	e2e_log "netcraved $E2E_NETCRAVED_PID ($PLUGIN) ready"
}

# e2e_stop_pid PID NAME [GRACE_S]: SIGTERM, wait, then SIGKILL.
e2e_stop_pid() {
	local pid=$1 name=$2 grace=${3:-10} i=0
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $(( grace * 10 )) ]; do
		# A zombie child of ours counts as gone once reaped.
		if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
			wait "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
		i=$(( i + 1 ))
	done
	if kill -0 "$pid" 2>/dev/null &&
	    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
		e2e_log "$name ($pid) ignored SIGTERM for ${grace}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

e2e_stop_netcraved() {
	e2e_stop_pid "$E2E_NETCRAVED_PID" netcraved 10
	E2E_NETCRAVED_PID=
}

e2e_kill9_netcraved() {
	[ -n "$E2E_NETCRAVED_PID" ] || return 0
	kill -KILL "$E2E_NETCRAVED_PID" 2>/dev/null
	wait "$E2E_NETCRAVED_PID" 2>/dev/null
	E2E_NETCRAVED_PID=
}

# ---------------------------------------------------------------- supervised runtime

# netcravectl on the test's configuration, and the children it reports
# (runtime.mode "supervised": netcraved runs dockerd and containerd).
e2e_ctl() { "$NETCRAVECTL" -c "$E2E_D/netcraved.json" "$@"; }
e2e_child_field() {	# e2e_child_field NAME FIELD (pid, state, restarts, ...)
	e2e_ctl -j children | jq -r ".children[] | select(.name == \"$1\") | .$2"
}
e2e_child_ready() { [ "$(e2e_child_field "$1" state)" = ready ]; }
# The dockerd netcraved runs is ready; dk (and the cleanup) talk to it.
e2e_wait_supervised_dockerd() {
	ln -sf "$E2E_D/run/runtime/docker.sock" "$E2E_D/docker.sock"
	e2e_wait 60 e2e_child_ready dockerd || {
		e2e_show_log netcraved "$E2E_D/netcraved.log"
		e2e_fail "supervised dockerd not ready within 60s"
	}
	E2E_DOCKERD_PID=$(e2e_child_field dockerd pid)
}

# ---------------------------------------------------------------- cleanup

# Processes of this run: those whose command line names the work dir (dockerd,
# its containerd, containerd-shim-runc-v2 -address $E2E_D/exec/...) or our
# netcraved config; never anything else.  Zombies are left to their parent.
e2e_our_pids() {
	local f p
	[ -n "${E2E_D:-}" ] || return 0
	# The pattern does not match grep's own command line ("$E2E_D[/ ]" is not
	# followed by / or space there).
	for f in $(grep -lzE "${E2E_D}[/ ]" /proc/[0-9]*/cmdline 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = "$$" ] && continue
		e2e_alive "$p" && echo "$p"
	done
}

e2e_alive() {	# running (or stopped), not a zombie
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Processes inside the containers of this run (our private cgroup parent).
e2e_cgroup_pids() {
	local p
	[ -n "${E2E_CGROUP_PARENT:-}" ] || return 0
	for p in $(find /sys/fs/cgroup -path "*$E2E_CGROUP_PARENT/*" -name cgroup.procs \
	    -exec cat {} + 2>/dev/null | sort -u); do
		e2e_alive "$p" && echo "$p"
	done
}

e2e_no_cgroup_pids() { [ -z "$(e2e_cgroup_pids)" ]; }

# e2e_at_cleanup COMMAND: run COMMAND (eval'd) first thing in the cleanup, e.g.
# to stop a helper process the test started.
e2e_at_cleanup() {
	E2E_AT_CLEANUP="$E2E_AT_CLEANUP
$1"
}

e2e_cleanup() {
	local rc=$? pids p i mnts id sock ids
	[ "${E2E_CLEANED:-1}" = 0 ] || return "$rc"
	E2E_CLEANED=1
	trap '' INT TERM HUP
	set +x +e
	[ -n "${E2E_D:-}" ] || return "$rc"

	# 0. The test's own hooks.
	[ -n "${E2E_AT_CLEANUP:-}" ] && eval "$E2E_AT_CLEANUP"

	# 1. With both daemons alive, ask dockerd to remove what the test made, so the
	#    plugin gets its DeleteEndpoint/DeleteNetwork/Remove calls.  Bounded:
	#    a dead plugin would make dockerd retry for a long time.
	if [ -n "$E2E_DOCKERD_PID" ] && e2e_dockerd_ping; then
		ids=$(timeout 10 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" ps -aq 2>/dev/null)
		[ -n "$ids" ] && timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" \
		    rm -f $ids >/dev/null 2>&1
		# Every network of this private dockerd but its built-in ones is the
		# test's (also bridge networks on netcrave's IPAM): remember their
		# bridges, in case dockerd cannot remove them.
		E2E_NETWORK_IDS=$(timeout 10 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" \
		    network ls -q --no-trunc --filter type=custom 2>/dev/null)
		if [ -n "$E2E_NETCRAVED_PID" ] && kill -0 "$E2E_NETCRAVED_PID" 2>/dev/null; then
			[ -n "$E2E_NETWORK_IDS" ] && timeout 20 "$E2E_DOCKER" \
			    -H "unix://$E2E_D/docker.sock" network rm $E2E_NETWORK_IDS \
			    >/dev/null 2>&1
			# Only ours: dockerd lists the volumes of every plugin socket
			# in /run/docker/plugins, other tests' netcraved too, and
			# removing those destroyed their data (found by t_torture).
			ids=$( (timeout 10 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" \
			    volume ls -q --filter driver="$E2E_INSTANCE";
			    timeout 10 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" \
			    volume ls -q --filter driver=local) 2>/dev/null)
			[ -n "$ids" ] && timeout 20 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" \
			    volume rm -f $ids >/dev/null 2>&1
		fi
	fi

	# 2. netcraved, then dockerd (which stops its containers and its containerd).
	e2e_stop_pid "$E2E_NETCRAVED_PID" netcraved 10
	if [ -z "$E2E_DOCKERD_PID" ] && [ -s "$E2E_D/docker.pid" ]; then
		E2E_DOCKERD_PID=$(cat "$E2E_D/docker.pid")
	fi
	e2e_stop_pid "$E2E_DOCKERD_PID" dockerd 15
	# Linux bridges of networks dockerd did not remove (they outlive dockerd).
	for id in ${E2E_NETWORK_IDS:-}; do
		ip link del "br-$(printf '%.12s' "$id")" 2>/dev/null
	done

	# 3. Whatever of ours survived.  Container processes first (SIGKILL, while
	#    their shims still live to reap them), then containerd, shims, a dockerd
	#    without pid: SIGTERM, 3s, SIGKILL.
	pids=$(e2e_cgroup_pids)
	if [ -n "$pids" ]; then
		e2e_log "leftover container processes, SIGKILL: $(echo $pids)"
		kill -KILL $pids 2>/dev/null
		e2e_wait 3 e2e_no_cgroup_pids
	fi
	pids=$(e2e_our_pids)
	if [ -n "$pids" ]; then
		e2e_log "leftover processes, SIGTERM: $(echo $pids)"
		kill -TERM $pids 2>/dev/null
		i=0
		while [ "$i" -lt 30 ] && [ -n "$(e2e_our_pids; e2e_cgroup_pids)" ]; do
			sleep 0.1
			i=$(( i + 1 ))
		done
		pids=$(e2e_our_pids; e2e_cgroup_pids)
		if [ -n "$pids" ]; then
			e2e_log "leftover processes, SIGKILL: $(echo $pids)"
			kill -KILL $pids 2>/dev/null
			sleep 0.2
		fi
	fi

	# 4. Shim sockets: containerd 1.6 puts them at /run/containerd/s/ named
	#    sha256(<containerd address>/<namespace>/<container id>); a killed shim
	#    leaves its socket.  Only the ids of this run are looked at.
	for id in $(ls "$E2E_D/exec/runtime-runc/moby" \
	    "$E2E_D/exec/containerd/daemon/io.containerd.runtime.v2.task/moby" 2>/dev/null | sort -u); do
		sock=$(printf '%s' "$E2E_D/exec/containerd/containerd.sock/moby/$id" |
		    sha256sum | cut -d' ' -f1)
		rm -f "/run/containerd/s/$sock"
	done

	# 5. Unmount everything under the work dir, deepest first (netns bind mounts,
	#    the data root dockerd bind-mounts onto itself, container rootfs).
	for i in 1 2 3; do
		mnts=$(awk -v d="$E2E_D" '$5 == d || index($5, d "/") == 1 { print $5 }' \
		    /proc/self/mountinfo | sort -r)
		[ -n "$mnts" ] || break
		for p in $mnts; do
			if [ "$i" -lt 3 ]; then
				umount "$p" 2>/dev/null
			else
				umount -l "$p" 2>/dev/null
			fi
		done
	done

	# 6. Our cgroups (children first), the plugin socket, netcraved's kernel names.
	if [ -n "$E2E_CGROUP_PARENT" ]; then
		find /sys/fs/cgroup -depth -type d -path "*$E2E_CGROUP_PARENT*" \
		    -exec rmdir {} \; 2>/dev/null
	fi
	if [ -n "$E2E_INSTANCE" ]; then
		rm -f "$E2E_PLUGIN_SOCK" "/run/docker/plugins/$E2E_INSTANCE.spec" \
		    "/run/docker/plugins/$E2E_INSTANCE.json"
		for _ns in $(e2e_netns_ours); do ip netns delete "$_ns" 2>/dev/null; done
		# Links the NetworkDriver made in this namespace (alias netcrave:<instance>:).
		ip -o link show 2>/dev/null | awk -v a="netcrave:$E2E_INSTANCE:" \
		    'index($0, "alias " a) { sub(/@.*/, "", $2); sub(/:$/, "", $2); print $2 }' |
		while read -r l; do ip link delete "$l" 2>/dev/null; done
		if command -v nft >/dev/null 2>&1; then
			nft list tables 2>/dev/null | awk -v t="$E2E_INSTANCE" '$3 == t { print $2 }' |
			while read -r fam; do nft delete table "$fam" "$E2E_INSTANCE"; done
		fi
	fi

	# 7. The work dir (logs first copied for the runner).
	if [ -n "${E2E_LOG_KEEP:-}" ]; then
		mkdir -p "$E2E_LOG_KEEP"
		for p in dockerd.log netcraved.log netcraved.json; do
			[ -f "$E2E_D/$p" ] && cp "$E2E_D/$p" "$E2E_LOG_KEEP/" 2>/dev/null
		done
	fi
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		e2e_log "keeping $E2E_D"
	elif grep -q " $E2E_D" /proc/self/mountinfo; then
		e2e_log "still mounted under $E2E_D: not removing it"
		rc=1
	else
		rm -rf "$E2E_D"
	fi
	exit "$rc"
}
