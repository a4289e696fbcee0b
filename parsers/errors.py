"""The one error type readers raise for input they cannot read."""

from __future__ import annotations

import os


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
        out = {"path": self.path, "message": self.reason}
        if self.offset is not None:
            out["offset"] = self.offset
        if self.line is not None:
            out["line"] = self.line
        return out


def _rebuild(path, reason, offset, line):
    return ParseError(path, reason, offset=offset, line=line)
