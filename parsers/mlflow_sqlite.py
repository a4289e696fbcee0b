"""MLflow's SQLite tracking store (``mlflow.db``, the default backend of MLflow 3).

One file holds every run: the ``metrics`` table (key, value, timestamp in ms,
step, is_nan, run_uuid), ``runs`` (name, status, experiment), ``experiments``
(name), ``params`` and ``tags``.  Each run is a run of the frame, named
``<experiment name>/<run name>`` after the directory of the database.

The database is opened read-only and immutable (``mode=ro&immutable=1``):
SQLite then takes no lock and writes nothing, not even the ``-shm`` file a
read of a WAL database makes; writes still in a ``-wal`` file beside it (a
tracking server that is still running) are not seen, which a note says.
MLflow stores NaN as 0 with ``is_nan`` set and clips inf to the largest double;
both are read back as the NaN and inf that were logged.  Points of a step are
in the order they were written (rowid), so the last write of a step wins.
"""

from __future__ import annotations

import math
import os
import sqlite3
import urllib.parse

import numpy as np

from . import mlflow, storage
from .errors import ParseError
from .format import Format
from .frame import FileData

HEADER = b"SQLite format 3\x00"
SUFFIXES = (".db", ".sqlite", ".sqlite3")
TABLES = {"metrics", "runs", "experiments"}
_DBL_MAX = np.finfo(np.float64).max


def _connect(path: str) -> sqlite3.Connection:
    if storage.is_url(path):
        raise ParseError(path, "an MLflow SQLite store is read from a local disk only; "
                               "copy it here first")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro&immutable=1"
    try:
        return sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise ParseError(path, f"cannot open as SQLite: {exc}") from None


def _classify(path: str) -> str | None:
    """An SQLite file with MLflow's tables; also ``mlflow.db`` whose tables
    cannot be read (a damaged store, reported when it is read)."""
    if not storage.basename(path).lower().endswith(SUFFIXES) or storage.is_url(path):
        return None
    try:
        with open(path, "rb") as fh:
            if fh.read(len(HEADER)) != HEADER:
                return None
        con = _connect(path)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                               "WHERE type = 'table'")}
        finally:
            con.close()
    except OSError:
        return None
    except (sqlite3.Error, ParseError):
        return "mlflow-sqlite" if storage.basename(path) == "mlflow.db" else None
    return "mlflow-sqlite" if TABLES <= names else None


def runs_in(path: str) -> list[tuple[str, str | None]]:
    """(``<experiment>/<run name>``, run uuid) of every run that logged a metric;
    a store that cannot be listed is one run without a uuid, whose reading
    reports what is wrong."""
    try:
        con = _connect(path)
        try:
            rows = con.execute(
                "SELECT r.run_uuid, r.name, e.name FROM runs r LEFT JOIN experiments e "
                "ON e.experiment_id = r.experiment_id WHERE r.run_uuid IN "
                "(SELECT DISTINCT run_uuid FROM metrics) ORDER BY r.start_time, r.run_uuid"
            ).fetchall()
        finally:
            con.close()
    except (sqlite3.Error, ParseError):
        return [(storage.basename(path), None)]
    return [(f"{exp or 'experiment'}/{name or uuid}", uuid) for uuid, name, exp in rows]


def read_mlflow_db(path: str | os.PathLike, run_uuid: str | None = None) -> FileData:
    """The metrics of one run of the database (without ``run_uuid``: check
    that the store can be read, and say why not)."""
    path = os.fspath(path)
    con = _connect(path)
    try:
        rows = con.execute("SELECT key, value, timestamp, step, is_nan FROM metrics "
                           "WHERE run_uuid = ? ORDER BY rowid", (run_uuid,)).fetchall()
        if run_uuid is None:
            con.execute("SELECT count(*) FROM runs").fetchone()
            raise ParseError(path, "an MLflow store that lists no runs")
        facts = _facts(con, run_uuid)
    except sqlite3.Error as exc:
        raise ParseError(path, f"not a readable MLflow store: {exc}") from None
    finally:
        con.close()
    names, steps, values, walls, errors = [], [], [], [], []
    for key, value, timestamp, step, is_nan in rows:
        try:
            value = math.nan if is_nan else float(value)
            step = int(step)
            if not -2 ** 63 <= step < 2 ** 63:
                raise ValueError(f"step {step} does not fit in 64 bits")
        except (TypeError, ValueError) as exc:
            errors.append(ParseError(path, f"run {run_uuid}, {key}: {exc}; skipped"))
            continue
        if abs(value) == _DBL_MAX:
            value = math.copysign(math.inf, value)  # how MLflow stores inf
        names.append(str(key))
        steps.append(step)
        values.append(value)
        walls.append(timestamp / 1000.0 if timestamp is not None else math.nan)
    notes = []
    if storage.isfile(path + "-wal"):
        notes.append(f"{storage.basename(path)}-wal is not read (writes not yet "
                     "checkpointed: is a tracking server still running?)")
    data = FileData.from_points(path, "mlflow-sqlite", names, steps, values, walls,
                                notes=notes, errors=errors)
    mlflow.add_facts(data, facts)
    return data


def _facts(con: sqlite3.Connection, run_uuid: str) -> dict:
    """The run's name, status, experiment, parameters and parent."""
    meta = con.execute("SELECT name, status, lifecycle_stage, experiment_id FROM runs "
                       "WHERE run_uuid = ?", (run_uuid,)).fetchone()
    params = dict(con.execute("SELECT key, value FROM params WHERE run_uuid = ?",
                              (run_uuid,)).fetchall())
    parent = con.execute("SELECT value FROM tags WHERE run_uuid = ? AND "
                         "key = 'mlflow.parentRunId'", (run_uuid,)).fetchone()
    name, status, stage, experiment = meta or (None, None, None, None)
    return {"run_id": run_uuid, "run_name": name, "experiment_id": experiment,
            "status": (status or "").lower() or None,
            "parent_run_id": parent[0] if parent else None, "params": params,
            "deleted": stage == "deleted"}


FORMAT = Format(name="mlflow-sqlite", label="MLflow's mlflow.db",
                files="mlflow.db (any SQLite file with MLflow's tables)",
                classify=_classify, read=read_mlflow_db, grouping="contained",
                runs_in=runs_in)
