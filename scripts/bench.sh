#!/bin/sh
# Benchmarks: the guests in guests/x86/bench on softkvm (through the
# reference VMM), on QEMU with TCG and natively, then softkvm's exit round
# trip, memslot and dirty-log rates and memory per VM / vCPU. Prints tables.
# The arm64 builds of the portable kernels run the same way on softkvm's
# arm64 vCPU (softkvm-vmm-arm64) and on qemu-system-aarch64 (no native).
#
#   scripts/bench.sh [-r RUNS] [--markdown] [--only intmix,memcopy]
#                    [--no-qemu] [--no-native] [--no-host] [--arch x86,arm64]
#
# BUILD_DIR (default: build) is configured and built first. Installs
# qemu-system-x86 / qemu-system-arm when qemu-system-x86_64 /
# qemu-system-aarch64 is missing (and --no-qemu is not given). See
# docs/PERFORMANCE.md.
set -eu
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
runs=5
args=""
need_qemu=1
while [ $# -gt 0 ]; do
	case $1 in
	-r|--runs) runs=${2:?}; shift 2 ;;
	--no-qemu) need_qemu=0; args="$args $1"; shift ;;
	--only) args="$args $1 ${2:?}"; shift 2 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) args="$args $1"; shift ;;
	esac
done

qemu_pkgs=""
if [ "$need_qemu" = 1 ]; then
	command -v qemu-system-x86_64 >/dev/null ||
		qemu_pkgs="$qemu_pkgs qemu-system-x86"
	command -v qemu-system-aarch64 >/dev/null ||
		qemu_pkgs="$qemu_pkgs qemu-system-arm"
fi
if [ -n "$qemu_pkgs" ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	echo "bench: installing$qemu_pkgs" >&2
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $qemu_pkgs >&2
fi

scripts/deps.sh
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" >/dev/null
fi
ninja -C "$dir" >/dev/null

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
	"$(nproc) CPUs, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')," \
	"softkvm $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	"$(git diff --quiet HEAD 2>/dev/null || echo '(+ local changes)')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086 # $args is a list of words
exec python3 bench/bench.py --build "$dir" --runs "$runs" $args
