#!/usr/bin/env python3
"""Write an initramfs (cpio "newc", uncompressed) holding /init and what a
kernel needs to start it: /dev/console (so init has a stdout), /dev, /proc.

mkinitramfs.py INIT OUTPUT
"""
import sys


def entry(name, mode, data=b'', rdev=(0, 0), ino=[0]):
    ino[0] += 1
    fields = [ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name) + 1, 0]
    hdr = b'070701' + b''.join(b'%08X' % f for f in fields)
    out = hdr + name.encode() + b'\0'
    out += b'\0' * (-len(out) % 4)
    out += data + b'\0' * (-len(data) % 4)
    return out


def main():
    init, output = sys.argv[1:3]
    with open(init, 'rb') as f:
        code = f.read()
    blob = b''.join([
        entry('dev', 0o040755),
        entry('dev/console', 0o020600, rdev=(5, 1)),
        entry('proc', 0o040755),
        entry('init', 0o100755, code),
        entry('TRAILER!!!', 0),
    ])
    blob += b'\0' * (-len(blob) % 512)
    with open(output, 'wb') as f:
        f.write(blob)


if __name__ == '__main__':
    main()
