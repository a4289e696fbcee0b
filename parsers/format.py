"""The :class:`Format` record: what discovery and reading need to know of a reader.

Each reader module describes itself with one ``Format`` (``FORMAT`` at its
end); :mod:`parsers.formats` lists them in the order they are tried.  Nothing
outside a reader module knows a format's file names or special cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

GROUPINGS = ("file", "directory", "owner", "contained")


@dataclass(frozen=True)
class Format:
    """One log format.

    ``classify(path)`` says whether a file is of this format, from its name and
    at most its first lines: the name of the format (or of one of its
    ``variants``, say ``keras`` for a CSV written by Keras' CSVLogger) or None.
    It is called for every file of a tree, in :data:`parsers.formats.FORMATS`
    order, so it must be cheap for the names it does not claim.

    ``read`` turns one file into :class:`parsers.frame.FileData`, or with
    ``together`` all files of one run at once (the trainer states of a run and
    its checkpoint copies: the reader picks one).

    How files form runs (``grouping``):

    * ``"directory"``: every file of the format in one directory is one run
      (TensorBoard: a restarted job adds an event file);
    * ``"owner"``: a file belongs to the run of ``owner(dirpath)``, which may be
      a parent directory (a checkpoint's copy of the trainer state);
    * ``"file"``: a file alone in its directory is that directory's run, else
      each file is a run named by its path;
    * ``"contained"``: one file holds several runs (a database):
      ``runs_in(path)`` lists them as ``(name, key)``, and ``read(path, key)``
      reads one.

    ``run_subdir(name)``: subdirectories read as part of their parent's run
    even when only that one directory is read (``checkpoint-500/``).
    ``run_id(root, run_dir)``: the run's id where the format names its runs
    itself (MLflow: experiment and run name instead of two ids); else the run
    directory's path relative to the root.
    """

    name: str
    label: str  # what users call it, in messages: "TensorBoard event files"
    files: str  # the file names it claims, for docs: "events.out.tfevents.*"
    classify: Callable[[str], str | None]
    read: Callable
    variants: tuple[str, ...] = ()
    grouping: str = "file"
    owner: Callable[[str], str] | None = None
    together: bool = False
    run_subdir: Callable[[str], bool] | None = None
    run_id: Callable[[str, str], str] | None = None
    runs_in: Callable[[str], list[tuple[str, str]]] | None = None

    def __post_init__(self):
        if self.grouping not in GROUPINGS:
            raise ValueError(f"grouping must be one of {GROUPINGS}, not {self.grouping!r}")
        if (self.grouping == "owner") != (self.owner is not None):
            raise ValueError("an owner function goes with grouping='owner', and only with it")
        if (self.grouping == "contained") != (self.runs_in is not None):
            raise ValueError("runs_in goes with grouping='contained', and only with it")

    @property
    def names(self) -> tuple[str, ...]:
        """The format names ``classify`` may return."""
        return (self.name, *self.variants)
