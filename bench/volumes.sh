#!/bin/sh
# volumes.sh: a volume through netcraved's FUSE client against davfs2 mounted
# on the same netcraved WebDAV server (its plaintext loopback listener), in
# one run: sequential write then read of 256 MiB, and creation of 10,000
# small files.  A run counts until the data is stored on the server: netcrave
# until fsync (dd conv=fsync; for the small files, whose close(2) only starts
# their upload, until `sync DIR` (fsyncdir) has waited for all of them),
# davfs2 until its unmount has uploaded everything; the read starts cold
# (davfs2 with an empty cache).
# Prints MB/s, files/s and the ratio netcrave/davfs2 (target >= 2).
# Usage: bench/volumes.sh [build-dir]  (root; needs davfs2, curl, fuse3)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
NETCRAVED=$build/netcraved
MIB=${MIB:-256}
NFILES=${NFILES:-10000}
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
davmount

head -c $((MIB * 1024 * 1024)) /dev/urandom > "$T/src"
sync

# Sequential write.
t0=$(now); dd if="$T/src" of="$NC/big" bs=1M conv=fsync status=none; t1=$(now)
nc_w=$(secs "$t0" "$t1")
t0=$(now); dd if="$T/src" of="$T/dav/big" bs=1M status=none; umount "$T/dav"; t1=$(now)
dav_w=$(secs "$t0" "$t1")
# Sequential read, cold.
echo 3 > /proc/sys/vm/drop_caches
t0=$(now); sum_nc=$(sha256sum < "$NC/big"); t1=$(now)
nc_r=$(secs "$t0" "$t1")
davmount
t0=$(now); sum_dav=$(sha256sum < "$T/dav/big"); t1=$(now)
dav_r=$(secs "$t0" "$t1")
sum_src=$(sha256sum < "$T/src")
[ "$sum_nc" = "$sum_src" ] || { echo "volumes.sh: netcrave read back other bytes" >&2; exit 1; }
[ "$sum_dav" = "$sum_src" ] || { echo "volumes.sh: davfs2 read back other bytes" >&2; exit 1; }
rm -f "$NC/big" "$T/dav/big"

# Small files.
mkdir "$NC/small" "$T/dav/small"
t0=$(now); i=0; while [ $i -lt "$NFILES" ]; do echo "$i" > "$NC/small/f$i"; i=$((i + 1)); done
sync "$NC/small"; t1=$(now)
nc_f=$(secs "$t0" "$t1")
t0=$(now); i=0; while [ $i -lt "$NFILES" ]; do echo "$i" > "$T/dav/small/f$i"; i=$((i + 1)); done
umount "$T/dav"; t1=$(now)
dav_f=$(secs "$t0" "$t1")
n_nc=$(ls "$NC/small" | wc -l)
[ "$n_nc" = "$NFILES" ] || { echo "volumes.sh: netcrave holds $n_nc files" >&2; exit 1; }
n_dav=$(curl -s -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:$P/davvol/small/" | grep -o '<D:href>' | wc -l)
[ "$n_dav" = $((NFILES + 1)) ] || echo "volumes.sh: note: davfs2 stored $((n_dav - 1)) of $NFILES files"

printf '%-28s %12s %12s %8s\n' "" "netcrave" "davfs2" "ratio"
printf '%-28s %10s/s %10s/s %8s\n' "write ${MIB} MiB (MB/s)" "$(rate "$MIB" "$nc_w")" "$(rate "$MIB" "$dav_w")" "$(echo "$dav_w $nc_w" | awk '{ printf "%.2f", $1 / $2 }')"
printf '%-28s %10s/s %10s/s %8s\n' "read ${MIB} MiB (MB/s)" "$(rate "$MIB" "$nc_r")" "$(rate "$MIB" "$dav_r")" "$(echo "$dav_r $nc_r" | awk '{ printf "%.2f", $1 / $2 }')"
printf '%-28s %10s/s %10s/s %8s\n' "create $NFILES files" "$(rate "$NFILES" "$nc_f")" "$(rate "$NFILES" "$dav_f")" "$(echo "$dav_f $nc_f" | awk '{ printf "%.2f", $1 / $2 }')"
echo "seconds: netcrave write $nc_w read $nc_r files $nc_f; davfs2 write $dav_w read $dav_r files $dav_f"
