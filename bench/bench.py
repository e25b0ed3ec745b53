#!/usr/bin/env python3
"""softkvm benchmarks: the benchmark guests on softkvm (reference VMM),
on QEMU/TCG and natively, then the host-side KVM API benchmarks.

bench.py --build DIR [--runs N] [--only NAME,...] [--no-qemu] [--no-native]
         [--no-host] [--qemu PROGRAM] [--qemu-arm64 PROGRAM]
         [--arch x86,arm64] [--markdown]

The arm64 kernels (intmix, memcopy, empty: guests/x86/bench/guest-arm64.c)
run on softkvm's arm64 vCPU through softkvm-vmm-arm64 (raw image) and on
qemu-system-aarch64 -M virt with TCG (the same kernel as ELF); there is no
native arm64 on an x86-64 host, so that column shows '-'.

Every time is measured twice, as the wall clock and as the user + system
CPU time of a whole process (the latter is what to trust on a loaded
machine), and reported as the median of N runs;
the runs of the platforms are interleaved so that load from elsewhere on
the machine spreads over all of them. "net" times subtract the median of
the boot-only guest (empty) on the same platform.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

GUESTS = ['empty', 'intmix', 'memcopy', 'repmovs', 'exitloop']
GUESTS_ARM64 = ['empty', 'intmix', 'memcopy']
NATIVE = {'empty', 'intmix', 'memcopy', 'repmovs'}
RESULT = re.compile(r'^bench (\S+) checksum=([0-9a-f]{16}) ok$', re.M)


class Failure(Exception):
    pass


def reset_bios(tmpdir):
    """A 64 KiB BIOS whose reset vector jumps to 1000:0000, as in
    guests/x86/demo/run-qemu.sh."""
    path = os.path.join(tmpdir, 'reset-bios.bin')
    with open(path, 'wb') as f:
        f.write(bytes(65520) + b'\xea\x00\x00\x00\x10' + bytes(11))
    return path


def commands(build, name, qemu, bios, want):
    img = os.path.join(build, 'bench', f'bench-{name}.bin')
    cmds = {}
    if 'softkvm' in want:
        cmds['softkvm'] = ([os.path.join(build, 'tools', 'softkvm'), '--',
                            os.path.join(build, 'tools', 'softkvm-vmm'),
                            '--quiet', img], 0)
    if 'qemu' in want:
        # isa-debug-exit: QEMU exits with (status << 1) | 1.
        cmds['qemu'] = ([qemu, '-accel', 'tcg', '-display', 'none',
                         '-nodefaults', '-no-reboot', '-m', '16',
                         '-serial', 'stdio', '-bios', bios, '-device',
                         f'loader,file={img},addr=0x10000,force-raw=on',
                         '-device', 'isa-debug-exit,iobase=0x501,iosize=1'],
                        1)
    if 'native' in want and name in NATIVE:
        cmds['native'] = ([os.path.join(build, 'bench',
                                        f'bench-{name}-native')], 0)
    return cmds


def commands_arm64(build, name, qemu, bios, want):
    stem = os.path.join(build, 'bench', f'bench-{name}-arm64')
    cmds = {}
    if 'softkvm' in want:
        cmds['softkvm'] = ([os.path.join(build, 'tools', 'softkvm'), '--',
                            os.path.join(build, 'tools', 'softkvm-vmm-arm64'),
                            '--quiet', stem + '.bin'], 0)
    if 'qemu' in want:
        # PSCI SYSTEM_OFF ends QEMU with status 0; the line says ok.
        cmds['qemu'] = ([qemu, '-M', 'virt', '-cpu', 'cortex-a72',
                         '-accel', 'tcg', '-m', '128', '-display', 'none',
                         '-nodefaults', '-no-reboot', '-serial', 'stdio',
                         '-kernel', stem + '.elf'], 0)
    return cmds


CLOCKS = ('wall', 'cpu')     # wall clock; user + system CPU time


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, status):
    """Runs cmd once: ({'wall': s, 'cpu': s}, checksum)."""
    t0, c0 = time.perf_counter(), children_cpu()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, errors='replace', timeout=600)
    t = {'wall': time.perf_counter() - t0, 'cpu': children_cpu() - c0}
    m = RESULT.search(p.stdout)
    if p.returncode != status or not m:
        raise Failure(f'{" ".join(cmd)}: status {p.returncode}\n'
                      f'{p.stdout}{p.stderr}')
    return t, m.group(2)


def run_guests(a, want, arch='x86'):
    """Per clock, benchmark and platform: the raw median and the median of
    net times, each net time being the run minus the empty guest run just
    before it on the same platform (so both saw about the same load)."""
    if arch == 'arm64':
        bios, qemu, make, guests = None, a.qemu_arm64, commands_arm64, \
            GUESTS_ARM64
    else:
        bios, qemu, make, guests = reset_bios(a.tmp), a.qemu, commands, \
            GUESTS
    names = [n for n in guests if n != 'empty' and
             (not a.only or n in a.only)]
    boot = make(a.build, 'empty', qemu, bios, want)
    cmds = {n: make(a.build, n, qemu, bios, want) for n in names}
    raw = {c: {'empty': {p: [] for p in boot}} for c in CLOCKS}
    net = {c: {} for c in CLOCKS}
    for c in CLOCKS:
        raw[c].update({n: {p: [] for p in cmds[n]} for n in names})
        net[c].update({n: {p: [] for p in cmds[n]} for n in names})
    exits = 0
    for r in range(a.runs):
        for n in names:
            sums = {}
            for plat, (cmd, status) in cmds[n].items():
                t0, _ = timed(*boot[plat])
                t1, sums[plat] = timed(cmd, status)
                for c in CLOCKS:
                    raw[c]['empty'][plat].append(t0[c])
                    raw[c][n][plat].append(t1[c])
                    net[c][n][plat].append(t1[c] - t0[c])
            if len(set(sums.values())) > 1:
                raise Failure(f'{n}: checksums differ: {sums}')
            if n == 'exitloop':     # its checksum is the number of rounds
                exits = 2 * int(sums['softkvm'], 16)
        print(f'  {arch} round {r + 1}/{a.runs} done', file=sys.stderr,
              flush=True)
    for c in CLOCKS:
        for n, by_plat in raw[c].items():
            print(f'  {arch} {c:4s} {n:9s} ' + '  '.join(
                f'{p} {statistics.median(t):.3f}s '
                f'[{min(t):.3f}..{max(t):.3f}]'
                for p, t in by_plat.items() if t), file=sys.stderr)
        if exits:
            net[c]['exitloop per exit'] = {
                p: [t / exits * 1e9 for t in v]
                for p, v in net[c]['exitloop'].items()}

    def med(d):
        return {n: {p: statistics.median(t) for p, t in v.items() if t}
                for n, v in d.items()}
    return {c: (med(raw[c]), med(net[c])) for c in CLOCKS}


def fmt(v, unit='s'):
    if v is None:
        return '-'
    return f'{v:.0f} ns' if unit == 'ns' else f'{v:.3f} s'


def ratio(x, y):
    return '-' if x is None or y is None or y <= 0 else f'{x / y:.1f}x'


def guest_table(raw, net, arch='x86'):
    rows = [('benchmark' if arch == 'x86' else 'arm64 benchmark', 'softkvm',
             'QEMU tcg', 'native', 'softkvm/QEMU', 'softkvm/native')]

    def row(label, m, unit='s'):
        rows.append((label, fmt(m.get('softkvm'), unit),
                     fmt(m.get('qemu'), unit), fmt(m.get('native'), unit),
                     ratio(m.get('softkvm'), m.get('qemu')),
                     ratio(m.get('softkvm'), m.get('native'))))

    row('empty (boot only, raw)', raw['empty'])
    for name, m in net.items():
        if name.endswith('per exit'):
            row(f'  {name} (PIO + MMIO)', m, 'ns')
        else:
            row(f'{name} (net of boot)', m)
    return rows


def raw_table(res, arch='x86'):
    rows = [('raw medians (wall / CPU)' if arch == 'x86' else
             'arm64 raw medians (wall / CPU)', 'softkvm', 'QEMU tcg',
             'native')]
    wall, cpu = res['wall'][0], res['cpu'][0]
    for name in wall:
        rows.append((name,) + tuple(
            '-' if p not in wall[name] else
            f'{wall[name][p]:.3f} / {cpu[name][p]:.3f} s'
            for p in ('softkvm', 'qemu', 'native')))
    return rows


def host_metrics(a):
    """Medians over the runs of each key=value the programs print."""
    progs = [('exit-roundtrip', ['-n', '200000']), ('memslot-rate', []),
             ('vm-overhead', [])]
    softkvm = os.path.join(a.build, 'tools', 'softkvm')
    vals = {}
    for prog, args in progs:
        cmd = [softkvm, '--', os.path.join(a.build, 'bench', prog)] + args
        for _ in range(a.runs):
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=600)
            if p.returncode != 0:
                raise Failure(f'{" ".join(cmd)}: status {p.returncode}\n'
                              f'{p.stdout}{p.stderr}')
            for k, v in re.findall(r'(\w+)=([0-9.]+)', p.stdout):
                vals.setdefault(k, []).append(float(v))
    return {k: statistics.median(v) for k, v in vals.items()}


def host_table(h):
    def g(k, f='{:.0f}'):
        return f.format(h[k]) if k in h else '-'
    return [('softkvm API', 'median'),
            ('exit round trip, PIO', g('pio_exit_ns', '{:.0f} ns')),
            ('exit round trip, MMIO', g('mmio_exit_ns', '{:.0f} ns')),
            ('exit round trip, HLT', g('hlt_exit_ns', '{:.0f} ns')),
            ('memslot updates (1 GiB slot, toggle and move alternating)',
             g('memslot_updates_per_s', '{:.0f} /s')),
            ('  dirty-log toggles only',
             g('log_toggle_per_s', '{:.0f} /s')),
            ('  moves only', g('move_per_s', '{:.0f} /s')),
            ('dirty-log harvests (1 GiB slot, 32 KiB bitmap)',
             g('dirty_log_per_s', '{:.0f} /s')),
            ('memory per VM (RSS)', g('vm_kib', '{:.1f} KiB')),
            ('memory per vCPU (RSS, kvm_run mapped)',
             g('vcpu_kib', '{:.1f} KiB'))]


def show(rows, markdown):
    if markdown:
        print('| ' + ' | '.join(rows[0]) + ' |')
        print('|' + '|'.join('---' if i == 0 else '---:'
                             for i in range(len(rows[0]))) + '|')
        for r in rows[1:]:
            print('| ' + ' | '.join(r) + ' |')
    else:
        w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for j, r in enumerate(rows):
            print('  '.join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                            for i, c in enumerate(r)))
            if j == 0:
                print('  '.join('-' * x for x in w))
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--only', type=lambda s: s.split(','))
    ap.add_argument('--qemu', default='qemu-system-x86_64')
    ap.add_argument('--qemu-arm64', default='qemu-system-aarch64')
    ap.add_argument('--arch', type=lambda s: s.split(','),
                    default=['x86', 'arm64'],
                    help='x86, arm64 or both (default; arm64 only when '
                    'its images and softkvm-vmm-arm64 are built)')
    ap.add_argument('--no-qemu', action='store_true')
    ap.add_argument('--no-native', action='store_true')
    ap.add_argument('--no-host', action='store_true',
                    help='skip exit-roundtrip, memslot-rate, vm-overhead')
    ap.add_argument('--markdown', action='store_true')
    a = ap.parse_args()
    if a.runs < 1:
        ap.error('--runs must be at least 1')
    want = {'softkvm'}
    if not a.no_qemu:
        want.add('qemu')
    if not a.no_native:
        want.add('native')
    print(f'running each {a.runs} times (median; [min..max] per run set)',
          file=sys.stderr)
    arches = [x for x in ('x86', 'arm64') if x in a.arch]
    if 'arm64' in arches and not os.path.exists(
            os.path.join(a.build, 'tools', 'softkvm-vmm-arm64')):
        print('bench: softkvm-vmm-arm64 not built: no arm64 rows',
              file=sys.stderr)
        arches.remove('arm64')
    try:
        with tempfile.TemporaryDirectory() as a.tmp:
            res = {x: run_guests(a, want, x) for x in arches}
        host = {} if a.no_host else host_metrics(a)
    except Failure as e:
        print(f'bench: FAILED: {e}', file=sys.stderr)
        return 1
    for c, what in (('wall', 'wall clock'),
                    ('cpu', 'user + system CPU time')):
        print(f'Guest benchmarks, {what} of the whole process, median of '
              f'{a.runs} runs; net = each run minus an empty-guest run just '
              f'before it on the same platform')
        print()
        for x in arches:
            show(guest_table(*res[x][c], x), a.markdown)
    for x in arches:
        show(raw_table(res[x], x), a.markdown)
    if host:
        show(host_table(host), a.markdown)
    with open('/proc/loadavg') as f:
        print('load average at the end: ' + ' '.join(f.read().split()[:3]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
