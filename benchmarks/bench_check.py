"""End-to-end ``loss-doctor check`` on a 1,000-run sweep (about 10 million points).

    pip install -e .
    python benchmarks/bench_check.py [--runs 1000] [--steps 3300] [--tbparse] [--dask]

Writes once into ``benchmarks/data/sweep_R_S/``: R runs, each one event file
with 4 scalars per step (train/loss, train/lr, train/grad_norm and val/loss
every 50 steps) for S steps, from loss_doctor.datasets (healthy runs; every
100th run blows up after warmup, every 97th has a spike).  Records are
serialised with the ``Event`` protobuf and framed with masked CRC32C exactly
as TensorBoard's writer does, but without its per-byte Python CRC loop.
Then times, each in a subprocess (best of ``--repeat``): reading into one
frame; reading and diagnosing that frame; and the whole ``loss-doctor check``
command with ``--jobs 1`` and with one job per core (each run read and
diagnosed in a worker, only findings sent back).  Peak RSS is that of the
largest single process (the command's own or one of its pool workers).
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

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# the cache the cli_* children use (alternate.py gives each checkout its own)
CACHE = os.environ.get("BENCH_CACHE_DIR") or os.path.join(HERE, "data", "cache")


def _record(payload: bytes, crc) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", crc(header)) + payload
            + struct.pack("<I", crc(payload)))


def make_sweep(runs: int, steps: int) -> str:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    from loss_doctor import datasets as ds
    from parsers.tfevents.crc32c import masked_crc32c

    out = os.path.join(HERE, "data", f"sweep_{runs}_{steps}")
    if os.path.exists(os.path.join(out, "DONE")):
        return out
    began = time.time()
    for i in range(runs):
        if i % 100 == 37:
            run = ds.blowup_after_warmup(n=steps, seed=i)
        elif i % 97 == 5:
            run = ds.spike_at(n=steps, seed=i)
        else:
            run = ds.healthy(n=steps, seed=i, evals=steps // 50)
        _, loss = run.series["train/loss"]
        lr = run.series["train/lr"][1]
        grad = np.exp(np.random.default_rng(i).normal(0, 0.3, steps))
        val_steps, val = run.series.get("val/loss", (np.array([], int), np.array([])))
        val_at = dict(zip(val_steps.tolist(), val.tolist()))
        path = os.path.join(out, f"lr_{i:04d}")
        os.makedirs(path, exist_ok=True)
        chunks = [_record(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")
                          .SerializeToString(), masked_crc32c)]
        for s in range(steps):
            values = [("train/loss", loss[s]), ("train/lr", lr[s]), ("train/grad_norm", grad[s])]
            if s in val_at:
                values.append(("val/loss", val_at[s]))
            for tag, v in values:
                event = event_pb2.Event(wall_time=1.7e9 + s, step=s, summary=summary_pb2.Summary(
                    value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(v))]))
                chunks.append(_record(event.SerializeToString(), masked_crc32c))
        with open(os.path.join(path, f"events.out.tfevents.1700000000.bench.{i}"), "wb") as fh:
            fh.write(b"".join(chunks))
    open(os.path.join(out, "DONE"), "w").close()
    print(f"wrote {runs} runs in {time.time() - began:.0f} s", file=sys.stderr)
    return out


def child(kind: str, path: str) -> None:
    import parsers
    from loss_doctor.cli import cli  # import cost outside the timer

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    if kind.startswith("cli_"):  # cli_<jobs>_<cold|warm>
        _, jobs, cache = kind.split("_")
        os.environ["LOSS_DOCTOR_CACHE_DIR"] = CACHE
        cli.main(["check", path, "--format", "json", "-o", os.devnull, "--jobs", jobs,
                  "--exit-zero", "--quiet"] + (["--no-cache"] if cache == "cold" else []),
                 standalone_mode=False)
        extra = {}
    elif kind == "read":
        df = parsers.read_logdir(path)
        extra = {"points": int(len(df))}
    elif kind == "tbparse":  # the peer's load alone, no diagnosis
        from tbparse import SummaryReader

        df = SummaryReader(path, extra_columns={"dir_name"}).scalars
        extra = {"points": int(len(df)), "runs": int(df["dir_name"].nunique())}
    elif kind == "dask_cli":
        os.environ["LOSS_DOCTOR_CACHE_DIR"] = CACHE
        cli.main(["check", path, "--format", "json", "-o", os.devnull, "--executor", "dask",
                  "--exit-zero", "--quiet", "--no-cache"], standalone_mode=False)
        extra = {}
    else:
        from loss_doctor.config import Config
        from loss_doctor.diagnosis import diagnose_frame

        df = parsers.read_logdir(path)
        findings = diagnose_frame(df, Config())
        extra = {"points": int(len(df)), "findings": len(findings),
                 "top": [f"{f.code} {f.run}" for f in findings[:3]],
                 "problems": sum(f.severity != "info" for f in findings)}
    seconds = time.perf_counter() - began
    peak = max(resource.getrusage(who).ru_maxrss / 1024  # pool workers are children
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "base_mb": base, **extra}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=3300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tbparse", action="store_true",
                    help="also time tbparse loading the sweep (minutes)")
    ap.add_argument("--dask", action="store_true",
                    help="also time check on a local Dask cluster")
    ap.add_argument("--child")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.path)
    path = make_sweep(args.runs, args.steps)
    results = {}
    for kind in ("read", "check"):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--child", kind, "--path", path],
                                 check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        results[kind] = min(runs, key=lambda r: r["seconds"])
        results[kind]["peak_mb"] = max(r["peak_mb"] for r in runs)
    cores = os.cpu_count() or 1
    kinds = ["cli_1_cold", f"cli_{cores}_cold", f"cli_{cores}_warm"]
    if args.dask:
        kinds.append("dask_cli")
    if args.tbparse:
        kinds.append("tbparse")
    for kind in kinds:
        if kind.endswith("warm"):  # fill the cache once
            subprocess.run([sys.executable, __file__, "--child", kind, "--path", path],
                           check=True, capture_output=True)
        runs = []
        for _ in range(1 if kind == "tbparse" else args.repeat):  # minutes per load
            out = subprocess.run([sys.executable, __file__, "--child", kind, "--path",
                                  path], check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        results[kind] = min(runs, key=lambda r: r["seconds"])
        results[kind]["peak_mb"] = max(r["peak_mb"] for r in runs)
    check = results["check"]
    print(f"# {args.runs} runs x {args.steps} steps, {check['points']:,} points; best of "
          f"{args.repeat}; {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print("| stage | seconds | peak RSS MB |")
    print("|---|---:|---:|")
    for kind, r in results.items():
        label = {"read": "read_logdir (one frame)", "check": "read + diagnose, one frame",
                 "tbparse": "tbparse `SummaryReader(dir).scalars` (load only, once)",
                 "dask_cli": "`loss-doctor check --executor dask` (local cluster, "
                             "--no-cache)"}.get(kind)
        label = label or (f"`loss-doctor check --jobs {kind.split('_')[1]}` "
                          f"({'cache filled' if kind.endswith('warm') else '--no-cache'})")
        print(f"| {label} | {r['seconds']:.2f} | {r['peak_mb']:.0f} |")
    print(f"findings: {check['findings']} ({check['problems']} warnings/errors); "
          f"ranked first: {', '.join(check['top'])}")


if __name__ == "__main__":
    main()
