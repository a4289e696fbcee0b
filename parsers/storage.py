"""Where log files live: local paths, or any fsspec URL (``s3://``, ``gs://``,
``memory://``, ``file://`` ...).

Local paths are served by the operating system directly.  A URL is handed to
`fsspec <https://filesystem-spec.readthedocs.io>`_, with the filesystem package
its protocol needs (``s3fs``, ``gcsfs``; ``pip install 'loss-doctor[remote]'``)
and credentials found the way that package finds them (environment, config
files, instance roles).  Paths below a URL keep the URL's form, so that a run's
files can be opened again in another process or on another machine.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import stat

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")


class StorageError(Exception):
    """A URL that cannot be served: no fsspec, or no filesystem for its protocol."""


def is_url(path: str) -> bool:
    return bool(_URL.match(path))


def _fs(url: str):
    """(filesystem, path without protocol) of a URL."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise StorageError(f"{url}: reading URLs needs fsspec: "
                           "pip install 'loss-doctor[remote]'") from None
    try:
        return url_to_fs(url)
    except ImportError as exc:  # a protocol whose package is missing
        raise StorageError(f"{url}: {exc} (pip install 'loss-doctor[remote]' has s3fs "
                           "and gcsfs)") from None
    except ValueError as exc:  # an unknown protocol
        raise StorageError(f"{url}: {exc}") from None


def _url(fs, path: str) -> str:
    return fs.unstrip_protocol(path)


def normalize(path: str) -> str:
    """A path in the one form that :func:`walk` gives its directories: no
    trailing separator (``runs/`` and ``runs`` are one tree), URLs likewise."""
    if not is_url(path):
        return path.rstrip(os.sep) or path
    fs, inner = _fs(path)
    return _url(fs, inner.rstrip("/") or inner)


def exists(path: str) -> bool:
    if not is_url(path):
        return os.path.exists(path)
    fs, inner = _fs(path)
    return fs.exists(inner)


def isfile(path: str) -> bool:
    if not is_url(path):
        return os.path.isfile(path)
    fs, inner = _fs(path)
    return fs.isfile(inner)


def isdir(path: str) -> bool:
    if not is_url(path):
        return os.path.isdir(path)
    fs, inner = _fs(path)
    return fs.isdir(inner)


def open_binary(path: str):
    """A binary file object for reading (``read``, ``seek``, ``tell``, iteration)."""
    if not is_url(path):
        return open(path, "rb")
    fs, inner = _fs(path)
    try:
        raw = fs.open(inner, "rb")
    except OSError:
        raise
    except Exception as exc:  # a filesystem's own errors (denied, throttled ...)
        raise OSError(f"{type(exc).__name__}: {exc}") from None
    # the standard buffered reader over it: readline(limit) and friends behave
    # as on a local file whatever the filesystem's own file object offers
    # (s3fs' and gcsfs' readline takes no limit)
    reader = io.BufferedReader(raw, buffer_size=1 << 20)
    reader.size = getattr(raw, "size", None)
    return reader


def open_text(path: str, *, encoding: str = "utf-8", errors: str = "strict"):
    if not is_url(path):
        return open(path, encoding=encoding, errors=errors)
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors=errors)


def signature(path: str) -> str | None:
    """What changes when the file changes: size and modification time (or, on
    object stores, the ETag or generation).  None if the file is gone or its
    store tells neither, in which case nothing about it is cached."""
    if not is_url(path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}"
    try:
        fs, inner = _fs(path)
        info = fs.info(inner)
    except Exception:  # noqa: BLE001 - a cache miss, never a failure
        return None
    marks = [str(info[k]) for k in ("mtime", "LastModified", "last_modified", "updated",
                                    "generation", "ETag", "etag", "created") if k in info]
    if not marks:
        return None
    return f"{path}|{info.get('size')}|{'|'.join(marks)}"


# Paths: URLs are posix-like whatever the local OS.

def join(base: str, name: str) -> str:
    return posixpath.join(base, name) if is_url(base) else os.path.join(base, name)


def basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) if is_url(path) else os.path.basename(path)


def dirname(path: str) -> str:
    return posixpath.dirname(path.rstrip("/")) if is_url(path) else os.path.dirname(path)


def parent_name(path: str) -> str:
    """The name of the directory holding ``path``."""
    if is_url(path):
        return basename(dirname(path))
    return os.path.basename(os.path.dirname(os.path.abspath(path)))


def relpath(path: str, root: str) -> str:
    if not is_url(root):
        return os.path.relpath(path, root).replace(os.sep, "/")
    return posixpath.relpath(_fs(path)[1], _fs(root)[1])


def root_name(root: str) -> str:
    """The name a root directory gives the run that is the root itself."""
    if is_url(root):
        return basename(root) or root
    return os.path.basename(os.path.abspath(root)) or root


def walk(root: str, *, recursive: bool = True, keep=lambda name: True, skipped=None):
    """(directory, sorted file names) for ``root`` and, with ``recursive``, every
    directory below it whose every name passes ``keep`` (and, without it, only
    the directories directly below that pass it).  Local symlinks are followed,
    and a directory reached a second way (a symlink loop) is walked once.
    Files that are not regular (FIFOs, sockets, devices) are left out and, like
    directories that cannot be listed, appended to ``skipped`` as (path, why,
    is_dir)."""
    if is_url(root):
        yield from _walk_url(root, recursive, keep)
        return
    seen: set[tuple[int, int]] = set()
    stack = [(root, 0)]  # a loop, not recursion: a tree 1,000 levels deep is walked too
    while stack:
        dirpath, depth = stack.pop()
        try:
            st = os.stat(dirpath)
            with os.scandir(dirpath) as entries:
                entries = list(entries)
        except OSError as exc:
            if skipped is not None and (depth > 0 or isinstance(exc, PermissionError)):
                skipped.append((dirpath, f"a directory that cannot be read "
                                         f"({exc.strerror or exc}): not searched", True))
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a second way in
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames, filenames = [], []
        for entry in entries:
            if entry.is_dir():
                dirnames.append(entry.name)
            elif _regular(entry):
                filenames.append(entry.name)
            elif skipped is not None:
                skipped.append((entry.path, special(entry.path) or "not a regular file: "
                                                                  "not read", False))
        if recursive or depth == 0:
            subdirs = sorted(d for d in dirnames if keep(d))
            stack += [(os.path.join(dirpath, d), depth + 1) for d in reversed(subdirs)]
        yield dirpath, sorted(filenames)


def special(path: str) -> str | None:
    """Why a local path is not to be opened (a FIFO blocks until a writer comes,
    a device never ends), or None for a regular file, a directory, a URL or a
    path that is not there."""
    if is_url(path):
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            link = "a link to " if os.path.islink(path) else ""
            return f"{link}{name}, not a regular file: not read"
    return "not a regular file: not read"


def _regular(entry: os.DirEntry) -> bool:
    """Only regular files are logs: opening a FIFO blocks until a writer comes,
    a device (a link to /dev/zero) never ends; a link is judged by its target.
    A link to nothing (dangling) is kept, so that reading it says what is wrong."""
    try:
        if entry.is_file():  # follows links; no system call for plain files
            return True
        return entry.is_symlink() and not os.path.exists(entry.path)
    except OSError:
        return True


def _walk_url(root: str, recursive: bool, keep):
    """One listing of everything below ``root`` (on object stores a single
    paginated request, not one per directory), grouped by directory."""
    fs, inner = _fs(root)
    inner = inner.rstrip("/")
    by_dir: dict[str, list[str]] = {}
    for name in fs.find(inner, maxdepth=None if recursive else 2, withdirs=False):
        rel = posixpath.relpath(name, inner)
        parts = rel.split("/")
        if rel == "." or rel.startswith("../") or not all(keep(p) for p in parts[:-1]):
            continue
        by_dir.setdefault(posixpath.dirname(rel), []).append(parts[-1])
    for rel in sorted(by_dir, key=lambda r: (r != "", r)):
        path = inner if rel == "" else f"{inner}/{rel}"
        yield _url(fs, path), sorted(by_dir[rel])


def bounded_lines(fh, max_len: int):
    """The lines of a binary file object, each with its line end; a line longer
    than ``max_len`` bytes is never held whole: None stands for it (so that
    callers still count lines), and the reading goes on after its end."""
    while raw := fh.readline(max_len + 1):
        if len(raw) > max_len and not raw.endswith(b"\n"):
            while (part := fh.readline(max_len + 1)) and not part.endswith(b"\n"):
                pass
            yield None
            continue
        yield raw
