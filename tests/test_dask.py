"""``--executor dask``: the same findings and plots as the local process pool,
from a real ``dask.distributed`` cluster of worker processes on this machine."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from loss_doctor.cli import cli

from .conftest import SAMPLE_LOGS

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _check(*args):
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json",
                                      "--isolated", *args])
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "plots").iterdir())}


def test_a_dask_cluster_gives_the_local_findings_and_plots(scheduler, tmp_path):
    local = _check("-j", "1", "--report", str(tmp_path / "local"))
    on_dask = _check("--scheduler", scheduler, "--report", str(tmp_path / "dask"))
    assert on_dask == local
    assert len(local["runs"]) == 10 and local["findings"]
    assert _digests(tmp_path / "dask") == _digests(tmp_path / "local")
    assert len(_digests(tmp_path / "local")) > 10


def test_executor_dask_without_a_scheduler_starts_a_local_cluster():
    assert _check("--executor", "dask", "-j", "2") == _check("-j", "2")


def test_scheduler_with_the_local_executor_is_a_usage_error():
    result = CliRunner().invoke(cli, ["check", str(SAMPLE_LOGS), "--executor", "local",
                                      "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2 and "--executor dask" in result.stderr
