#!/bin/sh
# Build softkvm and run the whole test suite: the tests as built with gcc,
# again under AddressSanitizer and UndefinedBehaviorSanitizer, again built
# with clang, the multi-vCPU ones under ThreadSanitizer, softkvm built for
# arm64 hosts (under qemu-aarch64), then the Linux KVM selftests that are
# expected to pass.
set -eu
cd "$(dirname "$0")/.."
status=0
logs=""
run() { # compiler, build dir, then meson setup options
	compiler=$1
	dir=$2
	shift 2
	CC=$compiler BUILD_DIR=$dir scripts/build.sh "$@"
	ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
	logs="$logs $dir/meson-logs/testlog.json"
}
run gcc build
run gcc build-san -Db_sanitize=address,undefined -Db_lundef=false
run clang build-clang
# The multi-vCPU tests (suite smp) built with ThreadSanitizer: a race report
# fails them (scripts/tsan.sh).
BUILD_DIR=build-tsan scripts/tsan.sh || status=1
logs="$logs build-tsan/meson-logs/testlog.json"
# softkvm built for an arm64 host, its tests run under qemu-aarch64.
run aarch64-linux-gnu-gcc build-aarch64 --cross-file cross/aarch64-linux-gnu.ini
SOFTKVM_BUILD=build scripts/selftests.sh --check || status=1
SOFTKVM_BUILD_AARCH64=build-aarch64 scripts/selftests.sh --arch aarch64 --check || status=1
logs="$logs build-selftests/testlog-x86_64-check.json build-selftests/testlog-aarch64-check.json"
python3 scripts/summary.py $logs
exit $status
