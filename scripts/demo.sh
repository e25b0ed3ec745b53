#!/bin/sh
# Build softkvm and run its demo: a bundled x86 guest booting from real mode
# into long mode on the software /dev/kvm, printing through its serial port.
set -eu
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/tools/softkvm "$@"
