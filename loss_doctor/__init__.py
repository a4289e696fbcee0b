"""loss_doctor: find what went wrong in a training run from its logs.

>>> import loss_doctor
>>> for f in loss_doctor.diagnose("runs/"):        # or a parsers frame
...     print(f.rank, f.severity, f.code, f.run, f.metric, f.message)

The readers live in the top-level ``parsers`` package (``parsers.read_logdir``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loss-doctor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

from loss_doctor.diagnose import diagnose  # noqa: E402  (the module's name, on purpose)
from loss_doctor.findings import Finding  # noqa: E402

__all__ = ["Finding", "__version__", "diagnose"]
