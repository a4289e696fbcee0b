"""loss_doctor: find what went wrong in a training run from its logs.

The readers live in the top-level ``parsers`` package (``parsers.read_logdir``);
this package holds the command line and, in later versions, the diagnosis.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loss-doctor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
