"""A cache of decoded log files, so that re-checking unchanged runs decodes nothing.

Entries are keyed by the file's absolute path, size and modification time (and
this module's format version): a file that grows (a run still being written)
or changes gets a new key, so a stale entry is never used.  The cache lives
outside the log directory: ``$LOSS_DOCTOR_CACHE_DIR``, else the user cache
directory (``$XDG_CACHE_HOME/loss_doctor``, ``~/Library/Caches/loss_doctor``,
``%LOCALAPPDATA%\\loss_doctor``).  Entries are written to a temporary file and
renamed into place, so concurrent runs never see half an entry; a damaged or
unreadable entry is treated as a miss.
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
MAX_ENTRIES = 4000


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
    try:
        with np.load(entry, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return FileData(
                meta["path"], meta["format"], meta["names"], z["metric"], z["step"],
                z["value"], z["wall_time"], x_axis=meta["x_axis"], start=meta["start"],
                notes=meta["notes"], facts=meta.get("facts", {}),
                errors=[ParseError(e["path"], e["message"], offset=e.get("offset"),
                                   line=e.get("line")) for e in meta["errors"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(cache_dir: str, paths: list[str], data: FileData, run: str | None = None) -> None:
    key = _key(paths, run)
    if key is None:
        return
    meta = {"path": data.path, "format": data.format, "names": data.names,
            "x_axis": data.x_axis, "start": data.start, "notes": data.notes,
            "facts": data.facts,
            "errors": [e.to_dict() for e in data.errors]}
    try:
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), metric=data.metric,
                     step=data.step, value=data.value, wall_time=data.wall_time)
        os.replace(tmp, os.path.join(cache_dir, key + ".npz"))
        _trim(cache_dir)
    except OSError:
        pass  # a cache that cannot be written is only slower


def _trim(cache_dir: str) -> None:
    """Keep at most MAX_ENTRIES entries, dropping the least recently written."""
    try:
        names = [n for n in os.listdir(cache_dir) if n.endswith(".npz")]
        if len(names) <= MAX_ENTRIES:
            return
        paths = sorted((os.path.join(cache_dir, n) for n in names), key=os.path.getmtime)
        for path in paths[: len(paths) - MAX_ENTRIES // 2]:
            os.remove(path)
    except OSError:
        pass
