#!/bin/sh
# load.sh: plugin latency under abuse (issue 12).  One netcraved serves the
# plugin socket, WebDAV on loopback and DNS on loopback; a probe makes the
# calls dockerd makes (IPAM RequestAddress/ReleaseAddress, NetworkDriver
# GetCapabilities) one at a time and records each latency, first on an idle
# daemon, then while 1,000 connections sit open on the plugin socket and 1,000
# on WebDAV, slowloris clients dribble headers on both, WebDAV clients fetch
# files and a DNS flood runs (rate limiting on, loopback not exempt).  Prints
# p50/p99/max of both phases (target: p99 under 10 ms under load) and what
# the abusers achieved.
# Usage: bench/load.sh [build-dir]  (python3; the DNS flood is a python UDP
# flood, plus dnsperf when installed)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
NETCRAVED=$build/netcraved
CONNS=${CONNS:-1000}
SLOW=${SLOW:-200}
PROBES=${PROBES:-1000}
SECONDS_LOAD=${SECONDS_LOAD:-20}
command -v python3 >/dev/null || { echo "load.sh: python3 needed" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n 8192
T=$(mktemp -d /tmp/nc-bench-load.XXXXXX)
NC_PID=
cleanup() {
	[ -n "$NC_PID" ] && kill "$NC_PID" 2>/dev/null && wait "$NC_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DAVP=$(port)
DNSP=$(port)
cat > "$T/nc.json" <<JSON
{ "instance": "benchload$$",
  "paths": { "run_dir": "$T/run", "state_dir": "$T/state",
    "plugin_socket": "$T/run/plugin.sock", "control_socket": "$T/run/control.sock" },
  "metrics": { "listen": "" },
  "http": { "max_connections": 4096, "idle_timeout_ms": 30000 },
  "dav": { "plain_listen": "127.0.0.1:$DAVP", "max_connections": 4096 },
  "dns": { "listen": [ "127.0.0.1:$DNSP" ], "rrl_exempt_own": false } }
JSON
"$NETCRAVED" -f -c "$T/nc.json" > "$T/nc.log" 2>&1 &
NC_PID=$!
i=0
while [ ! -S "$T/run/plugin.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T/run/plugin.sock" ] || { cat "$T/nc.log"; exit 1; }
# A WebDAV collection with a file the fetchers read.
curl -s -o /dev/null -X MKCOL "http://127.0.0.1:$DAVP/load/"
head -c 4096 /dev/urandom > "$T/4k"
curl -s -o /dev/null -T "$T/4k" "http://127.0.0.1:$DAVP/load/4k"

flood_pid=
if command -v dnsperf >/dev/null; then
	printf 'x.netcrave.internal A\nnetcrave.internal SOA\nnope.netcrave.internal AAAA\n' > "$T/q"
	flood() { dnsperf -s 127.0.0.1 -p "$DNSP" -d "$T/q" -l "$SECONDS_LOAD" -c 4 -q 200 \
	    > "$T/dnsperf.out" 2>&1 & flood_pid=$!; }
else
	flood() { :; }
fi

# The probe: dockerd's calls one at a time on one keep-alive connection, in a
# process of its own (blocking sockets) so that the abusers' scheduling is not
# counted in its latencies.  Prints one latency in ms per line.
cat > "$T/probe.py" <<'PY'
import json, socket, sys, time
path, n, until = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
f = s.makefile("rb")
def call(p, body):
    b = json.dumps(body).encode()
    t = time.perf_counter()
    s.sendall((f"POST {p} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(b)}\r\n\r\n").encode() + b)
    status = f.readline().split()[1]
    n = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    rb = f.read(n)
    ms = (time.perf_counter() - t) * 1000
    if status != b"200":
        sys.exit(f"probe {p}: {status} {rb}")
    return json.loads(rb), ms
pool = call("/IpamDriver.RequestPool", {"AddressSpace": "", "Pool": "", "Options": {}, "V6": False})[0]["PoolID"]
out = []
i = 0
import os
while (i < n) if until == "-" else os.path.exists(until):
    out.append(call("/NetworkDriver.GetCapabilities", {})[1])
    r, ms = call("/IpamDriver.RequestAddress", {"PoolID": pool, "Address": "", "Options": {}})
    out.append(ms)
    out.append(call("/IpamDriver.ReleaseAddress", {"PoolID": pool, "Address": r["Address"].split("/")[0]})[1])
    i += 1
call("/IpamDriver.ReleasePool", {"PoolID": pool})
print("\n".join(f"{x:.3f}" for x in out))
PY
summary() {	# summary NAME FILE
	sort -n "$2" | awk -v name="$1" '{ v[NR] = $1 } END {
	    p50 = v[int(NR * 0.5) + 1]; p99 = v[int(NR * 0.99) + 1];
	    printf "%s: %d calls, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", name, NR, p50, p99, v[NR] }'
}
p99() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int(NR * 0.99) + 1] }'; }

python3 "$T/probe.py" "$T/run/plugin.sock" "$PROBES" - > "$T/idle.ms"
summary idle "$T/idle.ms"

# The abusers: held connections, slowloris, WebDAV fetchers, a UDP flood
# when dnsperf is missing.  They create $T/loaded once the connections are
# held and remove it when their time is up.
python3 - "$T/run/plugin.sock" "$DAVP" "$DNSP" "$CONNS" "$SLOW" \
    "$SECONDS_LOAD" "$T" <<'PY' &
import asyncio, os, struct, sys, time
sock, davp, dnsp, conns, slow, secs, tmp = sys.argv[1:]
davp, dnsp, conns, slow, secs = map(int, (davp, dnsp, conns, slow, secs))

async def read_response(r):
    head = await r.readuntil(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    await r.readexactly(n)

async def idle_conn(opener, held):
    try:
        r, w = await opener()
        held.append(w)
    except OSError:
        pass

async def slowloris(opener, stop, counts):
    """A request header one byte at a time, a byte a second; how long the
    server lets it live (its http.header_timeout_ms) goes in counts."""
    try:
        r, w = await opener()
    except OSError:
        counts["refused"] += 1
        return
    t0 = time.perf_counter()
    gone = asyncio.create_task(r.read())    # the 408 and EOF, or a reset
    data = b"GET /load/4k HTTP/1.1\r\nHost: x\r\n" + b"X-a: b\r\n" * 100
    for c in data:
        if stop.is_set() or gone.done():
            break
        try:
            w.write(bytes([c]))
            await w.drain()
        except (ConnectionError, OSError):
            break
        await asyncio.sleep(1)
    if gone.done() or not stop.is_set():
        counts["dropped"] += 1
        counts["survived"].append(time.perf_counter() - t0)
    else:
        gone.cancel()
    w.close()

async def fetcher(stop, counts):
    r, w = await asyncio.open_connection("127.0.0.1", davp)
    while not stop.is_set():
        w.write(b"GET /load/4k HTTP/1.1\r\nHost: x\r\n\r\n")
        await read_response(r)
        counts["get"] += 1
    w.close()

async def udp_flood(stop, counts):
    # Fire and forget, beside dnsperf (which waits for the answers rate
    # limiting drops, so it alone is no flood).
    loop = asyncio.get_running_loop()
    tr, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
        remote_addr=("127.0.0.1", dnsp))
    q = struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 0) + \
        b"\x01x\x08netcrave\x08internal\x00\x00\x01\x00\x01"
    while not stop.is_set():
        for _ in range(50):
            tr.sendto(q)
            counts["dns"] += 1
        await asyncio.sleep(0.005)
    tr.close()

async def main():
    held, counts = [], {"get": 0, "dns": 0, "refused": 0, "dropped": 0,
                        "survived": []}
    stop = asyncio.Event()
    plug = lambda: asyncio.open_unix_connection(sock)
    dav = lambda: asyncio.open_connection("127.0.0.1", davp)
    await asyncio.gather(*[idle_conn(plug, held) for _ in range(conns)],
                         *[idle_conn(dav, held) for _ in range(conns)])
    print(f"held open: {len(held)} connections")
    tasks = [asyncio.create_task(slowloris(plug, stop, counts)) for _ in range(slow // 2)]
    tasks += [asyncio.create_task(slowloris(dav, stop, counts)) for _ in range(slow // 2)]
    tasks += [asyncio.create_task(fetcher(stop, counts)) for _ in range(8)]
    tasks.append(asyncio.create_task(udp_flood(stop, counts)))
    loaded = os.path.join(tmp, "loaded")
    open(loaded, "w").close()
    t0 = time.perf_counter()
    await asyncio.sleep(secs)
    os.unlink(loaded)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    el = time.perf_counter() - t0
    print(f"abusers: {counts['get']} WebDAV GETs ({counts['get'] / el:.0f}/s), "
          f"{counts['dns']} python DNS queries, {counts['refused']} slowloris refused, "
          f"{counts['dropped']} slowloris dropped by the server")
    lived = sorted(counts["survived"])
    if lived:
        print(f"slowloris survived: min {lived[0]:.1f} s, median "
              f"{lived[len(lived) // 2]:.1f} s, max {lived[-1]:.1f} s "
              f"(http.header_timeout_ms); {slow - len(lived)} still alive at the end")
    else:
        print(f"slowloris survived: none dropped, {slow} alive at the end")
    for w in held:
        w.close()

asyncio.run(main())
PY
abusers=$!
i=0
while [ ! -e "$T/loaded" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
flood
python3 "$T/probe.py" "$T/run/plugin.sock" 0 "$T/loaded" > "$T/loaded.ms"
wait $abusers
summary "under load" "$T/loaded.ms"
[ -n "$flood_pid" ] && wait "$flood_pid" && grep -E 'Queries (sent|completed)|Queries per second' "$T/dnsperf.out"
awk -v a="$(p99 "$T/idle.ms")" -v b="$(p99 "$T/loaded.ms")" 'BEGIN {
    printf "p99 loaded/idle: %.1f; target p99 under load < 10 ms: %s\n", b / a, b < 10 ? "met" : "MISSED" }'
kill -0 "$NC_PID" || { echo "netcraved died"; tail -20 "$T/nc.log"; exit 1; }
echo "netcraved alive; RSS $(awk '/VmRSS/ { print $2, $3 }' /proc/$NC_PID/status)"
