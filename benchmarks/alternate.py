"""Old code against new on the same data, alternated, in one run.

    python benchmarks/alternate.py --old 5ea0aa8 --kind cli_2_cold \\
        --path benchmarks/data/sweep_1000_3300 [--repeat 3]

Checks ``--old`` out into a temporary git worktree and times
``bench_check.py --child KIND --path PATH`` (this checkout's harness) with the
old tree first on ``PYTHONPATH``, then with this checkout, ``--repeat`` times
in turn: a machine that slows down during the run slows both alike.  Each tree
has its own cache directory (a ``*_warm`` kind fills it once first).  Prints
every time, the best and the median of each, and the median of the rounds'
new/old ratios (the steadier figure when the machine's speed swings).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(tree: str, kind: str, path: str, cache: str) -> dict:
    env = {**os.environ, "PYTHONPATH": tree, "BENCH_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, os.path.join(HERE, "bench_check.py"), "--child",
                          kind, "--path", os.path.abspath(path)], env=env, check=True,
                         capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True, help="a git revision")
    ap.add_argument("--kind", required=True, help="a bench_check.py child: cli_2_cold ...")
    ap.add_argument("--path", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = os.path.join(tmp, "old")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", old, args.old],
                       check=True)
        try:
            trees = {"old": old, "new": ROOT}
            caches = {name: os.path.join(tmp, f"cache_{name}") for name in trees}
            if args.kind.endswith("warm"):
                for name, tree in trees.items():
                    run(tree, args.kind, args.path, caches[name])
            times = {name: [] for name in trees}
            peaks = {name: [] for name in trees}
            for i in range(args.repeat):
                for name, tree in trees.items():
                    r = run(tree, args.kind, args.path, caches[name])
                    times[name].append(r["seconds"])
                    peaks[name].append(r["peak_mb"])
                    print(f"{i + 1} {name}: {r['seconds']:.2f} s, {r['peak_mb']:.0f} MB",
                          flush=True)
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", old],
                           check=False)
    for name in times:
        print(f"{name} ({args.old if name == 'old' else 'this checkout'}): best "
              f"{min(times[name]):.2f} s, median {statistics.median(times[name]):.2f} s, "
              f"peak {max(peaks[name]):.0f} MB")
    # each round's new time over its old one: a machine whose speed swings by
    # half within minutes moves both of a round alike, less often the medians
    ratios = sorted(n / o for o, n in zip(times["old"], times["new"]))
    faster = sum(r < 1 for r in ratios)
    print(f"new/old by round: median {statistics.median(ratios):.2f} "
          f"({ratios[0]:.2f}-{ratios[-1]:.2f}); new faster in {faster} of {len(ratios)}")


if __name__ == "__main__":
    main()
