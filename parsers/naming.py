"""Column and field names that the text formats give a meaning to."""

from __future__ import annotations

# The x axis, in order of preference.  W&B's history uses ``_step``.
STEP_FIELDS = ("step", "global_step", "_step", "iteration", "iter", "epoch")
# Seconds since the epoch; not a metric.
WALL_FIELDS = ("wall_time", "walltime", "wall time", "_timestamp", "timestamp")
# A string field with one of these names prefixes the metrics of its row.
SPLIT_FIELDS = ("split", "phase", "mode", "stage", "subset")
NAN_SPELLINGS = frozenset({"nan", "-nan", "+nan"})


def find_field(names, wanted) -> str | None:
    """The first of ``wanted`` present in ``names``, compared case-insensitively."""
    lower = {str(n).strip().lower(): n for n in names}
    for want in wanted:
        if want in lower:
            return lower[want]
    return None


def x_axis_name(field: str | None) -> str:
    """What ``attrs[...]["x_axis"]`` says for a chosen step field."""
    if field is None:
        return "row"
    name = field.strip().lower().lstrip("_")
    return {"global_step": "step", "iter": "iteration"}.get(name, name)


def printable(text: str) -> str:
    """A name as it can be shown anywhere: bytes that were not UTF-8 (kept by
    the OS as surrogates) and control characters as ``\\xNN``."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif not ch.isprintable() and ch != " ":
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
