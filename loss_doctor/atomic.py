"""Outputs written whole or not at all: a temporary file beside the target,
renamed over it, so a failed or interrupted run never leaves half a report."""

from __future__ import annotations

import os
import tempfile


def write_text(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".loss-doctor-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
