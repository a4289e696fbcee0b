"""Find the runs below a directory and the format of each, without reading values.

A *run* is a directory's worth of logs:

* all TensorBoard event files of one directory are one run (a restarted job
  adds a file), named after the directory;
* ``trainer_state.json`` is the run of its directory; the copies in
  ``checkpoint-N/`` and ``last-checkpoint/`` belong to the parent's run;
* a CSV or JSON-lines file alone in its directory is that directory's run
  (``lightning_logs/version_3``); where a directory holds several such files,
  or sits beside event files, each file is a run of its own, named by its path.

Run ids are paths relative to the root, with ``/``; the root itself is named
after its own directory.  Hidden directories and files, ``__pycache__`` and
files that are not logs (checkpoints, configs, images, text logs) are skipped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from . import csvlog, hf_trainer, jsonl, storage, tensorboard

SKIP_DIRS = {"__pycache__", "node_modules"}
NOT_LOGS = {"config.json", "wandb-summary.json", "wandb-metadata.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
            "adapter_config.json", "preprocessor_config.json", "all_results.json",
            "train_results.json", "eval_results.json", "vocab.json"}


@dataclass(frozen=True)
class RunSource:
    """One run to read: its id, its directory (or file), format and files."""

    run: str
    path: str
    format: str
    files: tuple[str, ...]


def classify(path: str) -> str | None:
    """The format of one file from its name (and first line), or None."""
    name = storage.basename(path)
    if name.startswith("."):
        return None
    if tensorboard.is_event_file(name):
        return tensorboard.FORMAT
    if name == hf_trainer.NAME:
        return "hf_trainer"
    lower = name.lower()
    if lower.endswith((".csv", ".tsv")):
        try:
            return csvlog.kind_of(path, csvlog.read_header(path))
        except OSError:
            return "csv"
    if lower.endswith(jsonl.SUFFIXES):
        return "jsonl"
    if lower.endswith((".log", ".txt")) and csvlog.is_keras_log(path):
        return "keras"  # keras.callbacks.CSVLogger("training.log"), as Keras documents
    if lower.endswith(".json") and name not in NOT_LOGS and jsonl.looks_like_jsonl(path):
        return "jsonl"
    return None


def _natural(text: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]


def _run_id(root: str, path: str) -> str:
    rel = storage.relpath(path, root)
    return storage.root_name(root) if rel == "." else rel


def discover(root: str | os.PathLike, *, recursive: bool = True) -> list[RunSource]:
    """Every run below ``root`` (a directory, a file or an fsspec URL; or in it
    only, with ``recursive=False``), sorted by run id in natural order (``lr_2``
    before ``lr_10``)."""
    root = storage.normalize(os.fspath(root))
    if storage.isfile(root):
        fmt = classify(root)
        if fmt is None:
            return []
        return [RunSource(storage.basename(root), root, fmt, (root,))]
    sources: list[RunSource] = []
    trainer: dict[str, list[str]] = {}

    def keep(name: str) -> bool:
        return (not name.startswith(".") and name not in SKIP_DIRS
                and (recursive or hf_trainer.is_checkpoint_dir(name)))

    for dirpath, filenames in storage.walk(root, recursive=recursive, keep=keep):
        sources.extend(_sources_in(root, dirpath, filenames, trainer))
    for run_dir, paths in trainer.items():
        sources.append(RunSource(_run_id(root, run_dir), run_dir, "hf_trainer",
                                 tuple(sorted(paths))))
    sources = _unique_ids(sources)
    return sorted(sources, key=lambda s: _natural(s.run))


def _sources_in(root, dirpath, filenames, trainer) -> list[RunSource]:
    events, tables = [], []
    for name in filenames:
        path = storage.join(dirpath, name)
        fmt = classify(path)
        if fmt == tensorboard.FORMAT:
            events.append(path)
        elif fmt == "hf_trainer":
            owner = dirpath
            if dirpath != root and hf_trainer.is_checkpoint_dir(storage.basename(dirpath)):
                owner = storage.dirname(dirpath)  # a copy: it belongs to the parent's run
            trainer.setdefault(owner, []).append(path)
        elif fmt is not None:
            tables.append((path, fmt))
    out = []
    if events:
        out.append(RunSource(_run_id(root, dirpath), dirpath, tensorboard.FORMAT,
                             tuple(events)))
    alone = len(tables) == 1 and not events and dirpath not in trainer
    for path, fmt in tables:
        run_path = dirpath if alone else path
        out.append(RunSource(_run_id(root, run_path), run_path, fmt, (path,)))
    return out


def _unique_ids(sources: list[RunSource]) -> list[RunSource]:
    """Where two sources would share a directory's id (a lone CSV beside a
    trainer state, say), every one but the event files is named by its file."""
    count: dict[str, int] = {}
    for s in sources:
        count[s.run] = count.get(s.run, 0) + 1
    out = []
    for s in sources:
        if count[s.run] > 1 and s.format != tensorboard.FORMAT:
            s = RunSource(f"{s.run}/{storage.basename(s.files[0])}", s.path, s.format, s.files)
        out.append(s)
    return out


def runs_of_files(paths, root: str | None = None) -> list[RunSource]:
    """The runs some log files belong to, each run directory read whole (the
    other event files of a resumed run matter as much as the staged one).  For
    pre-commit, which passes staged files: run ids are paths relative to
    ``root`` (the current directory)."""
    root = os.path.abspath(root or os.getcwd())
    dirs = set()
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.basename(path) == hf_trainer.NAME and \
                hf_trainer.is_checkpoint_dir(os.path.basename(folder)):
            folder = os.path.dirname(folder)
        dirs.add(folder)
    sources = []
    for folder in sorted(dirs):
        for s in discover(folder, recursive=False):
            run = os.path.relpath(s.path, root).replace(os.sep, "/")
            sources.append(RunSource(run, s.path, s.format, s.files))
    return sorted(_unique_ids(sources), key=lambda s: _natural(s.run))
