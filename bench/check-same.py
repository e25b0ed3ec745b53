#!/usr/bin/env python3
"""Run a benchmark guest and check it: status 0, a "bench NAME checksum=X ok"
line and, with --native PROGRAM, the same line as the native build prints.

check-same.py [--native PROGRAM] -- COMMAND [ARGS...]
"""
import argparse
import re
import subprocess
import sys

LINE = re.compile(r'^bench (\S+) checksum=([0-9a-f]{16}) ok$', re.M)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, errors='replace',
                       timeout=120)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    m = LINE.search(p.stdout)
    if p.returncode != 0 or not m:
        print(f'check-same: {cmd[-1]}: status {p.returncode}, '
              f'result line {"found" if m else "missing"}')
        return None
    return m.group(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--native')
    ap.add_argument('command', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ['--'] else a.command
    guest = run(cmd)
    if guest is None:
        return 1
    if a.native:
        native = run([a.native])
        if native != guest:
            print(f'check-same: guest says "{guest}", native "{native}"')
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
