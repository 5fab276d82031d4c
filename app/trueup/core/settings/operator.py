"""Who is at the keyboard: the name every journal entry, approval and log line records."""

from __future__ import annotations

import getpass


def current_user() -> str:
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError):  # no login name and no USER-like variable
        return "unknown"
