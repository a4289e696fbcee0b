"""Read and diagnose runs in parallel, streaming results into the ranking.

Runs are independent.  Each worker reads one run, diagnoses it and sends back
only its findings, its inventory entry and its read errors; the run's points
never leave the worker, so memory is bounded by the largest run being worked
on, not by the sum of all runs.

Executors: ``local`` is a process pool on this machine (``jobs=1`` works in
this process); ``dask`` fans runs out over a Dask cluster (``pip install
'loss-doctor[dask]'``): the scheduler at ``scheduler``, or a local cluster of
``jobs`` worker processes.  Dask workers need loss-doctor installed and must
reach the runs' files: a shared filesystem, or fsspec URLs (``s3://`` ...).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import parsers
from parsers.frame import to_frame
from parsers.read import read_source

from .config import Config
from .diagnose import diagnose_frame, run_views
from .findings import Finding
from .inventory import inventory
from .ranking import rank

EXECUTORS = ("local", "dask")


class ExecutorError(Exception):
    """The executor cannot start: Dask missing, scheduler unreachable."""


@dataclass(frozen=True)
class Job:
    """What every worker needs besides its run: the config; ``cache``, a cache
    directory, or True for the user cache directory of the machine the worker
    runs on (a Dask worker's own); ``plots``, the plot groups to draw for the
    HTML report (none: no plots); ``known``, baseline identities whose findings
    are left off the plots."""

    config: Config
    cache: bool | str | None = None
    plots: tuple[str, ...] = ()
    known: frozenset = frozenset()


def check_source(source: parsers.RunSource, job: Job):
    """(inventory entry or None, findings, error dicts, {plot group: PNG}) for one run."""
    data, errors = read_source(source, parsers.cache_dir_of(job.cache))
    errors = [e.to_dict() for e in errors]
    if data is None:
        return None, [], errors, {}
    df = to_frame([data])
    findings = list(diagnose_frame(df, job.config))
    images = {}
    if job.plots:
        from .report.common import identity
        from .report.plots import plot_run

        shown = [f for f in findings if identity(f) not in job.known]
        for view in run_views(df, job.config.roles):
            images = plot_run(view, shown, groups=job.plots)
    return inventory(df, job.config.roles)["runs"][0], findings, errors, images


def check_sources(sources: list, job: Job, *, jobs: int | None = None, progress=None,
                  executor: str = "local", scheduler: str | None = None, on_plots=None
                  ) -> tuple[dict, list[Finding], dict[str, dict[str, bytes]]]:
    """The inventory document, the ranked findings of all ``sources`` and the
    plots of each run (if ``job.plots``; given to ``on_plots(run, pngs)`` as
    they arrive instead, if that is set, so that they need not be held).  Runs
    are listed in the order of ``sources`` whatever order they finish in."""
    jobs = min(jobs or os.cpu_count() or 1, max(len(sources), 1))
    if executor == "dask":
        results = _dask(sources, job, jobs, scheduler)
    elif jobs == 1:
        results = enumerate(map(check_source, sources, [job] * len(sources)))
    else:
        results = _pool(sources, job, jobs)
    if progress:
        results = progress(results, len(sources), "checking")
    done, images = [], {}
    for index, (entry, found, errs, pngs) in results:
        if pngs and on_plots is not None:
            on_plots(entry["run"], pngs)
        elif pngs:
            images[entry["run"]] = pngs
        done.append((index, entry, found, errs))
    runs, findings, errors = [], [], []
    for _, entry, found, errs in sorted(done, key=lambda item: item[0]):
        if entry is not None:
            runs.append(entry)
        findings += found
        errors += errs
    return {"version": 1, "root": "", "runs": runs, "errors": errors}, rank(findings), images


def _pool(sources, job, jobs):
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        chunk = max(1, len(sources) // (jobs * 8))
        yield from enumerate(pool.map(check_source, sources, [job] * len(sources),
                                      chunksize=chunk))


def _check_batch(batch: list, job: Job) -> list:
    return [(i, check_source(source, job)) for i, source in batch]


def _dask(sources, job, jobs, scheduler):
    """(index, result) as batches of runs finish on the cluster; each batch's
    results are released on the cluster once they are here."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ExecutorError("--executor dask needs dask.distributed: "
                            "pip install 'loss-doctor[dask]'") from None
    try:
        cluster = scheduler or LocalCluster(n_workers=jobs, threads_per_worker=1,
                                            processes=True, dashboard_address=":0")
        client = Client(cluster, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        # a few runs per task: a task costs the scheduler about a millisecond,
        # a small run not much more; eight tasks per worker keep them all busy
        workers = len(client.scheduler_info().get("workers", {})) or jobs
        size = max(1, len(sources) // (workers * 8))
        indexed = list(enumerate(sources))
        batches = [indexed[lo:lo + size] for lo in range(0, len(indexed), size)]
        futures = client.map(_check_batch, batches, job=job, pure=False)
        for future in as_completed(futures):
            yield from future.result()
            future.release()
    finally:
        client.close()
        if not scheduler:
            cluster.close()
