#!/bin/sh
# slowloris.sh: slow clients are cut at fixed deadlines however steadily they
# dribble (issue 12): a request head a byte a second gets 408 at
# http.header_timeout_ms on the plugin socket and on WebDAV, a buffered body
# a byte a second 408 at body_timeout_ms, a streamed WebDAV upload under
# body_min_rate is cut after a rate window, an ICAP head a byte a second gets
# ICAP 408; the same over HTTP/2 (GOAWAY for a header block never finished,
# 408 on the stream for a slow body), and a DNS message over TCP a byte a
# second is closed 10 s after its first byte; meanwhile a normal client on the same
# daemon is served at once.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "ok - skipped: python3 is needed for the raw clients"; exit 0; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ICAP_PORT=$(free_port)
DNS_PORT=$(free_port)
# The idle timeout is long, so only the new deadlines can cut these clients.
nc_write_conf "\"http\": { \"idle_timeout_ms\": 30000, \"header_timeout_ms\": 2000,
	\"body_timeout_ms\": 2000, \"body_min_rate\": 1024 },
	\"dav\": { \"plain_listen\": \"127.0.0.1:0\" },
	\"waf\": { \"icap_listen\": \"127.0.0.1:$ICAP_PORT\" },
	\"dns\": { \"listen\": [\"127.0.0.1:$DNS_PORT\"] }"
nc_start || finish
DAV_PORT=$(sed -n 's/.*dav: plaintext HTTP on .*, port \([0-9]*\).*/\1/p' "$LOG" | tail -1)
check "WebDAV plaintext listener" [ -n "$DAV_PORT" ]
code=$(curl -s -o /dev/null -w '%{http_code}' -X MKCOL "http://127.0.0.1:$DAV_PORT/v1/")
check "a WebDAV volume for the upload" [ "$code" = 201 ]

python3 - "$PLUGIN_SOCK" "$DAV_PORT" "$ICAP_PORT" "$DNS_PORT" > "$T/py.out" 2>&1 <<'PY'
import socket, struct, sys, threading, time
sock, davp, icapp, dnsp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

out_lock = threading.Lock()
def say(line):
    with out_lock:
        sys.stdout.write(line + "\n"); sys.stdout.flush()

def unix():
    s = socket.socket(socket.AF_UNIX); s.connect(sock); return s

def tcp(port):
    return socket.create_connection(("127.0.0.1", port))

def drain(s):
    """What is left to read on a socket the server has closed."""
    got = b""
    s.settimeout(1.0)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (OSError, socket.timeout):
        pass
    return got

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
            # The server answered and closed between our read and this
            # write (its deadline and our dribble tick fall together):
            # its answer is still there to read.
            got += drain(s)
            break
    dt = time.monotonic() - t0
    line = got.split(b"\r\n", 1)[0].decode(errors="replace")
    say("%s %.1f %s" % (name, dt, line))

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
    # A 100-byte DNS message over TCP, a byte a second: closed at 10 s.
    ("dns-tcp", tcp(dnsp), b"\x00\x64\x12\x34", b"\x00", 1.0),
]
# HTTP/2 with prior knowledge (unix and plaintext loopback sockets): a
# header block never finished, a buffered body and a streamed upload
# dribbled.  HPACK by hand: literal fields without Huffman coding.
def frame(typ, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([typ, flags]) + struct.pack(">I", stream) + payload

def lit(idx, value):
    return bytes([0x40 | idx, len(value)]) + value

def h2_head(method, path, endh=True):
    block = lit(2, method) + b"\x86" + lit(4, path) + lit(1, b"x")
    return (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") +
        frame(1, 4 if endh else 0, 1, block))

def h2_dribble(name, s, first, every, datalen):
    """Send first, then a byte of DATA (or of a CONTINUATION frame) per
    `every` seconds; report a GOAWAY's error code or the answer's text."""
    s.sendall(first)
    if datalen:
        s.sendall(struct.pack(">I", datalen)[1:] + bytes([0, 0]) + struct.pack(">I", 1))
    else:
        s.sendall(struct.pack(">I", 200)[1:] + bytes([9, 0]) + struct.pack(">I", 1))
    t0 = time.monotonic()
    got = b""
    s.settimeout(every)
    what = "nothing"
    while time.monotonic() - t0 < 30:
        try:
            d = s.recv(65536)
            if not d:
                break
            got += d
        except (socket.timeout, TimeoutError):
            try:
                s.sendall(b"z" if datalen else b"\x00")
            except (BrokenPipeError, ConnectionResetError):
                got += drain(s)
        except ConnectionResetError:
            break
        # Walk the frames: a GOAWAY, or DATA on stream 1 with an answer.
        i, found = 0, False
        while i + 9 <= len(got):
            n = int.from_bytes(got[i:i + 3], "big")
            typ, sid = got[i + 3], int.from_bytes(got[i + 5:i + 9], "big") & 0x7fffffff
            if i + 9 + n > len(got):
                break
            pl = got[i + 9:i + 9 + n]
            if typ == 7:
                what, found = "GOAWAY-%d" % int.from_bytes(pl[4:8], "big"), True
            elif typ == 0 and sid == 1 and pl:
                what, found = pl.split(b"\n")[0].decode(errors="replace"), True
            i += 9 + n
        if found:
            break
    say("%s %.1f %s" % (name, time.monotonic() - t0, what))

h2cases = [
    ("h2-plugin-head", unix(), h2_head(b"POST", b"/Plugin.Activate", endh=False), 1.0, 0),
    ("h2-plugin-body", unix(), h2_head(b"POST", b"/Plugin.Activate"), 1.0, 100),
    ("h2-dav-body", tcp(davp), h2_head(b"PUT", b"/v1/slow2"), 0.2, 16000),
]
threads = [threading.Thread(target=dribble, args=c) for c in cases]
threads += [threading.Thread(target=h2_dribble, args=c) for c in h2cases]
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
        say("normal-failed %r" % d[:80]); break
    time.sleep(0.2)
say("normal-worst %.3f" % worst)
for t in threads: t.join()
PY
cat "$T/py.out"
# within LO..HI seconds, with the answer
cut() { awk -v n="$1" -v lo="$2" -v hi="$3" -v st="$4" '$1 == n && $2 >= lo && $2 <= hi && index($0, st) { f = 1 } END { exit !f }' "$T/py.out"; }
check "plugin: a head a byte a second gets 408 at 2 s" cut plugin-head 1.5 4 " 408 "
check "WebDAV: a head a byte a second gets 408 at 2 s" cut dav-head 1.5 4 " 408 "
check "plugin: a body a byte a second gets 408 at 2 s" cut plugin-body 1.5 6 " 408 "
check "WebDAV: an upload at 5 bytes/s is cut after a 5 s rate window" cut dav-body 4.5 8 " 408 "
check "ICAP: a head a byte a second gets ICAP 408 at 2 s" cut icap-head 1.5 4 "ICAP/1.0 408"
check "HTTP/2: a header block never finished: GOAWAY at 2-3 s" cut h2-plugin-head 1.5 4.5 "GOAWAY-1"
check "HTTP/2: a body a byte a second gets 408 on its stream at 4 s" cut h2-plugin-body 3.5 7 "request body not received in time"
check "HTTP/2: an upload at 5 bytes/s gets 408 after a rate window" cut h2-dav-body 4.5 8 "408 Request Timeout"
check "DNS over TCP: a message a byte a second is closed at 10 s" cut dns-tcp 9.5 12 "dns-tcp"
check "a normal client was served meanwhile, each within 1 s" \
    awk '$1 == "normal-worst" && $2 < 1 { f = 1 } END { exit !f }' "$T/py.out"
check "no partial file left by the cut uploads" not curl -sf -o /dev/null "http://127.0.0.1:$DAV_PORT/v1/slow"
check "no partial file left by the cut HTTP/2 upload" not curl -sf -o /dev/null "http://127.0.0.1:$DAV_PORT/v1/slow2"
r=$(plugin_call /Plugin.Activate)
check "the daemon still answers" contains "$r" '200 {"Implements"'
nc_stop
check "netcraved exited cleanly" [ $? -eq 0 ]
finish
