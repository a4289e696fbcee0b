"""A log directory is data, never code or markup.

Run and metric names come from directory names and log contents that anyone
may have written: reports escape them, and nothing in a log directory is ever
imported, executed or unpickled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

HOSTILE = "<img src=x onerror=alert(1)>"  # a directory name: no "/" in it
METRIC = "<script>alert(2)</script>/loss"


@pytest.fixture(scope="module")
def hostile_logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    run = root / HOSTILE
    run.mkdir()
    rng = np.random.default_rng(0)
    loss = 2.0 * np.exp(-np.arange(300) / 80) + 0.3 + rng.normal(0, 0.01, 300)
    loss[150] = 9.0  # a spike, so that every report names this run and metric
    rows = "\n".join(f"{s},{v:.6f}" for s, v in enumerate(loss))
    (run / "metrics.csv").write_text(f"step,{METRIC}\n{rows}\n")
    marker = root / "EXECUTED"
    payload = f"open({str(marker)!r}, 'w').write('pwned')\n"
    for name in ("__init__.py", "conftest.py", "sitecustomize.py", "setup.py", "parsers.py",
                 "loss_doctor.py"):
        (run / name).write_text(payload)
    (run / "evil.pth").write_text(f"import os; {payload}")
    import pickle

    class Boom:
        def __reduce__(self):
            return (exec, (payload,))
    (run / "state.pkl").write_bytes(pickle.dumps(Boom()))
    (run / "hparams.yaml").write_text(f"x: !!python/object/apply:exec [{payload.strip()!r}]\n")
    return root


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-c", "from loss_doctor.cli import main; main()",
                           *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1"})


def test_no_code_in_a_log_directory_runs(hostile_logdir, tmp_path):
    for args in (["check", str(hostile_logdir), "--exit-zero", "--report",
                  str(tmp_path / "r")], ["ls", str(hostile_logdir)]):
        result = _cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert not (hostile_logdir / "EXECUTED").exists()


def test_reports_escape_hostile_names(hostile_logdir, tmp_path):
    out = tmp_path / "report"
    result = _cli("check", str(hostile_logdir), "--report", str(out), "--exit-zero",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (out / "index.html").read_text()
    assert HOSTILE not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    markdown = _cli("check", str(hostile_logdir), "--format", "markdown", "--exit-zero",
                    cwd=tmp_path).stdout
    assert "LD201" in markdown and "<img" not in markdown and "<script>" not in markdown
    junit = _cli("check", str(hostile_logdir), "--format", "junit", "--exit-zero",
                 cwd=tmp_path).stdout
    names = [e.get("name", "") + e.get("classname", "") for e in ET.fromstring(junit).iter()]
    assert any(HOSTILE in n for n in names)  # the XML parses, and holds the name as text
    sarif = json.loads(_cli("check", str(hostile_logdir), "--format", "sarif", "--exit-zero",
                            cwd=tmp_path).stdout)
    assert sarif["runs"][0]["results"]
    github = _cli("check", str(hostile_logdir), "--format", "github", "--exit-zero",
                  cwd=tmp_path).stdout
    annotations = [line for line in github.splitlines() if line.startswith("::")]
    assert annotations and all("\r" not in a for a in annotations)


def test_fifos_and_devices_named_like_logs_are_not_opened(tmp_path):
    """A FIFO blocks whoever opens it until a writer comes; /dev/zero never
    ends.  Named like every format's files, they are passed over, and the
    run beside them is read."""
    from .conftest import scalar_event, write_events

    write_events(tmp_path / "good", [scalar_event("loss", 1.0 / (s + 1), s) for s in range(30)])
    odd = tmp_path / "odd"
    odd.mkdir()
    for name in ("train.log", "metrics.jsonl", "metrics.csv", "trainer_state.json",
                 "events.out.tfevents.1.x", "mlflow.db", "run-abc.wandb"):
        os.mkfifo(odd / name)
    os.symlink("/dev/zero", odd / "nohup.out")
    os.mkfifo(odd / "not_a_log_name")  # a special file not named like a log: not worth a word
    code = ("import json, parsers, sys; df = parsers.read_logdir(sys.argv[1]); "
            "print(json.dumps([sorted(df.run.unique()), df.attrs['errors']]))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    runs, errors = json.loads(out)
    assert runs == ["good"]
    named = {os.path.basename(e["path"]): e["message"] for e in errors}
    assert set(named) == {"train.log", "metrics.jsonl", "metrics.csv", "trainer_state.json",
                          "events.out.tfevents.1.x", "mlflow.db", "run-abc.wandb", "nohup.out"}
    assert named["metrics.jsonl"] == "a FIFO, not a regular file: not read"
    assert named["nohup.out"] == "a link to a character device, not a regular file: not read"
    result = subprocess.run([sys.executable, "-m", "loss_doctor", "check", str(odd / "train.log")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "train.log: a FIFO, not a regular file: not read" in result.stderr
