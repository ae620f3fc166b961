#!/bin/sh
# volumes.sh: a volume through netcraved's FUSE client against davfs2 mounted
# on the same netcraved WebDAV server (its plaintext loopback listener), in
# one run: sequential write then read of 256 MiB, and creation of 10,000
# small files.  A run counts until the data is stored on the server: netcrave
# until fsync (dd conv=fsync; for the small files, whose close(2) only starts
# their upload, until `sync DIR` (fsyncdir) has waited for all of them),
# davfs2 until its unmount has uploaded everything; the read starts cold
# (davfs2 with an empty cache).
# Prints MB/s, files/s and the ratio netcrave/davfs2 (target >= 2): the
# medians of ROUNDS rounds (default 3), with the spread of each ratio over
# the rounds; who goes first alternates from round to round, so a trend in
# the (shared) machine's load hits both alike.
# Usage: bench/volumes.sh [build-dir]  (root; needs davfs2, curl, fuse3)
# MIB, NFILES and ROUNDS set the sizes and the number of rounds.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
NETCRAVED=$build/netcraved
MIB=${MIB:-256}
NFILES=${NFILES:-10000}
ROUNDS=${ROUNDS:-3}
for p in mount.davfs curl python3; do
	command -v $p >/dev/null || { echo "volumes.sh: $p not installed" >&2; exit 1; }
done
T=$(mktemp -d /tmp/nc-bench-vol.XXXXXX)
chmod 0755 "$T"
NC_PID=
cleanup() {
	umount "$T/dav" 2>/dev/null || umount -l "$T/dav" 2>/dev/null || true
	rm -rf /var/cache/davfs2/127.0.0.1-davvol*
	[ -n "$NC_PID" ] && kill "$NC_PID" 2>/dev/null && wait "$NC_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s%N; }
secs() { echo "$1 $2" | awk '{ printf "%.3f", ($2 - $1) / 1e9 }'; }
rate() { echo "$1 $2" | awk '{ printf "%.1f", $1 / $2 }'; }

P=$(port)
cat > "$T/nc.json" <<JSON
{ "instance": "benchvol$$", "paths": { "run_dir": "$T/run", "state_dir": "$T/state",
  "plugin_socket": "$T/run/plugin.sock", "control_socket": "$T/run/control.sock" },
  "metrics": { "listen": "" }, "dav": { "plain_listen": "127.0.0.1:$P" } }
JSON
"$NETCRAVED" -f -c "$T/nc.json" > "$T/nc.log" 2>&1 &
NC_PID=$!
for _ in $(seq 100); do [ -S "$T/run/plugin.sock" ] && break; sleep 0.1; done
plugin() { curl -sf --unix-socket "$T/run/plugin.sock" -X POST -d "$2" "http://x/VolumeDriver.$1"; }
plugin Create '{"Name":"ncvol"}' >/dev/null
plugin Create '{"Name":"davvol"}' >/dev/null
NC=$(plugin Mount '{"Name":"ncvol","ID":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["Mountpoint"])')

# davfs2: no locks, no delayed upload, a private cache and config.
# (davfs2 wants its own cache directory, /var/cache/davfs2: this mount's
# entry is removed before each mount so every run starts cold.)
mkdir -p "$T/dav"
cat > "$T/davfs2.conf" <<CONF
use_locks 0
delay_upload 0
ask_auth 0
CONF
davmount() {
	rm -rf /var/cache/davfs2/127.0.0.1-davvol*
	mount -t davfs -o conf="$T/davfs2.conf" "http://127.0.0.1:$P/davvol" "$T/dav" </dev/null >/dev/null 2>&1
}

head -c $((MIB * 1024 * 1024)) /dev/urandom > "$T/src"
sum_src=$(sha256sum < "$T/src")
sync

# One measurement each; davfs2 is mounted (cold) and unmounted inside its own.
nc_write() {
	t0=$(now); dd if="$T/src" of="$NC/big" bs=1M conv=fsync status=none; t1=$(now)
	secs "$t0" "$t1"
}
dav_write() {
	davmount
	t0=$(now); dd if="$T/src" of="$T/dav/big" bs=1M status=none; umount "$T/dav" >&2; t1=$(now)
	secs "$t0" "$t1"
}
nc_read() {
	echo 3 > /proc/sys/vm/drop_caches
	t0=$(now); sum=$(sha256sum < "$NC/big"); t1=$(now)
	[ "$sum" = "$sum_src" ] || { echo "volumes.sh: netcrave read back other bytes" >&2; exit 1; }
	rm -f "$NC/big"
	secs "$t0" "$t1"
}
dav_read() {
	davmount
	echo 3 > /proc/sys/vm/drop_caches
	t0=$(now); sum=$(sha256sum < "$T/dav/big"); t1=$(now)
	[ "$sum" = "$sum_src" ] || { echo "volumes.sh: davfs2 read back other bytes" >&2; exit 1; }
	rm -f "$T/dav/big"
	umount "$T/dav" >&2
	secs "$t0" "$t1"
}
nc_files() {	# directory name
	mkdir "$NC/$1"
	t0=$(now); i=0; while [ $i -lt "$NFILES" ]; do echo "$i" > "$NC/$1/f$i"; i=$((i + 1)); done
	sync "$NC/$1"; t1=$(now)
	n=$(ls "$NC/$1" | wc -l)
	[ "$n" = "$NFILES" ] || { echo "volumes.sh: netcrave holds $n files" >&2; exit 1; }
	secs "$t0" "$t1"
}
dav_files() {	# directory name
	davmount
	mkdir "$T/dav/$1"
	t0=$(now); i=0; while [ $i -lt "$NFILES" ]; do echo "$i" > "$T/dav/$1/f$i"; i=$((i + 1)); done
	umount "$T/dav" >&2; t1=$(now)
	n=$(curl -s -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:$P/davvol/$1/" | grep -o '<D:href>' | wc -l)
	[ "$n" = $((NFILES + 1)) ] || echo "volumes.sh: note: davfs2 stored $((n - 1)) of $NFILES files" >&2
	secs "$t0" "$t1"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { echo "$(sort -n "$1" | head -1)-$(sort -n "$1" | tail -1)"; }
ratio() { echo "$1 $2" | awk '{ printf "%.3f\n", $1 / $2 }'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for f in nc_w dav_w nc_r dav_r nc_f dav_f r_w r_r r_f; do : > "$T/res.$f"; done
r=1
while [ $r -le "$ROUNDS" ]; do
	# Who goes first alternates: a trend in the load hits both alike.
	if [ $((r % 2)) = 1 ]; then
		nc_w=$(nc_write); dav_w=$(dav_write)
		nc_r=$(nc_read); dav_r=$(dav_read)
		nc_f=$(nc_files small$r); dav_f=$(dav_files small$r)
	else
		dav_w=$(dav_write); nc_w=$(nc_write)
		dav_r=$(dav_read); nc_r=$(nc_read)
		dav_f=$(dav_files small$r); nc_f=$(nc_files small$r)
	fi
	for f in nc_w dav_w nc_r dav_r nc_f dav_f; do eval "echo \$$f" >> "$T/res.$f"; done
	ratio "$dav_w" "$nc_w" >> "$T/res.r_w"
	ratio "$dav_r" "$nc_r" >> "$T/res.r_r"
	ratio "$dav_f" "$nc_f" >> "$T/res.r_f"
	echo "round $r (seconds): netcrave write $nc_w read $nc_r files $nc_f; davfs2 write $dav_w read $dav_r files $dav_f; load $(cut -d' ' -f1 /proc/loadavg)"
	r=$((r + 1))
done

med() { median < "$T/res.$1"; }
printf '%-28s %12s %12s %8s  %s\n' "median of $ROUNDS rounds" "netcrave" "davfs2" "ratio" "ratio spread"
printf '%-28s %10s/s %10s/s %8s  %s\n' "write ${MIB} MiB (MB/s)" "$(rate "$MIB" "$(med nc_w)")" "$(rate "$MIB" "$(med dav_w)")" "$(med r_w)" "$(spread "$T/res.r_w")"
printf '%-28s %10s/s %10s/s %8s  %s\n' "read ${MIB} MiB (MB/s)" "$(rate "$MIB" "$(med nc_r)")" "$(rate "$MIB" "$(med dav_r)")" "$(med r_r)" "$(spread "$T/res.r_r")"
printf '%-28s %10s/s %10s/s %8s  %s\n' "create $NFILES files" "$(rate "$NFILES" "$(med nc_f)")" "$(rate "$NFILES" "$(med dav_f)")" "$(med r_f)" "$(spread "$T/res.r_f")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
