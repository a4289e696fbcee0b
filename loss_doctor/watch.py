"""``loss-doctor watch PATH``: runs still being written, checked as they grow.

Every ``interval`` seconds the paths are searched for runs again (a new run
is picked up); a run whose files changed is re-read, each file through its
:class:`parsers.tail.Tail` (event files, JSON lines and CSV: only the bytes
appended since the last pass; a rewritten file, and every other format,
whole), re-diagnosed, and the warnings and errors it did not have before are
printed as they appear: a line of text, a GitHub Actions annotation, or a
JSON line (the findings contract) for a notifier.  It stops on Ctrl-C, or
after ``until_idle`` seconds in which no file changed.
"""

from __future__ import annotations

import json
import sys
import time

import parsers
from parsers.frame import assemble_run
from parsers.naming import printable
from parsers.read import read_source
from parsers.tail import Tail

from .config import Config
from .diagnosis import build_detectors, diagnose_view
from .errors import InputError
from .inputs import sources_for
from .views import view_of

FORMATS = ("text", "github", "jsonl")


def line_of(f, fmt: str) -> str:
    if fmt == "jsonl":
        return json.dumps(f.to_dict(), allow_nan=False, default=str)
    steps = f"{f.step_start}" if f.step_start == f.step_end else f"{f.step_start}-{f.step_end}"
    if fmt == "github":
        from .report.github import annotation

        return annotation(f)
    stamp = time.strftime("%H:%M:%S")
    return (f"{stamp} {f.severity:7} {f.code} {printable(f.run)} · {printable(f.metric)} · "
            f"{steps}: {printable(f.message)}")


class Watcher:
    """The state of a watch: one :class:`Tail` per file, and what was said of
    each run.  :meth:`poll` does one pass and returns the new findings."""

    def __init__(self, paths, config: Config | None = None):
        self.paths = tuple(paths)
        self.config = config or Config()
        self.detectors = build_detectors(self.config)
        self.tails: dict[str, Tail] = {}
        self.said: dict[str, set[str]] = {}  # run -> identities of what was printed
        self.stamps: dict[str, tuple] = {}  # run read whole -> its files' signatures
        self.errors_said: set[tuple[str, str]] = set()
        self.changed = False

    def poll(self) -> tuple[list, list]:
        """(new warnings and errors, new read errors) of one pass."""
        self.changed = False
        try:
            sources = sources_for(self.paths)
        except InputError:
            if self.tails:  # everything vanished: nothing to say until it is back
                return [], []
            raise
        new, problems = [], []
        for source in sources:
            found, errors = self._check(source)
            new += found
            for err in errors:
                key = (err.path, err.message)
                if key not in self.errors_said:
                    self.errors_said.add(key)
                    problems.append(err)
        return new, problems

    def _check(self, source):
        fmt = parsers.formats.get(source.format)
        single = not fmt.together and source.key is None
        if single:
            tails = [self.tails.setdefault(p, Tail(p, source.format, fmt.read))
                     for p in source.files]
            if source.run in self.said and not any(t.changed() for t in tails):
                return [], []
            self.changed = True
            files, errors = [], []
            for t in tails:
                try:
                    files.append(t.read())
                except (parsers.ParseError, OSError) as err:
                    errors.append(err if isinstance(err, parsers.ParseError)
                                  else parsers.ParseError(t.path, str(err)))
            errors += [e for f in files for e in f.errors]
            data = assemble_run(source.run, files, source.path) if files else None
        else:  # a run of files read together (W&B, Trainer copies, one run of a file of many)
            stamp = tuple(parsers.storage.signature(p) for p in source.files)
            if source.run in self.said and self.stamps.get(source.run) == stamp:
                return [], []
            self.changed = True
            self.stamps[source.run] = stamp
            data, errors = read_source(source)
        errors = [e.record() for e in errors]
        if data is None:
            self.said.setdefault(source.run, set())
            return [], errors
        view = view_of(data, self.config.roles)
        found = [f for f in diagnose_view(view, self.detectors, self.config)
                 if f.severity != "info"]
        before = self.said.get(source.run, set())
        self.said[source.run] = {f.identity for f in found}
        return [f for f in found if f.identity not in before], errors


def watch(paths, *, interval: float = 2.0, until_idle: float | None = None, fmt: str = "text",
          out=None, config: Config | None = None, clock=time.monotonic,
          sleep=time.sleep) -> int:
    """Watch until Ctrl-C or ``until_idle`` seconds without a change; the exit
    code is 1 if any warning or error was printed (as ``check``'s is)."""
    out = out or sys.stdout
    watcher = Watcher(paths, config)
    quiet_since = clock()
    loud = False
    try:
        while True:
            new, problems = watcher.poll()
            for err in problems:
                print(f"loss-doctor: {printable(err.path)}: {printable(err.message)}",
                      file=sys.stderr, flush=True)
            for f in new:
                loud = True
                print(line_of(f, fmt), file=out, flush=True)
            if watcher.changed:
                quiet_since = clock()
            elif until_idle is not None and clock() - quiet_since >= until_idle:
                break
            sleep(interval)
    except KeyboardInterrupt:
        pass
    return 1 if loud else 0
