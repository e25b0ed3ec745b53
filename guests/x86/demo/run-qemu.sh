#!/bin/sh
# Run the demo image under QEMU (TCG), as a reference for softkvm-vmm.
#   run-qemu.sh DEMO.BIN
# QEMU_ACCEL=kvm runs it with -accel kvm instead (under softkvm, say).
# A 64 KiB "BIOS" whose reset vector jumps to 1000:0000 stands in for the
# VMM's CS:IP setup; QEMU's loader device puts the image at 0x10000.
# Exits with the guest's status (isa-debug-exit reports (status << 1) | 1).
set -eu
image=${1:?usage: run-qemu.sh DEMO.BIN}
qemu=${QEMU:-qemu-system-x86_64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
bios=$tmp/reset-bios.bin
# 0xffff0: ljmp $0x1000, $0x0000 (EA 00 00 00 10), the rest zero.
head -c 65520 /dev/zero > "$bios"
printf '\352\000\000\000\020' >> "$bios"
head -c 11 /dev/zero >> "$bios"
set +e
"$qemu" -accel "${QEMU_ACCEL:-tcg}" -display none -nodefaults -no-reboot -m 16 \
	-serial stdio -bios "$bios" \
	-device loader,file="$image",addr=0x10000,force-raw=on \
	-device isa-debug-exit,iobase=0x501,iosize=1 </dev/null
rc=$?
set -e
if [ $((rc & 1)) -eq 1 ]; then
	exit $((rc >> 1))
fi
echo "run-qemu.sh: QEMU ended without the guest writing the exit port (rc=$rc)" >&2
exit 125
