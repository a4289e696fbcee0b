"""loss_doctor.report.json_text: json.dumps(indent=2), the same text."""

from __future__ import annotations

import json
import math
import random
from collections import OrderedDict

import numpy as np
import pytest

from loss_doctor.report.json_text import dumps

from .conftest import SAMPLE_LOGS

_STRINGS = ["", "a", "loss/train", "é", "日本", "\u2028", "\x00\x1f", "quote\"back\\slash",
            "tab\tnew\nline", "\ud800", "😀"]
_NUMBERS = [0, 1, -1, 2 ** 64, -(2 ** 70), 0.0, -0.0, 1.5, 1e-300, 5e-324, 1e16, 1.7e308,
            0.1 + 0.2, 123456.789, np.float64(0.25), np.float64(1e-7), True, False, None]


def _document(rng: random.Random, depth: int = 0):
    kind = rng.random()
    if depth > 4 or kind < 0.45:
        return rng.choice(_STRINGS + _NUMBERS)
    if kind < 0.75:
        return {rng.choice(_STRINGS) + str(i): _document(rng, depth + 1)
                for i in range(rng.randrange(0, 5))}
    items = [_document(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return items if rng.random() < 0.8 else tuple(items)


@pytest.mark.parametrize("seed", range(20))
def test_the_same_text_as_json_dumps(seed):
    rng = random.Random(seed)
    for _ in range(200):
        doc = _document(rng)
        for allow_nan in (True, False):
            assert dumps(doc, allow_nan=allow_nan) == json.dumps(doc, indent=2,
                                                                 allow_nan=allow_nan)


@pytest.mark.parametrize("odd", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_nan_and_infinities_as_json_dumps_writes_or_refuses_them(odd):
    doc = {"findings": [{"evidence": {"ratio": odd}}], "n": 1}
    assert dumps(doc) == json.dumps(doc, indent=2)  # NaN, Infinity
    with pytest.raises(ValueError, match="Out of range float values"):
        dumps(doc, allow_nan=False)


def test_what_only_json_dumps_knows_goes_to_it():
    assert dumps({1: "a", 2.5: "b", None: "c", False: "d"}) == \
        json.dumps({1: "a", 2.5: "b", None: "c", False: "d"}, indent=2)  # keys made strings
    assert dumps(OrderedDict(b=1, a=[])) == json.dumps(OrderedDict(b=1, a=[]), indent=2)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"x": {1, 2}})
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps([np.int64(3)])  # not an int: json.dumps refuses it too
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps({"a": loop})


def test_a_findings_document(tmp_path):
    """What ``check --format json`` writes: the same text as before."""
    from click.testing import CliRunner

    from loss_doctor.cli import cli

    out = tmp_path / "f.json"
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json", "-o", str(out),
                                      "--exit-zero", "--no-cache"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    doc = json.loads(text)
    assert doc["findings"] and text.rstrip("\n") == json.dumps(doc, indent=2, allow_nan=False)
