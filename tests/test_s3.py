"""``s3://`` end to end: s3fs against moto's S3 server on localhost, so that
what reaches the readers is a real object store's file objects (range GETs,
ETags, paginated listings), not a local or in-memory stand-in."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from click.testing import CliRunner

import parsers
from loss_doctor.cli import cli

from .conftest import SAMPLE_LOGS

moto_server = pytest.importorskip("moto.server")
s3fs = pytest.importorskip("s3fs")


@pytest.fixture(scope="module")
def bucket():
    server = moto_server.ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
        fs.mkdir("logs")
        for dirpath, _, filenames in os.walk(SAMPLE_LOGS):
            for name in filenames:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, SAMPLE_LOGS).replace(os.sep, "/")
                with open(path, "rb") as fh:
                    fs.pipe(f"logs/sweep/{rel}", fh.read())
        fs.pipe("logs/bad/metrics.jsonl", b'{"step": 0, "loss": 1}\n[1]\n{"step": 1, "loss": 2}\n')
        s3fs.S3FileSystem.clear_instance_cache()
        yield "s3://logs"
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


def test_an_s3_prefix_reads_to_the_same_frame_as_the_directory(bucket):
    remote = parsers.read_logdir(f"{bucket}/sweep")
    local = parsers.read_logdir(SAMPLE_LOGS)
    assert remote.attrs["errors"] == []
    pd.testing.assert_frame_equal(remote.reset_index(drop=True), local.reset_index(drop=True))
    files = remote.attrs["runs"]["tensorboard/resumed"]["files"]
    assert len(files) == 2 and all(f.startswith("s3://logs/sweep/") for f in files)


def test_check_on_s3_through_the_pool_and_the_cache(bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("LOSS_DOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    local = runner.invoke(cli, ["check", str(SAMPLE_LOGS), "--format", "json", "--isolated"])
    for _ in range(2):  # cold, then from the cache (keyed by the objects' ETags)
        remote = runner.invoke(cli, ["check", f"{bucket}/sweep", "--format", "json",
                                     "--isolated", "-j", "2"])
        assert remote.exit_code == 1, remote.output
        assert json.loads(remote.stdout)["findings"] == json.loads(local.stdout)["findings"]
    assert len(os.listdir(tmp_path / "cache")) > 10


def test_a_damaged_object_is_one_line(bucket):
    df = parsers.read_logdir(f"{bucket}/bad")
    (error,) = df.attrs["errors"]
    assert error["path"] == "s3://logs/bad/metrics.jsonl" and error["line"] == 2
    assert df.value.tolist() == [1.0, 2.0]
