"""What the Logs & Monitoring screen reads: 30-day tiles, pages by level, one-line summaries and
the local time zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from trueup.core.store import tables as m
from trueup.core.store.database import open_database
from trueup.core.store.log_pages import (
    describe,
    local_zone,
    log_page,
    log_tiles,
    page_count,
    summarise,
    zone_label,
)
from trueup.core.store.logbook import log_event

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
LOG = m.table_of(m.LogEvent)


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "store.sqlite")
    yield database
    database.dispose()


def add(db, ago, level, event="sync", **details):
    """One entry written `ago` before NOW, through the logbook as syncs write them."""
    with db.write() as conn:
        log_event(conn, level, event, **details)
        newest = conn.execute(select(func.max(LOG.c.id))).scalar_one()
        conn.execute(update(LOG).where(LOG.c.id == newest).values(at=NOW - ago))
        return newest


def test_tiles_count_the_30_days_before_now_by_level(db):
    add(db, timedelta(days=31), "ERROR")  # outside the window
    add(db, timedelta(days=29, hours=23), "ERROR")
    add(db, timedelta(days=2), "WARNING")
    add(db, timedelta(days=2), "warning")  # whatever the case a writer used
    add(db, timedelta(hours=9, minutes=5), "INFO")
    tiles = log_tiles(db, NOW)
    assert (tiles.total, tiles.errors, tiles.warnings) == (4, 1, 2)
    assert tiles.last_update == NOW - timedelta(hours=9, minutes=5)
    assert tiles.last_update.tzinfo is not None
    assert tiles.age == "9h ago"


def test_tiles_of_an_empty_log(db):
    tiles = log_tiles(db, NOW)
    assert (tiles.total, tiles.errors, tiles.warnings, tiles.last_update) == (0, 0, 0, None)
    assert tiles.age == "never"


def test_the_last_update_is_the_newest_entry_even_when_older_than_30_days(db):
    add(db, timedelta(days=45), "INFO")
    tiles = log_tiles(db, NOW)
    assert tiles.total == 0 and tiles.age == "45 days ago"


def test_pages_newest_first_with_the_total(db):
    ids = [add(db, timedelta(minutes=minutes), "INFO") for minutes in range(25, 0, -1)]
    newest_first = list(reversed(ids))
    first, total = log_page(db, None, 1, 10)
    assert total == 25 and [r.id for r in first] == newest_first[:10]
    last, _ = log_page(db, None, 3, 10)
    assert [r.id for r in last] == newest_first[20:]
    beyond, total = log_page(db, None, 4, 10)
    assert beyond == [] and total == 25
    assert first[0].at == NOW - timedelta(minutes=1) and first[0].at.tzinfo is not None


def test_a_level_filters_the_page_and_the_total(db):
    add(db, timedelta(minutes=3), "INFO")
    error = add(db, timedelta(minutes=2), "ERROR")
    add(db, timedelta(minutes=1), "WARNING")
    rows, total = log_page(db, "error", 1, 20)
    assert total == 1 and [(r.id, r.level) for r in rows] == [(error, "error")]
    rows, total = log_page(db, None, 1, 20)
    assert [r.level for r in rows] == ["warning", "error", "info"] and total == 3


def test_a_level_or_page_that_cannot_be_is_refused(db):
    with pytest.raises(ValueError, match="level"):
        log_page(db, "debug", 1, 20)
    with pytest.raises(ValueError, match="page"):
        log_page(db, None, 0, 20)


def test_page_count_has_one_page_even_when_empty():
    assert [page_count(n, 20) for n in (0, 1, 20, 21, 60, 61)] == [1, 1, 1, 2, 3, 4]


def test_a_completed_sync_reads_as_its_counts_and_duration(db):
    add(
        db,
        timedelta(minutes=1),
        "INFO",
        "pax8 sync completed",
        source="pax8",
        run_id=7,
        created=3,
        updated=1234,
        unchanged=50,
        deleted=0,
        failed=0,
        duration_ms=12_345,
    )
    (row,), _ = log_page(db, None, 1, 20)
    assert row.summary == "Pax8 sync completed: 3 created, 1,234 updated, 0 failed in 12.3 s"
    assert row.details.splitlines() == [
        "pax8 sync completed",
        "source: pax8",
        "run_id: 7",
        "created: 3",
        "updated: 1234",
        "unchanged: 50",
        "deleted: 0",
        "failed: 0",
        "duration_ms: 12345",
    ]


def test_summaries_say_the_reason_or_the_short_details_on_one_line():
    assert (
        summarise("Subscriptions: record skipped", {"reason": "quantity is\nzero", "record": "{}"})
        == "Subscriptions: record skipped — quantity is zero"
    )
    assert summarise("halo sync failed", {"run_id": 3, "error": "HTTP 401"}) == (
        "Halo sync failed: HTTP 401"
    )
    assert summarise("pax8 sync started", {"run_id": 12}) == "Pax8 sync started: run 12"
    assert summarise("sync interrupted", {}) == "Sync interrupted"
    assert summarise("x", {"deleted": 2, "failed": 1, "duration_ms": 125_000}) == (
        "X: 2 deleted, 1 failed in 2 min 5 s"
    )


def test_posting_summaries_read_as_sentences():
    assert summarise("approval_revoked", {"clients": [118, 120], "by": "ana"}) == (
        "Approval withdrawn for client(s) 118, 120, by ana"
    )
    finished = {"destination": "xero", "rejected": 1, "unknown": 0, "pending": 0}
    assert summarise("posting_incomplete", {**finished, "stopped": None}) == (
        "Posting to xero unfinished: 1 rejected, 0 unsettled, 0 to send"
    )
    assert summarise("posting_incomplete", {**finished, "stopped": "Xero is down"}).endswith(
        "0 to send (Xero is down)"
    )


def test_details_show_nested_values_whole():
    text = describe(None, "posted", {"lines": [{"qty": 2}]})
    assert text.startswith("posted\nlines: [\n") and '"qty": 2' in text


def test_the_local_zone_is_named_from_tz_then_the_localtime_link(tmp_path):
    assert local_zone("Europe/Warsaw") == ZoneInfo("Europe/Warsaw")
    assert local_zone(":America/New_York") == ZoneInfo("America/New_York")
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/Asia/Tokyo")
    assert local_zone("", link) == ZoneInfo("Asia/Tokyo")
    assert local_zone("Not/AZone", link) == ZoneInfo("Asia/Tokyo")
    fallback = local_zone("", tmp_path / "missing")
    assert fallback.utcoffset(NOW) is not None


def test_zone_labels_give_the_offset_at_that_time_and_the_name():
    warsaw = ZoneInfo("Europe/Warsaw")
    assert zone_label(warsaw, datetime(2026, 7, 1, tzinfo=UTC)) == "UTC+02:00 Europe/Warsaw"
    assert zone_label(warsaw, NOW) == "UTC+01:00 Europe/Warsaw"
    assert zone_label(ZoneInfo("America/St_Johns"), NOW) == "UTC-03:30 America/St_Johns"
    assert zone_label(UTC, NOW) == "UTC+00:00 UTC"


def test_the_cli_level_finds_every_writers_entries_whatever_their_case(db):
    """From an operations pass: posting wrote "info"/"error", so `trueup log --level ERROR`
    (what monitoring runs) never listed a rejected posting."""
    from trueup.core.store.logbook import read_log

    add(db, timedelta(minutes=3), "error", "posting_rejected")
    add(db, timedelta(minutes=2), "ERROR", "sync_failed")
    with db.write() as conn:  # as a posting run wrote it before levels were upper-cased
        conn.execute(LOG.insert().values(at=NOW, level="error", event="old", details="{}"))
    assert [e["event"] for e in read_log(db, level="ERROR")] == [
        "old",
        "sync_failed",
        "posting_rejected",
    ]
    assert {e["level"] for e in read_log(db)} == {"ERROR", "error"}
