#!/bin/sh
# Build softkvm with ThreadSanitizer (clang) and run the multi-vCPU tests,
# meson suite 'smp': programs whose vCPUs run on their own host threads or
# next to VMM threads. Any race report fails its test (tests/meson.build
# sets TSAN_OPTIONS: halt_on_error, exit status 66). Only what the suite
# needs is built, to keep the step short.
set -eu
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build-tsan}
scripts/deps.sh
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Db_sanitize=thread -Db_lundef=false >/dev/null
fi
# Regenerate first when a meson.build changed: the suite is read from it.
ninja -C "$dir" build.ninja >/dev/null
targets=$(python3 - "$dir" <<'EOF'
import json, os, subprocess, sys
d = sys.argv[1]
def intro(what):
    return json.loads(subprocess.check_output(['meson', 'introspect', what, d]))
files = {t['id']: t['filename'] for t in intro('--targets')}
out = set()
for t in intro('--tests'):
    if any(s.split(':')[-1] == 'smp' for s in t['suite']):
        for i in t['depends']:
            out.update(files.get(i, []))
        out.add(t['cmd'][0])
print(' '.join(sorted(os.path.relpath(f, d) for f in out)))
EOF
)
[ -n "$targets" ] || { echo "tsan.sh: no tests in suite smp" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per target
if ! ninja -C "$dir" $targets >"$dir/tsan-build.log" 2>&1; then
	tail -n 40 "$dir/tsan-build.log" >&2
	exit 1
fi
meson test -C "$dir" --suite smp --no-rebuild --print-errorlogs --num-processes 2
