"""HuggingFace Trainer ``trainer_state.json``.

``log_history`` holds one object per logging or evaluation event, each with a
``step``; every other numeric field is a metric under its own name (``loss``,
``eval_loss``, ``learning_rate``, ``grad_norm``, ``epoch`` ...).  Several eval
sets log separate rows at the same step; those are different metrics.

The Trainer writes a copy of the state into every ``checkpoint-N/`` (and
``last-checkpoint/``) directory.  A run reads one copy only: the one that went
furthest (highest ``global_step``; the run directory's own file on a tie).
Python's ``json`` accepts the ``NaN``/``Infinity`` literals the Trainer writes.
"""

from __future__ import annotations

import json
import math
import os
import re

from . import storage
from .errors import ParseError
from .format import Format
from .frame import FileData

NAME = "trainer_state.json"
CHECKPOINT_DIR = re.compile(r"^(checkpoint-\d+|last-checkpoint)$")


def is_checkpoint_dir(name: str) -> bool:
    return CHECKPOINT_DIR.match(name) is not None


def load_state(path: str) -> dict:
    try:
        with storage.open_text(path, encoding="utf-8") as fh:
            state = json.load(fh)
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise ParseError(path, f"not UTF-8 ({exc.reason})", offset=exc.start) from None
    except json.JSONDecodeError as exc:
        raise ParseError(path, f"not JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise ParseError(path, "nested deeper than a JSON parser goes") from None
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise ParseError(path, "no 'log_history' list: not a Trainer state file")
    return state


def choose_newest(paths: list[str]) -> tuple[str, dict, list[ParseError]]:
    """The copy with the highest global_step; unreadable copies are reported."""
    best = None
    errors = []
    for path in sorted(paths, key=lambda p: (len(p), p)):  # the run's own file first
        try:
            state = load_state(path)
        except ParseError as err:
            errors.append(err)
            continue
        step = state.get("global_step")
        step = step if isinstance(step, (int, float)) else -1
        if best is None or step > best[0]:
            best = (step, path, state)
    if best is None:
        raise errors[0]
    return best[1], best[2], errors


def read_trainer_state(paths: str | os.PathLike | list) -> FileData:
    """Read a run's trainer state: one path, or all its copies (the newest wins)."""
    paths = [os.fspath(p) for p in paths] if isinstance(paths, list) else [os.fspath(paths)]
    path, state, errors = choose_newest(paths)
    metrics, steps, values = [], [], []
    missing = not_objects = huge = 0
    for entry in state["log_history"]:
        if not isinstance(entry, dict):
            not_objects += 1
            continue
        step = entry.get("step")
        if not isinstance(step, (int, float)) or isinstance(step, bool) \
                or (isinstance(step, float) and not math.isfinite(step)):
            missing += 1
            continue
        if not -2 ** 63 <= int(step) < 2 ** 63:
            huge += 1
            continue
        for key, val in entry.items():
            if key == "step" or isinstance(val, bool) or not isinstance(val, (int, float)):
                continue
            metrics.append(key)
            steps.append(int(step))
            values.append(_float(val))
    notes = []
    if len(paths) > 1:
        notes.append(f"read the newest of {len(paths)} copies (global_step "
                     f"{state.get('global_step')})")
    if missing or not_objects or huge:
        what = [f"{missing} without a numeric 'step'"] if missing else []
        what += [f"{not_objects} not an object"] if not_objects else []
        what += [f"{huge} with a step beyond 64 bits"] if huge else []
        count = missing + not_objects + huge
        errors.append(ParseError(path, f"{count} log_history entr{'y' if count == 1 else 'ies'}"
                                       f" skipped: {', '.join(what)}"))
    data = FileData.from_points(path, "hf_trainer", metrics, steps, values,
                                notes=notes, errors=errors)
    kept = _kept(state)
    if kept:
        data.facts["trainer"] = kept
    return data


def _kept(state: dict) -> dict:
    """What the Trainer kept as its best model: ``best_metric`` (the value of
    ``metric_for_best_model``, which the file does not name), the checkpoint's
    directory name (not the writer's absolute path) and its step."""
    metric, where = state.get("best_metric"), state.get("best_model_checkpoint")
    if not isinstance(metric, (int, float)) or isinstance(metric, bool):
        return {}
    out = {"best_metric": _float(metric)}
    if isinstance(where, str) and where:
        name = where.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        out["best_model_checkpoint"] = name
        found = re.fullmatch(r"checkpoint-(\d+)", name)
        if found:
            out["best_step"] = int(found.group(1))
    step = state.get("best_global_step")
    if isinstance(step, int) and not isinstance(step, bool):
        out["best_step"] = step
    return out


def _float(value) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond a double
        return math.inf if value > 0 else -math.inf


def _classify(path: str) -> str | None:
    return "hf_trainer" if storage.basename(path) == NAME else None


def owner(dirpath: str, root: str | None = None) -> str:
    """The run directory of a trainer state in ``dirpath``: a checkpoint's copy
    belongs to the run above it (unless the checkpoint is what was asked for)."""
    if dirpath != root and is_checkpoint_dir(storage.basename(dirpath)):
        return storage.dirname(dirpath)
    return dirpath


FORMAT = Format(name="hf_trainer", label="HuggingFace trainer_state.json",
                files="trainer_state.json (and its checkpoint-N/ copies)",
                classify=_classify, read=read_trainer_state, grouping="owner", owner=owner,
                together=True, run_subdir=is_checkpoint_dir)
