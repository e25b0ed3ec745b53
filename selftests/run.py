#!/usr/bin/env python3
"""Run built KVM selftests under softkvm and count what passes.

Each test runs with the softkvm preload library (and the softkvm-diag shim in
front of it) in LD_PRELOAD, in its own process group, with a time limit. Its
kselftest TAP output is read for subtests ("ok N ...", "not ok N ...",
"# SKIP"), its exit status for the verdict (0 pass, 4 KSFT_SKIP skip, other
fail, killed by the limit timeout). The table goes to results-ARCH.md and
results-ARCH.tsv, the logs to logs/ARCH/TEST.log, and one summary line to
stdout.

Honest skips only: a skip because /dev/kvm could not be opened (softkvm not
loaded) or one that test_assert() turned from a failed assertion into
KSFT_SKIP (errno EACCES) counts as a failure.

Called by scripts/selftests.sh, which builds the tests and softkvm first.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

KSFT_PASS, KSFT_FAIL, KSFT_SKIP = 0, 1, 4

TAP_RESULT = re.compile(r"^(not ok|ok) (\d+)\s*(.*)$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)(.*)$")
STACK_LINE = re.compile(r"^\s+\d+\t")
EXIT_REASON_NAMES = None  # filled lazily by insn_text()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="x86_64", choices=["x86_64", "aarch64"])
    p.add_argument("--bindir", required=True, help="OUTPUT dir of the selftests build")
    p.add_argument("--tests", required=True,
                   help="file listing the built tests (paths), one a line")
    p.add_argument("--only", help="file of test names to run (others are not run)")
    p.add_argument("--preload", required=True, help="libsoftkvm-preload.so for the arch")
    p.add_argument("--diag", help="softkvm-diag.so (optional)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per test")
    p.add_argument("--budget", type=float, default=0.0,
                   help="seconds for the whole run; tests not started by then are "
                        "'not-run' (0: no budget)")
    p.add_argument("--jobs", type=int, default=1, help="tests run at once")
    p.add_argument("--repeat", type=int, default=1,
                   help="run each test N times; it passes only if every run passes")
    p.add_argument("--out", required=True, help="directory for results and logs")
    p.add_argument("--qemu", default="qemu-aarch64", help="runner for aarch64 tests")
    p.add_argument("--quiet", action="store_true", help="no line per test")
    p.add_argument("--tag", default="",
                   help="suffix of the result files (a partial run keeps the full table)")
    return p.parse_args()


def test_name(path, bindir):
    return os.path.relpath(path, bindir)


def command_for(args, path):
    preload = [args.preload] if not args.diag else [args.diag, args.preload]
    env = dict(os.environ)
    if args.arch == "aarch64" and os.uname().machine != "aarch64":
        # LD_PRELOAD must reach the guest program, not qemu itself.
        env.pop("LD_PRELOAD", None)
        env.setdefault("QEMU_LD_PREFIX", "/usr/aarch64-linux-gnu")
        return [args.qemu, "-E", "LD_PRELOAD=" + ":".join(preload), path], env
    env["LD_PRELOAD"] = ":".join(preload + [env["LD_PRELOAD"]] if env.get("LD_PRELOAD")
                                  else preload)
    return [path], env


def run_once(args, path, log_path):
    cmd, env = command_for(args, path)
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=os.path.dirname(path),
                                start_new_session=True)
        timed_out = False
        try:
            rc = proc.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            # The whole group: tests start vCPU threads and sometimes children.
            for sig, grace in ((signal.SIGTERM, 2), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    rc = proc.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    rc = None
        # Whatever the test left behind in its session (forked children).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    secs = time.monotonic() - start
    text = read_log(log_path)
    return classify(text, rc, timed_out, args.timeout) + (secs, text)


def read_log(path, head=64 << 10, tail=2 << 20):
    """The log, or its start and end when a test printed megabytes."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size <= head + tail:
            data = f.read()
        else:
            data = f.read(head) + b"\n[...]\n"
            f.seek(size - tail)
            data += f.read()
    return data.decode("utf-8", "replace")


def subtests(text):
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for line in text.splitlines():
        m = TAP_RESULT.match(line)
        if not m:
            continue
        rest = m.group(3)
        if re.search(r"#\s*SKIP", rest, re.I):
            counts["skip"] += 1
        elif m.group(1) == "ok" or re.search(r"#\s*(XFAIL|TODO)", rest, re.I):
            counts["pass"] += 1
        else:
            counts["fail"] += 1
    return counts


def insn_text(hexbytes):
    """A disassembly of the first instruction of an emulation failure."""
    try:
        raw = bytes(int(b, 16) for b in hexbytes.split())
    except ValueError:
        return ""
    try:
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(raw)
            f.flush()
            out = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64",
                                  f.name], capture_output=True, text=True,
                                 timeout=10).stdout
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0].strip() == "0:":
                return " ".join(parts[2].split())
    except (OSError, subprocess.SubprocessError):
        pass
    return ""


def guest_function(binary, rip):
    """The guest code's function and line (and its caller when inlined): the
    selftests load the test's own ELF into the guest at its link addresses."""
    try:
        out = subprocess.run(["addr2line", "-f", "-i", "-s", "-e", binary, rip],
                             capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return ""
    frames = [f"{out[i]} at {out[i + 1].split(' ')[0]}"
              for i in range(0, len(out) - 1, 2) if not out[i].startswith("??")]
    return " from ".join(frames[:2])


def diag_hint(text, arch, binary):
    """What the softkvm-diag shim saw: an emulation failure or a shutdown
    (with where in the guest), or the last failed ioctl."""
    events = [l[len("softkvm-diag: "):] for l in text.splitlines()
              if l.startswith("softkvm-diag: KVM_EXIT_")]
    if events:
        line = events[0]
        m = re.search(r"insn:((?: [0-9a-f]{2})+)", line)
        if m and arch == "x86_64":
            asm = insn_text(m.group(1))
            if asm:
                line = f"{line} ({asm})"
        m = re.search(r"rip=(0x[0-9a-f]+)", line)
        if m and arch == "x86_64":
            where = guest_function(binary, m.group(1))
            if where:
                line = f"{line} in {where}"
        return line
    failed = [l for l in text.splitlines()
              if l.startswith("softkvm-diag: last failed KVM ioctl:")]
    if failed:
        return failed[-1][len("softkvm-diag: "):]
    return ""


def last_meaningful(text):
    """The line that says why: an assertion's message and place, a skip's
    reason, or the last line that is not TAP bookkeeping."""
    # ld.so's complaint comes from the test's helpers (addr2line, run by
    # test_dump_stack) inheriting an LD_PRELOAD of another arch under qemu.
    lines = [l.rstrip() for l in text.splitlines()
             if l.strip() and not l.startswith(("softkvm-diag:", "ERROR: ld.so:"))]
    if "==== Test Assertion Failure ====" in text:
        # Other threads' output can share the line the banner starts on.
        i = max(i for i, l in enumerate(lines) if "==== Test Assertion Failure" in l)
        where = lines[i + 1].strip() if i + 1 < len(lines) else ""
        errno = ""
        if i + 2 < len(lines):
            m = re.search(r"errno=(\d+ - .*)$", lines[i + 2])
            # 0 and EINTR (the vCPU thread's KVM_RUN interrupted on purpose)
            # say nothing about the failure.
            if m and not m.group(1).startswith(("0 ", "4 ")):
                errno = f" (errno={m.group(1)})"
        msg = ""
        for l in lines[i + 3:]:
            if STACK_LINE.match(l) or l.strip().startswith("#") or TAP_PLAN.match(l):
                continue
            if l.startswith("==== "):
                break
            msg = l.strip()
            break
        if "errno" in msg:
            errno = ""
        return f"{msg} [{where}]{errno}".strip()
    not_ok = [l.strip() for l in lines
              if l.startswith("not ok ") and not re.search(r"#\s*SKIP", l, re.I)]
    if not_ok:
        return not_ok[0] + (f" (and {len(not_ok) - 1} more)" if len(not_ok) > 1 else "")
    for l in reversed(lines):
        s = l.strip()
        if TAP_RESULT.match(s) and s.startswith("ok "):
            m = re.search(r"#\s*SKIP\s*-?\s*(.*)", s, re.I)
            if m and m.group(1).strip():
                return m.group(1).strip()
            continue
        if TAP_PLAN.match(s):
            m = re.search(r"#\s*SKIP\s*-?\s*(.*)", s)
            if m:
                return m.group(1).strip()
            continue
        if re.match(r"^# (Totals|Planned tests|SUMMARY)", s):
            continue
        if STACK_LINE.match(l):
            continue
        return s.lstrip("# ").strip()
    return ""


def classify(text, rc, timed_out, limit):
    """(result, reason) from the output and how the process ended."""
    reason = last_meaningful(text)
    if len(reason) > 300:
        reason = reason[:297] + "..."
    if timed_out:
        return "timeout", f"no exit within {limit:g}s; last: {reason}"
    if rc is None:
        return "fail", "could not be stopped"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return "fail", f"killed by {name}; last: {reason}"
    subs = subtests(text)
    if rc == KSFT_SKIP:
        if "/dev/kvm not available" in text:
            return "fail", "softkvm not loaded: " + reason
        if "==== Test Assertion Failure ====" in text:
            return "fail", "assertion failed with EACCES (test_assert reports it as skip): " + reason
        return "skip", reason
    if rc == KSFT_PASS:
        if subs["fail"]:
            return "fail", f"exit 0 but {subs['fail']} subtest(s) not ok; {reason}"
        return "pass", ""
    return "fail", f"exit {rc}: {reason}"


def run_test(args, path, logdir):
    name = test_name(path, args.bindir)
    log_path = os.path.join(logdir, name.replace("/", "__") + ".log")
    if not os.access(path, os.X_OK):
        return dict(test=name, result="fail", reason="did not build (see build.log)",
                    secs=0.0, subs={"pass": 0, "fail": 0, "skip": 0}, log="")
    total = 0.0
    for i in range(args.repeat):
        result, reason, secs, text = run_once(args, path, log_path)
        total += secs
        if result != "pass":
            break
    if result == "fail":
        hint = diag_hint(text, args.arch, path)
        m = re.search(r"last failed KVM ioctl: (\S+)", hint)
        if hint and not (m and m.group(1) in reason):
            reason = f"{reason} {{{hint}}}"
    if args.repeat > 1 and result != "pass" and i > 0:
        reason = f"run {i + 1} of {args.repeat}: {reason}"
    return dict(test=name, result=result, reason=reason, secs=total,
                subs=subtests(text), log=os.path.relpath(log_path, args.out))


def cause_of(reason):
    """A failure reason with the details that differ per test taken out, so
    that tests failing for the same missing feature group together."""
    c = re.sub(r"^(run \d+ of \d+: )?exit \d+: ", "", reason)
    c = re.sub(r" \[[^\]]*\]", "", c)          # assertion place
    c = re.sub(r"; last: .*", "", c)             # timeouts: the last line differs
    c = re.sub(r"rip=0x[0-9a-fA-F]+", "rip=N", c)
    if "insn:" not in c:
        c = re.sub(r"0x[0-9a-fA-F]+", "N", c)
    return c.strip()


def causes(rows):
    groups = {}
    for r in rows:
        if r["result"] in ("fail", "timeout"):
            groups.setdefault(cause_of(r["reason"]), []).append(r["test"])
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def write_tables(args, rows, wall, counts):
    base = f"results-{args.arch}" + (f"-{args.tag}" if args.tag else "")
    tsv = os.path.join(args.out, base + ".tsv")
    md = os.path.join(args.out, base + ".md")
    with open(tsv, "w") as f:
        f.write("test\tresult\treason\tseconds\tsub_pass\tsub_fail\tsub_skip\n")
        for r in rows:
            s = r["subs"]
            f.write(f"{r['test']}\t{r['result']}\t{r['reason'].replace(chr(9), ' ')}\t"
                    f"{r['secs']:.1f}\t{s['pass']}\t{s['fail']}\t{s['skip']}\n")
    with open(md, "w") as f:
        f.write(f"# KVM selftests on softkvm ({args.arch})\n\n")
        if os.environ.get("SOFTKVM_DIAG_PRETEND"):
            f.write("**Look-ahead run, not a result**: these ioctls returned 0 without "
                    f"reaching softkvm: {os.environ['SOFTKVM_DIAG_PRETEND']}\n\n")
        f.write(f"{summary_line(args, counts, wall)}\n\n")
        f.write("| test | result | reason (skip/fail) | seconds | subtests ok/not ok/skip |\n")
        f.write("| --- | --- | --- | ---: | --- |\n")
        for r in rows:
            s = r["subs"]
            reason = r["reason"].replace("|", "\\|")
            sub = f"{s['pass']}/{s['fail']}/{s['skip']}" if sum(s.values()) else ""
            f.write(f"| {r['test']} | {r['result']} | {reason} | {r['secs']:.1f} | {sub} |\n")
        top = causes(rows)
        if top:
            f.write("\n## Failures by cause\n\n| tests | cause | which |\n| ---: | --- | --- |\n")
            for cause, tests in top:
                cause = cause.replace("|", "\\|")
                f.write(f"| {len(tests)} | {cause} | {', '.join(tests)} |\n")
    return md, tsv


def write_testlog(args, rows):
    """The results as meson's testlog.json (one JSON object a line), so
    scripts/summary.py can count them with the unit tests."""
    import json
    verdict = {"pass": "OK", "skip": "SKIP", "fail": "FAIL", "timeout": "TIMEOUT",
               "not-run": "FAIL"}
    base = f"testlog-{args.arch}" + (f"-{args.tag}" if args.tag else "") + ".json"
    with open(os.path.join(args.out, base), "w") as f:
        for r in rows:
            f.write(json.dumps({"name": f"selftests/{args.arch}/{r['test']}",
                                "result": verdict[r["result"]],
                                "duration": round(r["secs"], 2)}) + "\n")


def summary_line(args, counts, wall):
    sub = counts["sub"]
    return (f"selftests {args.arch}: {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['skip']} skipped, {counts['timeout']} timed out"
            + (f", {counts['not-run']} not run (budget)" if counts["not-run"] else "")
            + f" of {counts['total']} tests; subtests {sub['pass']} ok, "
              f"{sub['fail']} not ok, {sub['skip']} skipped; {wall:.0f}s")


def main():
    args = parse_args()
    args.bindir = os.path.abspath(args.bindir)
    args.out = os.path.abspath(args.out)
    with open(args.tests) as f:
        paths = [l.strip() for l in f if l.strip()]
    if args.only:
        with open(args.only) as f:
            wanted = [l.split("#")[0].strip() for l in f]
        wanted = [w for w in wanted if w]
        by_name = {test_name(p, args.bindir): p for p in paths}
        paths = [by_name.get(w, os.path.join(args.bindir, w)) for w in wanted]
    logdir = os.path.join(args.out, "logs", args.arch + (f"-{args.tag}" if args.tag else ""))
    os.makedirs(logdir, exist_ok=True)

    start = time.monotonic()
    rows = [None] * len(paths)

    def job(i):
        if args.budget and time.monotonic() - start > args.budget:
            rows[i] = dict(test=test_name(paths[i], args.bindir), result="not-run",
                           reason="total budget spent", secs=0.0,
                           subs={"pass": 0, "fail": 0, "skip": 0}, log="")
            return
        rows[i] = run_test(args, paths[i], logdir)
        r = rows[i]
        if not args.quiet:
            print(f"{r['result']:8} {r['secs']:6.1f}s {r['test']}"
                  + (f"  {r['reason'][:160]}" if r["reason"] else ""), flush=True)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(job, range(len(paths))))
    wall = time.monotonic() - start

    counts = {k: 0 for k in ("pass", "fail", "skip", "timeout", "not-run")}
    counts["sub"] = {"pass": 0, "fail": 0, "skip": 0}
    for r in rows:
        counts[r["result"]] += 1
        for k in counts["sub"]:
            counts["sub"][k] += r["subs"][k]
    counts["total"] = len(rows)
    md, tsv = write_tables(args, rows, wall, counts)
    write_testlog(args, rows)
    print(summary_line(args, counts, wall))
    print(f"selftests: table in {md} and {tsv}; logs in {logdir}")
    # For --check: the names that did not pass, one a line, on request.
    failed = [r["test"] for r in rows if r["result"] != "pass"]
    with open(os.path.join(args.out, f"not-passed-{args.arch}.txt"), "w") as f:
        f.write("".join(t + "\n" for t in failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
