"""The one error type readers raise for input they cannot read, and the
:class:`ReadError` record that carries it across layers as data."""

from __future__ import annotations

import os
from dataclasses import dataclass


class ParseError(Exception):
    """A log file that could not be read, or not entirely.

    ``path`` names the file, ``offset`` (a byte offset) or ``line`` (1-based)
    says where, ``reason`` says what is wrong.  ``str(err)`` is one line:
    ``runs/a/events.out.tfevents.1: byte 4112: payload CRC mismatch``.
    """

    def __init__(self, path: str | os.PathLike, reason: str, *,
                 offset: int | None = None, line: int | None = None) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        self.offset = offset
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.offset is not None:
            where = f"byte {self.offset}: "
        elif self.line is not None:
            where = f"line {self.line}: "
        return f"{self.path}: {where}{self.reason}"

    def __reduce__(self):  # picklable for process pools
        return (_rebuild, (self.path, self.reason, self.offset, self.line))

    def to_dict(self) -> dict:
        """The JSON form used under ``errors`` in machine output."""
        return self.record().to_dict()

    def record(self) -> "ReadError":
        return ReadError(self.path, self.reason, self.offset, self.line)


@dataclass(frozen=True)
class ReadError:
    """A file that could not be read, or not entirely: ``path``, ``message``
    and where (``offset``, a byte; or ``line``, 1-based).  ``str()`` is the one
    line users see: ``runs/a/events.out.tfevents.1: byte 4112: payload CRC
    mismatch``; :meth:`to_dict` is an entry of ``df.attrs["errors"]`` and of
    ``ls --format json``."""

    path: str
    message: str
    offset: int | None = None
    line: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "ReadError":
        return cls(data["path"], data["message"], data.get("offset"), data.get("line"))

    @property
    def located(self) -> str:
        """The message with its place in the file: ``byte 4112: ...``."""
        if self.offset is not None:
            return f"byte {self.offset}: {self.message}"
        if self.line is not None:
            return f"line {self.line}: {self.message}"
        return self.message

    def __str__(self) -> str:
        from .naming import printable

        return printable(f"{self.path}: {self.located}")

    def to_dict(self) -> dict:
        out = {"path": self.path, "message": self.message}
        if self.offset is not None:
            out["offset"] = self.offset
        if self.line is not None:
            out["line"] = self.line
        return out


def _rebuild(path, reason, offset, line):
    return ParseError(path, reason, offset=offset, line=line)


def one_per_file(errors: list[ParseError]) -> list[ParseError]:
    """One error per file: the first problem met, where it is, and where the
    others are (a log printed to a terminal gets one line per bad file)."""
    by_path: dict[str, list[ParseError]] = {}
    for err in errors:
        by_path.setdefault(err.path, []).append(err)
    out = []
    for path, errs in by_path.items():
        first = errs[0]
        if len(errs) > 1:
            places = [("byte " + str(e.offset)) if e.offset is not None else
                      ("line " + str(e.line)) if e.line is not None else "?" for e in errs[1:]]
            more = ", ".join(places[:5]) + (", ..." if len(places) > 5 else "")
            first = ParseError(path, f"{first.reason}; {len(errs) - 1} more problem(s) at "
                                     f"{more}", offset=first.offset, line=first.line)
        out.append(first)
    return out
