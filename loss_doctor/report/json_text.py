"""``json.dumps(obj, indent=2)``, the same text, in half the time.

With ``indent`` set, the standard library encodes in Python, through a
generator per container (its C encoder knows no indentation before Python
3.13): the JSON of a 1,000-run sweep's 3,955 findings took a tenth of a
second, all of it after the last run was diagnosed.  :func:`dumps` writes the
same text with the C string encoder and ``float.__repr__``, as the standard
library does, in one recursive pass; anything outside plain dicts with string
keys, lists, tuples, strings, ints, floats, bools and None (a NaN, a key that
is not a string, an object for ``default``) hands the whole document to
``json.dumps``, so that its text, and its errors, are the standard library's.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii

_INFINITY = float("inf")


class _Unsupported(Exception):
    """Something only ``json.dumps`` should write."""


def dumps(obj, *, allow_nan: bool = True) -> str:
    """``json.dumps(obj, indent=2, allow_nan=allow_nan)``."""
    parts: list[str] = []
    try:
        _write(obj, parts, "\n")
    except (_Unsupported, RecursionError):  # RecursionError: a circular document
        return json.dumps(obj, indent=2, allow_nan=allow_nan)
    return "".join(parts)


def _scalar(o) -> str:
    """The text of a str, None, bool, int or float, in the standard library's
    order of tests (True is an int; a numpy float64 is a float)."""
    if isinstance(o, str):
        return encode_basestring_ascii(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        if o != o or o == _INFINITY or o == -_INFINITY:
            raise _Unsupported  # NaN and infinities: json.dumps writes or refuses them
        return float.__repr__(o)
    raise _Unsupported


def _write(o, parts: list[str], newline: str) -> None:
    if isinstance(o, dict):
        members, brackets = o.items(), "{}"
    elif isinstance(o, (list, tuple)):
        members, brackets = o, "[]"
    else:
        parts.append(_scalar(o))
        return
    if not o:
        parts.append(brackets)
        return
    keyed = brackets == "{}"
    inner = newline + "  "
    separator = brackets[0] + inner
    for value in members:
        parts.append(separator)
        if keyed:
            key, value = value
            if not isinstance(key, str):
                raise _Unsupported  # json.dumps turns such keys into strings
            parts.append(encode_basestring_ascii(key))
            parts.append(": ")
        if isinstance(value, (dict, list, tuple)):
            _write(value, parts, inner)
        else:  # a scalar here, not through _write: most members are scalars
            parts.append(_scalar(value))
        separator = "," + inner
    parts.append(newline + brackets[1])
