#!/bin/sh
# Prints the path of a Debian Linux kernel for softkvm's Linux boot tests
# (the current linux-image-cloud-ARCH's image: a bzImage for x86_64, an
# uncompressed Image for arm64), fetching it with apt-get download into a
# cache the first time. Exit 1 (and a message on stderr) when it cannot be
# had.
#   scripts/linux-kernel.sh [x86_64|arm64]        (default x86_64)
# SOFTKVM_CACHE (default ~/.cache/softkvm) holds it; SOFTKVM_KERNEL
# (x86_64) or SOFTKVM_KERNEL_ARM64, when set, is printed instead.
# For arm64 apt works on private package lists in the cache (the
# machine's apt and dpkg configuration are left alone).
set -eu
arch=${1:-x86_64}
case $arch in
x86_64) deb_arch=amd64; given=${SOFTKVM_KERNEL:-} ;;
arm64) deb_arch=arm64; given=${SOFTKVM_KERNEL_ARM64:-} ;;
*) echo "linux-kernel.sh: unknown arch $arch" >&2; exit 1 ;;
esac
if [ -n "$given" ]; then
	echo "$given"
	exit 0
fi
cache=${SOFTKVM_CACHE:-${HOME:-/tmp}/.cache/softkvm}/linux-$deb_arch
found=$(ls "$cache"/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [ -n "$found" ]; then
	echo "$found"
	exit 0
fi
command -v apt-get >/dev/null || { echo "linux-kernel.sh: no apt-get" >&2; exit 1; }
if [ "$deb_arch" = amd64 ]; then
	apt_opts=""
else
	lists=$cache/apt/lists
	mkdir -p "$lists/partial" "$cache/apt/cache"
	apt_opts="-o Dir::State::Lists=$lists -o Dir::Cache=$cache/apt/cache
		  -o APT::Architecture=$deb_arch -o APT::Architectures::=$deb_arch"
fi
latest() {
	apt-cache $apt_opts depends "linux-image-cloud-$deb_arch" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(latest)
if [ -z "$pkg" ]; then   # no package lists yet (a fresh machine, or arm64)
	SUDO=""
	[ "$(id -u)" = 0 ] || [ -n "$apt_opts" ] || SUDO=sudo
	$SUDO apt-get $apt_opts update -qq >/dev/null 2>&1 || true
	pkg=$(latest)
fi
[ -n "$pkg" ] || { echo "linux-kernel.sh: apt knows no linux-image-cloud-$deb_arch" >&2; exit 1; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/dl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 777 "$tmp"   # apt's download user writes here
(cd "$tmp" && apt-get $apt_opts download -q "$pkg" >/dev/null 2>&1) ||
	{ echo "linux-kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" ./boot
mkdir -p "$cache/boot"
mv "$tmp"/boot/vmlinuz-* "$cache/boot/"
ls "$cache"/boot/vmlinuz-* | head -n 1
