"""The pipeline as a user meets it: one process per setting (the threadpool
size is per process), signals, and the progress bar on and off a terminal.

Usage: python3 test_cli_pipeline.py /path/to/meshstats   (prints TAP)
"""

import atexit
import fcntl
import hashlib
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main, sanitized  # noqa: E402

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
TMP = tempfile.mkdtemp(prefix="meshstats-pipeline-")
atexit.register(shutil.rmtree, TMP, True)


def run(*args, expect=0, **kw):
    p = subprocess.run([MESHSTATS, *map(str, args)], capture_output=True,
                       cwd=TMP, **kw)
    if p.returncode != expect:
        raise AssertionError(f"exit {p.returncode} (expected {expect}) for "
                             f"{args}: {p.stderr.decode()[-400:]}")
    return p


def dataset(name, samples, T, N):
    path = os.path.join(TMP, name)
    if not os.path.exists(path):
        run("generate", path, "-q", "--samples", samples, "--timesteps", T,
            "--nodes", N)
    return path


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@case
def json_byte_identical_across_workers_prefetch_and_memory_limit():
    # 300 nodes: a timestep is 17 KB, so 1M with 16 units in flight still
    # fits, and the default cuts each 250-step sample into several units.
    path = dataset("ident.h5", 5, 250, 300)
    outputs = {}
    for j in (1, 2, 5, 8):
        for prefetch in (1, 2, 3, 16):
            for limit in ("1M", "256M"):
                out = run("-q", "--json", "-", "-j", j, "--prefetch",
                          prefetch, "--memory-limit", limit, path).stdout
                outputs.setdefault(out, []).append((j, prefetch, limit))
    assert len(outputs) == 1, f"{len(outputs)} different results: " + \
        "; ".join(str(v[:3]) for v in outputs.values())


@case
def per_sample_report_and_write_back_with_two_workers_equal_one_worker():
    # The ThreadSanitizer stage runs this: the per-sample reports and the
    # write-back are what a race in the fold would corrupt first.
    outputs = []
    for j in (1, 2):
        path = os.path.join(TMP, f"wb{j}.h5")
        shutil.copy(dataset("ident.h5", 5, 250, 300), path)
        csv = os.path.join(TMP, f"wb{j}.csv")
        out = run("-q", "--json", "-", "-j", j, "--memory-limit", "1M",
                  "--per-sample", csv, "--write-back", path).stdout
        with open(csv) as f:
            report = f.read()
        assert report.count("\n") == 6, report  # a header and 5 samples
        outputs.append((out.replace(path.encode(), b"X"), report))
    assert outputs[0] == outputs[1]


@case
def sampled_mode_byte_identical_across_workers():
    path = dataset("ident.h5", 5, 250, 300)
    outs = {run("-q", "--json", "-", "-s", 50, "-j", j, "--prefetch", p,
                path).stdout for j in (1, 2, 8) for p in (1, 4)}
    assert len(outs) == 1


def started(args, **kw):
    """Start meshstats slowed down, with plain progress lines on stderr, and
    return it once it says reading has begun (its first line, at 0%)."""
    proc = subprocess.Popen([MESHSTATS, "--throttle", "5", "--progress",
                             "always", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            **kw)
    first = proc.stderr.readline()
    assert b"%" in first, (first, proc.poll())
    return proc


def interrupt(sig, expect):
    path = dataset("slow.h5", 8, 200, 2000)
    before = digest(path)
    out = os.path.join(TMP, "never.json")
    proc = started(("-j", 2, "--write-back", "--json", out, path))
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("did not stop within 20 s of the signal")
    assert proc.returncode == expect, (proc.returncode, err)
    assert b"nothing was written" in err, err
    assert err.endswith(b"\n")
    assert not os.path.exists(out), "no JSON after an interrupted pass"
    assert digest(path) == before, "the dataset changed"


@case
def sigint_stops_cleanly_with_status_130_and_no_write_back():
    interrupt(signal.SIGINT, 130)


@case
def sigterm_stops_cleanly_with_status_143():
    interrupt(signal.SIGTERM, 143)


@case
def a_signal_the_process_was_started_ignoring_stays_ignored():
    # A shell starts a script's background job with SIGINT ignored: the
    # Ctrl-C meant for the script must not stop it.  SIGTERM still does.
    path = dataset("slow.h5", 8, 200, 2000)
    proc = started(("-j", 2, path), preexec_fn=lambda: signal.signal(
        signal.SIGINT, signal.SIG_IGN))
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None, "stopped by an ignored SIGINT"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143 and b"interrupted by SIGTERM" in err, \
        (proc.returncode, err)


@case
def a_signal_while_samples_are_checked_between_segments_stops_cleanly():
    # 6,000 tiny samples: the pass checks them in segments on a thread of
    # its own while it reads others (src/pass/stream.c), and between two
    # segments the calling thread waits for a check.  A signal anywhere in
    # the pass ends it with its status, never by the signal itself.
    path = dataset("tiny.h5", 6000, 1, 20)
    stopped = 0
    for delay in (0, 0.003, 0.006, 0.01, 0.02):
        proc = subprocess.Popen([MESHSTATS, "--progress", "always", path],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        first = proc.stderr.readline()
        assert b"%" in first, (first, proc.poll())
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, 130), (delay, proc.returncode, err)
        if proc.returncode == 130:
            stopped += 1
            assert b"interrupted by SIGINT" in err, err
            assert b"nothing was written" in err, err
    assert stopped >= 3, stopped


@case
def checks_without_a_thread_of_their_own_give_the_same_bytes():
    # A thread limit can refuse the checks their thread: the pass then
    # checks a segment on the calling thread, and asks for a thread again
    # for the next (src/pass/stream.c).  The shim fails the first thread
    # created (the first check's), or, with one worker, the first and the
    # third (the second segment's check, asked for after the first
    # segment's worker), or the first, third and fifth.
    shim = os.environ.get("MESHSTATS_THREAD_SHIM")
    if sanitized(MESHSTATS) or not shim:
        return
    path = dataset("tiny.h5", 6000, 1, 20)
    want = run("-q", "--json", "-", "-j", 1, path).stdout
    for fail, j in (("1", 2), ("1,3", 1), ("1,3,5", 1)):
        env = dict(os.environ, LD_PRELOAD=shim,
                   MESHSTATS_TEST_FAIL_THREAD=fail)
        got = run("-q", "--json", "-", "-j", j, path, env=env).stdout
        assert got == want, (fail, j)


@case
def a_sigsegv_sent_by_another_process_is_not_taken_for_a_crash():
    # The crash guard (src/cli/crash.c) reports crashes inside HDF5 as a
    # damaged file; a SIGSEGV from kill(2) is no crash and ends the process
    # as the signal does, with no message.
    path = dataset("slow.h5", 8, 200, 2000)
    proc = started(("-j", 2, "-q", path))
    proc.send_signal(signal.SIGSEGV)
    _, err = proc.communicate(timeout=20)
    # Under ASan, ASan takes the signal and aborts (abort_on_error).
    killed_by = signal.SIGABRT if sanitized(MESHSTATS) else signal.SIGSEGV
    assert proc.returncode == -killed_by, (proc.returncode, err)
    assert b"HDF5 crashed" not in err and b"internal error" not in err, err


@case
def off_a_terminal_auto_draws_nothing_and_always_has_no_carriage_returns():
    path = dataset("bar.h5", 4, 30, 500)
    err = run("--progress", "auto", path).stderr
    assert b"%" not in err and b"\r" not in err, err
    err = run("--progress", "always", path).stderr
    assert b"\r" not in err, err
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("100% [") and "4/4 samples" in last, last
    assert b"%" not in run("--progress", "never", path).stderr


def read_pty(fd, proc, limit=30):
    data = b""
    end = time.time() + limit
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        elif proc.poll() is not None:
            break
    return data


@case
def on_a_terminal_the_bar_redraws_in_place_and_ends_at_100_percent():
    path = dataset("bar2.h5", 6, 100, 2000)
    master, slave = pty.openpty()
    proc = subprocess.Popen([MESHSTATS, "--throttle", "60", "-j", "1", path],
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    data = read_pty(master, proc)
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 0
    text = data.decode()
    frames = [f for f in text.split("\r") if f.strip()]
    assert len(frames) >= 3, f"expected several redraws, got {frames!r}"
    assert "ETA" in frames[0], frames[0]
    assert frames[-1].rstrip().endswith("done"), frames[-1]
    assert frames[-1].lstrip().startswith("100% ["), frames[-1]
    assert text.endswith("\n"), "the bar ends with a newline"
    assert text.count("\n") == 1, "one line, redrawn in place"


def sized_pty(columns):
    master, slave = pty.openpty()
    resize(master, columns)
    return master, slave


def resize(fd, columns):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))


def frames_of(data):
    """The bar's frames: what lies between carriage returns and newlines
    (a frame wider than the terminal would wrap onto a second row)."""
    text = data.decode()
    return [f for f in text.replace("\n", "\r").split("\r") if f.strip()]


@case
def every_redraw_fits_the_terminal_whatever_its_width():
    path = dataset("bar3.h5", 6, 60, 2000)
    for columns in (30, 40, 50, 80, 120):
        master, slave = sized_pty(columns)
        proc = subprocess.Popen([MESHSTATS, "--throttle", "60", "-j", "1",
                                 path], stdout=subprocess.DEVNULL,
                                stderr=slave)
        os.close(slave)
        data = read_pty(master, proc)
        proc.wait(timeout=30)
        os.close(master)
        assert proc.returncode == 0
        frames = frames_of(data)
        assert len(frames) >= 3, (columns, frames)
        for f in frames:
            assert len(f) <= columns - 1, (columns, len(f), f)
        last = frames[-1].strip()
        assert last.startswith("100%"), (columns, last)
        if columns >= 80:
            # Wide terminals: the line spans the width, every field shown.
            assert all(len(f) == columns - 1 for f in frames), columns
            assert last.endswith("done"), last
            assert "ETA" in frames[0], frames[0]
        assert data.decode().count("\n") == 1, columns


@case
def without_a_width_from_the_terminal_columns_is_believed_within_reason():
    # A terminal that says 0 columns leaves COLUMNS, which anyone may set:
    # 2e9 padded each redraw to gigabytes, and Ctrl-C waited behind it.
    path = dataset("bar5.h5", 4, 40, 500)
    for columns, width in (("2000000000", 79), ("1001", 79), ("x", 79),
                           ("200", 199)):
        master, slave = sized_pty(0)
        proc = subprocess.Popen([MESHSTATS, "--throttle", "60", "-j", "1",
                                 path], stdout=subprocess.DEVNULL,
                                stderr=slave,
                                env=dict(os.environ, COLUMNS=columns))
        os.close(slave)
        data = read_pty(master, proc)
        proc.wait(timeout=30)
        os.close(master)
        assert proc.returncode == 0, columns
        frames = frames_of(data)
        assert frames and all(len(f) <= width for f in frames), \
            (columns, max(map(len, frames)))
        assert len(frames[-1]) == width, (columns, frames[-1])


@case
def the_bar_follows_a_resize_during_the_pass():
    path = dataset("bar4.h5", 8, 60, 2000)
    master, slave = sized_pty(120)
    proc = subprocess.Popen([MESHSTATS, "--throttle", "10", "-j", "1", path],
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    wide = b""
    end = time.time() + 30
    while (len(frames_of(wide)) < 2 and time.time() < end and
           proc.poll() is None):
        wide += read_pty(master, proc, limit=0.1)
    resize(master, 40)
    narrow = read_pty(master, proc)
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 0
    before, after = frames_of(wide), frames_of(narrow)
    # A redraw that asked for the width before the resize may still come
    # out wide after it: one, no more (the bar asks at every redraw).
    if after and len(after[0]) == 119:
        after = after[1:]
    assert len(before) >= 2 and after, (before, after)
    assert all(len(f) == 119 for f in before), before
    assert all(len(f) <= 39 for f in after), after
    assert after[-1].strip().startswith("100%"), after[-1]


@case
def quiet_turns_the_auto_bar_off_even_on_a_terminal():
    path = dataset("bar.h5", 4, 30, 500)
    master, slave = pty.openpty()
    proc = subprocess.Popen([MESHSTATS, "-q", path],
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    data = read_pty(master, proc)
    proc.wait(timeout=30)
    os.close(master)
    assert b"%" not in data, data


def thread_names(pid):
    """The names of a process's threads (one that ends meanwhile left
    out)."""
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:  # (ended meanwhile)
            pass
    return names


def threads_while_running(args, cpus=None):
    """The threads of a running pass, counted by the kernel, but for the
    checks' thread, which ends once it has checked every sample and may
    or may not have by the first progress line (src/pass/planner.c; it
    names itself as it starts, a window too short to meet here)."""
    path = dataset("slow.h5", 8, 200, 2000)
    preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    proc = started((*args, "-q", path), preexec_fn=preexec)
    try:
        return sum(1 for n in thread_names(proc.pid)
                   if n != "meshstats-check")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


@case
def a_pass_runs_on_the_workers_it_is_given():
    # Whatever else runs in the process (a sanitizer's thread), -j 3 runs
    # two more threads than -j 1; auto is the CPUs the process may use;
    # UV_THREADPOOL_SIZE (libuv's own pool) changes nothing.
    one = threads_while_running(("-j", 1))
    assert one >= 2, one
    assert threads_while_running(("-j", 3)) == one + 2
    assert threads_while_running(("-j", "auto"), cpus={0}) == one
    if len(os.sched_getaffinity(0)) >= 2:
        assert threads_while_running((), cpus={0, 1}) == one + 1
    env = dict(os.environ, UV_THREADPOOL_SIZE="5")
    path = dataset("bar.h5", 4, 30, 500)
    a = run("-q", "--json", "-", "-j", 1, path, env=env).stdout
    b = run("-q", "--json", "-", "-j", 3, path).stdout
    assert a == b


if __name__ == "__main__":
    sys.exit(main("cli_pipeline"))
