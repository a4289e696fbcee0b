"""The reporters: every output of ``loss-doctor check``, one module each, one
signature (:class:`Reporter`: ``render(result, options)``), registered here and
through the ``loss_doctor.reporters`` entry-point group.

Reporters know nothing of statistics: they get a
:class:`loss_doctor.check.CheckResult` (ranked findings, the runs read, the
read errors, the rules that ran) and lay it out.  The core never imports this
package; the command line picks reporters from :func:`registry`.
"""

from __future__ import annotations

from loss_doctor.plugins import by_name

from .base import Reporter, plain
from .github import GithubReporter
from .html import HtmlReporter
from .json_report import JsonReporter
from .junit import JunitReporter
from .markdown import MarkdownReporter
from .sarif import SarifReporter
from .text import TextReporter

BUILTIN: tuple[type[Reporter], ...] = (TextReporter, JsonReporter, MarkdownReporter,
                                       GithubReporter, SarifReporter, JunitReporter,
                                       HtmlReporter)

__all__ = ["BUILTIN", "Reporter", "formats", "get", "plain", "registry"]


def registry() -> dict[str, type[Reporter]]:
    """Built-in reporters and those of installed plugins, by name."""
    return dict(by_name("loss_doctor.reporters", BUILTIN))


def formats(*, files: bool = False) -> dict[str, type[Reporter]]:
    """The reporters that print text (``--format``), or with ``files`` those
    that write a directory (``--report``)."""
    return {name: cls for name, cls in registry().items() if cls.writes_files == files}


def get(name: str, *, files: bool = False) -> Reporter:
    """A new reporter of that name; ``KeyError`` naming the known ones."""
    known = formats(files=files)
    if name not in known:
        raise KeyError(f"no reporter {name!r}; known: {', '.join(known)}")
    return known[name]()
