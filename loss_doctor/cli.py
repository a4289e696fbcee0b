"""The ``loss-doctor`` command.

Exit codes (like ruff): 0 fine; 2 usage, unreadable input or internal error,
with a one-line message and never a traceback (``LOSS_DOCTOR_DEBUG=1`` shows it).
"""

from __future__ import annotations

import json
import os
import sys

import click

import parsers
from loss_doctor.inventory import format_error, inventory, render_text


class Failure(click.ClickException):
    """Our errors exit 2, not click's default 1 (1 means "findings")."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"loss-doctor: error: {self.format_message()}", err=True)


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


def _read(paths: tuple[str, ...]):
    """Read every PATH into one frame; exit 2 if nothing at all could be read."""
    frames = []
    for path in paths:
        if not os.path.exists(path):
            raise Failure(f"{path}: no such file or directory")
        sources = parsers.discover(path)
        frames.append(parsers.read_sources(sources, root=path))
    df = frames[0] if len(frames) == 1 else _merge(frames)
    if not df.attrs["runs"] and df.attrs["errors"]:
        for err in df.attrs["errors"]:
            click.echo(f"loss-doctor: {format_error(err)}", err=True)
        raise Failure("no file could be read")
    return df


def _merge(frames):
    """One frame for several PATHs; run ids that two PATHs share are prefixed
    with each PATH so that no two runs merge."""
    import pandas as pd

    seen: dict[str, int] = {}
    for df in frames:
        for run in df.attrs["runs"]:
            seen[run] = seen.get(run, 0) + 1
    if any(count > 1 for count in seen.values()):
        frames = [_prefixed(df) for df in frames]
    runs, errors = {}, []
    for df in frames:
        runs.update(df.attrs["runs"])
        errors.extend(df.attrs["errors"])
    merged = pd.concat([f.astype({"run": str, "metric": str}) for f in frames],
                       ignore_index=True)
    merged["run"] = merged["run"].astype("category")
    merged["metric"] = merged["metric"].astype("category")
    merged.attrs.update(root=", ".join(f.attrs["root"] for f in frames), runs=runs,
                        errors=errors)
    return merged


def _prefixed(df):
    root = df.attrs["root"].rstrip("/\\") or "."
    name = {run: f"{root}/{run}" for run in df.attrs["runs"]}
    out = df.copy()
    out["run"] = out["run"].cat.rename_categories(name)
    out.attrs = dict(df.attrs, runs={name[r]: info for r, info in df.attrs["runs"].items()})
    return out


@cli.command("ls")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def ls_command(paths: tuple[str, ...], fmt: str) -> None:
    """List the runs found under PATHS: format, series, points, step ranges,
    replaced duplicate steps, and the files that could not be read and why."""
    doc = inventory(_read(paths))
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, allow_nan=False))
    else:
        click.echo(render_text(doc, style=click.style))


@cli.command("export")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write: .csv, .jsonl or .parquet (needs pyarrow); - is CSV "
                   "on stdout.")
def export_command(paths: tuple[str, ...], output: str) -> None:
    """Write the common frame (run, metric, step, value, wall_time) of PATHS."""
    for path in paths:
        if output != "-" and _inside(output, path):
            raise Failure(f"{output} is inside the log directory {path}; loss-doctor "
                          "never writes there (and would read it back as a run)")
    df = _read(paths)
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


def _inside(path: str, root: str) -> bool:
    if not os.path.isdir(root):
        return False
    target = os.path.realpath(os.path.abspath(path))
    base = os.path.realpath(os.path.abspath(root))
    return os.path.commonpath([target, base]) == base


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
