#!/bin/sh
# Boot Debian's x86-64 kernel with the initramfs built here (its /init is
# init.c) on QEMU, by default with -accel kvm (under softkvm that is
# softkvm). The serial console goes to stdout; /init powers the machine
# off, so QEMU's status is 0 when the guest got that far.
#   run-linux.sh INITRAMFS
# QEMU (default qemu-system-x86_64), QEMU_ACCEL (default kvm), QEMU_CPU
# (-cpu, default QEMU's), CPUS (default 2: one vCPU thread each under
# softkvm). Exit 77
# (skipped) when no kernel can be had (scripts/linux-kernel.sh).
set -eu
initramfs=${1:?usage: run-linux.sh INITRAMFS}
here=$(cd "$(dirname "$0")" && pwd)
kernel=$("$here/../../scripts/linux-kernel.sh") || {
	echo "run-linux.sh: SKIP: no Linux kernel to boot" >&2
	exit 77
}
cpus=${CPUS:-2}
set --
[ -n "${QEMU_CPU:-}" ] && set -- -cpu "$QEMU_CPU"
exec "${QEMU:-qemu-system-x86_64}" -accel "${QEMU_ACCEL:-kvm}" "$@" -m 256 -smp "$cpus" \
	-display none -nodefaults -no-reboot -serial stdio \
	-kernel "$kernel" -initrd "$initramfs" \
	-append "console=ttyS0 panic=-1 oops=panic softkvm_cpus=$cpus" </dev/null
