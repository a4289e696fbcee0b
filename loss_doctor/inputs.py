"""The PATHs a command is given: read them into one frame, with progress on
stderr, and refuse to write into them."""

from __future__ import annotations

import os
import sys

import click

import parsers
from loss_doctor.inventory import format_error
from parsers import storage


class Failure(click.ClickException):
    """Our errors exit 2, not click's default 1 (1 means "findings")."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"loss-doctor: error: {self.format_message()}", err=True)


def sources_for(paths) -> list[parsers.RunSource]:
    """The runs of every PATH.  Directories are searched for runs; files
    (pre-commit's staged logs) stand for their whole run directory, grouped so
    that one run is one run.  Run ids that two PATHs share are prefixed with
    each PATH, so that no two runs merge."""
    try:
        for path in paths:
            if not storage.exists(path):
                raise Failure(f"{path}: no such file or directory")
        groups = []
        files = [p for p in paths if not storage.is_url(p) and os.path.isfile(p)]
        if files:
            groups.append((None, parsers.runs_of_files(files)))
        groups += [(p, parsers.discover(p)) for p in paths if p not in files]
    except storage.StorageError as exc:
        raise Failure(str(exc)) from None
    except (click.ClickException, KeyboardInterrupt):
        raise
    except Exception as exc:  # an object store's own error: credentials, denied ...
        if not any(storage.is_url(p) for p in paths):
            raise
        raise Failure(f"listing {', '.join(paths)}: {type(exc).__name__}: {exc}") from None
    seen: dict[str, int] = {}
    for _, sources in groups:
        for s in sources:
            seen[s.run] = seen.get(s.run, 0) + 1
    clash = any(count > 1 for count in seen.values())
    out = []
    for root, sources in groups:
        prefix = (root.rstrip("/\\") or ".") + "/" if clash and root is not None else ""
        out += [parsers.RunSource(prefix + s.run, s.path, s.format, s.files) for s in sources]
    return out


def read_paths(paths: tuple[str, ...], quiet: bool = False, cache: bool = True):
    """Read every PATH into one frame; exit 2 if nothing at all could be read."""
    df = parsers.read_sources(sources_for(paths), root=", ".join(paths),
                              progress=progress_bar(quiet), cache=cache)
    nothing_read(df.attrs["runs"], df.attrs["errors"], paths)
    return df


def nothing_read(runs, errors, paths=()) -> None:
    """Exit 2, listing the errors, when no run at all could be read, or none
    was found (a wrong path is better told than passed as clean)."""
    if not runs and errors:
        for err in errors:
            click.echo(f"loss-doctor: {format_error(err)}", err=True)
        raise Failure("no file could be read")
    if not runs:
        raise Failure(f"no training logs found in {', '.join(paths) or 'the paths given'} "
                      "(looked for TensorBoard event files, CSV, JSON lines and "
                      "trainer_state.json)")


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
