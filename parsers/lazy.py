"""A module imported on first use: ``pd = lazy("pandas")`` costs nothing until
an attribute of ``pd`` is read (``import parsers`` and ``loss-doctor
--version`` do not pay pandas' 0.25 s import for the formats that need no
frame)."""

from __future__ import annotations

import importlib


class _Lazy:
    def __init__(self, name: str):
        self.__dict__["_name"] = name

    def __getattr__(self, attr):
        module = importlib.import_module(self.__dict__["_name"])
        return getattr(module, attr)


def lazy(name: str):
    return _Lazy(name)
