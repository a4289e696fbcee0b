"""A run's diagnosis, kept: re-checking logs that did not change (a pre-commit
hook on every commit, CI on the same artefacts) reads and diagnoses nothing.

What one run's check gives (its record, its findings and its read errors) is
kept in the cache of decoded files (:mod:`parsers.cache`, same directory, same
byte cap, same ``loss-doctor cache clear``) under a key of everything it
depends on:

* the run as discovered: its id, path, format, files and the key of a run
  inside a file of several, as given (the strings the record and the
  messages print), and each file's signature (absolute path, size and
  modification time; an object's ETag);
* the diagnosis asked for: every detector's class and parameters, the
  selected codes and the role overrides;
* the code that diagnoses: the size and modification time of every module of
  ``loss_doctor`` and ``parsers`` and of each detector's own module (a
  plugin's), and the versions of numpy and bottleneck.

A run whose read met an error is not kept (the error may be a race with a
writer).  Entries are pickles of our own records, read back by an unpickler
that builds nothing but them, Python's plain values and numpy scalars.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import sys

import parsers
from parsers import cache as cache_mod
from parsers import storage

VERSION = 1
_CODE: str | None = None  # this process's code fingerprint, made once


def _code() -> str:
    """Size and modification time of every module the diagnosis runs on."""
    global _CODE
    if _CODE is None:
        import bottleneck
        import numpy

        parts = [f"numpy {numpy.__version__}", f"bottleneck {bottleneck.__version__}"]
        for root in (os.path.dirname(os.path.abspath(__file__)),  # loss_doctor
                     os.path.dirname(os.path.abspath(parsers.__file__))):
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(files):
                    if name.endswith(".py"):
                        parts.append(_file_mark(os.path.join(folder, name)))
        _CODE = "\n".join(parts)
    return _CODE


def _file_mark(path: str | None) -> str:
    """A module file's signature (path, size, mtime), or the path where it has none."""
    return (storage.signature(path) if path else None) or f"{path}|?"


def key(source: parsers.RunSource, job) -> str | None:
    """The entry of ``source`` checked as ``job`` asks, or None if one of its
    files cannot be signed (gone, or a store that tells no version)."""
    config = job.config
    parts = [f"findings v{VERSION}", _code(),
             repr((source.run, source.path, source.format, source.files, source.key)),
             repr((tuple(config.select), tuple(config.ignore),
                   tuple(sorted(config.roles.items()))))]
    for detector in job.detectors:
        cls = type(detector)
        module = sys.modules.get(cls.__module__)
        parts.append(f"{cls.__module__}.{cls.__qualname__} "
                     f"{sorted(vars(detector).items())!r} "
                     f"{_file_mark(getattr(module, '__file__', None))}")
    for path in source.files:
        sig = storage.signature(path)
        if sig is None:
            return None
        parts.append(sig)
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def load(cache_dir: str, entry: str):
    """What :func:`store` kept under ``entry``, or None (a miss, or an entry
    that is damaged or holds anything but our records)."""
    payload = cache_mod.get_bytes(cache_dir, entry)
    if payload is None:
        return None
    try:
        return _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a failure
        return None


def store(cache_dir: str, entry: str, result) -> None:
    cache_mod.put_bytes(cache_dir, entry, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


_PLAIN = {("builtins", name) for name in ("set", "frozenset", "complex", "slice", "range")}
_NUMPY = {("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
          ("numpy._core.multiarray", "scalar")}


class _Unpickler(pickle.Unpickler):
    """Builds our records (dataclasses of ``loss_doctor`` and ``parsers``),
    plain values and numpy scalars; any other global refuses the entry."""

    def find_class(self, module: str, name: str):
        if (module, name) in _PLAIN or (module, name) in _NUMPY:
            return super().find_class(module, name)
        if module.split(".")[0] in ("loss_doctor", "parsers"):
            found = super().find_class(module, name)
            if isinstance(found, type) and dataclasses.is_dataclass(found):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not kept in a findings entry")
