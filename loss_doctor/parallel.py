"""Read and diagnose runs in parallel, streaming results into the ranking.

Runs are independent.  Each worker reads one run, diagnoses it and sends back
only its findings, its record and its read errors (and what reporters asked
to have computed beside the data, such as plots); the run's points
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

from . import findings_cache
from .config import Config
from .diagnosis import diagnose_view
from .errors import LossDoctorError
from .findings import Finding
from .inventory import read_view
from .ranking import rank
from .records import RunInfo

EXECUTORS = ("local", "dask")


class ExecutorError(LossDoctorError):
    """The executor cannot start: Dask missing, scheduler unreachable."""


@dataclass(frozen=True)
class Job:
    """What every worker needs besides its run: the config and the detectors
    built from it; ``cache``, a cache directory, or True for the user cache
    directory of the machine the worker runs on (a Dask worker's own);
    ``hooks``, reporter classes whose ``per_run(view, findings, options)``
    runs beside the diagnosis (the plots of the HTML report), with ``options``;
    ``known``, baseline identities whose findings those hooks do not get."""

    config: Config
    detectors: tuple = ()
    cache: bool | str | None = None
    hooks: tuple[type, ...] = ()
    options: object = None
    known: frozenset = frozenset()


def check_source(source: parsers.RunSource, job: Job):
    """(RunInfo or None, findings, read errors, {hook name: payload}) of one
    run.  The run is cut into its view once; detectors, hooks and the run's
    record all see that view.  With a cache and no hooks, an unchanged run's
    record and findings come from the cache (:mod:`loss_doctor.findings_cache`)."""
    cache_dir = parsers.cache_dir_of(job.cache)
    entry = findings_cache.key(source, job) if cache_dir and not job.hooks else None
    if entry is not None:
        kept = findings_cache.load(cache_dir, entry)
        if kept is not None:
            return (*kept, {})
    view, info, errors = read_view(source, job.config.roles, cache_dir,
                                   walls=bool(job.hooks))  # only plots draw wall times
    if view is None:
        return None, [], errors, {}
    findings = diagnose_view(view, list(job.detectors), job.config)
    if entry is not None and not errors:
        findings_cache.store(cache_dir, entry, (info, findings, errors))
    payloads = {}
    if job.hooks:
        shown = [f for f in findings if f.identity not in job.known]
        for hook in job.hooks:
            payload = hook.per_run(view, shown, job.options)
            if payload is not None:
                payloads[hook.name] = payload
    return info, findings, errors, payloads


def check_sources(sources: list, job: Job, *, jobs: int | None = None, progress=None,
                  executor: str = "local", scheduler: str | None = None, on_payload=None
                  ) -> tuple[list[RunInfo], list[Finding], list[parsers.ReadError]]:
    """The runs read, the ranked findings of all ``sources`` and the read
    errors; each run's hook payloads go to ``on_payload(run, name, payload)``
    as they arrive, so that none need be held.  Runs are listed in the order of
    ``sources`` whatever order they finish in."""
    jobs = min(jobs or os.cpu_count() or 1, max(len(sources), 1))
    if executor == "dask":
        results = _dask(sources, job, jobs, scheduler)
    elif jobs == 1:
        results = enumerate(map(check_source, sources, [job] * len(sources)))
    else:
        results = _pool(sources, job, jobs)
    if progress:
        results = progress(results, len(sources), "checking")
    done = []
    for index, (info, found, errs, payloads) in results:
        if on_payload is not None:
            for name, payload in payloads.items():
                on_payload(info.run, name, payload)
        done.append((index, info, found, errs))
    runs, findings, errors = [], [], []
    for _, info, found, errs in sorted(done, key=lambda item: item[0]):
        if info is not None:
            runs.append(info)
        findings += found
        errors += errs
    return runs, rank(findings), errors


def _pool(sources, job, jobs):
    with ProcessPoolExecutor(max_workers=jobs, initializer=_keep_freed_memory) as pool:
        chunk = max(1, len(sources) // (jobs * 32))
        yield from enumerate(pool.map(check_source, sources, [job] * len(sources),
                                      chunksize=chunk))


def _keep_freed_memory() -> None:
    """A pool worker reads run after run, each a few fresh buffers of about
    its files' size; glibc hands memory that large back to the kernel when it
    is freed and page-faults it in again for the next run (a third of a
    millisecond of system time a small run: 130 faults).  Keep up to 64 MB of
    freed memory for reuse and take buffers under 16 MB from it (mallopt's
    M_TRIM_THRESHOLD and M_MMAP_THRESHOLD); the peak is unchanged.  Where
    the C library has no ``mallopt`` (macOS), nothing changes."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
    mallopt(-3, 16 << 20)  # M_MMAP_THRESHOLD


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
