"""Every output that fails to write is an error: the table, the JSON, the
per-sample CSV, the progress lines, --help and the config listing, to a full
disk (/dev/full) or a closed pipe, each exits 1 with a message naming the
output (where stderr itself still works).  And the exit statuses the docs
promise for the ways a run can go wrong.

Usage: python3 test_outputs.py /path/to/meshstats   (prints TAP)
"""

import atexit
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import case, main, wrapper  # noqa: E402

MESHSTATS = sys.argv[1] if len(sys.argv) > 1 else "meshstats"
TMP = tempfile.mkdtemp(prefix="meshstats-outputs-")
atexit.register(shutil.rmtree, TMP, True)
DATA = os.path.join(TMP, "small.h5")


def run(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE):
    p = subprocess.run([*wrapper(), MESHSTATS, *map(str, args)], cwd=TMP,
                       stdout=stdout, stderr=stderr, timeout=120)
    assert p.returncode >= 0, f"killed by signal {-p.returncode}"
    return p


def setup():
    p = run("generate", DATA, "-q", "--samples", 3, "--timesteps", 5,
            "--nodes", 50)
    assert p.returncode == 0, p.stderr
    with h5py.File(DATA, "a") as f:  # a split that selects nothing
        f.create_dataset("metadata/splits/empty", shape=(0,), dtype="<i8")


def to_full(*args):
    """Run with stdout on /dev/full."""
    with open("/dev/full", "w") as full:
        return run(*args, stdout=full)


@case
def table_json_help_and_config_to_a_full_disk_exit_1_with_a_message():
    for args in ((DATA,), ("--json", "-", DATA), ("--help",),
                 ("config", DATA), ("--per-sample", "-", "-q", DATA)):
        p = to_full(*args)
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        assert b"standard output" in p.stderr, (args, p.stderr)
        assert b"No space left on device" in p.stderr, (args, p.stderr)


@case
def json_and_per_sample_files_on_a_full_disk_exit_1_naming_them():
    for option, what in (("--json", b"the JSON"),
                         ("--per-sample", b"the per-sample report")):
        p = run("-q", option, "/dev/full", DATA)
        assert p.returncode == 1, (option, p.stderr)
        assert b"/dev/full (" + what + b")" in p.stderr, p.stderr
        assert b"write failed" in p.stderr, p.stderr
    p = run("-q", "--json", os.path.join(TMP, "no/such/dir.json"), DATA)
    assert p.returncode == 1 and b"cannot write the JSON" in p.stderr


@case
def links_devices_and_standard_output_are_written_in_place():
    # Only a plain regular file is replaced by rename: /dev/stdout (a
    # symbolic link), a link to a file, stay what they are.
    was_link = os.path.islink("/dev/stdout")
    out = os.path.join(TMP, "redirected.json")
    with open(out, "wb") as f:
        p = run("-q", "--json", "/dev/stdout", DATA, stdout=f)
    assert p.returncode == 0, p.stderr
    assert json.load(open(out))["node"]["count"] > 0
    assert os.path.islink("/dev/stdout") == was_link
    target = os.path.join(TMP, "target.json")
    link = os.path.join(TMP, "link.json")
    open(target, "w").close()
    if not os.path.lexists(link):
        os.symlink(target, link)
    p = run("-q", "--json", link, DATA)
    assert p.returncode == 0, p.stderr
    assert os.path.islink(link) and json.load(open(target))["node"]


@case
def one_output_to_standard_output_takes_it_alone():
    p = run("--per-sample", "-", DATA)
    assert p.returncode == 0, p.stderr
    assert b"group  feature" not in p.stdout, "the table is left out"
    assert p.stdout.splitlines()[0].startswith(b"id,"), p.stdout[:200]
    p = run("--trace", "-", DATA)
    assert p.returncode == 0 and json.loads(p.stdout)["traceEvents"]
    p = run("--per-sample", "-", "--json", "-", DATA)
    assert p.returncode == 2, p.returncode
    assert b"standard output" in p.stderr, p.stderr


@case
def progress_lines_to_a_full_disk_exit_1():
    with open("/dev/full", "w") as full:
        p = run("-q", "--progress", "always", DATA, stderr=full)
    assert p.returncode == 1, p.returncode
    with open("/dev/full", "w") as full:
        p = run("-q", "--progress", "never", DATA, stderr=full)
    assert p.returncode == 0, "nothing to write, nothing lost"


@case
def a_closed_pipe_is_a_write_error_not_a_silent_death():
    # The reader is gone before meshstats writes: SIGPIPE is ignored, the
    # write fails with EPIPE, and that is reported.
    r, w = os.pipe()
    os.close(r)
    p = run("--json", "-", DATA, stdout=w)
    os.close(w)
    assert p.returncode == 1, p.returncode
    assert b"standard output" in p.stderr, p.stderr
    assert b"Broken pipe" in p.stderr, p.stderr


@case
def a_missing_dataset_exits_1_with_or_without_a_selection():
    missing = os.path.join(TMP, "missing.h5")
    for args in ((), ("--split", "train"), ("--samples", "1-3")):
        p = run(*args, missing)
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        assert missing.encode() in p.stderr, (args, p.stderr)


def fifo():
    path = os.path.join(TMP, "pipe.h5")
    if not os.path.exists(path):
        os.mkfifo(path)
    return path


@case
def usage_errors_exit_2_and_unreadable_inputs_exit_1():
    cases = [
        (("--samples", "3-1", DATA), 2, b"reversed"),
        (("--samples", "7", DATA), 2, b"not in the dataset"),
        (("--split", "nosuch", DATA), 2, b"no split 'nosuch'"),
        (("--sample-list", os.path.join(TMP, "none.txt"), DATA), 1,
         b"cannot open the sample list"),
        (("--sample-list", TMP, DATA), 1, b"cannot read the sample list"),
        (("-c", os.path.join(TMP, "none.txt"), DATA), 2,
         b"cannot open config file"),
        (("-c", TMP, DATA), 2, b"is a directory, not a config file"),
        (("--split", "empty", DATA), 2,
         DATA.encode() + b": metadata/splits/empty: selects no samples"),
        # (opening a named pipe would wait for a writer for ever)
        ((fifo(),), 1, b"is not a regular file (a named pipe)"),
        (("/dev/zero",), 1, b"is not a regular file (a device)"),
    ]
    for args, status, words in cases:
        p = run("-q", *args)
        assert p.returncode == status, (args, p.returncode, p.stderr)
        assert words in p.stderr, (args, p.stderr)
    made = os.path.join(TMP, "five.h5")
    p = run("generate", made, "-q", "--features", 5)
    assert p.returncode == 2 and b"--features must be 6..64" in p.stderr, \
        p.stderr
    p = run("generate", made, "-q", "--features", 5, "--model", "cfd",
            "--samples", 1, "--timesteps", 4, "--nodes", 10)
    assert p.returncode == 0, p.stderr  # (trajectories have no such rows)


@case
def an_output_that_is_the_dataset_itself_is_refused_before_the_pass():
    # --json (or any output) naming the dataset, by its name, a link or
    # the config's dataset_dir, would replace the data with the result.
    copy = os.path.join(TMP, "own.h5")
    shutil.copyfile(DATA, copy)
    before = open(copy, "rb").read()
    link = os.path.join(TMP, "own-link.h5")
    os.symlink(copy, link)
    config = os.path.join(TMP, "own.txt")
    with open(config, "w") as f:
        f.write(f"dataset_dir {copy}\n")
    for args in (("--json", copy, copy), ("--per-sample", link, copy),
                 ("--trace", "own.h5", copy), ("--report", copy, link),
                 ("-c", config, "--json", copy)):
        p = run("-q", *args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert b"is the dataset itself" in p.stderr, (args, p.stderr)
        assert open(copy, "rb").read() == before, args
    p = run("-q", "--json", os.path.join(TMP, "own.json"), copy)
    assert p.returncode == 0, p.stderr


@case
def an_output_that_cannot_be_written_is_refused_before_the_pass():
    # A mistyped folder must not cost a long pass its result: the check
    # comes first, so the good --json beside the bad output is not written.
    good = os.path.join(TMP, "before.json")
    for option, target, reason in (
            ("--report", os.path.join(TMP, "no/such/r.html"),
             b"No such file or directory"),
            ("--trace", TMP, b"Is a directory"),
            ("--per-sample", os.path.join(DATA, "x.csv"), b"Not a directory"),
            ("--json", os.path.join(TMP, "gone", "s.json"),
             b"No such file or directory")):
        json_args = () if option == "--json" else ("--json", good)
        p = run("-q", *json_args, option, target, DATA)
        assert p.returncode == 1, (option, p.returncode, p.stderr)
        assert target.encode() + b": cannot write the " in p.stderr, p.stderr
        assert reason in p.stderr and b"before the pass" in p.stderr, \
            p.stderr
        assert not os.path.exists(good), option
    p = run("-q", "--json", good, "--trace", os.path.join(TMP, "t.json"),
            DATA)
    assert p.returncode == 0 and os.path.exists(good), p.stderr
    # demo: before it generates its dataset
    p = run("demo", "--json", os.path.join(TMP, "gone", "d.json"))
    assert p.returncode == 1 and b"before the pass" in p.stderr and \
        b"generated" not in p.stderr, p.stderr


@case
def control_characters_of_names_in_the_file_are_escaped_on_stderr():
    # A group's name is the file's to choose: printed raw, ESC [ 2 J or
    # an 8-bit CSI (U+009B) would drive the terminal that shows it.
    odd = os.path.join(TMP, "odd-names.h5")
    shutil.copyfile(DATA, odd)
    with h5py.File(odd, "a") as f:
        f.create_group("data/\x1b[31mred\x1b[0m\u009b2J\x07")
    p = run(odd)
    assert p.returncode == 0, p.stderr
    assert b"data/\\x1b[31mred\\x1b[0m\\xc2\\x9b2J\\x07: group name" in \
        p.stderr, p.stderr
    assert not any(b < 0x20 and b != 0x0a for b in p.stderr), p.stderr
    assert b"\xc2\x9b" not in p.stderr


def limited(size):
    """A child whose files may not grow past size bytes (EFBIG, as a full
    disk gives ENOSPC; SIGXFSZ ignored so that the write fails)."""
    def set_limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return set_limit


@case
def generate_stopped_by_a_file_size_limit_fails_cleanly_leaving_no_file():
    # HDF5 1.10 crashed at exit (SIGSEGV) closing a file whose close had
    # failed; the half-written file was left behind, over any old one.
    for model in ("nodal", "cloth"):
        target = os.path.join(TMP, f"limited-{model}.h5")
        with open(target, "wb") as f:
            f.write(b"the old file")
        args = ("generate", target, "-q", "--model", model, "--samples", 2,
                "--timesteps", 20, "--nodes", 3000)
        p = subprocess.run([*wrapper(), MESHSTATS, *map(str, args)],
                           capture_output=True, cwd=TMP, timeout=120,
                           preexec_fn=limited(200 * 1024))
        assert p.returncode == 1, (model, p.returncode, p.stderr)
        assert target.encode() + b": writing failed: File too large" in \
            p.stderr, p.stderr
        assert open(target, "rb").read() == b"the old file", model
        assert not [n for n in os.listdir(TMP) if n.endswith(".tmp")], model
    # A link at the output is replaced by the new file, never written
    # through (the file it names stays as it was).
    victim, link = os.path.join(TMP, "victim"), os.path.join(TMP, "link.h5")
    with open(victim, "wb") as f:
        f.write(b"keep")
    os.symlink(victim, link)
    run("generate", link, "-q", "--samples", 1, "--timesteps", 3, "--nodes",
        20)
    assert open(victim, "rb").read() == b"keep"
    assert not os.path.islink(link) and h5py.is_hdf5(link)


@case
def too_few_file_descriptors_is_an_error_not_an_abort():
    # libuv's first loop in a process makes a pipe and calls abort() if it
    # cannot.  (Not under valgrind, which needs descriptors of its own.)
    said = 0
    for n in range(4, 24):
        def set_limit(n=n):
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        p = subprocess.run([MESHSTATS, "-q", "--json", os.devnull, DATA],
                           capture_output=True, preexec_fn=set_limit,
                           timeout=120)
        assert p.returncode in (0, 1), (n, p.returncode, p.stderr)
        if p.returncode == 1:
            assert DATA.encode() + b": cannot start " in p.stderr and \
                b": too many open files (this process's limit of open " \
                b"files; raise it: ulimit -n)" in p.stderr, (n, p.stderr)
            said += 1
    assert said > 0 and p.returncode == 0, said


@case
def two_runs_writing_one_output_at_once_each_install_a_whole_file():
    # Each run writes its own temporary file beside the output (they shared
    # one: a run could exit 0 with the other's result in place, or fail
    # saying the previous file was unchanged when its own was installed).
    other = os.path.join(TMP, "other.h5")
    run("generate", other, "-q", "--samples", 2, "--timesteps", 4,
        "--nodes", 40)
    out = os.path.join(TMP, "shared.json")
    want = {run("--json", "-", "-q", path).stdout for path in (DATA, other)}
    for _ in range(12):
        runs = [subprocess.Popen([MESHSTATS, "-q", "--json", out, path],
                                 stderr=subprocess.PIPE)
                for path in (DATA, other)]
        for r in runs:
            _, err = r.communicate(timeout=120)
            assert r.returncode == 0, err
        assert open(out, "rb").read() in want
    assert sorted(os.listdir(TMP)).count("shared.json") == 1
    assert not [n for n in os.listdir(TMP) if n.endswith(".tmp")]


if __name__ == "__main__":
    setup()
    sys.exit(main("outputs"))
