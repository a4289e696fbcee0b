"""The ``loss-doctor`` command.

Commands: ``check`` (the diagnosis), ``compare``, ``ls``, ``export``.  Exit codes
(like ruff): 0 fine; 1 findings at or above ``--fail-on`` (``compare``: worse);
2 usage, config, unreadable input or internal error, with a one-line message and
never a traceback (``LOSS_DOCTOR_DEBUG=1`` shows it).
"""

from __future__ import annotations

import json
import os
import sys

import click

import parsers
from loss_doctor import config as config_mod
from loss_doctor.findings import SEVERITIES, SEVERITY_ORDER
from loss_doctor.inputs import (
    Failure,
    nothing_read,
    progress_bar,
    read_paths,
    refuse_inside,
    sources_for,
)
from loss_doctor.inventory import format_error, inventory, render_text
from loss_doctor.selection import DEFAULT_SELECT


def _color_default() -> bool | None:
    """``NO_COLOR`` (any non-empty value) turns colour off; else click decides
    (colour only on a terminal)."""
    return False if os.environ.get("NO_COLOR") else None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="loss-doctor", prog_name="loss-doctor")
@click.option("--color/--no-color", default=None,
              help="Force colour on or off (default: on a terminal, unless NO_COLOR is set).")
@click.pass_context
def cli(ctx: click.Context, color: bool | None) -> None:
    """Find what went wrong in training runs from their logs.

    Reads TensorBoard event files, CSV (plain, Keras, Lightning), JSON lines and
    HuggingFace trainer_state.json; never writes into the log directory.
    """
    ctx.color = color if color is not None else _color_default()


@cli.command("ls")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--no-cache", is_flag=True,
              help="Decode every file again instead of using the cache of decoded files.")
def ls_command(paths: tuple[str, ...], fmt: str, no_cache: bool) -> None:
    """List the runs found under PATHS: format, series with the role each was
    given (config can change it), points, step ranges, replaced duplicate steps,
    and the files that could not be read and why."""
    try:
        roles = config_mod.load().roles
    except config_mod.ConfigError as exc:
        raise Failure(str(exc)) from None
    doc = inventory(read_paths(paths, cache=not no_cache), roles)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, allow_nan=False))
    else:
        click.echo(render_text(doc, style=click.style))


def _codes(values: tuple[str, ...]) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(c.strip().upper() for v in values for c in v.split(",") if c.strip())


@cli.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", default="text", show_default=True,
              type=click.Choice(["text", "json", "markdown", "github", "sarif", "junit"]),
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the report to this file instead of stdout.")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these code prefixes (comma-separated, repeatable): LD1, LD401.")
@click.option("--ignore", multiple=True, metavar="CODES",
              help="Leave out these code prefixes (the longer prefix wins; on a tie, ignore).")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="Exit 1 when a finding is at least this severe (default: error).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings.")
@click.option("--show-info", is_flag=True, help="Also list info findings in text output.")
@click.option("-q", "--quiet", is_flag=True, help="Only the findings: no summary, no hints.")
@click.option("--isolated", is_flag=True, help="Ignore pyproject.toml and setup.cfg.")
@click.option("--no-cache", is_flag=True,
              help="Decode every file again instead of using the cache of decoded files.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Runs read and diagnosed in parallel (default: the machine's cores).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default=None,
              help="Where runs are read and diagnosed: a local process pool (default), or "
                   "a Dask cluster (needs loss-doctor[dask]).")
@click.option("--scheduler", metavar="ADDRESS",
              help="The Dask scheduler (tcp://host:8786); implies --executor dask.  "
                   "Without it, --executor dask starts a local cluster of --jobs workers.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False),
              help="Also write an HTML report with plots (index.html), report.md and PNGs.")
@click.option("--plot-metrics", is_flag=True,
              help="In --report, also plot accuracy-like metrics.")
@click.option("--baseline", type=click.Path(dir_okay=False),
              help="Hide the findings recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Record today's findings in this file (then --baseline hides them).")
@click.pass_context
def check_command(ctx, paths, fmt, output, select, ignore, fail_on, exit_zero, show_info,
                  quiet, isolated, no_cache, jobs, executor, scheduler, report_dir,
                  plot_metrics, baseline, write_baseline) -> None:
    """Diagnose the runs under PATHS: a ranked list of findings.

    Exit code 0: nothing at or above --fail-on; 1: findings that are; 2: bad
    usage or config, or nothing readable.  Settings come from [tool.loss_doctor]
    in pyproject.toml or [loss_doctor] in setup.cfg (nearest up from here); the
    command line wins.
    """
    from loss_doctor import baseline as baseline_mod
    from loss_doctor.diagnose import build_detectors
    from loss_doctor.parallel import ExecutorError, Job, check_sources
    from loss_doctor.report import json_report, text

    for target in (output, write_baseline, report_dir):
        refuse_inside(target, paths)
    try:
        config = config_mod.load(isolated=isolated).merged(
            select=_codes(select), ignore=_codes(ignore), fail_on=fail_on)
    except config_mod.ConfigError as exc:
        raise Failure(str(exc)) from None
    try:
        build_detectors(config)
    except TypeError as exc:
        raise Failure(f"bad detector parameter: {exc}") from None
    known = frozenset()
    if baseline and not write_baseline:
        try:
            known = frozenset(baseline_mod.load(baseline))
        except baseline_mod.BaselineError as exc:
            raise Failure(str(exc)) from None
    if scheduler and executor == "local":
        raise Failure("--scheduler is a Dask scheduler: use it with --executor dask")
    groups = ("losses", "lr", "grad_norm") + (("metrics",) if plot_metrics else ())
    job = Job(config, cache=None if no_cache else parsers.cache_dir_of(True),
              plots=groups if report_dir else (), known=known)
    plot_files = None
    if report_dir:
        from loss_doctor.report.html import PlotFiles

        plot_files = PlotFiles(report_dir)
    try:  # each run read, diagnosed (and plotted) in a worker; its points stay there
        inv, findings, _ = check_sources(
            sources_for(paths), job, jobs=jobs, progress=progress_bar(quiet),
            executor="dask" if scheduler else executor or "local", scheduler=scheduler,
            on_plots=plot_files)
    except ExecutorError as exc:
        raise Failure(str(exc)) from None
    inv["root"] = ", ".join(paths)
    nothing_read(inv["runs"], inv["errors"], paths)
    for err in inv["errors"]:
        click.echo(f"loss-doctor: {format_error(err)}", err=True)
    if write_baseline:
        count = baseline_mod.write(write_baseline, findings)
        click.echo(f"loss-doctor: recorded {count} finding(s) in {write_baseline}", err=True)
        exit_zero = True
    elif baseline:
        findings, hidden = baseline_mod.apply(findings, known)
        if hidden and not quiet:
            click.echo(f"loss-doctor: {hidden} known finding(s) hidden by {baseline}", err=True)
    if report_dir:
        from loss_doctor.report.html import write_report

        written = write_report(report_dir, plot_files, inv, findings)
        if not quiet:
            click.echo(f"loss-doctor: report in {written['html']}", err=True)
    if fmt == "json":
        report = json_report.render(inv, findings)
    elif fmt in ("markdown", "github", "sarif", "junit"):
        report = _ci_report(fmt, inv, findings, config)
    else:
        colour = ctx.color if output is None else False
        style = click.style if colour is not False else (lambda t, **kw: t)
        report = text.render(inv, findings, show_info=show_info, quiet=quiet, style=style,
                             filtered=tuple(config.select) != DEFAULT_SELECT
                             or bool(config.ignore))
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(report + "\n")
    else:
        click.echo(report, color=ctx.color)
    threshold = SEVERITY_ORDER[config.fail_on]
    failing = [f for f in findings if SEVERITY_ORDER[f.severity] <= threshold]
    ctx.exit(1 if failing and not exit_zero else 0)


def _ci_report(fmt, inv, findings, config) -> str:
    from loss_doctor.diagnose import build_detectors
    from loss_doctor.report import github, junit, markdown, sarif

    if fmt == "markdown":
        return markdown.render(inv, findings).rstrip("\n")
    if fmt == "sarif":
        return sarif.render(inv, findings)
    if fmt == "junit":
        return junit.render(inv, findings, detectors=build_detectors(config),
                            fail_on=config.fail_on)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # the full table, beyond GitHub's 10 annotations per level
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(markdown.render(inv, findings))
    return github.render(inv, findings)


def _one_run(path: str, role_overrides: dict):
    from loss_doctor.diagnose import run_views

    views = list(run_views(read_paths((path,), quiet=True), role_overrides))
    if len(views) != 1:
        raise Failure(f"{path} holds {len(views)} runs; give one run's directory or file")
    return views[0]


def _pick(view, metric: str | None, path: str):
    if metric:
        if metric not in view.series:
            raise Failure(f"{path} has no metric {metric!r} (it has: "
                          f"{', '.join(sorted(view.series))})")
        return view.series[metric]
    series = view.primary("train_loss") or view.primary("val_loss")
    if series is None:
        raise Failure(f"{path} has no loss series; name one with --metric")
    return series


@cli.command("compare")
@click.argument("run", type=click.Path())
@click.option("--against", "reference", required=True, type=click.Path(),
              help="The reference run (a run directory or log file).")
@click.option("--metric", help="Compare this metric (default: the main training loss).")
@click.option("--reference-metric", help="The reference's metric name, if it differs.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even if the run is worse.")
def compare_command(run, reference, metric, reference_metric, fmt, exit_zero) -> None:
    """Is RUN worse than the reference run?  Aligns both on step and compares
    their smoothed losses against the runs' own noise.  Exit 1 when worse."""
    from loss_doctor.compare import compare, describe

    roles = config_mod.load().roles
    cand_view, ref_view = _one_run(run, roles), _one_run(reference, roles)
    cand = _pick(cand_view, metric, run)
    ref = _pick(ref_view, reference_metric or (metric if metric in ref_view.series else None),
                reference)
    try:
        result = compare(cand, ref)
    except ValueError as exc:
        raise Failure(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "run": cand_view.run,
                               "reference": ref_view.run, **result.to_dict()}, indent=2))
    else:
        click.echo(describe(result, cand_view.run, ref_view.run))
    sys.exit(1 if result.verdict == "worse" and not exit_zero else 0)


@cli.command("export")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--no-cache", is_flag=True,
              help="Decode every file again instead of using the cache of decoded files.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write: .csv, .jsonl or .parquet (needs pyarrow); - is CSV "
                   "on stdout.")
def export_command(paths: tuple[str, ...], output: str, no_cache: bool) -> None:
    """Write the common frame (run, metric, step, value, wall_time) of PATHS."""
    if output != "-":
        refuse_inside(output, paths)
    df = read_paths(paths, cache=not no_cache)
    lower = output.lower()
    if output == "-":
        df.to_csv(sys.stdout, index=False)
    elif lower.endswith(".csv"):
        df.to_csv(output, index=False)
    elif lower.endswith((".jsonl", ".ndjson")):
        df.to_json(output, orient="records", lines=True)
    elif lower.endswith(".parquet"):
        try:
            df.to_parquet(output, index=False)
        except ImportError as exc:
            raise Failure(f"writing parquet needs pyarrow: {exc}") from None
    else:
        raise Failure(f"{output}: unknown output type; use .csv, .jsonl or .parquet")
    if output != "-":
        click.echo(f"wrote {len(df):,} points of {len(df.attrs['runs'])} run(s) to {output}",
                   err=True)
    for err in df.attrs["errors"]:
        click.echo(f"loss-doctor: {format_error(err)}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console entry point; unexpected exceptions become one line and exit 2."""
    try:
        cli.main(args=argv, prog_name="loss-doctor", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # an internal error: never a traceback for users
        if os.environ.get("LOSS_DOCTOR_DEBUG"):
            raise
        click.echo(f"loss-doctor: internal error: {type(exc).__name__}: {exc} "
                   "(set LOSS_DOCTOR_DEBUG=1 for the traceback)", err=True)
        sys.exit(2)
