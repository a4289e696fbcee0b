"""Read training logs into one tidy pandas DataFrame.

>>> import parsers
>>> df = parsers.read_logdir("runs/")          # every run below runs/
>>> df.attrs["errors"]                          # files that could not be read
>>> df[df.metric == "val/loss"].groupby("run", observed=True).value.min()

The frame has one row per logged scalar point:

============  ========  =====================================================
column        dtype     meaning
============  ========  =====================================================
``run``       category  run id: the run directory relative to the root given
                        (the root itself is named after its directory)
``metric``    category  the name as logged (``train/loss``, ``eval_loss`` ...)
``step``      int64     global step; epoch or row number where a format has
                        none (``df.attrs["runs"][run]["x_axis"]`` says which)
``value``     float64   NaN and +-inf are kept: they are evidence
``wall_time`` float64   seconds since the epoch; NaN where the format has none
============  ========  =====================================================

Rows are sorted by run, metric and step.  A step logged twice (a resumed job
re-logs steps) keeps the value written last; ``attrs["runs"][run]["replaced"]``
counts per metric the points overwritten with a different value.  Nothing is
sampled or dropped otherwise.

``df.attrs``: ``root``; ``runs`` (run id -> path, format, files, x_axis,
points, replaced, repeated, notes, and ``hparams`` for Lightning runs); ``errors`` (a list of
``{"path", "message", "offset" | "line"}``).  pandas keeps ``attrs`` through
most operations; copy it out if you need it to last.

Paths may be fsspec URLs (``s3://bucket/runs``, ``gs://``, ``memory://`` ...;
``pip install 'loss-doctor[remote]'``); run ids and frames are the same as
for the same files on disk, and ``files`` keep the URL form.

Formats are recognised from names and contents, never named by the caller;
``parsers.FORMATS`` lists them (:mod:`parsers.formats`), each with the file
names it claims.  This package imports no detector code.
"""

from __future__ import annotations

import os

from . import formats, storage
from .discover import RunSource, Sources, classify, discover, runs_of_files, runs_of_given_files
from .errors import ParseError, ReadError
from .format import Format
from .formats import FORMATS, looked_for
from .frame import COLUMNS, RunData, to_frame
from .lazy import lazy
from .read import read_source

pd = lazy("pandas")  # imported on first use

__all__ = ["COLUMNS", "FORMATS", "Format", "ParseError", "ReadError", "RunSource", "Sources",
           "discover",
           "looked_for", "read_file", "read_logdir", "read_run", "read_sources",
           "runs_of_files", "runs_of_given_files"]


def read_sources(sources: list[RunSource], *, root: str = "", strict: bool = False,
                 progress=None, cache: bool | str = False) -> pd.DataFrame:
    """Read already discovered runs into one frame (see the module docstring).

    ``progress``, if given, wraps the iteration over sources (a progress bar).
    ``cache``: True for the user cache directory, or a directory: files decoded
    before and unchanged since (path, size, mtime) are not decoded again."""
    cache_dir = cache_dir_of(cache)
    runs: list[RunData] = []
    errors: list[ParseError] = [ParseError(e.path, e.message)
                                for e in getattr(sources, "skipped", ())]
    for source in (progress(sources) if progress else sources):
        data, problems = read_source(source, cache_dir)
        if strict and problems:
            raise problems[0]
        errors.extend(problems)
        if data is not None:
            runs.append(data)
    df = to_frame(runs)
    df.attrs["root"] = root
    df.attrs["errors"] = [e.to_dict() for e in errors]
    return df


def read_logdir(root: str | os.PathLike, *, strict: bool = False,
                cache: bool | str = False) -> pd.DataFrame:
    """Every run below ``root``.  Unreadable files are listed in
    ``df.attrs["errors"]`` and the rest is read; ``strict=True`` raises the
    first :class:`ParseError` instead.  Nothing is written into ``root``;
    ``cache=True`` (or a directory) keeps decoded files in the user cache."""
    root = os.fspath(root)
    if not _exists(root):
        raise ParseError(root, "no such file or directory")
    return read_sources(discover(root), root=root, strict=strict, cache=cache)


def _check(test, path: str) -> bool:
    try:
        return test(path)
    except storage.StorageError as exc:
        raise ParseError(path, str(exc).split(": ", 1)[-1]) from None


def _exists(path: str) -> bool:
    return _check(storage.exists, path)


def cache_dir_of(cache: bool | str | None) -> str | None:
    """The cache directory a ``cache`` argument names, or None for no cache."""
    if not cache:
        return None
    if cache is True:
        from .cache import default_dir

        return default_dir()
    return os.fspath(cache)


def read_run(path: str | os.PathLike, *, strict: bool = False) -> pd.DataFrame:
    """The logs directly in one run directory (and its checkpoint copies)."""
    path = os.fspath(path)
    if not _check(storage.isdir, path):
        raise ParseError(path, "not a directory")
    return read_sources(discover(path, recursive=False), root=path, strict=strict)


def read_file(path: str | os.PathLike, *, run: str | None = None) -> pd.DataFrame:
    """One log file; raises :class:`ParseError` if any of it is damaged.

    The run id is ``run`` or else the name of the file's directory."""
    path = os.fspath(path)
    if not _check(storage.isfile, path):
        raise ParseError(path, "no such file")
    fmt = classify(path)
    if fmt is None:
        raise ParseError(path, f"not a log format loss_doctor reads ({looked_for()})")
    if formats.get(fmt).grouping == "contained":  # a database of runs: all of them
        return read_sources(discover(path), root=path, strict=True)
    name = run or storage.parent_name(path)
    return read_sources([RunSource(name, path, fmt, (path,))], root=path, strict=True)
