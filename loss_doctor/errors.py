"""The errors that end a command with exit 2 and one line: what the user
asked for cannot be done (a bad config or baseline, a path with no logs, an
output aimed at the logs, an executor that cannot start).

They carry no click: the command line maps every :class:`LossDoctorError` to
``loss-doctor: error: <message>`` in one place (``loss_doctor.cli``); the
library raises them to its callers as they are.
"""

from __future__ import annotations


class LossDoctorError(Exception):
    """Exit 2 with this message.  ``details`` are lines to show before it (the
    files that could not be read, when none could)."""

    def __init__(self, message: str, details: tuple[str, ...] = ()):
        super().__init__(message)
        self.details = tuple(details)


class InputError(LossDoctorError):
    """The paths given: missing, holding no logs, nothing readable; an output
    path inside them."""
