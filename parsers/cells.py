"""What the text of a CSV cell means: a number, "not logged", or something to
report.  Kept apart from the CSV reader, which is about rows and columns."""

from __future__ import annotations

import numpy as np

from .lazy import lazy
from .naming import NAN_SPELLINGS

pd = lazy("pandas")  # imported on first use

# Cells that mean "not logged" (pandas' own missing-value words among them)
MISSING = frozenset({"", "na", "n/a", "#n/a", "none", "null", "nil", "-", "--", "?"})
# C runtimes' spellings of inf and nan (MSVC prints 1.#INF, -1.#IND, 1.#QNAN)
_C_SPELLINGS = {"1.#inf": np.inf, "+1.#inf": np.inf, "-1.#inf": -np.inf, "1.#ind": np.nan,
                "-1.#ind": np.nan, "1.#qnan": np.nan, "-1.#qnan": np.nan, "1.#snan": np.nan,
                "nan(ind)": np.nan, "-nan(ind)": np.nan}


def to_float(text: pd.Series, decimal_comma: bool = False) -> np.ndarray:
    """Numbers of stripped cells, NaN where a cell is not one."""
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    lower = text.str.lower()
    odd = lower.isin(_C_SPELLINGS).to_numpy()
    if odd.any():
        values[odd] = lower[odd].map(_C_SPELLINGS).to_numpy(dtype=np.float64)
    return values


def numbers(column: pd.Series, decimal_comma: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, present, bad) for one column of strings.  Plain numbers are
    parsed in one pass; only the cells that are not go through the string
    work (missing words, nan spellings, spaces, decimal commas)."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    present = np.ones(len(column), dtype=bool)
    bad = np.zeros(len(column), dtype=bool)
    odd = np.flatnonzero(np.isnan(values))
    if odd.size:
        text = column.iloc[odd].str.strip()
        lower = text.str.lower()
        values[odd] = to_float(text, decimal_comma)
        present[odd] = ~lower.isin(MISSING).to_numpy()
        nan_word = (lower.isin(NAN_SPELLINGS) | lower.isin(_C_SPELLINGS)).to_numpy()
        bad[odd] = present[odd] & np.isnan(values[odd]) & ~nan_word
    return values, present, bad


def shown(cell: str) -> str:
    """A bad cell as a message shows it."""
    cell = cell.strip()
    if "\ufffd" in cell:
        return f"{cell[:40]!r} (bytes that are not UTF-8)"
    return repr(cell[:40])
