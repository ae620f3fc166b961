#!/bin/bash
# t_volume: `docker volume create -d $PLUGIN` makes an encrypted volume that
# containers share through netcraved's FUSE mount: bytes written in one
# container are read in another (also as another user), 100 MiB survive dd and
# sha256sum, rename/mkdir/rm work inside a container, the files on disk are
# ciphertext, docker volume ls/inspect/rm are right, and volumes and data stay
# across restarts of netcraved and of dockerd.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
[ -c /dev/fuse ] || e2e_skip "no /dev/fuse"
e2e_start_dockerd
e2e_import_busybox
e2e_start_netcraved

run() { timeout 120 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" run --rm "$@"; }

out=$(dk volume create -d "$PLUGIN" v1 2>&1) || e2e_fail "volume create: $out"
out=$(dk volume ls --format '{{.Driver}} {{.Name}}')
e2e_expect_contains "$out" "$PLUGIN v1" "volume ls"

marker="netcrave-e2e-$E2E_INSTANCE"
run -v v1:/data local/busybox sh -c "echo $marker > /data/hello && mkdir /data/d" ||
    e2e_fail "writing container failed"
out=$(run -v v1:/data local/busybox cat /data/hello)
e2e_expect_contains "$out" "$marker" "read in a second container"
out=$(run --user 1000:1000 -v v1:/data local/busybox sh -c \
    'echo by-1000 > /data/d/u && cat /data/d/u' 2>&1)
e2e_expect_contains "$out" "by-1000" "another user writes and reads"

# 100 MiB written with dd in one container, checked in another.
run -v v1:/data local/busybox sh -c 'busybox dd if=/dev/urandom of=/data/big bs=1048576 count=100 2>/dev/null &&
    sha256sum /data/big > /data/big.sum' || e2e_fail "dd of 100 MiB failed"
out=$(run -v v1:/data local/busybox sh -c 'stat -c %s /data/big && sha256sum -c /data/big.sum' 2>&1)
e2e_expect_contains "$out" "104857600" "size of the 100 MiB file"
e2e_expect_contains "$out" "/data/big: OK" "sha256 of the 100 MiB file in another container"

# rename, mkdir, rm inside a container.
out=$(run -v v1:/data local/busybox sh -c 'busybox mv /data/hello /data/d/moved &&
    mkdir /data/d/e && rm /data/d/u && busybox rmdir /data/d/e && ls /data /data/d &&
    cat /data/d/moved' 2>&1)
e2e_expect_contains "$out" "$marker" "renamed file reads"
e2e_expect_not_contains "$out" "hello" "old name gone"
e2e_expect_not_contains "$out" " u" "removed file gone"

# Ciphertext on disk: the marker appears nowhere under the state dir.
if grep -rqa "$marker" "$E2E_D/state"; then
	e2e_fail "plaintext of a volume file found under $E2E_D/state"
fi

out=$(dk volume inspect v1)
e2e_expect_contains "$out" "\"Driver\": \"$PLUGIN\"" "inspect: driver"
e2e_expect_contains "$out" '"encryption": "AES-256-GCM' "inspect: status"
e2e_expect_contains "$out" '"CreatedAt": "20' "inspect: CreatedAt"

# Restart netcraved, then dockerd: the volume and its data stay.
e2e_stop_netcraved
e2e_start_netcraved
out=$(run -v v1:/data local/busybox sh -c 'sha256sum -c /data/big.sum' 2>&1)
e2e_expect_contains "$out" "/data/big: OK" "data after a netcraved restart"
e2e_stop_pid "$E2E_DOCKERD_PID" dockerd 15
e2e_start_dockerd
out=$(dk volume ls --format '{{.Driver}} {{.Name}}')
e2e_expect_contains "$out" "$PLUGIN v1" "volume ls after a dockerd restart"
out=$(run -v v1:/data local/busybox cat /data/d/moved 2>&1)
e2e_expect_contains "$out" "$marker" "data after a dockerd restart"

# A certificate volume: issued by the internal CA, read-only in the container
# (issuer=acme needs an acme section, which this daemon has not).
if out=$(dk volume create -d "$PLUGIN" -o type=certs -o names=web.netcrave.internal -o issuer=acme ca1 2>&1); then
	e2e_fail "issuer=acme accepted: $out"
fi
e2e_expect_contains "$out" "issuer=acme needs the acme section" "issuer=acme refused without an acme section"
out=$(dk volume create -d "$PLUGIN" -o type=certs \
    -o names=web.netcrave.internal,web.example.test certs-web 2>&1) ||
    e2e_fail "certs volume create: $out"
run -v certs-web:/certs local/busybox cat /certs/tls.crt > "$E2E_D/tls.crt" ||
    e2e_fail "reading tls.crt in a container"
run -v certs-web:/certs local/busybox cat /certs/ca.crt > "$E2E_D/ca.crt"
out=$(openssl verify -CAfile "$E2E_D/ca.crt" "$E2E_D/tls.crt" 2>&1)
e2e_expect_contains "$out" "tls.crt: OK" "openssl verify of tls.crt"
out=$(openssl x509 -in "$E2E_D/tls.crt" -noout -ext subjectAltName 2>&1)
e2e_expect_contains "$out" "DNS:web.netcrave.internal, DNS:web.example.test" "SANs"
out=$(run -v certs-web:/certs local/busybox sh -c 'echo x > /certs/tls.key' 2>&1) &&
    e2e_fail "a container wrote into a certs volume"
e2e_expect_contains "$out" "Read-only" "certs volume is read-only"
out=$(run -v certs-web:/certs local/busybox head -n1 /certs/tls.key 2>&1)
e2e_expect_contains "$out" "BEGIN PRIVATE KEY" "tls.key readable"
dk volume rm certs-web >/dev/null || e2e_fail "certs volume rm"

# Remove is refused while a container holds the volume, then works.
dk run -d --name holder -v v1:/data local/busybox sleep 300 >/dev/null ||
    e2e_fail "holder container did not start"
if out=$(dk volume rm v1 2>&1); then
	e2e_fail "volume rm succeeded while in use: $out"
fi
dk rm -f holder >/dev/null
out=$(dk volume rm v1 2>&1) || e2e_fail "volume rm: $out"
out=$(dk volume ls --format '{{.Name}}' --filter driver="$PLUGIN")
e2e_expect_not_contains "$out" "v1" "volume ls after rm"
if grep -q " $E2E_D/run/volumes/v1 fuse" /proc/mounts; then
	e2e_fail "the FUSE mount stayed after the last container"
fi
exit 0
