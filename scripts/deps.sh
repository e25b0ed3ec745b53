#!/bin/sh
# Install what building and testing softkvm needs (Debian 12), if missing.
set -eu
PKGS="gcc clang libc6-dev linux-libc-dev binutils meson ninja-build pkg-config \
libzydis-dev libcapstone-dev linux-libc-dev-arm64-cross gcc-aarch64-linux-gnu \
libc6-dev-arm64-cross qemu-user linux-source-6.1 make patch xz-utils python3 \
qemu-system-x86 qemu-system-arm"
missing=""
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "softkvm: installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
