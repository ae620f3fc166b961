#!/bin/sh
# install.sh: netcrave-install lays out runtimes only from verified sources:
# a directory or tarball against SHA256SUMS, .debs against a package index
# (apt's, or a Packages file); anything that does not match is refused before a
# single file is replaced.  Never downloads: the apt case uses apt's cache only.
. "$(dirname "$0")/lib.sh"

: "${NC_INSTALL:?NC_INSTALL must name the built netcrave-install}"
inst() { "$NC_INSTALL" "$@" >>"$T/install.out" 2>&1; }
last() { tail -n 1 "$T/install.out"; }

# A source directory of stand-in runtime binaries (scripts that name themselves).
mkdir -p "$T/src/bin"
for b in dockerd containerd containerd-shim-runc-v2 runc docker; do
	printf '#!/bin/sh\necho %s-%s\n' "$b" "$INSTANCE" >"$T/src/bin/$b"
done
(cd "$T/src" && sha256sum bin/*) >"$T/SHA256SUMS"

check "dir: installs what SHA256SUMS vouches for" inst -d "$T/opt/bin" -s "$T/SHA256SUMS" dir "$T/src"
check "dir: dockerd installed, executable, the same bytes" \
    [ "$("$T/opt/bin/dockerd")" = "dockerd-$INSTANCE" ]
check "dir: the destination records what it holds" \
    sh -c "cd '$T/opt/bin' && sha256sum -c --quiet SHA256SUMS"
check "dir: no temporary files left" [ -z "$(ls -A "$T/opt/bin" | grep '^\.')" ]

# Tampering: one changed byte is refused by name, and nothing is replaced.
before=$(cat "$T/opt/bin/SHA256SUMS")
echo '# tampered' >>"$T/src/bin/runc"
check "dir: a tampered file is refused" not inst -d "$T/opt/bin" -s "$T/SHA256SUMS" dir "$T/src"
check "dir: the refusal names the file and the mismatch" contains "$(last)" "bin/runc: SHA-256"
check "dir: nothing replaced after a refusal" [ "$(cat "$T/opt/bin/SHA256SUMS")" = "$before" ]
check "dir: runc still the old one" [ "$("$T/opt/bin/runc")" = "runc-$INSTANCE" ]
sed -i '$d' "$T/src/bin/runc"

# A binary SHA256SUMS does not list is refused, as is a source lacking one.
grep -v containerd-shim "$T/SHA256SUMS" >"$T/SUMS.partial"
check "dir: a file missing from SHA256SUMS is refused" not inst -d "$T/opt2" -s "$T/SUMS.partial" dir "$T/src"
contains "$(last)" "containerd-shim-runc-v2: not listed" >/dev/null && ok "dir: says which file is unlisted" || fail "dir: says which file is unlisted"
mkdir -p "$T/short"; cp "$T/src/bin/dockerd" "$T/short/"
(cd "$T/short" && sha256sum dockerd) >"$T/SUMS.short"
check "dir: a source without runc is refused" not inst -d "$T/opt2" -s "$T/SUMS.short" dir "$T/short"
check "dir: refusals created no destination" [ ! -e "$T/opt2" ]
check "dir: -s is required" not inst -d "$T/opt2" dir "$T/src"

# Tarball (binaries under a top directory, as release tarballs have them).
mkdir -p "$T/tarsrc/runtimes"; cp "$T/src/bin/"* "$T/tarsrc/runtimes/"
tar -C "$T/tarsrc" -czf "$T/rt.tar.gz" runtimes
(cd "$T/tarsrc" && sha256sum runtimes/*) >"$T/SUMS.tar"
check "tar: installs from a verified tarball" inst -d "$T/opt3" -s "$T/SUMS.tar" tar "$T/rt.tar.gz"
check "tar: containerd installed" [ "$("$T/opt3/containerd")" = "containerd-$INSTANCE" ]
check "-n verifies without installing" inst -n -d "$T/opt4" -s "$T/SUMS.tar" tar "$T/rt.tar.gz"
check "-n left no destination" [ ! -e "$T/opt4" ]

# .debs checked against a Packages index (the format of apt's lists).
if command -v dpkg-deb >/dev/null 2>&1; then
	mkdir -p "$T/debs"
	: >"$T/Packages"
	mkdeb() {	# mkdeb PACKAGE DIR BINARY...
		p=$1 d=$2; shift 2
		mkdir -p "$T/pkg-$p/DEBIAN" "$T/pkg-$p/$d"
		printf 'Package: %s\nVersion: 1.0-%s\nArchitecture: all\nMaintainer: test <t@t>\nDescription: stand-in\n' \
		    "$p" "$INSTANCE" >"$T/pkg-$p/DEBIAN/control"
		for b; do cp "$T/src/bin/$b" "$T/pkg-$p/$d/$b"; done
		dpkg-deb -b --root-owner-group "$T/pkg-$p" "$T/debs/${p}_1.0-${INSTANCE}_all.deb" >/dev/null
		printf 'Package: %s\nVersion: 1.0-%s\nFilename: pool/x/%s_1.0-%s_all.deb\nSHA256: %s\n\n' \
		    "$p" "$INSTANCE" "$p" "$INSTANCE" \
		    "$(sha256sum "$T/debs/${p}_1.0-${INSTANCE}_all.deb" | cut -d' ' -f1)" >>"$T/Packages"
	}
	mkdeb docker.io usr/sbin dockerd docker
	mkdeb containerd usr/bin containerd containerd-shim-runc-v2
	mkdeb runc usr/sbin runc
	check "debs: installs packages matching the index" inst -d "$T/opt5" -p "$T/Packages" debs "$T/debs"
	check "debs: dockerd came out of its package" [ "$("$T/opt5/dockerd")" = "dockerd-$INSTANCE" ]
	# A package whose bytes differ from the index is refused.
	sed -i "/^Package: runc/,/^\$/s/^SHA256: .*/SHA256: $(printf '0%.0s' $(seq 64))/" "$T/Packages"
	check "debs: a package not matching the index is refused" not inst -d "$T/opt6" -p "$T/Packages" debs "$T/debs"
	contains "$(last)" "does not match the package index" >/dev/null && ok "debs: says so" || fail "debs: says so"
	check "debs: nothing installed" [ ! -e "$T/opt6" ]
else
	echo "skip - dpkg-deb not available: .deb cases not run"
fi

# apt's own index and cache, when the real packages sit in the cache; never a download.
if command -v apt-cache >/dev/null 2>&1 &&
    [ -n "$(apt-cache show --no-all-versions docker.io 2>/dev/null)" ] &&
    ls /var/cache/apt/archives/docker.io_*.deb /var/cache/apt/archives/containerd_*.deb \
    /var/cache/apt/archives/runc_*.deb >/dev/null 2>&1; then
	if inst -n --no-download apt; then
		ok "apt: the cached docker.io, containerd and runc match apt's index"
	elif grep -q "no .deb of version" "$T/install.out"; then
		echo "skip - apt: the cache holds another version than the index"
	else
		fail "apt: verification of the cached packages"; cat "$T/install.out"
	fi
else
	echo "skip - apt: docker.io, containerd or runc not in apt's cache (no download in tests)"
fi
finish
