#!/bin/sh
# Boot QEMU's own firmware (SeaBIOS) from a virtio-blk disk whose boot
# sector writes status 5 to isa-debug-exit: a whole BIOS run (real-mode
# code, kvmclock, PCI, virtio with ioeventfd) on the accelerator chosen.
#   run-qemu-bootsector.sh        (QEMU, QEMU_ACCEL as run-qemu.sh)
# SeaBIOS's debug output goes to stdout; exits with the guest's status.
set -eu
qemu=${QEMU:-qemu-system-x86_64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
disk=$tmp/disk.img
# mov dx,0x501; mov al,5; out dx,al; hlt; jmp $-1 ... 0x55 0xaa, in 1 MiB (SeaBIOS skips smaller disks).
printf '\272\001\005\260\005\356\364\353\375' > "$disk"
head -c 501 /dev/zero >> "$disk"
printf '\125\252' >> "$disk"
head -c 1048064 /dev/zero >> "$disk"
set +e
"$qemu" -accel "${QEMU_ACCEL:-tcg}" -display none -nodefaults -no-reboot -m 64 \
	-drive file="$disk",format=raw,if=virtio \
	-debugcon stdio -global isa-debugcon.iobase=0x402 \
	-device isa-debug-exit,iobase=0x501,iosize=1 </dev/null
rc=$?
set -e
if [ $((rc & 1)) -eq 1 ]; then
	exit $((rc >> 1))
fi
echo "run-qemu-bootsector.sh: QEMU ended without the guest writing the exit port (rc=$rc)" >&2
exit 125
