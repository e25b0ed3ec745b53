#!/usr/bin/env python3
"""Run a command, echo its output, and check its exit status and output.

check-run.py [--status N] [--stdout RE]... [--stderr RE]... [--env K=V]...
             [--no-output RE]... [--skip-status N] [--timeout S]
             -- COMMAND [ARGS...]

Each --stdout/--stderr RE must match some line of the stream (re.search,
multiline); a --no-output RE must match no line of either stream. A command
that exits with the --skip-status is reported as skipped (status 77).
"""
import argparse
import os
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--status', type=int)
    ap.add_argument('--stdout', action='append', default=[])
    ap.add_argument('--stderr', action='append', default=[])
    ap.add_argument('--no-output', action='append', default=[])
    ap.add_argument('--skip-status', type=int)
    ap.add_argument('--env', action='append', default=[])
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('command', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ['--'] else a.command
    if not cmd:
        ap.error('no command')
    # The environment passes through: a sanitizer build's LD_PRELOAD and
    # ASAN_OPTIONS must reach the command (softkvm prepends its library).
    env = dict(os.environ)
    for kv in a.env:
        k, _, v = kv.partition('=')
        env[k] = v
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           errors='replace', timeout=a.timeout)
    except subprocess.TimeoutExpired:
        print(f'check-run: timed out after {a.timeout}s: {cmd}')
        return 1
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    if a.skip_status is not None and p.returncode == a.skip_status:
        print('check-run: skipped (status %d)' % p.returncode)
        return 77
    bad = []
    if a.status is not None and p.returncode != a.status:
        bad.append(f'exit status {p.returncode}, expected {a.status}')
    for name, text, pats in (('stdout', p.stdout, a.stdout),
                             ('stderr', p.stderr, a.stderr)):
        for pat in pats:
            if not re.search(pat, text, re.M):
                bad.append(f'{name} has no line matching {pat!r}')
    for pat in a.no_output:
        m = re.search(pat, p.stdout + p.stderr, re.M)
        if m:
            bad.append(f'output has a line matching {pat!r}: {m.group(0)!r}')
    for b in bad:
        print('check-run: FAIL: ' + b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
