"""The seams: layers import only downwards, formats and reporters come from
their registries (and plugins join them through entry points), and the check
runs without click."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import parsers
from loss_doctor import report
from loss_doctor.check import CheckOptions, CheckResult, run_check
from loss_doctor.cli import cli, main
from loss_doctor.errors import InputError, LossDoctorError
from loss_doctor.records import RunInfo

from .conftest import ROOT, SAMPLE_LOGS

# top to bottom, as README's "How it is built" lists them: a module imports only
# modules of its own line or of lines below it (a package stands for its modules)
LAYERS = [
    ("loss_doctor", "loss_doctor.cli", "loss_doctor.terminal", "loss_doctor.__main__",
     "loss_doctor.notebook", "loss_doctor.watch"),
    ("loss_doctor.report",),
    ("loss_doctor.check",),
    ("loss_doctor.parallel",),
    ("loss_doctor.inventory", "loss_doctor.inputs", "loss_doctor.compare",
     "loss_doctor.baseline", "loss_doctor.findings_cache"),
    ("loss_doctor.diagnosis", "loss_doctor.config", "loss_doctor.ranking",
     "loss_doctor.grouping"),
    ("loss_doctor.detectors",),
    ("loss_doctor.views", "loss_doctor.records", "loss_doctor.datasets"),
    ("loss_doctor.roles", "loss_doctor.stats", "loss_doctor.median_bounds",
     "loss_doctor.selection", "loss_doctor.findings",
     "loss_doctor.errors", "loss_doctor.atomic", "loss_doctor.plugins"),
    ("parsers",),
]


def _layer(module: str) -> int | None:
    """The line of ``module``: the longest prefix listed wins."""
    best = None
    for i, line in enumerate(LAYERS):
        for prefix in line:
            if module == prefix or (prefix != "loss_doctor" and module.startswith(prefix + ".")):
                if best is None or len(prefix) > best[1]:
                    best = (i, len(prefix))
    return None if best is None else best[0]


def _modules():
    for package in ("parsers", "loss_doctor"):
        for dirpath, _, files in os.walk(ROOT / package):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    yield rel.removesuffix(".__init__"), name == "__init__.py", path


def _imports(module: str, is_package: bool, path: str) -> set[str]:
    tree = ast.parse(open(path, encoding="utf-8").read())
    base = module.split(".") if is_package else module.split(".")[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = ".".join(base[:len(base) - node.level + 1])
                target = f"{parent}.{node.module}" if node.module else parent
            else:
                target = node.module
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return out


def test_no_module_imports_a_layer_above_it():
    checked, broken, unplaced = 0, [], []
    for module, is_package, path in _modules():
        here = _layer(module)
        if here is None or (module == "loss_doctor" and is_package):
            unplaced += [module] if here is None else []
            continue
        checked += 1
        for name in _imports(module, is_package, path) - {"loss_doctor"}:  # lazy, empty
            there = _layer(name)
            if there is not None and there < here:
                broken.append(f"{module} imports {name}")
    assert not unplaced, f"place these modules in LAYERS: {unplaced}"
    assert checked > 40
    assert not broken, broken


def test_reporters_load_without_the_detectors_and_parsers_without_loss_doctor():
    code = ("import sys, loss_doctor.report, parsers; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('loss_doctor') "
            "or m in ('scipy', 'matplotlib'))))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    loaded = json.loads(out)
    assert "loss_doctor.report" in loaded
    assert not [m for m in loaded if m.startswith(("loss_doctor.detectors", "loss_doctor.check",
                                                    "loss_doctor.diagnosis"))]
    assert "scipy" not in loaded and "matplotlib" not in loaded
    out = subprocess.run([sys.executable, "-c", "import sys, parsers; "
                          "print(any(m.startswith('loss_doctor') for m in sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "False"


def test_every_format_is_in_the_registry_the_readme_and_the_messages(tmp_path):
    names = [n for fmt in parsers.FORMATS for n in fmt.names]
    assert len(names) == len(set(names))
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Formats", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    for fmt in parsers.FORMATS:
        assert any(row.startswith(f"| `{fmt.name}`") for row in rows), fmt.name
    assert len(rows) == len(parsers.FORMATS)
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert f"(looked for {parsers.looked_for()})" in result.stderr
    for fmt in parsers.FORMATS:
        assert fmt.label in parsers.looked_for()
    helptext = CliRunner().invoke(cli, ["--help"]).stdout
    assert "".join(parsers.looked_for().split()) in "".join(helptext.split())
    (tmp_path / "notes.xyz").write_text("x")
    with pytest.raises(parsers.ParseError, match="not a log format"):
        parsers.read_file(tmp_path / "notes.xyz")


def test_format_choices_come_from_the_reporter_registry():
    text = report.formats()
    assert list(text) == ["text", "json", "markdown", "github", "sarif", "junit"]
    assert list(report.formats(files=True)) == ["html"]
    bad = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "nope"])
    assert bad.exit_code == 2 and all(f"'{name}'" in bad.stderr for name in text)
    helptext = CliRunner().invoke(cli, ["check", "--help"]).stdout
    assert all(cls.summary in " ".join(helptext.split()) for cls in text.values())


PLUGIN = '''
from loss_doctor.detectors.base import Detector
from loss_doctor.report.base import Reporter


class Counts(Reporter):
    name = "counts"
    summary = "findings per code"

    def render(self, result, options):
        codes = sorted({f.code for f in result.findings})
        return " ".join(f"{c}={sum(f.code == c for f in result.findings)}" for c in codes)


class Points(Reporter):
    name = "points"
    summary = "points per run, counted in the workers"
    writes_files = True

    @staticmethod
    def per_run(view, findings, options):
        return sum(s.values.size for s in view.series.values())

    def __init__(self):
        self.seen = {}

    def collect(self, run, payload, options):
        self.seen[run] = payload

    def render(self, result, options):
        return {"seen": self.seen}


class Always(Detector):
    code = "LD901"
    name = "always"
    kind = "demo"
    severity = "info"
    summary = "one finding per run"

    def check(self, run):
        series = next(iter(run.series.values()))
        return [self.finding(series, score=0.1, start=0, end=0, message="hello",
                             evidence={})]
'''


def _plugin_path(tmp_path, installed: bool = True) -> str:
    """A directory holding the plugin module and, if ``installed``, the
    dist-info that registers its entry points (as pip would leave them)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "ld_plugin.py").write_text(PLUGIN)
    if not installed:
        return str(site)
    (site / "ld_plugin-1.0.dist-info").mkdir()
    (site / "ld_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ld-plugin\nVersion: 1.0\n")
    (site / "ld_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[loss_doctor.reporters]\ncounts = ld_plugin:Counts\n\n"
        "[loss_doctor.detectors]\nalways = ld_plugin:Always\n")
    return str(site)


def test_a_plugin_adds_a_reporter_and_a_detector_through_entry_points(tmp_path):
    env = {**os.environ, "PYTHONPATH": _plugin_path(tmp_path), "NO_COLOR": "1"}
    run = subprocess.run([sys.executable, "-m", "loss_doctor", "check", str(SAMPLE_LOGS),
                          "--format", "counts", "--exit-zero", "-j", "1"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "LD901=10" in run.stdout and "LD101=" in run.stdout
    helptext = subprocess.run([sys.executable, "-m", "loss_doctor", "check", "--help"],
                              capture_output=True, text=True, env=env).stdout
    assert "counts" in helptext and "findings per code" in helptext


def test_per_run_hooks_run_beside_the_diagnosis_in_the_workers(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(_plugin_path(tmp_path, installed=False))  # no entry points
    import ld_plugin

    for jobs in (1, 2):
        points = ld_plugin.Points()
        result = run_check([str(SAMPLE_LOGS)], CheckOptions(jobs=jobs, isolated=True),
                           reporters=[points])
        assert points.seen == {r.run: r.points for r in result.runs}
        assert len(points.seen) == 10


def test_run_check_without_click():
    result = run_check([str(SAMPLE_LOGS)], CheckOptions(jobs=1, isolated=True))
    assert isinstance(result, CheckResult) and result.exit_code == 1
    assert all(isinstance(r, RunInfo) for r in result.runs) and len(result.runs) == 10
    assert [f.rank for f in result.findings] == list(range(1, len(result.findings) + 1))
    assert result.findings[0].code == "LD101" and not result.errors
    assert len(result.detectors) == len(result.rules) == 10
    doc = json.loads(report.get("json").render(result, CheckOptions()))
    cli_doc = json.loads(CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--format",
                                                  "json", "--isolated"]).stdout)
    assert doc == cli_doc
    assert run_check([str(SAMPLE_LOGS)], CheckOptions(jobs=1, isolated=True,
                                                      exit_zero=True)).exit_code == 0
    with pytest.raises(InputError, match="no such file"):
        run_check([str(SAMPLE_LOGS / "nope")])


def test_main_returns_the_exit_code_and_maps_every_error_to_one_line(tmp_path, monkeypatch,
                                                                      capsys):
    assert main(["check", str(SAMPLE_LOGS / "tensorboard" / "healthy"), "-q"]) == 0
    assert main(["check", str(SAMPLE_LOGS), "-q"]) == 1
    assert main(["--version"]) == 0
    capsys.readouterr()
    assert main(["check", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == \
        f"loss-doctor: error: {tmp_path / 'nope'}: no such file or directory\n"
    assert main(["check", "--format", "nope", str(SAMPLE_LOGS)]) == 2
    assert "Invalid value for '--format'" in capsys.readouterr().err
    # a bad config is a config error in every command, compare included
    (tmp_path / "pyproject.toml").write_text("[tool.loss_doctor\n")
    monkeypatch.chdir(tmp_path)
    run, ref = SAMPLE_LOGS / "tensorboard" / "lr_too_high", SAMPLE_LOGS / "tensorboard" / "healthy"
    for argv in (["compare", str(run), "--against", str(ref)], ["ls", str(run)],
                 ["check", str(run)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("loss-doctor: error: ") and "pyproject.toml" in err, argv
        assert "internal error" not in err and err.count("\n") == 1


def test_an_internal_error_is_one_line_and_exit_2(monkeypatch, capsys):
    import loss_doctor.check

    def boom(*args, **kwargs):
        raise RuntimeError("kaput")
    monkeypatch.setattr(loss_doctor.check, "run_check", boom)
    monkeypatch.delenv("LOSS_DOCTOR_DEBUG", raising=False)
    assert main(["check", str(SAMPLE_LOGS)]) == 2
    err = capsys.readouterr().err
    assert err == ("loss-doctor: internal error: RuntimeError: kaput (set LOSS_DOCTOR_DEBUG=1 "
                   "for the traceback)\n")
    assert issubclass(InputError, LossDoctorError)


def test_the_library_raises_our_errors_as_they_are():
    from loss_doctor.config import Config, ConfigError
    from loss_doctor.diagnosis import build_detectors

    with pytest.raises(ConfigError, match="bad detector parameter"):
        build_detectors(Config(params={"spike": {"nope": 1}}))


def test_start_up_imports_neither_pandas_nor_scipy():
    """``--version`` and finding the runs import no pandas (0.25 s) and no scipy:
    the readers import pandas when a frame or a CSV table is asked for."""
    code = ("import sys, parsers; from loss_doctor.cli import cli; parsers.discover(sys.argv[1]);"
            " print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(SAMPLE_LOGS)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_checking_event_files_and_json_lines_imports_neither_pandas_nor_scipy(tmp_path):
    """A whole check of runs whose formats need no table (event files, JSON
    lines) loads no pandas: a pre-commit hook pays for what it reads only."""
    from .conftest import scalar_event, write_events

    logs = tmp_path / "logs"
    write_events(logs / "tb", [scalar_event("loss", 1.0 / (s + 1), s) for s in range(300)])
    (logs / "jl").mkdir()
    (logs / "jl" / "metrics.jsonl").write_text(
        "".join(f'{{"step": {s}, "loss": {2.0 / (1 + s)}}}\n' for s in range(300)))
    code = ("import sys; from loss_doctor.cli import cli;"
            " cli.main(['check', sys.argv[1], '--exit-zero', '--no-cache', '--format', 'json',"
            " '-o', sys.argv[2]], standalone_mode=False);"
            " print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(logs), str(tmp_path / "out.txt")],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    doc = json.loads((tmp_path / "out.txt").read_text())
    assert sorted(r["format"] for r in doc["runs"]) == ["jsonl", "tensorboard"]
