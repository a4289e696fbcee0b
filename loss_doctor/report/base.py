"""The :class:`Reporter` protocol: one signature for every output format."""

from __future__ import annotations


def plain(text, **_):
    """A ``click.style`` stand-in that adds no colour."""
    return text


class Reporter:
    """One output format of ``loss-doctor check``.

    ``name`` is what ``--format`` takes (or, for a reporter that
    ``writes_files``, what ``--report DIR`` writes); ``summary`` is its line
    in ``--help``.  :meth:`render` turns a :class:`loss_doctor.check.CheckResult`
    into text (printed, or written to ``-o FILE``), or writes files into
    ``options.report_dir`` and returns ``{what: path}``, the main file first.

    A reporter that needs the runs' series (plots) sets ``per_run`` to a
    static function ``(view, findings, options) -> payload``: it runs in the
    worker beside the diagnosis, where the run's points are, and each
    payload comes back to :meth:`collect` as the run finishes.  Plugins
    register a subclass under the ``loss_doctor.reporters`` entry-point
    group, as flake8's formatters do under ``flake8.report``.
    """

    name = ""
    summary = ""
    writes_files = False
    per_run = None

    def collect(self, run: str, payload, options) -> None:
        """One run's ``per_run`` payload, in the process that renders."""

    def render(self, result, options) -> str | dict[str, str]:
        raise NotImplementedError
