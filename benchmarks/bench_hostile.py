"""Resource limits on hostile inputs: a 5 GB event file and a 50,000-file directory.

    python benchmarks/bench_hostile.py [--gb 5] [--files 50000]

Writes once into ``benchmarks/data/``:

* ``big_event/``: one event file of ``--gb`` GB as a vision run writes it: a
  1 MB image summary and a ``loss`` scalar every step (5,000 steps for 5 GB),
  framed with real CRCs like TensorBoard's writer;
* ``many_files/``: ``--files`` tiny event files, ten per run directory (a job
  restarted ten times), 5,000 runs for 50,000 files.

Then, each in a fresh subprocess with the open-file limit lowered to 256:
``parsers.read_file`` on the big file and ``loss-doctor check`` on both
(``--jobs`` = cores), reporting time, peak RSS (largest process) and points.
EventAccumulator (scalars only, images kept to 1) reads the big file in the
same run for comparison, stopped after ``PEER_LIMIT`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_LIMIT = 600  # seconds the peer may take on the big file
DATA = os.path.join(HERE, "data")


def _record(payload: bytes) -> bytes:
    from parsers.tfevents.crc32c import masked_crc32c

    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc32c(header)) + payload + struct.pack(
        "<I", masked_crc32c(payload))


def make_big(gb: float) -> str:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    out = os.path.join(DATA, f"big_event_{gb:g}gb")
    path = os.path.join(out, "events.out.tfevents.1700000000.big")
    if os.path.exists(os.path.join(out, "DONE")):
        return path
    os.makedirs(out, exist_ok=True)
    image = os.urandom(1 << 20)  # incompressible, like a PNG
    steps = int(gb * 1024)
    with open(path, "wb") as fh:
        fh.write(_record(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")
                         .SerializeToString()))
        for step in range(steps):
            img = summary_pb2.Summary.Image(height=512, width=512, colorspace=3,
                                            encoded_image_string=image)
            events = [summary_pb2.Summary(value=[summary_pb2.Summary.Value(
                          tag="samples", image=img)]),
                      summary_pb2.Summary(value=[summary_pb2.Summary.Value(
                          tag="loss", simple_value=2.0 / (1 + step / 500))])]
            for summary in events:
                fh.write(_record(event_pb2.Event(wall_time=1.7e9 + step, step=step,
                                                 summary=summary).SerializeToString()))
    open(os.path.join(out, "DONE"), "w").close()
    return path


def make_many(files: int) -> str:
    out = os.path.join(DATA, f"many_files_{files}")
    if os.path.exists(os.path.join(out, "DONE")):
        return out
    from tensorboard.compat.proto import event_pb2, summary_pb2

    per_run = 10
    for run in range(files // per_run):
        folder = os.path.join(out, f"run_{run:05d}")
        os.makedirs(folder, exist_ok=True)
        for part in range(per_run):
            chunks = [_record(event_pb2.Event(wall_time=1.7e9 + part * 100,
                                              file_version="brain.Event:2")
                              .SerializeToString())]
            for step in range(part * 20, part * 20 + 20):
                summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(
                    tag="loss", simple_value=2.0 / (1 + step / 50))])
                chunks.append(_record(event_pb2.Event(wall_time=1.7e9 + step, step=step,
                                                      summary=summary).SerializeToString()))
            name = f"events.out.tfevents.{1700000000 + part * 100}.host.{part}"
            with open(os.path.join(folder, name), "wb") as fh:
                fh.write(b"".join(chunks))
    open(os.path.join(out, "DONE"), "w").close()
    return out


def child(kind: str, path: str) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    import parsers
    from loss_doctor.cli import cli

    began = time.perf_counter()
    extra = {}
    if kind == "read":
        df = parsers.read_file(path)
        extra = {"points": int(len(df))}
    elif kind == "check":
        cli.main(["check", path, "--format", "json", "-o", os.devnull, "--exit-zero",
                  "--quiet", "--no-cache"], standalone_mode=False)
    elif kind == "ea":
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        acc = EventAccumulator(os.path.dirname(path), size_guidance={"scalars": 0,
                                                                     "images": 1})
        acc.Reload()
        extra = {"points": sum(len(acc.Scalars(t)) for t in acc.Tags()["scalars"])}
    seconds = time.perf_counter() - began
    peak = max(resource.getrusage(who).ru_maxrss / 1024
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"seconds": seconds, "peak_mb": peak, **extra}))


def _run(kind: str, path: str, limit: float | None = None) -> dict | None:
    """The child's figures, or None if it did not finish within ``limit`` seconds."""
    try:
        out = subprocess.run([sys.executable, __file__, "--child", kind, "--path", path],
                             check=True, capture_output=True, text=True, timeout=limit).stdout
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=5)
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--no-peer", action="store_true", help="skip EventAccumulator")
    ap.add_argument("--child")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.path)
    big = make_big(args.gb)
    many = make_many(args.files)
    size = os.path.getsize(big) / 2 ** 30
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}; open files limit 256")
    print("| input | what | seconds | peak RSS MB | points |")
    print("|---|---|---:|---:|---:|")
    rows = [(f"{size:.1f} GB event file", "`parsers.read_file`", "read", big),
            (f"{size:.1f} GB event file", "`loss-doctor check`", "check", os.path.dirname(big))]
    if not args.no_peer:
        rows.append((f"{size:.1f} GB event file", "EventAccumulator (scalars, 1 image)",
                     "ea", big))
    rows.append((f"{args.files:,} files, {args.files // 10:,} runs", "`loss-doctor check`",
                 "check", many))
    for label, what, kind, path in rows:
        r = _run(kind, path, limit=PEER_LIMIT if kind == "ea" else None)
        if r is None:
            print(f"| {label} | {what} | > {PEER_LIMIT} (stopped) | | |", flush=True)
            continue
        print(f"| {label} | {what} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | "
              f"{r.get('points', '')} |", flush=True)


if __name__ == "__main__":
    main()
