"""``loss-doctor check`` without the command line: :func:`run_check` takes the
paths and a :class:`CheckOptions` and returns a :class:`CheckResult` (the runs
read, the ranked findings, the read errors, the rules that ran, the config and
the exit code), which every reporter renders.

>>> from loss_doctor.check import CheckOptions, run_check
>>> result = run_check(["runs/"], CheckOptions(fail_on="warning", jobs=1))
>>> result.exit_code, [f.code for f in result.findings]

Problems with what was asked (a bad config or baseline, no logs found, an
executor that cannot start) raise :class:`loss_doctor.errors.LossDoctorError`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import parsers

from . import baseline as baseline_mod
from . import config as config_mod
from .detectors import rule_of, rules
from .diagnosis import build_detectors
from .errors import InputError
from .findings import SEVERITY_ORDER, Finding
from .inputs import nothing_read, refuse_inside, refuse_links_to_inputs, sources_for
from .parallel import Job, check_sources
from .records import Rule, RunInfo
from .selection import DEFAULT_SELECT


@dataclass(frozen=True)
class CheckOptions:
    """Everything ``check`` can be told; the defaults are the command's.
    ``select``/``ignore``/``fail_on`` left None come from the config file.
    The reporters read the output options (``show_info``, ``quiet``,
    ``color``, ``report_dir``, ``plot_metrics``)."""

    format: str = "text"
    output: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    fail_on: str | None = None
    exit_zero: bool = False
    show_info: bool = False
    quiet: bool = False
    isolated: bool = False
    no_cache: bool = False
    jobs: int | None = None
    executor: str | None = None
    scheduler: str | None = None
    report_dir: str | None = None
    plot_metrics: bool = False
    baseline: str | None = None
    write_baseline: str | None = None
    color: bool | None = None  # None: as the terminal allows
    whole_runs: bool = False  # a FILE given stands for its whole run (pre-commit)
    runs_total: int | None = None  # set by run_check: how many runs the check reads

    def outputs(self) -> tuple[str, ...]:
        return tuple(p for p in (self.output, self.write_baseline, self.report_dir) if p)


@dataclass(frozen=True)
class CheckResult:
    """What a check found.  ``rules``: every known detector; ``detectors``: the
    selected ones, in the order they ran.  ``hidden``: findings a baseline
    hid; ``recorded``: findings written to a new baseline (None: none written)."""

    root: str
    runs: tuple[RunInfo, ...]
    findings: tuple[Finding, ...]
    errors: tuple[parsers.ReadError, ...]
    rules: tuple[Rule, ...]
    detectors: tuple[Rule, ...]
    config: config_mod.Config
    exit_code: int
    hidden: int = 0
    recorded: int | None = None

    @classmethod
    def of(cls, findings, *, runs=(), errors=(), root: str = "",
           config: config_mod.Config | None = None) -> "CheckResult":
        """A result for findings found some other way (``loss_doctor.diagnose``),
        to render with any reporter; every known detector counts as run."""
        config = config or config_mod.Config()
        return cls(root, tuple(runs), tuple(findings), tuple(errors), rules(),
                   tuple(rule_of(type(d)) for d in build_detectors(config)), config,
                   exit_code=0)

    @property
    def points(self) -> int:
        return sum(r.points for r in self.runs)

    @property
    def filtered(self) -> bool:
        """Whether ``select``/``ignore`` left some codes out."""
        return tuple(self.config.select) != DEFAULT_SELECT or bool(self.config.ignore)


def run_check(paths, options: CheckOptions = CheckOptions(), *, reporters=(),
              progress=None) -> CheckResult:
    """Read and diagnose the runs under ``paths``.

    ``reporters``: reporter instances (:mod:`loss_doctor.report`) whose
    ``per_run`` runs in the workers beside the diagnosis and whose ``collect``
    gets each run's payload here as it arrives.  ``progress`` wraps the
    iteration over finished runs (a progress bar)."""
    paths = tuple(paths)
    for target in options.outputs():
        refuse_inside(target, paths, is_dir=target == options.report_dir)
    config = config_mod.load(isolated=options.isolated).merged(
        select=options.select, ignore=options.ignore, fail_on=options.fail_on)
    detectors = build_detectors(config)
    known = frozenset()
    if options.baseline and not options.write_baseline:
        known = frozenset(baseline_mod.load(options.baseline))
    if options.scheduler and options.executor == "local":
        raise InputError("--scheduler is a Dask scheduler: use it with --executor dask")
    sources = sources_for(paths, whole_runs=options.whole_runs)
    options = replace(options, runs_total=len(sources))
    hooks = [r for r in reporters if getattr(type(r), "per_run", None) is not None]
    job = Job(config, tuple(detectors),
              cache=None if options.no_cache else parsers.cache_dir_of(True),
              hooks=tuple(type(r) for r in hooks), options=options, known=known)
    by_name = {type(r).name: r for r in hooks}
    for target in options.outputs():
        refuse_links_to_inputs(target, sources)
    runs, findings, errors = check_sources(
        sources, job, jobs=options.jobs, progress=progress,
        executor="dask" if options.scheduler else options.executor or "local",
        scheduler=options.scheduler,
        on_payload=lambda run, name, payload: by_name[name].collect(run, payload, options))
    errors = [*sources.skipped, *errors]
    nothing_read(runs, errors, paths)
    hidden, recorded = 0, None
    if options.write_baseline:
        recorded = baseline_mod.write(options.write_baseline, findings)
    elif options.baseline:
        findings, hidden = baseline_mod.apply(findings, known)
    limit = SEVERITY_ORDER[config.fail_on]
    failing = any(SEVERITY_ORDER[f.severity] <= limit for f in findings)
    quiet_exit = options.exit_zero or bool(options.write_baseline)
    return CheckResult(", ".join(paths), tuple(runs), tuple(findings), tuple(errors),
                       rules(), tuple(rule_of(type(d)) for d in detectors), config,
                       exit_code=1 if failing and not quiet_exit else 0, hidden=hidden,
                       recorded=recorded)
