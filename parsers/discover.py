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
Which files are logs, and how they form runs, each format says
(:mod:`parsers.formats`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from . import formats, storage
from .errors import ReadError
from .naming import printable

SKIP_DIRS = {"__pycache__", "node_modules", "latest-run"}  # W&B's link to its newest run
# special files (FIFOs, devices) worth a word: those named like a log
_LOG_NAME = re.compile(r"(^events\.out\.tfevents\.|\.(csv|tsv|jsonl|ndjson|json|log|txt|out|"
                       r"db|sqlite|wandb)$)", re.I)


class Sources(list):
    """The runs found (a list of :class:`RunSource`), and in ``skipped`` what
    could not be looked at: special files named like logs (a FIFO would block
    the reader), directories that cannot be listed; each a
    :class:`parsers.ReadError`."""

    def __init__(self, items=(), skipped=()):
        super().__init__(items)
        self.skipped = list(skipped)


@dataclass(frozen=True)
class RunSource:
    """One run to read: its id, its directory (or file), format and files;
    ``key`` picks the run inside a file that holds several (a database)."""

    run: str
    path: str
    format: str
    files: tuple[str, ...]
    key: str | None = None


def classify(path: str) -> str | None:
    """The format of one file from its name (and first lines), or None."""
    return formats.classify(path)


def _natural(text: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]


def _run_id(root: str, path: str) -> str:
    rel = storage.relpath(path, root)
    return printable(storage.root_name(root) if rel == "." else rel)


def _run_subdir(name: str) -> bool:
    return any(f.run_subdir is not None and f.run_subdir(name) for f in formats.FORMATS)


def discover(root: str | os.PathLike, *, recursive: bool = True) -> list[RunSource]:
    """Every run below ``root`` (a directory, a file or an fsspec URL; or in it
    only, with ``recursive=False``), sorted by run id in natural order (``lr_2``
    before ``lr_10``)."""
    root = storage.normalize(os.fspath(root))
    special = storage.special(root)
    if special is not None:
        return Sources(skipped=[ReadError(root, special)])
    if storage.isfile(root):
        fmt = classify(root)
        if fmt is None:
            return []
        if formats.get(fmt).grouping == "contained":
            return _contained(root, root, fmt)
        return [RunSource(storage.basename(root), root, fmt, (root,))]
    sources: list[RunSource] = []
    owned: dict[tuple[str, str], list[str]] = {}  # (format, run directory) -> files

    def keep(name: str) -> bool:
        return (not name.startswith(".") and name not in SKIP_DIRS
                and (recursive or _run_subdir(name)))

    skipped: list[tuple[str, str, bool]] = []
    for dirpath, filenames in storage.walk(root, recursive=recursive, keep=keep,
                                           skipped=skipped):
        sources.extend(_sources_in(root, dirpath, filenames, owned))
    for (found, run_dir), paths in owned.items():
        fmt = formats.get(found)
        run = fmt.run_id(root, run_dir) if fmt.run_id else _run_id(root, run_dir)
        sources.append(RunSource(run, run_dir, found, tuple(sorted(paths))))
    sources = _unique_ids(sources)
    return Sources(sorted(sources, key=lambda s: _natural(s.run)),
                   [ReadError(path, why) for path, why, is_dir in skipped
                    if is_dir or _LOG_NAME.search(storage.basename(path))])


def _sources_in(root, dirpath, filenames, owned) -> list[RunSource]:
    """The runs of one directory's files; files of ``owner``-grouped formats
    are added to ``owned`` (their run may span directories)."""
    by_dir: dict[str, list[str]] = {}
    tables, contained = [], []
    for name in filenames:
        path = storage.join(dirpath, name)
        found = classify(path)
        if found is None:
            continue
        fmt = formats.get(found)
        if fmt.grouping == "directory":
            by_dir.setdefault(found, []).append(path)
        elif fmt.grouping == "owner":
            owned.setdefault((found, fmt.owner(dirpath, root)), []).append(path)
        elif fmt.grouping == "contained":
            contained += _contained(root, path, found)
        else:
            tables.append((path, found))
    out = [RunSource(_run_id(root, dirpath), dirpath, found, tuple(paths))
           for found, paths in by_dir.items()]
    shared = by_dir or any(run_dir == dirpath for _, run_dir in owned)
    alone = len(tables) == 1 and not shared
    for path, found in tables:
        run_path = dirpath if alone else path
        out.append(RunSource(_run_id(root, run_path), run_path, found, (path,)))
    return out + contained


def _contained(root: str, path: str, found: str) -> list[RunSource]:
    """The runs inside one file, named by the file's directory and the run."""
    where = _run_id(root, storage.dirname(path)) if path != root else ""
    prefix = "" if where in ("", storage.root_name(root)) else where + "/"
    return [RunSource(prefix + name, path, found, (path,), key)
            for name, key in formats.get(found).runs_in(path)]


def _unique_ids(sources: list[RunSource]) -> list[RunSource]:
    """Where two sources would share an id (a lone CSV beside a trainer state,
    two MLflow runs of one name), every one but a directory's own (event
    files) is told apart by its file or its directory."""
    count: dict[str, int] = {}
    for s in sources:
        count[s.run] = count.get(s.run, 0) + 1
    out = []
    for s in sources:
        fmt = formats.get(s.format)
        if count[s.run] > 1 and fmt.grouping != "directory":
            # by its file; a run the format names itself, by its directory (its id)
            name = storage.basename(s.files[0] if fmt.run_id is None else s.path)
            name = s.key if fmt.grouping == "contained" else name
            s = RunSource(f"{s.run}/{name}", s.path, s.format, s.files, s.key)
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
        found = classify(path)
        fmt = formats.get(found) if found else None
        if fmt is not None and fmt.owner is not None:
            folder = fmt.owner(folder)
        dirs.add(folder)
    sources = []
    for folder in sorted(dirs):
        for s in discover(folder, recursive=False):
            run = os.path.relpath(s.path, root).replace(os.sep, "/")
            sources.append(RunSource(run, s.path, s.format, s.files, s.key))
    return sorted(_unique_ids(sources), key=lambda s: _natural(s.run))


def runs_of_given_files(paths, root: str | None = None) -> list[RunSource]:
    """The runs of exactly these log files (``check FILE``), nothing else of
    their directories: files of one directory that form one run (event files)
    stay one run, named by the directory relative to ``root`` (the current
    directory); a database or an export gives its runs, by their own names.
    Files of no known format are left
    out (the caller says so)."""
    root = os.path.abspath(root or os.getcwd())
    grouped: dict[tuple[str, str], list[str]] = {}
    out = []
    for path in paths:
        found = classify(path)
        if found is None:
            continue
        fmt = formats.get(found)
        folder = os.path.dirname(os.path.abspath(path))
        if fmt.owner is not None:
            folder = fmt.owner(folder)
        if fmt.grouping == "contained":  # a database, an export: its runs, by their names
            out += [RunSource(run, path, found, (path,), key) for run, key in fmt.runs_in(path)]
        else:
            grouped.setdefault((folder, found), []).append(path)
    per_dir: dict[str, int] = {}
    for folder, _ in grouped:
        per_dir[folder] = per_dir.get(folder, 0) + 1
    for (folder, found), files in grouped.items():
        alone = per_dir[folder] == 1 and (len(files) == 1 or
                                          formats.get(found).grouping != "file")
        if alone:
            out.append(RunSource(_given_id(folder, root), folder, found, tuple(files)))
        else:  # several tables of one directory: a run each, by its file
            out += [RunSource(_given_id(f, root), f, found, (f,)) for f in files]
    return sorted(_unique_ids(out), key=lambda s: _natural(s.run))


def _given_id(path: str, root: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
    return printable(os.path.basename(os.path.abspath(path)) if rel == "." else rel)
