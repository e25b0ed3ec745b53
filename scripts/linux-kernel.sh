#!/bin/sh
# Prints the path of a Debian x86-64 Linux kernel (vmlinuz of the current
# linux-image-cloud-amd64), fetching it with apt-get download into a cache
# the first time. Exit 1 (and a message on stderr) when it cannot be had.
#   scripts/linux-kernel.sh
# SOFTKVM_CACHE (default ~/.cache/softkvm) holds it; SOFTKVM_KERNEL, when
# set, is printed instead (any bzImage will do).
set -eu
if [ -n "${SOFTKVM_KERNEL:-}" ]; then
	echo "$SOFTKVM_KERNEL"
	exit 0
fi
cache=${SOFTKVM_CACHE:-${HOME:-/tmp}/.cache/softkvm}/linux
found=$(ls "$cache"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [ -n "$found" ]; then
	echo "$found"
	exit 0
fi
command -v apt-get >/dev/null || { echo "linux-kernel.sh: no apt-get" >&2; exit 1; }
latest() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(latest)
if [ -z "$pkg" ]; then   # no package lists yet (a fresh machine)
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(latest)
fi
[ -n "$pkg" ] || { echo "linux-kernel.sh: apt knows no linux-image-cloud-amd64" >&2; exit 1; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 777 "$tmp"   # apt's download user writes here
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
	{ echo "linux-kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" ./boot
mkdir -p "$cache/boot"
mv "$tmp"/boot/vmlinuz-* "$cache/boot/"
ls "$cache"/boot/vmlinuz-* | head -n 1
