"""Booting guests: one QEMU run with a hard timeout, its judgement, the noise
options (real-time priority, CPU pinning), the Linux guest's set-up, and kernels
built from another git revision (`@rev` sides of an experiment)."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import INITRD, KERNEL, LINUX_APPEND, LINUX_DIR, LINUX_MAP, LOG_DIR, ROOT, TAIL_LINES
from parse import parse_log
from report import git, rel


def run_guest(cmd, log_path, timeout, env=None):
    """Runs a QEMU command with stdout+stderr to log_path, killing its whole
    process group after timeout seconds. Returns (exit status or None if
    killed, seconds)."""
    t0 = time.monotonic()
    with open(log_path, "wb") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=str(ROOT), env=env, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        except KeyboardInterrupt:
            os.killpg(p.pid, signal.SIGKILL)
            raise
        if rc is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        else:
            try:  # leftovers of the group (none expected)
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return rc, time.monotonic() - t0


def judge(parsed, rc, ok_rc, timeout):
    """(ok, status text) of a finished run."""
    if rc is None or rc == 124:
        if not parsed["done"]:
            return False, "hung: no BENCHDONE within %d s, killed" % timeout
        return False, "killed after BENCHDONE (timeout %d s)" % timeout
    if not parsed["done"]:
        return False, "failed: exited with status %d without BENCHDONE" % rc
    if ok_rc is not None and rc != ok_rc:
        return False, "failed: BENCHDONE but exit status %d (expected %d)" % (rc, ok_rc)
    if parsed["errors"]:
        return False, "failed: " + "; ".join(parsed["errors"][:3])
    return True, "ok"


def run_one(title, cmd, log, ok_rc, timeout, env=None):
    """Boots once (cmd, output to log), prints one status line (and the log tail
    if it failed) and returns the run record."""
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    print("[bench] %s ... " % title, end="", flush=True)
    rc, secs = run_guest(cmd, log, timeout, env)
    parsed = parse_log(log.read_text(errors="replace"))
    ok, status = judge(parsed, rc, ok_rc, timeout)
    print("%s (%.1f s, %d metrics) -> %s" % (status, secs, len(parsed["metrics"]), rel(log)), flush=True)
    if not ok:
        print("[bench]   last %d lines:" % TAIL_LINES)
        for l in parsed["tail"]:
            print("[bench]   | " + l)
    return {"log": rel(log), "ok": ok, "status": status, "seconds": round(secs, 1),
            "exit": rc, "parsed": parsed}


def pair_order(pairs):
    """The boot order of `pairs` pairs of sides A and B: [(pair, side)], A B in
    even pairs and B A in odd ones (A B B A A B ...), so that a steady drift of the
    host hits both sides alike and neither always runs first."""
    out = []
    for i in range(pairs):
        out += [(i, "A"), (i, "B")] if i % 2 == 0 else [(i, "B"), (i, "A")]
    return out


def noise_prefix(rt, pin):
    """The command prefix of the noise options, and notes on those ignored.
    rt: run QEMU at SCHED_FIFO priority 1 (`chrt -f 1`; root only). pin: a host
    CPU list for `taskset -c` (QEMU and all its vCPU threads)."""
    prefix, notes = [], []
    if pin:
        if shutil.which("taskset"):
            prefix += ["taskset", "-c", str(pin)]
        else:
            notes.append("--pin ignored: taskset not found")
    if rt:
        if os.geteuid() == 0 and shutil.which("chrt"):
            prefix += ["chrt", "-f", "1"]
        else:
            notes.append("--rt ignored: needs root and chrt")
    return prefix, notes


def qemu_env(args):
    return dict(os.environ, SMP=str(args.smp), MEM=str(args.mem), ACCEL=args.accel,
                TIMEOUT=str(args.timeout))


def mello_cmd(prefix, kernel, initrd, cmdline):
    return prefix + ["boot/qemu.sh", str(kernel), str(initrd), cmdline]


def accel_args(accel):
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


def linux_benches(only):
    if not only:
        return list(LINUX_MAP)
    names = [n for n in only.split(",") if n]
    return [l for l, ours in LINUX_MAP.items() if any(n in ours or n == l for n in names)]


def linux_cmd(prefix, args, benches):
    ld = ROOT / LINUX_DIR
    append = LINUX_APPEND + " benches=" + ",".join(benches)
    return prefix + ["qemu-system-x86_64", "-machine", "q35"] + accel_args(args.accel) + [
        "-smp", str(args.smp), "-m", str(args.mem), "-kernel", str(ld / "vmlinuz"),
        "-initrd", str(ld / "initramfs.cpio"), "-append", append, "-nographic", "-no-reboot"]


def prepare_linux():
    """Builds build/linux/{vmlinuz,initramfs.cpio}; returns None or why not."""
    script = ROOT / "benches/linux/build-initramfs.sh"
    print("[bench] building the Linux guest (benches/linux/build-initramfs.sh) ...", flush=True)
    t0 = time.monotonic()
    try:
        r = subprocess.run(["bash", str(script)], cwd=str(ROOT), timeout=1800)
    except subprocess.TimeoutExpired:
        return "build-initramfs.sh timed out"
    if r.returncode == 3:
        return "the Debian kernel / busybox packages could not be downloaded (see above)"
    if r.returncode != 0:
        return "build-initramfs.sh failed with status %d (see above)" % r.returncode
    print("[bench] Linux guest ready (%.1f s)" % (time.monotonic() - t0), flush=True)
    return None


def working_tree_build():
    """(kernel, initrd) of the working tree (built by make)."""
    return ROOT / KERNEL, ROOT / INITRD


def build_rev(rev, timeout=3600):
    """Builds git revision `rev` in a scratch worktree build/rev-<sha>/ (created
    once, reused: make rebuilds only what changed) with `make kernel initrd`.
    Returns (sha, kernel, initrd); raises RuntimeError with the reason."""
    sha = git("rev-parse", "--verify", "--quiet", rev + "^{commit}")
    if not sha:
        raise RuntimeError("'%s' is not a git revision here" % rev)
    tree = ROOT / "build" / ("rev-" + sha[:12])
    if not (tree / ".git").exists():
        print("[bench] creating worktree %s for %s" % (rel(tree), rev), flush=True)
        r = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), sha],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("git worktree add failed: " + r.stderr.strip())
    print("[bench] building %s (%s) in %s: make kernel initrd" % (rev, sha[:12], rel(tree)), flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    t0 = time.monotonic()
    try:
        r = subprocess.run(["make", "-C", str(tree), "kernel", "initrd"], env=env, timeout=timeout,
                           stdout=sys.stdout, stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError("building %s took over %d s" % (rev, timeout))
    if r.returncode != 0:
        raise RuntimeError("make kernel initrd failed for %s (status %d)" % (rev, r.returncode))
    kernel, initrd = tree / KERNEL, tree / INITRD
    for f in (kernel, initrd):
        if not f.exists():
            raise RuntimeError("%s was not built" % rel(f))
    print("[bench] %s built (%.0f s)" % (rev, time.monotonic() - t0), flush=True)
    return sha, kernel, initrd


def log_path(name):
    return ROOT / LOG_DIR / name
