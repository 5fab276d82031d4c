"""What the Logs & Monitoring screen reads: the 30-day tiles and one page of entries at a time.

Every query counts or pages in SQL, so a log of any length costs the same to show. Writers store
the level as INFO/WARNING/ERROR; this module compares without case and hands back lower case.
Times are stored as naive UTC and handed back aware; the local zone (and its IANA name, for
"UTC+02:00 Europe/Warsaw") is found here so the screen only formats.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import simplejson
from sqlalchemy import ColumnElement, case, func, select

from trueup.core.store.database import Database
from trueup.core.store.tables import LogEvent, table_of
from trueup.core.values.times import age

LEVELS = ("info", "warning", "error")
WINDOW = timedelta(days=30)
PAGE_SIZES = (10, 20, 50, 100)
COUNTS = ("created", "updated", "deleted", "failed")  # as a sync's completed entry has them
ALWAYS_COUNTED = ("created", "updated", "failed")  # shown even when zero
REASONS = ("error", "reason")


@dataclass(frozen=True)
class LogTiles:
    """The last 30 days before `now`, and the newest entry of all."""

    total: int
    errors: int
    warnings: int
    last_update: datetime | None  # aware, UTC
    age: str  # "9h ago", or "never"
    now: datetime  # what the age is counted to


@dataclass(frozen=True)
class LogRow:
    id: int
    level: str  # info | warning | error
    at: datetime  # aware, UTC
    source: str | None
    event: str
    summary: str  # one line
    details: str  # every detail, one per line


def log_tiles(db: Database, now: datetime) -> LogTiles:
    table = table_of(LogEvent)
    level = func.lower(table.c.level)
    with db.read() as conn:
        total, errors, warnings = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((level == "error", 1), else_=0)), 0),
                func.coalesce(func.sum(case((level == "warning", 1), else_=0)), 0),
            ).where(table.c.at >= (now - WINDOW).astimezone(UTC))
        ).one()
        newest = conn.execute(select(func.max(table.c.at))).scalar_one()
    last = _aware(newest) if newest is not None else None
    return LogTiles(
        total=total,
        errors=errors,
        warnings=warnings,
        last_update=last,
        age=age(last, now) if last else "never",
        now=now,
    )


def log_page(
    db: Database, level: str | None, page: int, page_size: int
) -> tuple[list[LogRow], int]:
    """Page `page` (from 1) of the entries at `level` (None: every level), newest first, and
    how many entries there are at that level."""
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if page < 1 or page_size < 1:
        raise ValueError("page and page size start at 1")
    table = table_of(LogEvent)
    where: list[ColumnElement[bool]] = [] if level is None else [func.lower(table.c.level) == level]
    with db.read() as conn:
        total = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        rows = conn.execute(
            select(table)
            .where(*where)
            .order_by(table.c.at.desc(), table.c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    return [_row(r) for r in rows], total


def page_count(total: int, page_size: int) -> int:
    """Pages for `total` entries; an empty log still has its one (empty) page."""
    return max(1, -(-total // page_size))


def _row(r: Any) -> LogRow:
    details: dict[str, Any] = simplejson.loads(r.details or "{}")
    return LogRow(
        id=r.id,
        level=r.level.lower(),
        at=_aware(r.at),
        source=r.source,
        event=r.event,
        summary=summarise(r.event, details),
        details=describe(r.source, r.event, details),
    )


# Approval and posting entries, in words (their details are the audit trail).
POSTING_SUMMARIES = {
    "invoice_approved": "Approved {client_name}: {total} {currency}, by {by}",
    "approval_revoked": "Approval withdrawn for client(s) {clients}, by {by}",
    "error_overridden": "{code} let through on client {client_id} by {by}: {reason}",
    "posting_queued": "Queued {invoices} invoice(s) of batch {batch_id} for {destination}",
    "posting_started": "Posting {entries} document(s) of batch {batch_id} to {destination}",
    "posting_created": "Posted {reference} to {destination}: id {remote_id}",
    "posting_found": "Found {reference} already at {destination}: id {remote_id}",
    "posting_voided": "Voided {reference} at {destination} (id {remote_id})",
    "posting_rejected": "{destination} rejected {reference}: {error}",
    "posting_completed": "Posting to {destination} done: {posted} sent, {found} found there",
    "posting_incomplete": "Posting to {destination} unfinished: {rejected} rejected, "
    "{unknown} unsettled, {pending} to send ({stopped})",
    "void_queued": "Void of {references} at {destination} queued",
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _words(details: dict[str, Any]) -> dict[str, Any]:
    """Values as a person reads them in a sentence: a list by commas, nothing for None."""
    return {
        key: ", ".join(map(str, value))
        if isinstance(value, list)
        else ""
        if value is None
        else value
        for key, value in details.items()
    }


def summarise(event: str, details: dict[str, Any]) -> str:
    """One line: the event, then its counts and duration, its reason, or its short details.

    "Pax8 sync completed: 3 created, 1,234 updated, 0 failed in 12.3 s"."""
    if event in POSTING_SUMMARIES:
        said = POSTING_SUMMARIES[event].format_map(_Blank(_words(details)))
        return _one_line(said.replace(" ()", ""))
    title = event[:1].upper() + event[1:]
    counts = [
        f"{details[k]:,} {k}"
        for k in COUNTS
        if isinstance(details.get(k), int) and (details[k] or k in ALWAYS_COUNTED)
    ]
    reason = next((str(details[k]) for k in REASONS if details.get(k)), None)
    if counts:
        said = ", ".join(counts)
        duration = details.get("duration_ms")
        if isinstance(duration, int | float):
            said += f" in {_duration(duration / 1000)}"
    elif reason:
        said = reason
    else:
        said = ", ".join(
            f"{key.removesuffix('_id').replace('_', ' ')} {value}"
            for key, value in details.items()
            if isinstance(value, str | int | float) and len(str(value)) <= 40
        )
    if not said:
        return _one_line(title)
    return _one_line(f"{title}{' — ' if ':' in title else ': '}{said}")


def describe(source: str | None, event: str, details: dict[str, Any]) -> str:
    """The whole entry as text: the event, its source, then every detail as `key: value`."""
    lines = [event]
    if source:
        lines.append(f"source: {source}")
    for key, value in details.items():
        shown = (
            simplejson.dumps(value, indent=2, use_decimal=True)
            if isinstance(value, dict | list)
            else str(value)
        )
        lines.append(f"{key}: {shown}")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _aware(stored: datetime) -> datetime:
    # SQLite keeps no zone: what was written as UTC may come back naive.
    return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


# --- the local time zone ----------------------------------------------------------------------


def local_zone(tz: str | None = None, localtime: Path = Path("/etc/localtime")) -> tzinfo:
    """The system's zone, by its IANA name when one can be found: `TZ` (the environment's, unless
    given), then the zone /etc/localtime links to; else the fixed offset the OS reports."""
    setting = os.environ.get("TZ") if tz is None else tz
    for name in (setting.lstrip(":") if setting else None, _linked_zone(localtime)):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now().astimezone().tzinfo or UTC


def zone_label(zone: tzinfo, at: datetime) -> str:
    """ "UTC+02:00 Europe/Warsaw": the offset at `at`, then the zone's name."""
    local = at.astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    name = zone.key if isinstance(zone, ZoneInfo) else local.tzname()
    return f"UTC{sign}{hours:02d}:{rest // 60:02d} {name}".rstrip()


def _linked_zone(localtime: Path) -> str | None:
    try:
        target = str(localtime.resolve(strict=True))
    except OSError:
        return None
    _, found, name = target.partition("zoneinfo/")
    return name if found else None
