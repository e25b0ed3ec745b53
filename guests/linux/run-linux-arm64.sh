#!/bin/sh
# Boot Debian's arm64 kernel with the initramfs built here (its /init is
# init.c, cross-built) on softkvm-vmm-arm64 --linux: an in-kernel GICv3 and
# a generated device tree, one vCPU. The console goes to stdout; /init
# powers the machine off (PSCI SYSTEM_OFF), so the status is 0 when the
# guest got that far.
#   run-linux-arm64.sh VMM INITRAMFS
# Exit 77 (skipped) when no kernel can be had (scripts/linux-kernel.sh).
set -eu
vmm=${1:?usage: run-linux-arm64.sh VMM INITRAMFS}
initramfs=${2:?usage: run-linux-arm64.sh VMM INITRAMFS}
here=$(cd "$(dirname "$0")" && pwd)
kernel=$("$here/../../scripts/linux-kernel.sh" arm64) || {
	echo "run-linux-arm64.sh: SKIP: no arm64 Linux kernel to boot" >&2
	exit 77
}
exec "$vmm" -q -m 512M --linux --initrd "$initramfs" \
	--append "console=ttyAMA0 panic=-1 oops=panic softkvm_cpus=1" "$kernel"
