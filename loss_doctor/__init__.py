"""loss_doctor: find what went wrong in a training run from its logs.

>>> import loss_doctor
>>> for f in loss_doctor.diagnose("runs/"):        # or a parsers frame
...     print(f.rank, f.severity, f.code, f.run, f.metric, f.message)
>>> loss_doctor.diagnose("runs/").to_frame()      # a notebook shows it as a table
>>> loss_doctor.plot("runs/", run="lr_3e-4")      # a matplotlib Figure, findings shaded

The readers live in the top-level ``parsers`` package (``parsers.read_logdir``).
``diagnose`` and ``Finding`` are imported on first use, so that importing a
part of the package (the reporters, the command line's ``--version``) does not
import the detectors and their statistics libraries.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loss-doctor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["Finding", "Findings", "__version__", "diagnose", "plot"]

_LAZY = {"diagnose": "loss_doctor.diagnosis", "Finding": "loss_doctor.findings",
         "Findings": "loss_doctor.findings", "plot": "loss_doctor.notebook"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loss_doctor' has no attribute {name!r}")
