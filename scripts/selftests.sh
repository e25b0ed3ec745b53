#!/bin/sh
# The Linux KVM selftests (Debian's linux-source-6.1, built unmodified but
# for selftests/patches/) run under softkvm. See selftests/README.md.
#
#   scripts/selftests.sh [OPTIONS] [TEST...]
#
#   --check          run only the tests in selftests/expected-pass-ARCH.txt,
#                    bounded (per-test timeout 60 s, total budget 300 s), and
#                    exit 1 if one of them does not pass
#   --arch A         x86_64 (default) or aarch64 (run with qemu-aarch64)
#   --timeout S      seconds per test (default 60)
#   --budget S       seconds for the whole run (default none; 300 with --check)
#   --jobs N         tests run at once (default 2)
#   --repeat N       run each test N times; it passes only if all N pass
#   --list FILE      run the tests named in FILE (as in expected-pass-*.txt)
#   --preload PATH   the softkvm preload library to use (default: the one in
#                    $SOFTKVM_BUILD, built first; for aarch64
#                    $SOFTKVM_PRELOAD_AARCH64, or the one in
#                    $SOFTKVM_BUILD_AARCH64 (default build-aarch64), cross-built
#                    first with cross/aarch64-linux-gnu.ini)
#   --no-diag        do not put the softkvm-diag shim in front of softkvm
#   --lookahead IOCTLS  diagnosis only: these ioctls (comma-separated, e.g.
#                    KVM_CREATE_IRQCHIP) return 0 without reaching softkvm, to
#                    see where tests stop next; results go to
#                    results-ARCH-lookahead.* and never count
#   TEST...          run only these (e.g. x86_64/sync_regs_test)
#
# Environment: SELFTESTS_DIR (cache of the extract, the builds, the results;
# default build-selftests/), SOFTKVM_BUILD (softkvm build dir, default build).
# Results: $SELFTESTS_DIR/results-ARCH.{md,tsv} (a run of some tests only:
# results-ARCH-partial.*, of --check: results-ARCH-check.*), logs in
# $SELFTESTS_DIR/logs/ARCH[-partial|-check]/.
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)

arch=x86_64
check=0
timeout=""
budget=""
jobs=2
repeat=1
list=""
preload=""
diag=1
lookahead=""
tests=""
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=1 ;;
	--arch) arch=$2; shift ;;
	--arch=*) arch=${1#*=} ;;
	--timeout) timeout=$2; shift ;;
	--budget) budget=$2; shift ;;
	--jobs|-j) jobs=$2; shift ;;
	--repeat) repeat=$2; shift ;;
	--list) list=$2; shift ;;
	--preload) preload=$2; shift ;;
	--no-diag) diag=0 ;;
	--lookahead) lookahead=$2; shift ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "selftests: unknown option $1" >&2; exit 2 ;;
	*) tests="$tests $1" ;;
	esac
	shift
done
case $arch in
x86_64|aarch64) ;;
*) echo "selftests: --arch is x86_64 or aarch64" >&2; exit 2 ;;
esac

top=${SELFTESTS_DIR:-$repo/build-selftests}
mkdir -p "$top"
top=$(cd "$top" && pwd)
export SELFTESTS_DIR="$top"

if [ $check = 1 ]; then
	: "${timeout:=60}" "${budget:=300}"
	[ -n "$list" ] || list=selftests/expected-pass-$arch.txt
else
	: "${timeout:=60}" "${budget:=0}"
fi

# The selftests: extract and build (cached), and their list.
t0=$(date +%s)
selftests/build.sh "$arch" >"$top/tests-$arch.txt"
echo "selftests: build ready in $(($(date +%s) - t0))s ($(wc -l <"$top/tests-$arch.txt") $arch tests)" >&2

only=""
if [ -n "$tests" ]; then
	only=$top/only-$arch.txt
	# shellcheck disable=SC2086 # one name a line
	printf '%s\n' $tests >"$only"
elif [ -n "$list" ]; then
	only=$list
fi
if [ -n "$only" ] && ! grep -q '^[^#[:space:]]' "$only"; then
	echo "selftests: $only names no test; nothing to run"
	exit 0
fi

# softkvm itself.
if [ -z "$preload" ]; then
	if [ "$arch" = x86_64 ]; then
		sk=${SOFTKVM_BUILD:-build}
		if ! BUILD_DIR=$sk scripts/build.sh; then
			echo "selftests: softkvm did not build in $sk (ninja -C $sk says why)" >&2
			exit 2
		fi
		preload=$sk/src/libsoftkvm-preload.so
	elif [ -n "${SOFTKVM_PRELOAD_AARCH64:-}" ]; then
		preload=$SOFTKVM_PRELOAD_AARCH64
	else
		# softkvm cross-built for aarch64 (cross/aarch64-linux-gnu.ini).
		sk=${SOFTKVM_BUILD_AARCH64:-build-aarch64}
		preload=$sk/src/libsoftkvm-preload.so
		if [ -f cross/aarch64-linux-gnu.ini ]; then
			[ -f "$sk/build.ninja" ] ||
				meson setup --cross-file cross/aarch64-linux-gnu.ini "$sk" >/dev/null ||
				echo "selftests: meson setup of $sk failed" >&2
			[ -f "$sk/build.ninja" ] && { ninja -C "$sk" >/dev/null ||
				echo "selftests: the aarch64 softkvm build in $sk failed" >&2; }
		fi
	fi
fi
if [ ! -f "$preload" ]; then
	echo "selftests: no softkvm preload library at $preload" >&2
	[ "$arch" = aarch64 ] && echo "selftests: build softkvm for aarch64 (meson setup --cross-file cross/aarch64-linux-gnu.ini build-aarch64) or pass --preload" >&2
	exit 2
fi
preload=$(cd "$(dirname "$preload")" && pwd)/$(basename "$preload")

unset SOFTKVM_DIAG_PRETEND
diag_so=""
[ $diag = 1 ] && [ -f "$top/$arch/softkvm-diag.so" ] && diag_so=$top/$arch/softkvm-diag.so

set -- --arch "$arch" --bindir "$top/$arch" --tests "$top/tests-$arch.txt" \
	--preload "$preload" --timeout "$timeout" --budget "$budget" \
	--jobs "$jobs" --repeat "$repeat" --out "$top"
[ -n "$only" ] && set -- "$@" --only "$only"
if [ -n "$lookahead" ]; then
	if [ $check = 1 ] || [ -z "$diag_so" ]; then
		echo "selftests: --lookahead needs the diag shim and is not for --check" >&2
		exit 2
	fi
	export SOFTKVM_DIAG_PRETEND="$lookahead"
	set -- "$@" --tag lookahead
elif [ $check = 1 ]; then
	unset SOFTKVM_DIAG_PRETEND
	set -- "$@" --tag check
elif [ -n "$only" ]; then
	set -- "$@" --tag partial
fi
[ -n "$diag_so" ] && set -- "$@" --diag "$diag_so"
python3 selftests/run.py "$@"

if [ $check = 1 ]; then
	if [ -s "$top/not-passed-$arch.txt" ]; then
		echo "selftests: FAIL: expected to pass but did not:" >&2
		sed 's/^/  /' "$top/not-passed-$arch.txt" >&2
		exit 1
	fi
	echo "selftests: every test in $list passed"
fi
