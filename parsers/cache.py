"""A cache of decoded log files, so that re-checking unchanged runs decodes nothing.

Entries are keyed by the file's absolute path, size and modification time (and
this module's format version): a file that grows (a run still being written)
or changes gets a new key, so a stale entry is never used.  The cache lives
outside the log directory: ``$LOSS_DOCTOR_CACHE_DIR``, else the user cache
directory (``$XDG_CACHE_HOME/loss_doctor``, ``~/Library/Caches/loss_doctor``,
``%LOCALAPPDATA%\\loss_doctor``).  Entries are written to a temporary file and
renamed into place, so concurrent runs never see half an entry; a damaged or
unreadable entry is treated as a miss.

It is capped by size: ``$LOSS_DOCTOR_CACHE_MB`` megabytes (default
:data:`DEFAULT_MB`); past the cap the least recently used entries go (a hit
marks its entry used) until it holds three quarters of it.  An entry holds no
path: the file's own path in the data and in its messages is the one it is
read by, whichever checkout or mount first filled the entry.
``loss-doctor cache info`` and ``loss-doctor cache clear`` show and empty it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile

import numpy as np

from . import storage
from .errors import ParseError
from .frame import FileData

VERSION = 3  # 2: FileData.facts kept with the points; 3: the Trainer's best checkpoint among them
DEFAULT_MB = 300
BYTES = ".bin"  # the suffix of what put_bytes keeps
HERE = "\x00here"  # stands for the file's own path in a stored entry


TRIM_EVERY = 100  # stores between two checks of the cap (and the first one)
_stores = 0


def max_bytes() -> int:
    try:
        mb = float(os.environ.get("LOSS_DOCTOR_CACHE_MB", DEFAULT_MB))
    except ValueError:
        mb = DEFAULT_MB
    return int(max(mb, 0) * 1e6)


def default_dir() -> str:
    env = os.environ.get("LOSS_DOCTOR_CACHE_DIR")
    if env:
        return env
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "loss_doctor")


def _key(paths: list[str], run: str | None = None) -> str | None:
    parts = [f"v{VERSION}"] + ([f"run {run}"] if run is not None else [])
    for path in paths:
        sig = storage.signature(path)
        if sig is None:
            return None
        parts.append(sig)
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def load(cache_dir: str, paths: list[str], run: str | None = None) -> FileData | None:
    """The cached data of ``paths`` (of the run ``run`` in a file of several)."""
    key = _key(paths, run)
    if key is None:
        return None
    entry = os.path.join(cache_dir, key + ".npz")
    here = paths[0] if len(paths) == 1 else None
    try:
        with np.load(entry, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            data = FileData(
                _path(meta["path"], here), meta["format"], meta["names"], z["metric"],
                z["step"], z["value"], z["wall_time"], x_axis=meta["x_axis"],
                start=meta["start"], notes=meta["notes"], facts=meta.get("facts", {}),
                errors=[ParseError(_path(e["path"], here), e["message"],
                                   offset=e.get("offset"), line=e.get("line"))
                        for e in meta["errors"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.utime(entry)  # used: the last to go when the cache is trimmed
    except OSError:
        pass
    return data


def _path(stored: str, here: str | None) -> str:
    return here if stored == HERE and here is not None else stored


def _stored(path: str, here: str | None) -> str:
    return HERE if here is not None and path == here else path


def store(cache_dir: str, paths: list[str], data: FileData, run: str | None = None) -> None:
    key = _key(paths, run)
    if key is None:
        return
    here = paths[0] if len(paths) == 1 else None
    meta = {"path": _stored(data.path, here), "format": data.format, "names": data.names,
            "x_axis": data.x_axis, "start": data.start, "notes": data.notes,
            "facts": data.facts,
            "errors": [{**e.to_dict(), "path": _stored(e.path, here)} for e in data.errors]}
    _put(cache_dir, key + ".npz", lambda fh: np.savez(
        fh, meta=np.array(json.dumps(meta)), metric=data.metric, step=data.step,
        value=data.value, wall_time=data.wall_time))


def _put(cache_dir: str, name: str, write) -> None:
    """Write an entry through ``write(file)`` to a temporary file renamed into
    place; every :data:`TRIM_EVERY` stores, trim the cache to its cap."""
    try:
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.replace(tmp, os.path.join(cache_dir, name))
        except BaseException:
            _remove(tmp)
            raise
        global _stores
        _stores += 1
        if (_stores - 1) % TRIM_EVERY == 0:  # a directory scan per store would be O(n^2)
            _trim(cache_dir)
    except OSError:
        pass  # a cache that cannot be written is only slower


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def put_bytes(cache_dir: str, key: str, payload: bytes) -> None:
    """Keep ``payload`` under ``key`` (a hex digest): what is derived from
    decoded files (loss_doctor keeps a run's findings), under the same cap."""
    _put(cache_dir, key + BYTES, lambda fh: fh.write(payload))


def get_bytes(cache_dir: str, key: str) -> bytes | None:
    """What :func:`put_bytes` kept under ``key``, or None."""
    entry = os.path.join(cache_dir, key + BYTES)
    try:
        with open(entry, "rb") as fh:
            payload = fh.read()
        os.utime(entry)  # used: the last to go when the cache is trimmed
    except OSError:
        return None
    return payload


def entries(cache_dir: str) -> list[tuple[str, int, float]]:
    """(path, bytes, last used) of every entry and leftover temporary file."""
    out = []
    try:
        with os.scandir(cache_dir) as it:
            for entry in it:
                ours = entry.name.endswith((".npz", BYTES, ".tmp"))
                if ours and entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out.append((entry.path, st.st_size, st.st_mtime))
    except OSError:
        pass
    return out


def info(cache_dir: str) -> dict:
    found = entries(cache_dir)
    return {"dir": cache_dir, "entries": sum(p.endswith(".npz") for p, _, _ in found),
            "derived": sum(p.endswith(BYTES) for p, _, _ in found),
            "bytes": sum(size for _, size, _ in found), "max_bytes": max_bytes()}


def clear(cache_dir: str) -> tuple[int, int]:
    """Remove every entry (only the cache's own files); (files, bytes) removed."""
    count = size = 0
    for path, nbytes, _ in entries(cache_dir):
        try:
            os.remove(path)
        except OSError:
            continue
        count, size = count + 1, size + nbytes
    return count, size


def _trim(cache_dir: str) -> None:
    """Past the byte cap, drop the least recently used entries until the cache
    holds three quarters of it."""
    cap = max_bytes()
    found = entries(cache_dir)
    total = sum(size for _, size, _ in found)
    if total <= cap:
        return
    for path, size, _ in sorted(found, key=lambda e: e[2]):
        if total <= 0.75 * cap:
            break
        try:
            os.remove(path)
            total -= size
        except OSError:
            pass
