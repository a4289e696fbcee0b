"""Read and diagnose runs in a process pool, streaming results into the ranking.

Runs are independent.  Each worker reads one run, diagnoses it and sends back
only its findings, its inventory entry and its read errors; the run's points
never leave the worker, so memory is bounded by the largest run being worked
on, not by the sum of all runs.  ``jobs=1`` does the same in this process.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack

import parsers
from parsers.frame import to_frame
from parsers.read import read_source

from .config import Config
from .diagnose import diagnose_frame
from .findings import Finding
from .inventory import inventory
from .ranking import rank


def check_source(source: parsers.RunSource, config: Config, cache_dir: str | None = None):
    """(inventory entry or None, findings, error dicts) for one run."""
    data, errors = read_source(source, cache_dir)
    errors = [e.to_dict() for e in errors]
    if data is None:
        return None, [], errors
    df = to_frame([data])
    findings = diagnose_frame(df, config)
    return inventory(df, config.roles)["runs"][0], list(findings), errors


def check_sources(sources: list, config: Config, *, jobs: int | None = None,
                  progress=None, cache_dir: str | None = None) -> tuple[dict, list[Finding]]:
    """The inventory document and the ranked findings of all ``sources``."""
    jobs = min(jobs or os.cpu_count() or 1, max(len(sources), 1))
    runs, findings, errors = [], [], []
    with ExitStack() as stack:
        if jobs == 1:
            mapper = map
        else:
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=jobs))
            chunk = max(1, len(sources) // (jobs * 8))
            mapper = lambda *args: pool.map(*args, chunksize=chunk)  # noqa: E731
        results = mapper(check_source, sources, [config] * len(sources),
                         [cache_dir] * len(sources))
        if progress:
            results = progress(results, len(sources), "checking")
        for entry, found, errs in results:
            if entry is not None:
                runs.append(entry)
            findings.extend(found)
            errors.extend(errs)
    return {"version": 1, "root": "", "runs": runs, "errors": errors}, rank(findings)
