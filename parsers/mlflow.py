"""MLflow's file store: ``mlruns/<experiment id>/<run id>/``, as ``mlflow``
writes it with a ``file:`` tracking URI (the ``mlruns/`` default of MLflow 2).

* ``metrics/<key>``: a file per metric, a line per logged value,
  ``<timestamp ms> <value> <step>`` (files from before MLflow 1.0 have no
  step: 0).  A key holding ``/`` is a subdirectory (``metrics/train/loss``).
  Values are Python's ``str(float)``: ``nan``, ``inf`` and ``-inf`` are kept.
* the run's ``meta.yaml``: ``run_name``, ``status`` (1 running, 3 finished,
  4 failed, 5 killed), ``lifecycle_stage``; the experiment's: its ``name``.
  Read as plain ``key: value`` lines, never as YAML objects.
* ``params/<key>`` and ``tags/<key>``: a file each, holding the value
  (``tags/mlflow.parentRunId`` names a nested run's parent).

A run is named ``<mlruns, relative to the root>/<experiment name>/<run name>``
(``mlruns/finetune/lr-3e-4``; the ids where a name is missing).  Damage: a line that is
not three numbers is reported with its line and skipped; a last line without
its line end (a write in progress: the value may be cut) is left out with a
note; a step beyond int64 is reported.
"""

from __future__ import annotations

import functools
import os

from . import storage
from .errors import ParseError
from .format import Format
from .frame import FileData

STATUS = {"1": "running", "2": "scheduled", "3": "finished", "4": "failed", "5": "killed"}
_MAX_DEPTH = 8  # a metric key nested deeper than this is not looked for
_MAX_META = 1 << 16


def _meta(path: str) -> dict[str, str]:
    """The top-level ``key: value`` lines of an MLflow ``meta.yaml`` (``{}`` if
    it cannot be read)."""
    out = {}
    try:
        with storage.open_text(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(_MAX_META)
    except OSError:
        return {}
    for line in text.splitlines():
        if line[:1] in (" ", "-", "#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        out[key.strip()] = value.strip().strip("'\"")
    return out


@functools.lru_cache(maxsize=4096)
def _is_run_dir(path: str) -> bool:
    meta = _meta(storage.join(path, "meta.yaml"))
    return "experiment_id" in meta and ("run_id" in meta or "run_uuid" in meta)


def _run_dir_of(dirpath: str) -> str | None:
    """The run directory of a file in ``dirpath`` below a run's ``metrics/``."""
    here = dirpath
    for _ in range(_MAX_DEPTH):
        if storage.basename(here) == "metrics":
            run = storage.dirname(here)
            return run if _is_run_dir(run) else None
        parent = storage.dirname(here)
        if parent == here:
            return None
        here = parent
    return None


def _classify(path: str) -> str | None:
    return "mlflow" if _run_dir_of(storage.dirname(path)) is not None else None


def owner(dirpath: str, root: str | None = None) -> str:
    return _run_dir_of(dirpath) or dirpath


def run_id(root: str, run_dir: str) -> str:
    """``<where mlruns is>/<experiment name>/<run name>``."""
    experiment_dir = storage.dirname(run_dir)
    store = storage.dirname(experiment_dir)
    meta = _meta(storage.join(run_dir, "meta.yaml"))
    experiment = _meta(storage.join(experiment_dir, "meta.yaml")).get("name") \
        or storage.basename(experiment_dir)
    name = meta.get("run_name") or _tag(run_dir, "mlflow.runName") \
        or storage.basename(run_dir)
    rel = storage.relpath(store, root)
    prefix = "" if rel == "." else rel + "/"
    return f"{prefix}{experiment}/{name}"


def _tag(run_dir: str, key: str) -> str | None:
    try:
        with storage.open_text(storage.join(storage.join(run_dir, "tags"), key), encoding="utf-8",
                               errors="replace") as fh:
            return fh.read(1024).strip() or None
    except OSError:
        return None


def read_mlflow(paths) -> FileData:
    """The metric files of one run, as one file's data (the run directory's)."""
    paths = [os.fspath(p) for p in paths] if isinstance(paths, list) else [os.fspath(paths)]
    run_dir = _run_dir_of(storage.dirname(paths[0])) or storage.dirname(paths[0])
    metrics_dir = storage.join(run_dir, "metrics")
    names, steps, values, walls = [], [], [], []
    errors, notes = [], []
    for path in sorted(paths):
        key = storage.relpath(path, metrics_dir)
        try:
            with storage.open_binary(path) as fh:
                raw = fh.read()
        except OSError as exc:
            errors.append(ParseError(path, exc.strerror or str(exc)))
            continue
        lines = raw.split(b"\n")
        if lines and lines[-1].strip():
            notes.append(f"{key}: last line incomplete (no line end): a run still being "
                         "written? kept the lines before it")
        for lineno, line in enumerate(lines[:-1], 1):
            point = _point(path, lineno, line, errors)
            if point is not None:
                names.append(key)
                walls.append(point[0])
                values.append(point[1])
                steps.append(point[2])
    if not names and errors and len(errors) >= len(paths):
        raise errors[0]
    data = FileData.from_points(run_dir, "mlflow", names, steps, values, walls,
                                notes=notes, errors=errors)
    if walls:
        data.start = min(walls)
    meta = _meta(storage.join(run_dir, "meta.yaml"))
    add_facts(data, {
        "run_id": meta.get("run_id") or meta.get("run_uuid"),
        "run_name": meta.get("run_name"),
        "experiment_id": meta.get("experiment_id"),
        "status": STATUS.get(meta.get("status", ""), meta.get("status")),
        "parent_run_id": _tag(run_dir, "mlflow.parentRunId"),
        "params": _params(run_dir),
        "deleted": meta.get("lifecycle_stage") == "deleted"})
    return data


def _point(path: str, lineno: int, line: bytes, errors) -> tuple[float, float, int] | None:
    parts = line.split()
    if not parts:
        return None
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        timestamp, value = int(parts[0]), float(parts[1])
        step = int(parts[2]) if len(parts) == 3 else 0
    except ValueError:
        text = line.decode("utf-8", "replace")[:60]
        errors.append(ParseError(path, f"not '<timestamp> <value> <step>': {text!r}; "
                                       "skipped", line=lineno))
        return None
    if not -2 ** 63 <= step < 2 ** 63:
        errors.append(ParseError(path, f"step {step} does not fit in 64 bits; skipped",
                                 line=lineno))
        return None
    return timestamp / 1000.0, value, step


def add_facts(data: FileData, facts: dict) -> None:
    """``attrs["runs"][run]["mlflow"]``: run id and name, experiment, status
    (running, finished, failed, killed), parent run, parameters; a deleted run
    is noted."""
    if facts.pop("deleted", False):
        data.notes.append("deleted in MLflow (still stored)")
    data.facts["mlflow"] = facts


def _params(run_dir: str) -> dict[str, str]:
    out = {}
    folder = storage.join(run_dir, "params")
    if not storage.isdir(folder):
        return out
    for dirpath, names in storage.walk(folder):
        for name in names:
            path = storage.join(dirpath, name)
            try:
                with storage.open_text(path, encoding="utf-8", errors="replace") as fh:
                    out[storage.relpath(path, folder)] = fh.read(4096).strip()
            except OSError:
                continue
    return out


FORMAT = Format(name="mlflow", label="MLflow mlruns/",
                files="mlruns/<experiment>/<run>/metrics/<key>",
                classify=_classify, read=read_mlflow, grouping="owner", owner=owner,
                together=True, run_id=run_id)
