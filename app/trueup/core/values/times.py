"""How long ago something happened, as a person reads it."""

from __future__ import annotations

from datetime import datetime


def age(when: datetime, now: datetime) -> str:
    """'just now', '12 min ago', '9h ago', '3 days ago', as the sync tiles say it."""
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"
