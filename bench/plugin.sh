#!/bin/sh
# plugin.sh: the foundation's figures: RSS of an idle daemon, time from exec to
# the plugin socket answering, and plugin requests per second over one keep-alive
# connection.  Usage: bench/plugin.sh [path/to/netcraved]  (from a built tree)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
NETCRAVED=${1:-$top/netcraved}
N=${N:-20000}
T=$(mktemp -d /tmp/nc-bench.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; sleep 0.2; rm -rf "$T"' EXIT
cat > "$T/conf.json" <<JSON
{ "instance": "bench$$", "paths": { "run_dir": "$T/run", "state_dir": "$T/state",
  "plugin_socket": "$T/plugin.sock" }, "http": { "max_connections": 4096 } }
JSON

ms() { echo $(($(date +%s%N) / 1000000)); }

# First start creates keys and state; time the second, the usual case.
for round in first second; do
	t0=$(ms)
	"$NETCRAVED" -f -c "$T/conf.json" 2>"$T/log.$round" &
	pid=$!
	until curl -sf --unix-socket "$T/plugin.sock" -X POST \
	    http://localhost/Plugin.Activate >/dev/null 2>&1; do sleep 0.001; done
	t1=$(ms)
	echo "start ($round): $((t1 - t0)) ms from exec to Plugin.Activate answered"
	[ "$round" = second ] && break
	kill "$pid"; wait "$pid" || true
done

sleep 1
echo "idle RSS: $(ps -o rss= -p "$pid") KiB"

t0=$(ms)
curl -s --unix-socket "$T/plugin.sock" -X POST -o /dev/null -w '%{http_code}\n' \
    "http://localhost/Plugin.Activate?[1-$N]" | sort | uniq -c > "$T/codes"
t1=$(ms)
echo "keep-alive: $N Plugin.Activate in $((t1 - t0)) ms over one connection:" \
    "$(awk -v n="$N" -v ms="$((t1 - t0))" 'BEGIN {printf "%d", n * 1000 / ms}') requests/s" \
    "(codes: $(tr -s ' \n' ' ' < "$T/codes"))"
# The same over one connection with a client that does not wait between requests
# (pipelined in batches of 64), so the daemon, not curl, sets the pace.
python3 - "$T/plugin.sock" "$N" <<'PY'
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
req = (b"POST /NetworkDriver.GetCapabilities HTTP/1.1\r\nHost: x\r\n"
       b"Accept: application/vnd.docker.plugins.v1.2+json\r\nContent-Length: 0\r\n\r\n")
s = socket.socket(socket.AF_UNIX); s.connect(path)
t = time.monotonic(); done = 0; buf = b""
while done < n:
    batch = min(64, n - done)
    s.sendall(req * batch)
    got = 0
    while got < batch:
        buf += s.recv(1 << 16)
        while True:
            i = buf.find(b"\r\n\r\n")
            if i < 0: break
            head = buf[:i].decode()
            clen = int([l.split(":")[1] for l in head.split("\r\n") if l.lower().startswith("content-length")][0])
            if len(buf) < i + 4 + clen: break
            assert head.startswith("HTTP/1.1 200"), head
            buf = buf[i + 4 + clen:]; got += 1
    done += batch
el = time.monotonic() - t
print("pipelined: %d GetCapabilities in %d ms over one connection: %d requests/s" % (n, el * 1000, n / el))
PY
echo "RSS after the run: $(ps -o rss= -p "$pid") KiB"
