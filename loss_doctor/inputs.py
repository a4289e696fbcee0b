"""The PATHs a command is given: read them into one frame, with progress on
stderr, and refuse to write into them."""

from __future__ import annotations

import os
import sys

import click

import parsers
from loss_doctor.inventory import format_error


class Failure(click.ClickException):
    """Our errors exit 2, not click's default 1 (1 means "findings")."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"loss-doctor: error: {self.format_message()}", err=True)


def read_paths(paths: tuple[str, ...], quiet: bool = False):
    """Read every PATH into one frame; exit 2 if nothing at all could be read.

    Directories are searched for runs; files (pre-commit's staged logs) stand
    for their whole run directory, grouped so that one run is one run."""
    frames = []
    for path in paths:
        if not os.path.exists(path):
            raise Failure(f"{path}: no such file or directory")
    files = [p for p in paths if os.path.isfile(p)]
    if files:
        frames.append(parsers.read_sources(parsers.runs_of_files(files), root=".",
                                           progress=progress_bar(quiet)))
    for path in paths:
        if not os.path.isfile(path):
            frames.append(parsers.read_sources(parsers.discover(path), root=path,
                                               progress=progress_bar(quiet)))
    df = frames[0] if len(frames) == 1 else _merge(frames)
    if not df.attrs["runs"] and df.attrs["errors"]:
        for err in df.attrs["errors"]:
            click.echo(f"loss-doctor: {format_error(err)}", err=True)
        raise Failure("no file could be read")
    return df


def progress_bar(quiet: bool):
    """A progress bar on stderr for many runs; silent when quiet or not a terminal."""
    stream = sys.stderr
    if quiet or not stream.isatty():
        return None

    def wrap(items, length=None, label="reading"):
        length = len(items) if length is None else length
        if length < 20:
            yield from items
            return
        with click.progressbar(items, length=length, label=label, file=stream,
                               item_show_func=lambda s: getattr(s, "run", "") if s else ""
                               ) as bar:
            yield from bar
    return wrap


def _merge(frames):
    """One frame for several PATHs; run ids that two PATHs share are prefixed
    with each PATH so that no two runs merge."""
    import pandas as pd

    seen: dict[str, int] = {}
    for df in frames:
        for run in df.attrs["runs"]:
            seen[run] = seen.get(run, 0) + 1
    if any(count > 1 for count in seen.values()):
        frames = [_prefixed(df) for df in frames]
    runs, errors = {}, []
    for df in frames:
        runs.update(df.attrs["runs"])
        errors.extend(df.attrs["errors"])
    merged = pd.concat([f.astype({"run": str, "metric": str}) for f in frames],
                       ignore_index=True)
    merged["run"] = merged["run"].astype("category")
    merged["metric"] = merged["metric"].astype("category")
    merged.attrs.update(root=", ".join(f.attrs["root"] for f in frames), runs=runs,
                        errors=errors)
    return merged


def _prefixed(df):
    root = df.attrs["root"].rstrip("/\\") or "."
    name = {run: f"{root}/{run}" for run in df.attrs["runs"]}
    out = df.copy()
    out["run"] = out["run"].cat.rename_categories(name)
    out.attrs = dict(df.attrs, runs={name[r]: info for r, info in df.attrs["runs"].items()})
    return out


def refuse_inside(target: str | None, paths) -> None:
    for path in paths:
        if target and _inside(target, path):
            raise Failure(f"{target} is inside the log directory {path}; loss-doctor "
                          "never writes there (and would read it back as a run)")


def _inside(path: str, root: str) -> bool:
    if not os.path.isdir(root):
        return False
    target = os.path.realpath(os.path.abspath(path))
    base = os.path.realpath(os.path.abspath(root))
    return os.path.commonpath([target, base]) == base
