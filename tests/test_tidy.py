"""``loss-doctor export`` read back: the same runs, series and findings."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
from click.testing import CliRunner

import parsers
from loss_doctor.cli import cli

from .conftest import SAMPLE_LOGS


def _check(path):
    """The findings, with the x axis named "step" throughout: an export keeps
    every point, but the frame's columns do not say that a Keras run's x axis
    was the epoch (``df.attrs`` does, a CSV cannot)."""
    result = CliRunner().invoke(cli, ["check", str(path), "--format", "json", "--isolated",
                                      "-j", "1"])
    doc = json.loads(result.stdout)
    findings = sorted((f["run"], f["metric"], f["code"], f["step_start"], f["step_end"],
                       re.sub(r"\bepoch(s?) (\d)", r"step\1 \2", f["message"]))
                      for f in doc["findings"])
    return findings, {r["run"]: r["metrics"] for r in doc["runs"]}, result.exit_code


def test_an_export_checks_like_the_logs_it_came_from(tmp_path):
    original = _check(SAMPLE_LOGS)
    for suffix in ("csv", "jsonl"):
        out = tmp_path / f"frame.{suffix}"
        wrote = CliRunner().invoke(cli, ["export", str(SAMPLE_LOGS), "-o", str(out)])
        assert wrote.exit_code == 0
        assert parsers.classify(str(out)) == "tidy"
        assert _check(out) == original, suffix


def test_the_frame_round_trips_point_for_point_nan_and_inf_included(tmp_path):
    df = parsers.read_logdir(SAMPLE_LOGS)
    df.loc[3, "value"] = math.inf
    df.to_csv(tmp_path / "frame.csv", index=False)  # pandas writes NaN as an empty cell
    back = parsers.read_logdir(tmp_path)
    assert sorted(back.run.unique()) == sorted(df.run.unique())
    cols = ["run", "metric", "step", "value"]
    pd.testing.assert_frame_equal(
        back[cols].astype({"run": str, "metric": str}).reset_index(drop=True),
        df[cols].astype({"run": str, "metric": str}).sort_values(
            ["run", "metric", "step"]).reset_index(drop=True))
    assert np.isinf(back.value).sum() == 1 and back.value.isna().sum() == df.value.isna().sum()


def test_a_damaged_export_keeps_the_rest(tmp_path):
    path = tmp_path / "frame.csv"
    path.write_text("run,metric,step,value,wall_time\n" +
                    "".join(f"a,loss,{s},{1 / (s + 1)},\n" for s in range(30)) +
                    "a,loss,oops,0.1,\n" + "b,loss,1,0.5,\nb,loss,2,0.4,\n")
    df = parsers.read_logdir(tmp_path)
    (err,) = df.attrs["errors"]
    assert err["line"] == 32 and "not whole numbers" in err["message"]
    assert df.groupby("run", observed=True).size().to_dict() == {"a": 30, "b": 2}
