"""The whole check against the peers' whole checks, on the same logs, in one run.

    python -m venv /tmp/peers && /tmp/peers/bin/pip install 'losslint[tb]' runmedic \\
        'trainspotter[tensorboard]'
    python benchmarks/bench_peers.py --peers /tmp/peers/bin --path benchmarks/data/sweep_1000_3300

Each command runs in a subprocess, ``--repeat`` times in turn (the peers once
each with ``--peer-repeat``), with ``--timeout`` seconds at most; the time is
wall-clock and the memory the peak RSS of its largest process (``check
--jobs 2`` has pool workers).  What each command is:

* loss-doctor: ``check PATH --format json --no-cache --jobs N`` (cold: decodes
  every file) and the same with the cache filled (warm);
* runmedic: ``diagnose PATH --json`` (every run below PATH);
* losslint: ``check PATH --format json`` (every log file below PATH);
* trainspotter: ``analyze PATH --output json``, which judges one run only (the
  one with the most points): timed on a single run, never on a sweep.

``--skip losslint`` (repeatable) leaves a peer out when its minutes are not to
be spent again; the table then says only what ran.

The peers live in their own virtual environment (``--peers``: its bin
directory) so that their dependencies never meet ours.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

_TIMED = """
import resource, subprocess, sys, time
began = time.perf_counter()
try:
    code = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=float(sys.argv[1])).returncode
except subprocess.TimeoutExpired:
    code = "timeout"
print(time.perf_counter() - began, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def timed(cmd: list[str], timeout: float, env=None) -> dict:
    out = subprocess.run([sys.executable, "-c", _TIMED, str(timeout), *cmd], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return {"seconds": float(out[0]), "peak_mb": int(out[1]) / 1024, "exit": out[2]}


def commands(path: str, peers: str, jobs: int, single: bool) -> dict[str, list[str]]:
    ours = [os.path.join(os.path.dirname(sys.executable), "loss-doctor"), "check", path,
            "--format", "json", "-o", os.devnull, "--exit-zero", "--quiet", "--jobs", str(jobs)]
    out = {f"loss-doctor check --jobs {jobs} --no-cache": ours + ["--no-cache"],
           f"loss-doctor check --jobs {jobs}, cache filled": ours,
           "runmedic diagnose --json": [os.path.join(peers, "runmedic"), "diagnose", path,
                                        "--json"],
           "losslint check --format json": [os.path.join(peers, "losslint"), "check", path,
                                            "--format", "json"]}
    if single:
        out["trainspotter analyze --output json"] = [
            os.path.join(peers, "trainspotter"), "analyze", path, "--output", "json"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", required=True)
    ap.add_argument("--peers", required=True, help="the bin directory of the peers' venv")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peer-repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--single", action="store_true",
                    help="PATH is one run: also time trainspotter (it judges one run)")
    ap.add_argument("--skip", action="append", default=[], metavar="PEER",
                    help="leave this peer out (repeatable): losslint takes about 9 minutes "
                         "on the sweep, trainspotter more than 10 on the 10M-point file")
    args = ap.parse_args()
    path = os.path.abspath(args.path)
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "LOSS_DOCTOR_CACHE_DIR": cache}
        cmds = {name: cmd for name, cmd in commands(path, args.peers, args.jobs,
                                                     args.single).items()
                if name.split()[0] not in args.skip}
        warm = next(k for k in cmds if k.endswith("cache filled"))
        subprocess.run(cmds[warm], env=env, check=False, capture_output=True)  # fill it
        results: dict[str, list[dict]] = {k: [] for k in cmds}
        rounds = max(args.repeat, args.peer_repeat)
        for i in range(rounds):
            for name, cmd in cmds.items():
                ours = name.startswith("loss-doctor")
                if i >= (args.repeat if ours else args.peer_repeat):
                    continue
                r = timed(cmd, args.timeout, env)
                results[name].append(r)
                print(f"{i + 1} {name}: {r['seconds']:.2f} s, {r['peak_mb']:.0f} MB, "
                      f"exit {r['exit']}", file=sys.stderr, flush=True)
    base = min(r["seconds"] for r in results[next(iter(cmds))])
    print(f"# {os.path.basename(path)}; best of {args.repeat} (peers: {args.peer_repeat}); "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    print("| command | seconds | peak RSS MB | exit | vs loss-doctor cold |")
    print("|---|---:|---:|---|---:|")
    for name, runs in results.items():
        best = min(runs, key=lambda r: r["seconds"])
        ratio = best["seconds"] / base
        print(f"| {name} | {best['seconds']:.2f} | {max(r['peak_mb'] for r in runs):.0f} | "
              f"{best['exit']} | {ratio:.1f}x |")
    json.dump(results, sys.stderr)


if __name__ == "__main__":
    main()
