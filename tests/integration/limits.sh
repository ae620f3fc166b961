#!/bin/sh
# limits.sh: the HTTP layer's limits hold on the plugin socket: 413 over the body
# cap, 431 over the header cap, silent and slow clients dropped at the idle
# timeout (HTTP/2 with PINGs and no stream too), and 1000 idle connections do
# not keep a fresh request from an answer.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is needed for raw socket clients"; exit 77; }

nc_write_conf '"http": { "max_body_bytes": 4096, "max_header_bytes": 8192, "idle_timeout_ms": 700, "header_timeout_ms": 700 }'
nc_start || finish

head -c 5000 /dev/zero | tr '\0' 'a' > "$T/big"
r=$(plugin_call /NetworkDriver.CreateNetwork "$(cat "$T/big")")
check "body over the cap: 413" contains "$r" '413 {"Err":"netcrave:'
code=$(curl -s --unix-socket "$PLUGIN_SOCK" -o "$T/resp" -w '%{http_code}' -X POST \
    -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" http://localhost/NetworkDriver.CreateNetwork)
check "chunked body over the cap: 413" [ "$code" = 413 ]
big=$(head -c 9000 /dev/zero | tr '\0' 'b')
code=$(curl -s --unix-socket "$PLUGIN_SOCK" -o /dev/null -w '%{http_code}' -X POST \
    -H "X-Big: $big" http://localhost/Plugin.Activate)
check "headers over the cap: 431" [ "$code" = 431 ]

python3 - "$PLUGIN_SOCK" > "$T/py.out" 2>&1 <<'PY'
import socket, sys, time
path = sys.argv[1]

def closed_within(sock, seconds):
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True

# A silent client is dropped at the idle timeout (0.7 s).
s = socket.socket(socket.AF_UNIX); s.connect(path)
t = time.monotonic()
print("silent-dropped", closed_within(s, 5) and time.monotonic() - t < 4)

# A slowloris trickling one header byte every 100 ms never completes a request:
# it must be dropped too, although bytes keep arriving.
s = socket.socket(socket.AF_UNIX); s.connect(path)
s.sendall(b"POST /Plugin.Activate HTTP/1.1\r\nHost: x\r\n")
dropped = False
t = time.monotonic()
while time.monotonic() - t < 6 and not dropped:
    try:
        s.sendall(b"X")
    except (BrokenPipeError, ConnectionResetError):
        dropped = True
        break
    s.settimeout(0.1)
    try:
        data = s.recv(4096)
        # The server may answer 408 before it closes: that is the drop too.
        if data == b"" or b" 408 " in data:
            dropped = True
    except (socket.timeout, TimeoutError):
        pass
    except ConnectionResetError:
        dropped = True
print("slowloris-dropped", dropped and time.monotonic() - t < 5)

# HTTP/2 (prior knowledge on a unix socket) with no stream, a PING every
# 100 ms: bytes are not activity, so it is dropped at the idle timeout too.
s = socket.socket(socket.AF_UNIX); s.connect(path)
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
ping = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"12345678"
dropped = False
t = time.monotonic()
while time.monotonic() - t < 6 and not dropped:
    try:
        s.sendall(ping)
    except (BrokenPipeError, ConnectionResetError):
        dropped = True
        break
    s.settimeout(0.1)
    try:
        while True:
            data = s.recv(4096)
            if data == b"":
                dropped = True
                break
    except (socket.timeout, TimeoutError):
        pass
    except ConnectionResetError:
        dropped = True
print("h2-pinger-dropped", dropped and time.monotonic() - t < 4)
PY
check "silent client dropped at the idle timeout" grep -q "silent-dropped True" "$T/py.out"
check "slowloris dropped" grep -q "slowloris-dropped True" "$T/py.out"
check "HTTP/2 with PINGs and no stream dropped at the idle timeout" grep -q "h2-pinger-dropped True" "$T/py.out"
r=$(plugin_call /Plugin.Activate)
check "daemon unaffected" contains "$r" '200 {"Implements"'
nc_stop

# 1000 idle connections, then a fresh request is answered.
nc_write_conf '"http": { "idle_timeout_ms": 60000, "max_connections": 1100 }'
nc_start || finish
python3 - "$PLUGIN_SOCK" > "$T/py.out" 2>&1 <<'PY'
import resource, socket, subprocess, sys, time
path = sys.argv[1]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
conns = []
for i in range(1000):
    s = socket.socket(socket.AF_UNIX); s.connect(path); conns.append(s)
time.sleep(0.5)
t = time.monotonic()
r = subprocess.run(["curl", "-s", "--max-time", "10", "--unix-socket", path,
                    "-X", "POST", "http://localhost/Plugin.Activate"],
                   capture_output=True, text=True)
elapsed = time.monotonic() - t
print("fresh-answered", "Implements" in r.stdout)
print("elapsed %.3f" % elapsed)
for s in conns:
    s.close()
PY
check "1000 idle connections: a fresh request is answered" grep -q "fresh-answered True" "$T/py.out"
echo "# $(grep elapsed "$T/py.out") s for the fresh request beside 1000 idle connections"
nc_stop
finish
