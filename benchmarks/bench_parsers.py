"""Time reading a 1,000,000-scalar event file: parsers vs tbparse vs EventAccumulator.

    pip install -e . tbparse runmedic
    python benchmarks/bench_parsers.py [--repeat 3] [--points 1000000] [--layout v2]

The file is written once with tensorboard's own ``EventFileWriter`` (the writer
under torch's ``SummaryWriter``: v1 ``simple_value`` scalars, 4 tags interleaved
step by step) into ``benchmarks/data/`` and reused.  (tbparse's ``.scalars`` and
EventAccumulator's scalar tags hold v1 scalars only.)  ``--layout v2`` writes
TF2-style tensor scalars with ``tensorboard.summary.Writer`` instead (plugin
metadata on every record) and reads them through tbparse's ``.tensors`` and
EventAccumulator's ``Tensors``.  Each reader runs in a fresh subprocess so
peak memory (``ru_maxrss``) is its own; the time is the best of ``--repeat``
runs and covers reading the file into a table of (tag, step, value), after the
libraries were imported.  "RSS added" is the peak minus the RSS after imports (all
readers' libraries are imported in every process, so that the baseline is the
same); "own imports only" is the peak of one more run that imports only that
reader's library, i.e. what a user of it pays in all.  The frames are checked to
be identical before any figure is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TAGS = ("train/loss", "train/lr", "train/grad_norm", "val/loss")


def make_file(points: int, layout: str) -> str:
    out = os.path.join(HERE, "data", f"tb_{layout}_{points}")
    done = os.path.join(out, "DONE")
    if os.path.exists(done):
        return out
    import math

    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    began = time.time()
    if layout == "v2":
        from tensorboard.summary import Writer

        v2 = Writer(out)
        for step in range(points // len(TAGS)):
            for k, tag in enumerate(TAGS):
                v2.add_scalar(tag, math.exp(-step / 50_000) + 0.01 * k, step,
                              wall_time=1.7e9 + step * 0.1)
        v2.close()
        open(done, "w").close()
        return out
    writer = EventFileWriter(out)
    for step in range(points // len(TAGS)):
        for k, tag in enumerate(TAGS):
            value = summary_pb2.Summary.Value(tag=tag,
                                              simple_value=math.exp(-step / 50_000) + 0.01 * k)
            writer.add_event(event_pb2.Event(wall_time=1.7e9 + step * 0.1, step=step,
                                             summary=summary_pb2.Summary(value=[value])))
    writer.close()
    open(done, "w").close()
    print(f"wrote {points:,} scalars with tensorboard's EventFileWriter in "
          f"{time.time() - began:.0f} s", file=sys.stderr)
    return out


def event_file(logdir: str) -> str:
    (name,) = [n for n in os.listdir(logdir) if n.startswith("events.out.tfevents.")]
    return os.path.join(logdir, name)


# ------------------------------------------------------------------ readers

def read_ours(logdir):
    import parsers

    df = parsers.read_file(event_file(logdir))
    return df.metric.astype(str).to_numpy(), df.step.to_numpy(), df.value.to_numpy()


def read_tbparse(logdir):
    from tbparse import SummaryReader

    reader = SummaryReader(logdir)
    df = reader.tensors if LAYOUT == "v2" else reader.scalars
    return df.tag.to_numpy(), df.step.to_numpy(), df.value.to_numpy()


def read_event_accumulator(logdir):
    import numpy as np
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    kind = "tensors" if LAYOUT == "v2" else "scalars"
    acc = EventAccumulator(logdir, size_guidance={kind: 0})
    acc.Reload()
    tags, steps, values = [], [], []
    for tag in acc.Tags()[kind]:
        if LAYOUT == "v2":
            events = acc.Tensors(tag)
            values += [float(make_ndarray(e.tensor_proto)) for e in events]
        else:
            events = acc.Scalars(tag)
            values += [e.value for e in events]
        tags += [tag] * len(events)
        steps += [e.step for e in events]
    return np.array(tags), np.array(steps), np.array(values)


def read_runmedic(logdir):
    """runmedic, the fastest log-diagnosis peer: its own small decoder (no CRC checks)."""
    from pathlib import Path

    import numpy as np
    from runmedic.loaders.tensorboard import load_dir

    run = load_dir(Path(logdir))
    tags, steps, values = [], [], []
    for name, series in run.series.items():
        tags += [name] * len(series.values)
        steps += series.steps
        values += series.values
    return np.array(tags), np.array(steps, dtype=np.int64), np.array(values)


LAYOUT = "v1"
WRITERS = {"v1": "tensorboard EventFileWriter, v1 simple_value",
           "v2": "tensorboard.summary.Writer, v2 tensors with metadata"}
READERS = {"loss_doctor parsers": read_ours, "tbparse": read_tbparse,
           "EventAccumulator": read_event_accumulator, "runmedic": read_runmedic}


OWN_IMPORTS = {"loss_doctor parsers": "parsers", "tbparse": "tbparse",
               "EventAccumulator": "tensorboard.backend.event_processing.event_accumulator",
               "runmedic": "runmedic.loaders.tensorboard"}


def _import_libraries(only: str | None = None) -> None:
    """Import every reader's library before timing: import time is not reading.
    With ``only``, just that reader's own library (for its total footprint)."""
    if only:
        import importlib

        importlib.import_module(OWN_IMPORTS[only])
        return
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import runmedic.loaders.tensorboard  # noqa: F401
    import tbparse  # noqa: F401
    from tensorboard.backend.event_processing import event_accumulator  # noqa: F401

    import parsers  # noqa: F401
    import parsers.tfevents  # noqa: F401


def child(name: str, logdir: str, check: str | None, own: bool = False) -> None:
    import numpy as np

    _import_libraries(name if own else None)
    reader = READERS[name]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    tags, steps, values = reader(logdir)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if check:
        order = np.lexsort((steps, tags))
        np.savez(check, tags=tags[order].astype(str), steps=steps[order],
                 values=values[order].astype(np.float64))
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "base_mb": base,
                      "points": int(len(values))}))


def run_child(name, logdir, check=None, own=False):
    cmd = [sys.executable, __file__, "--child", name, "--logdir", logdir, "--layout", LAYOUT]
    if check:
        cmd += ["--check", check]
    if own:
        cmd += ["--own-imports"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child")
    ap.add_argument("--logdir")
    ap.add_argument("--check")
    ap.add_argument("--own-imports", action="store_true")
    ap.add_argument("--layout", choices=["v1", "v2"], default="v1")
    args = ap.parse_args()
    global LAYOUT
    LAYOUT = args.layout
    if args.child:
        return child(args.child, args.logdir, args.check, args.own_imports)

    import numpy as np

    logdir = make_file(args.points, args.layout)
    size = os.path.getsize(event_file(logdir))
    # identical frames first
    arrays = {}
    for name in READERS:
        path = os.path.join(HERE, "data", f"check_{name.replace(' ', '_')}.npz")
        run_child(name, logdir, check=path)
        arrays[name] = np.load(path)
    ours = arrays["loss_doctor parsers"]
    for name, other in arrays.items():
        assert (other["tags"] == ours["tags"]).all(), name
        assert (other["steps"] == ours["steps"]).all(), name
        np.testing.assert_array_equal(other["values"], ours["values"], err_msg=name)
    results = {}
    for name in READERS:
        runs = [run_child(name, logdir) for _ in range(args.repeat)]
        results[name] = min(runs, key=lambda r: r["seconds"]) | {
            "peak_mb": max(r["peak_mb"] for r in runs),
            "own_peak_mb": run_child(name, logdir, own=True)["peak_mb"]}
    mine = results["loss_doctor parsers"]
    print(f"# {args.points:,} scalars, {size / 1e6:.1f} MB event file "
          f"({WRITERS[args.layout]}), best of {args.repeat}")
    print(f"# {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    print("| reader | seconds | peak RSS MB | RSS added MB | peak RSS MB, own imports only "
          "| time vs loss_doctor |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio = r["seconds"] / mine["seconds"]
        print(f"| {name} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | "
              f"{r['peak_mb'] - r['base_mb']:.0f} | {r['own_peak_mb']:.0f} | {ratio:.1f}x |")
    print("frames identical: yes (tag, step, value of every point)")


if __name__ == "__main__":
    main()
