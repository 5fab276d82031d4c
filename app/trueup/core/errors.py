"""The one base of every failure the user can act on.

A `TrueupError`'s message is a single line that says what went wrong and, where it can, what to
do; both fronts catch this one type and show that line (the CLI on stderr with exit 1, the
workbench as a notification). Anything else that escapes is a bug and is shown as one.
"""

from __future__ import annotations


class TrueupError(Exception):
    """A failure the user can act on; its message is the one line the fronts show."""


class SyncUnavailableError(TrueupError):
    """The service was opened without the connections (or destinations) the action needs."""
