"""Read discovered runs: each file (or a run's files together) through its
format's reader (:mod:`parsers.formats`), from the cache where it can."""

from __future__ import annotations

import os

from . import cache as cache_mod
from . import formats, storage
from .discover import RunSource
from .errors import ParseError, one_per_file
from .frame import FileData, RunData, assemble_run


def read_source(source: RunSource, cache_dir: str | None = None
                ) -> tuple[RunData | None, list[ParseError]]:
    """One run's data and every problem met on the way.

    A file that cannot be read at all is reported and left out; a file damaged
    part-way keeps what came before the damage, and the damage is reported.
    With ``cache_dir``, files decoded before and unchanged since come from the
    cache (:mod:`parsers.cache`).
    """
    fmt = formats.get(source.format)
    files: list[FileData] = []
    errors: list[ParseError] = []
    batches = [list(source.files)] if fmt.together else list(source.files)
    for item in batches:
        paths = item if isinstance(item, list) else [item]
        try:
            data = cache_mod.load(cache_dir, paths, source.key) if cache_dir else None
            if data is None:
                data = fmt.read(item) if source.key is None else fmt.read(item, source.key)
                if cache_dir:
                    cache_mod.store(cache_dir, paths, data, source.key)
        except ParseError as err:
            errors.append(err)
            continue
        except OSError as exc:  # raced with a deletion, permissions ...
            errors.append(ParseError(getattr(exc, "filename", None) or str(item),
                                     exc.strerror or str(exc)))
            continue
        except storage.StorageError as exc:
            errors.append(ParseError(paths[0], str(exc).split(": ", 1)[-1]))
            continue
        except Exception as exc:  # a remote filesystem's own error, mid-read
            if not storage.is_url(paths[0]):
                raise
            errors.append(ParseError(paths[0], f"{type(exc).__name__}: {exc}"))
            continue
        errors.extend(one_per_file(data.errors))
        files.append(data)
    if not files:
        return None, errors
    return assemble_run(source.run, files, os.fspath(source.path)), errors
