#!/bin/sh
# Extract the Linux KVM selftests from Debian's linux-source-6.1, apply
# selftests/patches/, and build them for ARCH (x86_64 or aarch64) into
# $SELFTESTS_DIR/ARCH. The extract and the build are cached: a second run
# only re-makes what changed. Prints the tests' paths, one per line, on
# stdout (the build's own output goes to $SELFTESTS_DIR/ARCH/build.log).
#
#   selftests/build.sh ARCH
#
# Only the pieces the kvm selftests' Makefile reaches are extracted (about
# 6 MB of the 138 MB tarball): the kvm and rseq selftests, kselftest's
# headers and lib.mk, tools/include, tools/arch/{x86,arm64}/include,
# tools/build, tools/lib/rbtree.c and scripts/subarch.include. The uapi
# headers are Debian's linux-libc-dev (and linux-libc-dev-arm64-cross),
# built from the same 6.1 tree, so no `make headers_install` is needed.
set -eu
arch=${1:?usage: selftests/build.sh x86_64|aarch64}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
top=${SELFTESTS_DIR:-$repo/build-selftests}
tarball=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
jobs=$(nproc 2>/dev/null || echo 2)

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
need() {
	missing=""
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "selftests: installing:$missing" >&2
	$SUDO apt-get update -qq >&2
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $missing >&2
}

case $arch in
x86_64)
	need make gcc libc6-dev linux-libc-dev xz-utils patch linux-source-6.1
	make_arch="ARCH=x86_64"
	cc=gcc
	;;
aarch64)
	need make gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
		linux-libc-dev-arm64-cross xz-utils patch linux-source-6.1 qemu-user
	make_arch="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
	cc=aarch64-linux-gnu-gcc
	;;
*)
	echo "selftests: unknown arch '$arch' (x86_64 or aarch64)" >&2
	exit 2
	;;
esac

# The extract is keyed by the tarball and the patches: when either changes,
# it (and every build made from it) is redone from scratch.
mkdir -p "$top"
key=$( (ls -l --time-style=+%s "$tarball"; cat "$here"/patches/*.patch) | sha256sum | cut -c1-16)
src=$top/src
if [ "$(cat "$src/.key" 2>/dev/null)" != "$key" ]; then
	echo "selftests: extracting $tarball" >&2
	rm -rf "$src" "$top/x86_64" "$top/aarch64"
	mkdir -p "$src"
	p=linux-source-6.1
	tar -xJf "$tarball" -C "$src" --strip-components=1 --wildcards \
		"$p/tools/testing/selftests/kvm" \
		"$p/tools/testing/selftests/rseq" \
		"$p/tools/testing/selftests/*.h" \
		"$p/tools/testing/selftests/lib.mk" \
		"$p/tools/include" \
		"$p/tools/arch/x86/include" \
		"$p/tools/arch/arm64/include" \
		"$p/tools/build" \
		"$p/tools/lib/rbtree.c" \
		"$p/scripts/subarch.include"
	for patch in "$here"/patches/*.patch; do
		patch -s -p1 -d "$src" <"$patch"
	done
	echo "$key" >"$src/.key"
fi

out=$top/$arch
mkdir -p "$out"
kvm=$src/tools/testing/selftests/kvm
# -k: a test that does not build is reported missing by the runner; the
# others still run.
# shellcheck disable=SC2086 # make_arch is a list of make variables
if ! make -k -j"$jobs" -C "$kvm" $make_arch OUTPUT="$out" >"$out/build.log" 2>&1; then
	echo "selftests: some $arch tests did not build; see $out/build.log" >&2
fi

# The diagnostic shim (see selftests/diag/diag.c), built for the target.
if [ ! -f "$out/softkvm-diag.so" ] ||
	[ -n "$(find "$here/diag/diag.c" -newer "$out/softkvm-diag.so")" ]; then
	$cc -O2 -Wall -Wextra -shared -fPIC -o "$out/softkvm-diag.so" \
		"$here/diag/diag.c" -ldl >>"$out/build.log" 2>&1 ||
		echo "selftests: softkvm-diag.so did not build; see $out/build.log" >&2
fi

# The list of tests, as the selftests' Makefile defines it.
# shellcheck disable=SC2086
make -s --no-print-directory -C "$kvm" -f Makefile -f "$here/print-tests.mk" \
	$make_arch OUTPUT="$out" print-tests | tr ' ' '\n' | grep -v '^$'
