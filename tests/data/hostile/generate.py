"""Build the corpus of hostile log trees (issue 14), one directory per case.

    python tests/data/hostile/generate.py OUT_DIR

Nothing here can live in git (FIFOs, sockets, symlinks to devices, a name
that is not UTF-8, a tree 1,000 levels deep, a directory nobody may read), so
the corpus is built at test time: :func:`build` makes every case under one
root, beside a good run, and returns what each case must give.  What each case
must give is stated here by hand, not derived from what the readers do.

The classes (numbers as in the issue):

1. special files named like every format's logs: FIFOs, a socket, symlinks
   to ``/dev/zero`` and ``/dev/urandom`` (never opened; named in ``errors``);
2. one bad file among good ones: JSON nested 100,000 deep, numbers beyond a
   double (kept as inf) and steps beyond int64 (the line dropped and named), a
   trainer state nested 100,000 deep, a directory whose name is not UTF-8, a
   run 1,000 directories down;
3. names with a newline, ANSI/OSC escapes, BEL and a bidi override;
4. one string step and one float step among integer steps;
5. a UTF-16 CSV and a gzip file named ``metrics.csv`` (read), a damaged gzip
   (named);
7. a directory nobody may read (named; only where the tests do not run as
   root, who reads everything).

Class 6 (outputs aimed at the logs) is a set of command lines, not a tree:
:func:`aimed_outputs`.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import sys

EVIL = "loss\x1b[2J\x1b]0;owned\x07\nLD101 fake\u202e"
DEEP_LEVELS = 1000


def _event_file(path: str, steps: int = 40) -> None:
    """A TensorBoard event file of ``loss`` = 1/(step+1), written with
    tensorboard's own record writer (TFRecord framing, real CRCs)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    with open(path, "wb") as fh:
        writer = RecordWriter(fh)
        writer.write(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")
                     .SerializeToString())
        for step in range(steps):
            value = summary_pb2.Summary.Value(tag="loss", simple_value=1.0 / (step + 1))
            writer.write(event_pb2.Event(wall_time=1.7e9 + step, step=step,
                                         summary=summary_pb2.Summary(value=[value]))
                         .SerializeToString())
        writer.flush()


EVENTS = "events.out.tfevents.1700000000.hostile"


def _write(path: str, data) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as fh:
        fh.write(data)


def build(root: str) -> dict:
    """Every case under ``root``.  Returns ``{"runs": {run: points of loss},
    "errors": {file name or directory: words its error must hold},
    "special": [paths of the files that are not regular], "deep": top of the
    1,000-level tree (for :func:`remove_deep`)}``."""
    os.makedirs(root, exist_ok=True)
    runs, errors, special = {}, {}, []
    j = os.path.join

    os.makedirs(j(root, "good"))
    _event_file(j(root, "good", EVENTS))
    runs["good"] = 40

    # 1. special files named like logs
    odd = j(root, "special")
    os.makedirs(odd)
    for name in ("train.log", "metrics.jsonl", "metrics.csv", "trainer_state.json",
                 "events.out.tfevents.1.x", "mlflow.db", "run-abc.wandb"):
        os.mkfifo(j(odd, name))
        errors[name] = "a FIFO, not a regular file: not read"
        special.append(j(odd, name))
    for name, target in (("nohup.out", "/dev/zero"), ("log.jsonl", "/dev/urandom")):
        os.symlink(target, j(odd, name))
        errors[name] = "a link to a character device, not a regular file: not read"
        special.append(j(odd, name))
    sockets = j(root, "sockets")
    os.makedirs(sockets)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(j(sockets, "output.log"))
    sock.close()
    errors["output.log"] = "a socket, not a regular file: not read"
    special.append(j(sockets, "output.log"))
    urandom = j(root, "urandom_csv")
    os.makedirs(urandom)
    for name in ("metrics.csv", "trainer_state.json"):
        os.symlink("/dev/urandom", j(urandom, name))
        special.append(j(urandom, name))
    errors["urandom_csv"] = "a link to a character device"

    # 2. one bad file among good ones
    _write(j(root, "deep_jsonl", "metrics.jsonl"),
           '{"step": 1, "loss": 0.5}\n' + '{"a":' * 100_000 + "1" + "}" * 100_000
           + '\n{"step": 2, "loss": 0.4}\n')
    runs["deep_jsonl"] = 2
    errors["deep_jsonl"] = "line 2: nested deeper than a JSON parser goes"
    _write(j(root, "deep_hf", "trainer_state.json"),
           '{"log_history": [' + "[" * 100_000 + "]" * 100_000 + "]}")
    errors["deep_hf"] = "nested deeper than a JSON parser goes"
    _write(j(root, "big_numbers", "metrics.jsonl"),
           '{"step": 1, "loss": 1' + "0" * 400 + '}\n{"step": 2, "loss": 0.4}\n'
           '{"step": 3, "loss": -1' + "0" * 400 + "}\n")
    runs["big_numbers"] = 3
    _write(j(root, "big_steps", "metrics.jsonl"),
           '{"step": 1e300, "loss": 1}\n{"step": 9223372036854775808, "loss": 0.4}\n'
           '{"step": 3, "loss": 0.3}\n{"step": 4, "loss": 0.2}\n')
    runs["big_steps"] = 2
    errors["big_steps"] = "line 1: step 1e+300 does not fit in 64 bits"
    _write(j(root, "big_hf", "trainer_state.json"), json.dumps({"log_history": [
        {"step": 2 ** 63, "loss": 1.0}, {"step": 1, "loss": 10 ** 400},
        {"step": 2, "loss": 0.5}]}))
    runs["big_hf"] = 2
    errors["big_hf"] = "1 with a step beyond 64 bits"
    bad_name = os.path.join(os.fsencode(root), b"bad_\xff_name")
    os.mkdir(bad_name)
    _event_file(os.fsdecode(os.path.join(bad_name, EVENTS.encode())))
    runs["bad_\\xff_name"] = 40
    deep = j(root, "deep")
    os.mkdir(deep)
    for _ in range(DEEP_LEVELS):  # level by level: os.makedirs itself recurses
        deep = j(deep, "d")
        os.mkdir(deep)
    _event_file(j(deep, EVENTS))
    runs["/".join(["deep"] + ["d"] * DEEP_LEVELS)] = 40

    # 3. names that would rewrite a terminal
    rows = [{"step": s, EVIL: 1.0 / (s + 1) if s != 30 else float("nan")} for s in range(60)]
    _write(j(root, "names\x1b[31m", "metrics.jsonl"),
           "".join(json.dumps(r) + "\n" for r in rows) + "{not json \x1b[31m\n")

    # 4. one odd step
    lines = [{"step": s, "loss": 1.0 / (s + 1)} for s in range(50)]
    lines[10]["step"] = "ten"
    lines[20]["step"] = 20.5
    _write(j(root, "odd_step", "metrics.jsonl"), "".join(json.dumps(r) + "\n" for r in lines))
    runs["odd_step"] = 48
    errors["odd_step"] = "line 11"

    # 5. encodings
    text = "step,loss\n" + "".join(f"{s},{1 / (s + 1)}\n" for s in range(30))
    _write(j(root, "utf16", "metrics.csv"), text.encode("utf-16"))
    _write(j(root, "gzipped", "metrics.csv"), gzip.compress(text.encode(), mtime=0))
    _write(j(root, "bad_gzip", "metrics.csv"), gzip.compress(text.encode(), mtime=0)[:40])
    runs.update({"utf16": 30, "gzipped": 30})
    errors["bad_gzip"] = "gzip-compressed, and the compression is damaged"

    # 7. a directory nobody may read
    locked = j(root, "locked")
    os.makedirs(locked)
    _write(j(locked, "metrics.csv"), text)
    os.chmod(locked, 0)
    if os.geteuid() != 0:
        errors["locked"] = "cannot be read"
    return {"runs": runs, "errors": errors, "special": special, "deep": j(root, "deep"),
            "locked": locked}


def aimed_outputs(root: str, log: str) -> list[list[str]]:
    """Command lines whose outputs land on or in the logs (class 6); each must
    be refused with exit 2 before any work.  ``log``: one event file of a run
    under ``root`` (a hard link of it is made beside ``root``)."""
    link = os.path.join(os.path.dirname(root), "hard_link_of_a_log.txt")
    if not os.path.exists(link):
        os.link(log, link)
    run = os.path.dirname(log)
    return [["check", log, "-o", log],
            ["check", root, "-o", link],
            ["check", log, "--report", os.path.join(run, "report")],
            ["check", log, "--write-baseline", log],
            ["check", root, "--write-baseline", link],
            ["export", log, "-o", os.path.join(run, "frame.csv")],
            ["export", root, "-o", link],
            ["export", root, "-o", os.path.join(run, "frame.csv")],
            ["check", root, "-o", os.path.join(os.path.dirname(root), "missing", "out.txt")]]


def snapshot(root: str) -> dict:
    """Every entry under ``root`` (by raw name) with its type and, for regular
    files, its bytes' length and a digest: to show nothing changed."""
    import hashlib

    out = {}
    stack = [os.fsencode(root)]
    while stack:
        top = stack.pop()
        try:
            names = os.listdir(top)
        except PermissionError:
            out[top] = "unreadable directory"
            continue
        for name in names:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if os.path.islink(path):
                out[path] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                stack.append(path)
                out[path] = "dir"
            elif os.path.isfile(path):
                with open(path, "rb") as fh:
                    out[path] = (st.st_size, hashlib.sha256(fh.read()).hexdigest())
            else:
                out[path] = ("special", st.st_mode)
    return out


def remove(root: str, built: dict) -> None:
    """Undo what tests cannot delete with ``shutil.rmtree``: the locked
    directory's mode and the 1,000-level tree."""
    os.chmod(built["locked"], 0o755)
    remove_deep(built["deep"])


def remove_deep(top) -> None:
    """Delete a very deep tree level by level: ``shutil.rmtree`` (and so
    pytest's own clean-up of old temporary directories) recurses, and fails."""
    levels = [str(top)]
    while True:
        below = [os.path.join(levels[-1], n) for n in os.listdir(levels[-1])]
        for path in below:
            if not os.path.isdir(path) or os.path.islink(path):
                os.remove(path)
        dirs = [p for p in below if os.path.isdir(p) and not os.path.islink(p)]
        if not dirs:
            break
        levels.append(dirs[0])
    for level in reversed(levels):
        os.rmdir(level)


if __name__ == "__main__":
    built = build(sys.argv[1])
    print(f"built {len(built['runs'])} readable runs and {len(built['errors'])} named "
          f"problems in {sys.argv[1]}")
