#!/bin/sh
# Configure (once) and build softkvm into BUILD_DIR (default: build).
# Extra arguments go to meson setup, e.g. -Db_sanitize=address,undefined.
set -eu
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
scripts/deps.sh
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
