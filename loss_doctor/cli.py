"""The ``loss-doctor`` command: a thin click layer over :mod:`loss_doctor.check`,
:mod:`loss_doctor.inventory`, :mod:`loss_doctor.compare` and the reporters.

Commands: ``check`` (the diagnosis), ``compare``, ``ls``, ``export``.  Exit codes
(like ruff): 0 fine; 1 findings at or above ``--fail-on`` (``compare``: worse);
2 usage, config, unreadable input or internal error, with a one-line message and
never a traceback (``LOSS_DOCTOR_DEBUG=1`` shows it).  :func:`main` is the entry
point and returns the exit code; :class:`_Commands` maps our errors to exit 2
in one place.
"""

from __future__ import annotations

import json
import os
import sys

import click

import parsers
from loss_doctor import atomic, report
from loss_doctor import config as config_mod
from loss_doctor.errors import LossDoctorError
from loss_doctor.findings import SEVERITIES
from loss_doctor.terminal import progress_bar
from parsers.naming import printable


class _Failure(click.ClickException):
    """One of our errors, shown as one line; exit 2, not click's 1 (1 means
    "findings")."""

    exit_code = 2

    def __init__(self, exc: LossDoctorError):
        super().__init__(str(exc))
        self.details = exc.details

    def show(self, file=None):
        for line in self.details:
            click.echo(f"loss-doctor: {line}", err=True)
        click.echo(f"loss-doctor: error: {self.format_message()}", err=True)


class _Commands(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LossDoctorError as exc:
            raise _Failure(exc) from None


def _color_default() -> bool | None:
    """``NO_COLOR`` (any non-empty value) turns colour off; else click decides
    (colour only on a terminal)."""
    return False if os.environ.get("NO_COLOR") else None


def _help(text: str) -> str:
    return text.format(formats=parsers.looked_for())


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]},
             help=_help("Find what went wrong in training runs from their logs.\n\n"
                        "Reads {formats}; never writes into the log directory."))
@click.version_option(package_name="loss-doctor", prog_name="loss-doctor")
@click.option("--color/--no-color", default=None,
              help="Force colour on or off (default: on a terminal, unless NO_COLOR is set).")
@click.pass_context
def cli(ctx: click.Context, color: bool | None) -> None:
    ctx.color = color if color is not None else _color_default()


NO_CACHE = click.option("--no-cache", is_flag=True, help="Decode every file (and diagnose "
                        "every run) again instead of using the cache.")
PATHS = click.argument("paths", nargs=-1, required=True, type=click.Path())


def _emit(ctx, text: str, output: str | None = None) -> None:
    if output:
        atomic.write_text(output, text + "\n")
    else:
        click.echo(text, color=ctx.color)


def _warn(errors) -> None:
    for err in errors:
        click.echo(f"loss-doctor: {err}", err=True)


@cli.command("ls")
@PATHS
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@NO_CACHE
@click.pass_context
def ls_command(ctx, paths: tuple[str, ...], fmt: str, no_cache: bool) -> None:
    """List the runs found under PATHS: format, series with the role each was
    given (config can change it), points, step ranges, replaced duplicate steps,
    and the files that could not be read and why."""
    from loss_doctor.inputs import nothing_read, sources_for
    from loss_doctor.inventory import collect
    from loss_doctor.report.inventory_text import render_inventory

    roles = config_mod.load().roles
    inv = collect(sources_for(paths), roles, parsers.cache_dir_of(not no_cache),
                  root=", ".join(paths), progress=progress_bar(False))
    nothing_read(inv.runs, inv.errors, paths)
    if fmt == "json":
        click.echo(json.dumps(inv.to_dict(), indent=2, allow_nan=False))
    else:
        click.echo(render_inventory(inv, style=click.style), color=ctx.color)


def _codes(ctx, param, values: tuple[str, ...]) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(c.strip().upper() for v in values for c in v.split(",") if c.strip())


def _check_options(command):
    """``check``'s options, each named as its :class:`CheckOptions` field."""
    text = report.formats()
    options = [
        click.option("--format", "format", default="text", show_default=True,
                     type=click.Choice(list(text)), help="Output format (see below)."),
        click.option("-o", "--output", type=click.Path(dir_okay=False),
                     help="Write the report to this file instead of stdout."),
        click.option("--select", multiple=True, metavar="CODES", callback=_codes,
                     help="Only these code prefixes (comma-separated, repeatable): LD1, LD401."),
        click.option("--ignore", multiple=True, metavar="CODES", callback=_codes,
                     help="Leave out these code prefixes (the longer prefix wins; on a tie, "
                          "ignore)."),
        click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
                     help="Exit 1 when a finding is at least this severe (default: error)."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings."),
        click.option("--show-info", is_flag=True,
                     help="Also list info findings (text, markdown, github, sarif, junit)."),
        click.option("-q", "--quiet", is_flag=True,
                     help="Only the findings: no summary, no hints."),
        click.option("--isolated", is_flag=True, help="Ignore pyproject.toml and setup.cfg."),
        NO_CACHE,
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
                     help="Runs read and diagnosed in parallel (default: the machine's cores)."),
        click.option("--executor", type=click.Choice(["local", "dask"]), default=None,
                     help="Where runs are read and diagnosed: a local process pool (default), "
                          "or a Dask cluster (needs loss-doctor[dask])."),
        click.option("--scheduler", metavar="ADDRESS",
                     help="The Dask scheduler (tcp://host:8786); implies --executor dask.  "
                          "Without it, --executor dask starts a local cluster of --jobs "
                          "workers."),
        click.option("--report", "report_dir", type=click.Path(file_okay=False),
                     help="Also write an HTML report with plots (index.html), report.md and "
                          "PNGs."),
        click.option("--plot-metrics", is_flag=True,
                     help="In --report, also plot accuracy-like metrics."),
        click.option("--baseline", type=click.Path(dir_okay=False),
                     help="Hide the findings recorded in this baseline file."),
        click.option("--write-baseline", type=click.Path(dir_okay=False),
                     help="Record today's findings in this file (then --baseline hides them)."),
        click.option("--whole-runs", is_flag=True,
                     help="A log FILE given stands for its whole run: the other files of its "
                          "run directory too (what the pre-commit files hook uses)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _formats_epilog() -> str:
    text = report.formats()
    width = max(len(name) for name in text)
    return "\b\nFormats:\n" + "\n".join(f"  {name:<{width}}  {cls.summary}"
                                          for name, cls in text.items())


@cli.command("check", epilog=_formats_epilog())
@PATHS
@_check_options
@click.pass_context
def check_command(ctx, paths, **kw) -> None:
    """Diagnose the runs under PATHS: a ranked list of findings.

    Exit code 0: nothing at or above --fail-on; 1: findings that are; 2: bad
    usage or config, or nothing readable.  Settings come from [tool.loss_doctor]
    in pyproject.toml or [loss_doctor] in setup.cfg (nearest up from here); the
    command line wins.
    """
    from loss_doctor.check import CheckOptions, run_check

    options = CheckOptions(**kw, color=ctx.color if kw["output"] is None else False)
    out = report.get(options.format)
    files = [report.get("html", files=True)] if options.report_dir else []
    result = run_check(paths, options, reporters=[out, *files],
                       progress=progress_bar(options.quiet))
    _warn(result.errors)
    if result.recorded is not None:
        click.echo(f"loss-doctor: recorded {result.recorded} finding(s) in "
                   f"{options.write_baseline}", err=True)
    if result.hidden and not options.quiet:
        click.echo(f"loss-doctor: {result.hidden} known finding(s) hidden by "
                   f"{options.baseline}", err=True)
    for reporter in files:
        written = reporter.render(result, options)
        if not options.quiet:
            click.echo(f"loss-doctor: report in {next(iter(written.values()))}", err=True)
    _emit(ctx, out.render(result, options), options.output)
    ctx.exit(result.exit_code)


@cli.command("compare")
@click.argument("run", type=click.Path())
@click.option("--against", "reference", required=True, type=click.Path(),
              help="The reference run (a run directory or log file).")
@click.option("--metric", help="Compare this metric (default: the main training loss).")
@click.option("--reference-metric", help="The reference's metric name, if it differs.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even if the run is worse.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False),
              help="Also write DIR/index.html: both runs' curves aligned on step.")
@click.pass_context
def compare_command(ctx, run, reference, metric, reference_metric, fmt, exit_zero,
                    report_dir) -> None:
    """Is RUN worse than the reference run?  Aligns both on step and compares
    their smoothed losses against the runs' own noise.  Exit 1 when worse."""
    from loss_doctor.compare import compare, describe, load_run, pick
    from loss_doctor.inputs import refuse_inside

    if report_dir:
        refuse_inside(report_dir, (run, reference), is_dir=True)
    roles = config_mod.load().roles
    cand_view, ref_view = load_run(run, roles), load_run(reference, roles)
    cand = pick(cand_view, metric, run)
    ref_metric = reference_metric or (metric if metric in ref_view.series else None)
    result = compare(cand, pick(ref_view, ref_metric, reference))
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "run": cand_view.run,
                               "reference": ref_view.run, **result.to_dict()}, indent=2))
    else:
        click.echo(describe(result, cand_view.run, ref_view.run))
    if report_dir:
        from loss_doctor.report.compare_page import write_compare_report

        written = write_compare_report(report_dir, cand_view, ref_view,
                                       describe(result, cand_view.run, ref_view.run),
                                       result.verdict)
        click.echo(f"loss-doctor: report in {written['html']}", err=True)
    ctx.exit(1 if result.verdict == "worse" and not exit_zero else 0)


EXPORTS = {".csv": "to_csv", ".jsonl": "to_json", ".ndjson": "to_json", ".parquet": "to_parquet"}


@cli.command("export")
@PATHS
@NO_CACHE
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write: .csv, .jsonl or .parquet (needs pyarrow); - is CSV "
                   "on stdout.")
def export_command(paths: tuple[str, ...], output: str, no_cache: bool) -> None:
    """Write the common frame (run, metric, step, value, wall_time) of PATHS."""
    from loss_doctor.inputs import read_paths, refuse_inside

    suffix = os.path.splitext(output.lower())[1]
    if output != "-":
        refuse_inside(output, paths)
        if suffix not in EXPORTS:
            raise LossDoctorError(f"{output}: unknown output type; use .csv, .jsonl or "
                                  ".parquet")
    df = read_paths(paths, progress=progress_bar(False), cache=not no_cache)
    method = "to_csv" if output == "-" else EXPORTS[suffix]
    kwargs = {"orient": "records", "lines": True} if method == "to_json" else {}
    try:
        getattr(df, method)(sys.stdout if output == "-" else output, index=False, **kwargs)
    except ImportError as exc:
        raise LossDoctorError(f"writing parquet needs pyarrow: {exc}") from None
    if output != "-":
        click.echo(f"wrote {len(df):,} points of {len(df.attrs['runs'])} run(s) to {output}",
                   err=True)
    _warn(parsers.ReadError.from_dict(e) for e in df.attrs["errors"])


@cli.command("watch")
@PATHS
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds between two looks at the files.")
@click.option("--until-idle", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Stop once no file has changed for this long (default: run until Ctrl-C).")
@click.option("--format", "fmt", type=click.Choice(["text", "github", "jsonl"]),
              default="text", show_default=True,
              help="A line per new finding: text, a GitHub annotation, or a JSON object.")
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.pass_context
def watch_command(ctx, paths, interval, until_idle, fmt, isolated) -> None:
    """Check runs still being written: re-read what was appended since the last
    look, re-diagnose the runs that changed, print new warnings and errors as
    they appear.  Exit 1 if any was printed."""
    from loss_doctor.watch import watch

    config = config_mod.load(isolated=isolated)
    ctx.exit(watch(paths, interval=interval, until_idle=until_idle, fmt=fmt, config=config))


@cli.group("cache")
def cache_group() -> None:
    """The cache of decoded log files and of unchanged runs' findings (outside
    every log directory; capped at
    $LOSS_DOCTOR_CACHE_MB megabytes, 300 by default; $LOSS_DOCTOR_CACHE_DIR
    moves it)."""


@cache_group.command("info")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def cache_info(fmt: str) -> None:
    """Where the cache is, how many entries it holds and their size."""
    from parsers import cache

    found = cache.info(cache.default_dir())
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    click.echo(f"{printable(found['dir'])}: {found['entries']:,} decoded files, "
               f"{found['derived']:,} runs' findings, {found['bytes'] / 1e6:,.1f} MB of at "
               f"most {found['max_bytes'] / 1e6:,.0f} MB")


@cache_group.command("clear")
def cache_clear() -> None:
    """Remove every entry (the next check decodes its files again)."""
    from parsers import cache

    where = cache.default_dir()
    count, size = cache.clear(where)
    click.echo(f"removed {count:,} file(s), {size / 1e6:,.1f} MB, from {printable(where)}")


def main(argv: list[str] | None = None) -> int:
    """The console entry point: the exit code, and one line on stderr for
    anything that goes wrong (never a traceback; ``LOSS_DOCTOR_DEBUG=1``)."""
    try:
        return cli.main(args=argv, prog_name="loss-doctor", standalone_mode=False) or 0
    except click.ClickException as exc:  # usage errors, and ours (_Failure)
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except Exception as exc:  # an internal error: never a traceback for users
        if os.environ.get("LOSS_DOCTOR_DEBUG"):
            raise
        click.echo(f"loss-doctor: internal error: {type(exc).__name__}: {exc} "
                   "(set LOSS_DOCTOR_DEBUG=1 for the traceback)", err=True)
        return 2
