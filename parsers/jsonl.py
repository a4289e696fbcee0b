"""JSON lines: ``*.jsonl``, ``*.ndjson`` and ``.json`` files with one object per
line (detectron2 ``metrics.json``, mmengine ``scalars.json``, hand-written logs).

* Numeric fields are metrics (booleans are not); nested objects are flattened
  with ``/`` (``{"train": {"loss": 1}}`` is ``train/loss``), except W&B's media
  and histograms (objects with a ``_type``); ``null`` means "not
  logged on this line"; ``NaN``/``Infinity`` literals are kept as values.
* A string field named split/phase/mode/stage/subset prefixes the line's metrics:
  ``{"split": "val", "loss": 0.3}`` is ``val/loss``.
* The x axis is the first of step/global_step/_step/iteration/iter/epoch whose
  values are whole numbers; a line without it belongs to the last step seen.
  With none of them, the line number among object lines (from 0) is used.
* A line that is not a JSON object is reported with its number and skipped;
  lines that are not JSON at all (print output, progress bars between the
  records) are skipped with one note; a line over 1 MB is reported and skipped
  without being held in memory.  Of duplicate keys in a line, the last wins.
"""

from __future__ import annotations

import json
import math
import os

from . import storage
from .errors import ParseError
from .format import Format
from .frame import FileData
from .naming import SPLIT_FIELDS, STEP_FIELDS, WALL_FIELDS, find_field, x_axis_name

SUFFIXES = (".jsonl", ".ndjson")
# .json files that are never logs (configs, tokenizers, W&B's summaries, HF results)
NOT_LOGS = {"config.json", "wandb-summary.json", "wandb-metadata.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
            "adapter_config.json", "preprocessor_config.json", "all_results.json",
            "train_results.json", "eval_results.json", "vocab.json"}
_MAX_LINE = 1 << 20  # a metrics line is never a megabyte


def looks_like_jsonl(path: str) -> bool:
    """A ``.json`` file is JSON lines if its first line is a whole object and it
    has a step field or a second object line (``config.json`` has neither)."""
    objects = 0
    try:
        with storage.open_text(path, encoding="utf-8-sig", errors="replace") as fh:
            for _ in range(50):  # blank lines allowed before the first two objects
                line = fh.readline(_MAX_LINE)
                if not line:
                    break
                if len(line) >= _MAX_LINE:  # one huge JSON document, not a log
                    return False
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    return False
                if not isinstance(obj, dict):
                    return False
                objects += 1
                if find_field(obj, STEP_FIELDS) is not None or objects == 2:
                    return True
    except OSError:
        return False
    return False


def _flatten(obj: dict, prefix: str, out: dict) -> None:
    for key, val in obj.items():
        name = f"{prefix}{key}"
        if isinstance(val, dict):
            if "_type" not in val:  # W&B's media and histograms are not scalars
                _flatten(val, name + "/", out)
        elif isinstance(val, (int, float)) and not isinstance(val, bool):
            out[name] = _float(val)


def _float(value) -> float:
    """A JSON number as a double: an integer beyond a double is +-inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def read_jsonl(path: str | os.PathLike) -> FileData:
    path = os.fspath(path)
    rows: list[tuple[int, dict]] = []
    errors: list[ParseError] = []
    notes: list[str] = []
    chatter: list[tuple[int, bytes]] = []  # lines that are not JSON at all
    try:
        with storage.open_binary(path) as fh:
            for lineno, raw in enumerate(storage.bounded_lines(fh, _MAX_LINE), 1):
                if raw is None:
                    errors.append(ParseError(path, "longer than 1 MB: not a metrics line; "
                                                   "skipped", line=lineno))
                    continue
                if not raw.endswith(b"\n") and raw.strip() and _is_cut(raw):
                    notes.append(f"last line ({lineno}) incomplete: a run still being "
                                 "written? kept the lines before it")
                    break
                _parse_line(path, lineno, raw, rows, errors, chatter)
    except OSError as exc:
        raise ParseError(path, exc.strerror or str(exc)) from None
    if not rows:
        if errors:
            raise errors[0]
        raise ParseError(path, "no JSON object lines")
    data = _to_points(path, rows, errors)
    if chatter:
        first, text = chatter[0]
        notes.append(f"{len(chatter)} line(s) that are not JSON skipped (print output?), "
                     f"first at line {first}: {text.decode('utf-8', 'replace')[:50]!r}")
    data.notes[:0] = notes
    return data


def _is_cut(raw: bytes) -> bool:
    """A last line without a newline that does not parse: a write in progress."""
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


def _parse_line(path, lineno, raw, rows, errors, chatter) -> None:
    text = raw.strip()
    if not text:
        return
    encoding = "utf-8-sig" if lineno == 1 else "utf-8"
    try:
        try:
            decoded = text.decode(encoding)
        except UnicodeDecodeError as exc:  # in a string field, most likely: keep the numbers
            errors.append(ParseError(path, f"bytes that are not UTF-8 ({exc.reason}) at "
                                           f"column {exc.start + 1}; replaced", line=lineno))
            decoded = text.decode(encoding, errors="replace")
        obj = json.loads(decoded)
    except RecursionError:
        errors.append(ParseError(path, "nested deeper than a JSON parser goes; line skipped",
                                 line=lineno))
        return
    except ValueError as exc:
        if text.lstrip(b"\xef\xbb\xbf")[:1] in (b"{", b"["):  # a record, damaged
            errors.append(ParseError(path, f"not JSON ({exc}); line skipped", line=lineno))
        else:  # a progress bar or a print() between the records
            chatter.append((lineno, text))
        return
    if not isinstance(obj, dict):
        errors.append(ParseError(path, f"a JSON {type(obj).__name__}, not an object; "
                                       "line skipped", line=lineno))
        return
    rows.append((lineno, obj))


def _whole(val) -> bool:
    return not isinstance(val, bool) and (isinstance(val, int) or (
        isinstance(val, float) and math.isfinite(val) and val == int(val)))


def _choose_x(objs) -> str | None:
    """The first step field whose values are whole numbers on most lines that
    have it (a few odd lines, a string or a float step, are reported and
    skipped instead of turning the file's x axis into row numbers)."""
    for want in STEP_FIELDS:
        whole = odd = 0
        for obj in objs:
            key = find_field(obj, (want,))
            if key is None or obj[key] is None:
                continue
            if _whole(obj[key]):
                whole += 1
            else:
                odd += 1
        if whole and odd <= whole // 10:  # fractional epochs (0.25, 0.5, ...) are not steps
            return want
    return None


def _to_points(path, rows, errors) -> FileData:
    objs = [obj for _, obj in rows]
    x_field = _choose_x(objs)
    metrics, steps, values, walls = [], [], [], []
    notes: list[str] = []
    step = None
    skipped = 0
    for index, (lineno, obj) in enumerate(rows):
        x_key = find_field(obj, (x_field,)) if x_field else None
        if x_field is None:
            step = index
        elif x_key is not None and obj[x_key] is not None:
            if not _whole(obj[x_key]):
                errors.append(ParseError(path, f"{x_key} {obj[x_key]!r:.30} is not a whole "
                                               "number; line skipped", line=lineno))
                continue
            step = int(obj[x_key])
            if not -2 ** 63 <= step < 2 ** 63:
                errors.append(ParseError(path, f"{x_key} {obj[x_key]!r:.30} does not fit in "
                                               "64 bits; line skipped", line=lineno))
                step = None
                continue
        flat: dict[str, float] = {}
        prefix = ""
        split_key = find_field(obj, SPLIT_FIELDS)
        if split_key is not None and isinstance(obj[split_key], str) and obj[split_key]:
            prefix = obj[split_key].strip() + "/"
        wall_key = find_field(obj, WALL_FIELDS)
        wall = obj.get(wall_key) if wall_key else None
        wall = _float(wall) if isinstance(wall, (int, float)) and not isinstance(wall, bool) \
            else math.nan
        _flatten({k: v for k, v in obj.items() if k not in (x_key, wall_key)}, prefix, flat)
        if not flat:
            continue
        if step is None:
            skipped += 1
            continue
        for name, val in flat.items():
            metrics.append(name)
            steps.append(step)
            values.append(val)
            walls.append(wall)
    if skipped:
        notes.append(f"{skipped} line(s) before the first {x_field!r} value skipped")
    finite = [w for w in walls if not math.isnan(w)]
    return FileData.from_points(path, "jsonl", metrics, steps, values, walls,
                                x_axis=x_axis_name(x_field), notes=notes, errors=errors,
                                start=min(finite) if finite else math.nan)


def _classify(path: str) -> str | None:
    name = storage.basename(path)
    lower = name.lower()
    if lower.endswith(SUFFIXES):
        return "jsonl"
    if lower.endswith(".json") and name not in NOT_LOGS and looks_like_jsonl(path):
        return "jsonl"
    return None


FORMAT = Format(name="jsonl", label="JSON lines",
                files="*.jsonl, *.ndjson; *.json with one object per line",
                classify=_classify, read=read_jsonl)
