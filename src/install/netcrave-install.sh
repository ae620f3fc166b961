#!/bin/sh
# netcrave-install: lay out the container runtimes netcraved supervises (dockerd,
# containerd, runc and their helpers) in one directory, /opt/netcrave/bin by
# default, from verified sources only: Debian packages checked against apt's
# signed package index, or a directory or tarball checked against a SHA256SUMS
# file the user supplies.  Everything is verified before any file is replaced.
set -eu

PROG=netcrave-install
DEST=/opt/netcrave/bin
PACKAGES_FILE=
SUMS=
DOWNLOAD=1
DRY=0

# What netcraved runs (required) and what is installed when present.
REQUIRED="dockerd containerd containerd-shim-runc-v2 runc"
OPTIONAL="docker docker-proxy docker-init ctr"
# The Debian packages that carry them.
DEBS="docker.io containerd runc"

usage() {
	cat >&2 <<USAGE
usage: $PROG [-n] [-d dir] [-p Packages] [--no-download] apt
       $PROG [-n] [-d dir] [-p Packages] debs DIR
       $PROG [-n] [-d dir] -s SHA256SUMS dir DIR
       $PROG [-n] [-d dir] -s SHA256SUMS tar FILE
USAGE
	exit 2
}
die() { echo "$PROG: $*" >&2; exit 1; }
say() { echo "$PROG: $*"; }

while [ $# -gt 0 ]; do
	case "$1" in
	-d) [ $# -ge 2 ] || usage; DEST=$2; shift 2 ;;
	-p) [ $# -ge 2 ] || usage; PACKAGES_FILE=$2; shift 2 ;;
	-s) [ $# -ge 2 ] || usage; SUMS=$2; shift 2 ;;
	-n) DRY=1; shift ;;
	--no-download) DOWNLOAD=0; shift ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
MODE=$1; shift

WORK=$(mktemp -d "${TMPDIR:-/tmp}/netcrave-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
mkdir "$WORK/root"

# index_field PACKAGE FIELD: the field of the candidate version in apt's index
# (or of the stanza in the -p Packages file).
index_field() {
	if [ -n "$PACKAGES_FILE" ]; then
		awk -v p="$1" -v f="$2" '
			/^$/ { inpkg = 0 }
			$1 == "Package:" { inpkg = ($2 == p) }
			inpkg && $1 == f ":" { print $2; exit }' "$PACKAGES_FILE"
	else
		apt-cache show --no-all-versions "$1" 2>/dev/null |
		    awk -v f="$2" '$1 == f ":" { print $2; exit }'
	fi
}

# verify_deb PACKAGE FILE: FILE is the index's version of PACKAGE, byte for byte.
verify_deb() {
	want=$(index_field "$1" SHA256)
	[ -n "$want" ] || die "$1: not in the package index (apt-get update?)"
	got=$(sha256sum "$2" | cut -d' ' -f1)
	[ "$got" = "$want" ] ||
	    die "$2: SHA-256 $got does not match the package index ($want) for $1"
	say "verified $(basename "$2") (SHA-256 $want)"
	dpkg-deb -x "$2" "$WORK/root" || die "$2: dpkg-deb could not unpack it"
}

# find_deb PACKAGE DIR: the .deb of the index's version of PACKAGE in DIR.
find_deb() {
	file=$(index_field "$1" Filename)
	[ -n "$file" ] || die "$1: not in the package index (apt-get update?)"
	# apt stores an epoch's ':' as %3a in cached file names.
	base=$(basename "$file")
	for cand in "$2/$base" "$2/$(echo "$base" | sed 's/:/%3a/g')"; do
		[ -f "$cand" ] && { echo "$cand"; return 0; }
	done
	return 1
}

# pick NAME: the unpacked file for binary NAME, or nothing.
pick() {
	for d in usr/sbin usr/bin sbin bin usr/libexec/docker usr/lib/docker; do
		[ -f "$WORK/root/$d/$1" ] && { echo "$WORK/root/$d/$1"; return 0; }
	done
	return 1
}

case "$MODE" in
apt|debs)
	if [ "$MODE" = debs ]; then
		[ $# -eq 1 ] || usage
		SRC=$1
	else
		[ $# -eq 0 ] || usage
		SRC=/var/cache/apt/archives
	fi
	command -v dpkg-deb >/dev/null || die "dpkg-deb is needed"
	for pkg in $DEBS; do
		if deb=$(find_deb "$pkg" "$SRC"); then
			:
		elif [ "$MODE" = apt ] && [ "$DOWNLOAD" = 1 ]; then
			say "downloading $pkg with apt-get download"
			(cd "$WORK" && apt-get download "$pkg" >/dev/null) ||
			    die "$pkg: apt-get download failed"
			deb=$(find_deb "$pkg" "$WORK") || die "$pkg: download not found"
		else
			die "$pkg: no .deb of version $(index_field "$pkg" Version) in $SRC"
		fi
		verify_deb "$pkg" "$deb"
	done
	mkdir "$WORK/bin"
	for name in $REQUIRED $OPTIONAL; do
		if f=$(pick "$name"); then
			cp "$f" "$WORK/bin/$name"
		fi
	done
	;;
dir|tar)
	[ $# -eq 1 ] || usage
	[ -n "$SUMS" ] || die "$MODE needs -s SHA256SUMS"
	[ -r "$SUMS" ] || die "$SUMS: cannot read"
	if [ "$MODE" = tar ]; then
		tar -C "$WORK/root" -xf "$1" || die "$1: cannot unpack"
		SRC=$WORK/root
	else
		SRC=$1
	fi
	mkdir "$WORK/bin"
	for name in $REQUIRED $OPTIONAL; do
		# The file may sit at the top or in a bin/ inside the tarball.
		f=
		for cand in "$SRC/$name" "$SRC/bin/$name" "$SRC"/*/"$name" \
		    "$SRC"/*/bin/"$name"; do
			[ -f "$cand" ] && { f=$cand; break; }
		done
		[ -n "$f" ] || continue
		rel=${f#"$SRC"/}
		want=$(awk -v a="$rel" -v b="$name" '
			{ n = $2; sub(/^\*/, "", n); sub(/^\.\//, "", n) }
			n == a || n == b { print $1; exit }' "$SUMS")
		[ -n "$want" ] || die "$rel: not listed in $SUMS"
		got=$(sha256sum "$f" | cut -d' ' -f1)
		[ "$got" = "$want" ] ||
		    die "$rel: SHA-256 $got does not match $SUMS ($want)"
		cp "$f" "$WORK/bin/$name"
	done
	;;
*)
	usage
	;;
esac

for name in $REQUIRED; do
	[ -f "$WORK/bin/$name" ] || die "$name: not found in the source"
done

if [ "$DRY" = 1 ]; then
	say "verified, not installed (-n): $(ls "$WORK/bin" | tr '\n' ' ')"
	exit 0
fi

# Each file replaced by a rename, so a running dockerd never sees half a file.
mkdir -p "$DEST"
for f in "$WORK"/bin/*; do
	name=$(basename "$f")
	install -m 0755 "$f" "$DEST/.$name.new"
	mv -f "$DEST/.$name.new" "$DEST/$name"
done
(cd "$DEST" && sha256sum $(ls "$WORK/bin")) >"$DEST/.SHA256SUMS.new"
mv -f "$DEST/.SHA256SUMS.new" "$DEST/SHA256SUMS"
say "installed into $DEST: $(ls "$WORK/bin" | tr '\n' ' ')"
