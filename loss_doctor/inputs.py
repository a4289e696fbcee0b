"""The PATHs a command is given: the runs they hold, read into one frame where a
frame is wanted, and never written into."""

from __future__ import annotations

import os
from dataclasses import replace

import parsers
from parsers import storage

from .errors import InputError


def sources_for(paths, *, whole_runs: bool = False) -> parsers.Sources:
    """The runs of every PATH.  Directories are searched for runs; a file is
    read alone, or with ``whole_runs`` (pre-commit's staged logs) stands for
    its whole run directory, grouped so that one run is one run.  A file that
    is not a log is an :class:`InputError`.  Run ids that two PATHs share are
    prefixed with each PATH, so that no two runs merge."""
    try:
        for path in paths:
            if not storage.exists(path):
                raise InputError(f"{path}: no such file or directory")
        groups = []
        files = [p for p in paths if not storage.is_url(p) and os.path.isfile(p)]
        if not whole_runs:
            for path in files:
                if parsers.classify(path) is None:
                    raise InputError(f"{path}: not a log format loss-doctor reads (looked "
                                     f"for {parsers.looked_for()})")
        if files:
            groups.append((None, parsers.runs_of_files(files) if whole_runs
                           else parsers.runs_of_given_files(files)))
        groups += [(p, parsers.discover(p)) for p in paths if p not in files]
    except storage.StorageError as exc:
        raise InputError(str(exc)) from None
    except (InputError, KeyboardInterrupt):
        raise
    except Exception as exc:  # an object store's own error: credentials, denied ...
        if not any(storage.is_url(p) for p in paths):
            raise
        raise InputError(f"listing {', '.join(paths)}: {type(exc).__name__}: {exc}") from None
    seen: dict[str, int] = {}
    for _, sources in groups:
        for s in sources:
            seen[s.run] = seen.get(s.run, 0) + 1
    clash = any(count > 1 for count in seen.values())
    out = []
    for root, sources in groups:
        prefix = (root.rstrip("/\\") or ".") + "/" if clash and root is not None else ""
        out += [replace(s, run=prefix + s.run) for s in sources]
    return parsers.Sources(out, [e for _, sources in groups
                                 for e in getattr(sources, "skipped", ())])


def read_paths(paths: tuple[str, ...], *, progress=None, cache: bool = True):
    """Read every PATH into one frame; :class:`InputError` if nothing at all
    could be read."""
    df = parsers.read_sources(sources_for(paths), root=", ".join(paths),
                              progress=progress, cache=cache)
    nothing_read(df.attrs["runs"], [parsers.ReadError.from_dict(e)
                                    for e in df.attrs["errors"]], paths)
    return df


def nothing_read(runs, errors, paths=()) -> None:
    """:class:`InputError` when no run at all could be read (its details list
    why, file by file), or none was found: a wrong path is better told than
    passed as clean."""
    if not runs and errors:
        raise InputError("no file could be read", details=tuple(str(e) for e in errors))
    if not runs:
        raise InputError(f"no training logs found in {', '.join(paths) or 'the paths given'} "
                         f"(looked for {parsers.looked_for()})")


def refuse_inside(target: str | None, paths, *, is_dir: bool = False) -> None:
    """:class:`InputError` if ``target`` (an output) is an input, a hard link
    to one, or inside a log directory (a file PATH's own directory counts), or
    if the directory it would be written in does not exist."""
    if not target or target == "-":
        return
    for path in paths:
        if storage.is_url(path):
            continue
        if _same_file(target, path):
            raise InputError(f"{target} is the log {path}; loss-doctor never writes over "
                             "its input")
        base = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        if os.path.exists(path) and _inside(target, base):
            raise InputError(f"{target} is inside the log directory {base}; loss-doctor "
                             "never writes there (and would read it back as a run)")
    parent = os.path.dirname(os.path.abspath(target))
    if not is_dir and not os.path.isdir(parent):
        raise InputError(f"{target}: the directory {parent} does not exist")


def refuse_links_to_inputs(target: str | None, sources) -> None:
    """:class:`InputError` if ``target`` is a hard link to (or is) a file that
    will be read."""
    if not target or target == "-" or not os.path.exists(target):
        return
    for source in sources:
        for path in source.files:
            if not storage.is_url(path) and _same_file(target, path):
                raise InputError(f"{target} is the log {path} (a link to it); loss-doctor "
                                 "never writes over its input")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: str, root: str) -> bool:
    if not os.path.isdir(root):
        return False
    target = os.path.realpath(os.path.abspath(path))
    base = os.path.realpath(os.path.abspath(root))
    return os.path.commonpath([target, base]) == base
