"""``loss_doctor.plot``: one run's curves and findings as a matplotlib Figure,
for notebooks and scripts (no pyplot state: the Figure is returned, Jupyter
shows it, ``fig.savefig`` writes it)."""

from __future__ import annotations

import os

import parsers

from .config import Config
from .diagnosis import diagnose_frame
from .errors import InputError
from .views import run_views


def plot(frame_or_path, run: str | None = None, *, findings=None, weight: float = 0.6,
         groups=("losses", "errors", "lr", "grad_norm"), **config):
    """The curves of ``run`` (the only run, if the frame holds one) with each
    finding's span shaded and the best checkpoint starred.  ``findings``: those
    of :func:`loss_doctor.diagnose` (the run is diagnosed if not given);
    ``weight``: TensorBoard's smoothing weight; ``config`` as for ``diagnose``."""
    from .report.plots import figure

    frame = parsers.read_logdir(frame_or_path) if isinstance(frame_or_path, (str, os.PathLike)) \
        else frame_or_path
    cfg = Config.from_mapping(config)
    views = {v.run: v for v in run_views(frame, cfg.roles)}
    if run is None:
        if len(views) != 1:
            raise InputError(f"the frame holds {len(views)} runs: say which with run= "
                             f"({', '.join(sorted(views)[:5])}{' ...' if len(views) > 5 else ''})")
        run = next(iter(views))
    if run not in views:
        raise InputError(f"no run {run!r} in the frame")
    view = views[run]
    if findings is None:
        findings = diagnose_frame(frame[frame["run"] == run], cfg)
    return figure(view, [f for f in findings if f.run == run], groups=groups, weight=weight)
