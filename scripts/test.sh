#!/bin/sh
# Build softkvm and run the whole test suite: once as built, once under
# AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/.."
status=0
scripts/build.sh
meson test -C build --print-errorlogs --num-processes 2 || status=1
BUILD_DIR=build-san scripts/build.sh -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-san --print-errorlogs --num-processes 2 || status=1
python3 scripts/summary.py build/meson-logs/testlog.json build-san/meson-logs/testlog.json
exit $status
