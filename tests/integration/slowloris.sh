#!/bin/sh
# slowloris.sh: slow clients are cut at fixed deadlines however steadily they
# dribble (issue 12): a request head a byte a second gets 408 at
# http.header_timeout_ms on the plugin socket and on WebDAV, a buffered body
# a byte a second 408 at body_timeout_ms, a streamed WebDAV upload under
# body_min_rate is cut after a rate window, an ICAP head a byte a second gets
# ICAP 408; meanwhile a normal client on the same daemon is served at once.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "ok - skipped: python3 is needed for the raw clients"; exit 0; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ICAP_PORT=$(free_port)
# The idle timeout is long, so only the new deadlines can cut these clients.
nc_write_conf "\"http\": { \"idle_timeout_ms\": 30000, \"header_timeout_ms\": 2000,
	\"body_timeout_ms\": 2000, \"body_min_rate\": 1024 },
	\"dav\": { \"plain_listen\": \"127.0.0.1:0\" },
	\"waf\": { \"icap_listen\": \"127.0.0.1:$ICAP_PORT\" }"
nc_start || finish
DAV_PORT=$(sed -n 's/.*dav: plaintext HTTP on .*, port \([0-9]*\).*/\1/p' "$LOG" | tail -1)
check "WebDAV plaintext listener" [ -n "$DAV_PORT" ]
code=$(curl -s -o /dev/null -w '%{http_code}' -X MKCOL "http://127.0.0.1:$DAV_PORT/v1/")
check "a WebDAV volume for the upload" [ "$code" = 201 ]

python3 - "$PLUGIN_SOCK" "$DAV_PORT" "$ICAP_PORT" > "$T/py.out" 2>&1 <<'PY'
import socket, sys, threading, time
sock, davp, icapp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def unix():
    s = socket.socket(socket.AF_UNIX); s.connect(sock); return s

def tcp(port):
    return socket.create_connection(("127.0.0.1", port))

def dribble(name, s, first, rest, every):
    """Send first at once, then rest a byte per `every` seconds; report when
    the server answered or closed, and what it said."""
    s.sendall(first)
    t0 = time.monotonic()
    got = b""
    s.settimeout(every)
    i = 0
    while time.monotonic() - t0 < 30:
        try:
            d = s.recv(4096)
            if not d:
                break
            got += d
            continue
        except (socket.timeout, TimeoutError):
            pass
        except ConnectionResetError:
            break
        try:
            s.sendall(rest[i % len(rest):i % len(rest) + 1]); i += 1
        except (BrokenPipeError, ConnectionResetError):
            break
    dt = time.monotonic() - t0
    line = got.split(b"\r\n", 1)[0].decode(errors="replace")
    print("%s %.1f %s" % (name, dt, line), flush=True)

cases = [
    ("plugin-head", unix(), b"POST /Plugin.Activate HTTP/1.1\r\nHost: x\r\n",
     b"X-Slow: abcdefgh\r\n", 1.0),
    ("dav-head", tcp(davp), b"GET /v1/ HTTP/1.1\r\nHost: x\r\n",
     b"X-Slow: abcdefgh\r\n", 1.0),
    ("plugin-body", unix(), b"POST /Plugin.Activate HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 100\r\n\r\n", b"{", 1.0),
    # 5 bytes a second, far under 1024: cut after one rate window (5 s).
    ("dav-body", tcp(davp), b"PUT /v1/slow HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 1000000\r\n\r\n", b"z", 0.2),
    ("icap-head", tcp(icapp), b"OPTIONS icap://127.0.0.1/waf ICAP/1.0\r\n",
     b"Host: x\r\n", 1.0),
]
threads = [threading.Thread(target=dribble, args=c) for c in cases]
for t in threads: t.start()
# Meanwhile a normal client is served, again and again, at once.
worst = 0.0
t0 = time.monotonic()
while time.monotonic() - t0 < 4:
    t = time.monotonic()
    s = unix()
    s.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    d = b""
    while True:
        x = s.recv(4096)
        if not x: break
        d += x
    s.close()
    worst = max(worst, time.monotonic() - t)
    ok = d.startswith(b"HTTP/1.1 200") and b"Implements" in d
    if not ok:
        print("normal-failed", d[:80]); break
    time.sleep(0.2)
print("normal-worst %.3f" % worst, flush=True)
for t in threads: t.join()
PY
cat "$T/py.out"
# within LO..HI seconds, with the answer
cut() { awk -v n="$1" -v lo="$2" -v hi="$3" -v st="$4" '$1 == n && $2 >= lo && $2 <= hi && index($0, st) { f = 1 } END { exit !f }' "$T/py.out"; }
check "plugin: a head a byte a second gets 408 at 2 s" cut plugin-head 1.5 4 " 408 "
check "WebDAV: a head a byte a second gets 408 at 2 s" cut dav-head 1.5 4 " 408 "
check "plugin: a body a byte a second gets 408 at 2 s" cut plugin-body 1.5 4 " 408 "
check "WebDAV: an upload at 5 bytes/s is cut after a 5 s rate window" cut dav-body 4.5 8 " 408 "
check "ICAP: a head a byte a second gets ICAP 408 at 2 s" cut icap-head 1.5 4 "ICAP/1.0 408"
check "a normal client was served meanwhile, each within 1 s" \
    awk '$1 == "normal-worst" && $2 < 1 { f = 1 } END { exit !f }' "$T/py.out"
check "no partial file left by the cut upload" not curl -sf -o /dev/null "http://127.0.0.1:$DAV_PORT/v1/slow"
r=$(plugin_call /Plugin.Activate)
check "the daemon still answers" contains "$r" '200 {"Implements"'
nc_stop
check "netcraved exited cleanly" [ $? -eq 0 ]
finish
