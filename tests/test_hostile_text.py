"""Control characters from outside never reach a terminal (issue 23, item 2): names and every
other text an API sends are stored with each control character written out as its escape, so
the CLI and the workbench show `\\x1b[2J` instead of clearing the screen."""

import asyncio
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from demo_fixtures import demo_db, demo_template  # noqa: F401 (fixtures)
from trueup.cli import app
from trueup.core.reports.tables import plain_text
from trueup.core.store.database import open_database
from trueup.core.sync.records import pax8_company
from trueup.core.values.text import toml_string, visible
from unchecked_world import sync_unchecked
from world import ACME, world

CLEAR = "\x1b[2J\x1b[Hcleared"
BIDI = ["\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F))]
CONTROLS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
CONTROLS += BIDI + [chr(c) for c in range(0x2066, 0x206A)]
# Format characters that draw nothing: "Con\u200btoso" read as "Contoso" on every screen.
INVISIBLE = ["\xad", "\u180e", "\u200b", *map(chr, range(0x2060, 0x2065))]
INVISIBLE += [*map(chr, range(0x206A, 0x2070)), "\ufeff", "\ufff9", "\ufffa", "\ufffb"]
CONTROLS += INVISIBLE


def test_a_name_that_would_clear_the_screen_is_stored_visible():
    row = pax8_company({"id": "c1", "name": CLEAR, "status": "Active\r"}, {})
    assert row["name"] == "\\x1b[2J\\x1b[Hcleared" and row["status"] == "Active\\x0d"


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_written_out(control):
    shown = visible(f"a{control}b")
    assert control not in shown and shown.startswith("a\\") and shown.endswith("b")


@pytest.mark.parametrize("joiner", ["\u200c", "\u200d"], ids=["ZWNJ", "ZWJ"])
@pytest.mark.parametrize("text", ["Con{}toso", "{}Contoso", "Contoso{}", "Con {}toso", "é{}"])
def test_a_joiner_that_joins_nothing_is_written_out(text, joiner):
    shown = visible(text.format(joiner))
    assert joiner not in shown and f"\\u{ord(joiner):04x}" in shown


@pytest.mark.parametrize(
    "text",
    [
        "Dev \U0001f469\u200d\U0001f4bb Shop",  # woman technologist: an emoji sequence
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # with a skin tone
        "\u2764\ufe0f\u200d\U0001f525",  # heart on fire: after a variation selector
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, a non-joiner in a word
        "\u0915\u094d\u200d\u0937",  # Devanagari, a joiner after a virama
    ],
)
def test_a_joiner_between_two_non_ascii_characters_is_kept(text):
    assert visible(text) == text and plain_text(text) == text
    assert toml_string(text) == f'"{text}"'


@given(st.text())
def test_visible_text_holds_no_control_character_and_keeps_the_rest(text):
    shown = visible(text)
    assert not any(c in shown for c in CONTROLS)
    assert visible(shown) == shown  # already visible: unchanged
    if not any(c in text for c in CONTROLS):
        assert shown == text


@given(st.text().filter(lambda text: "\n" not in text))
@example("Left\u200eto right")
@example("Arabic\u061cletter mark")
@example("Con\u200btoso")
def test_a_sheet_and_a_terminal_hide_the_same_characters(text):
    """One definition of what is hidden: what a terminal is shown escaped, a sheet's cell holds
    as U+FFFD (a line break aside, which a cell keeps); the bidi marks were missed by the
    sheets."""
    replaced = plain_text(text).count("\ufffd") - text.count("\ufffd")
    escaped = visible(text).count("\\") - text.count("\\")  # a backslash each
    assert replaced == escaped


def test_a_zero_width_character_in_a_name_is_stored_written_out():
    """Two clients, "Contoso" and "Con\u200btoso", looked the same on every screen."""
    row = pax8_company({"id": "c1", "name": "Con\u200btoso\ufeff", "status": "Active\u2060"}, {})
    assert row["name"] == "Con\\u200btoso\\ufeff" and row["status"] == "Active\\u2060"


def test_a_name_of_blanks_alone_is_stored_as_none_and_shown_by_its_id(tmp_path, monkeypatch):
    """A client named "   " read as an empty cell on every screen, told apart from no other."""
    assert pax8_company({"id": "c1", "name": " \u3000 "}, {})["name"] is None
    assert pax8_company({"id": "c1", "name": " Acme "}, {})["name"] == " Acme "  # as it came
    data = world()
    client = data["halo"]["clients"][0]
    client["name"] = "   "
    db_path = tmp_path / "trueup.sqlite"
    db = open_database(db_path)
    try:
        asyncio.run(sync_unchecked(db, data))
        with db.read() as conn:
            stored = conn.exec_driver_sql(
                "SELECT name FROM halo_client WHERE id = ?", (client["id"],)
            ).scalar_one()
    finally:
        db.dispose()
    assert stored is None
    monkeypatch.setenv("TRUEUP_DB", str(db_path))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-11-21")
    result = CliRunner().invoke(
        app, ["map", "set", "--company", ACME, "--client", str(client["id"])]
    )
    assert result.exit_code == 0, result.output
    assert f"client {client['id']}" in result.output


def test_the_cli_prints_a_hostile_name_without_its_control_characters(tmp_path, monkeypatch):
    data = world()
    company = next(c for c in data["pax8"]["companies"] if c["id"] == ACME)
    company["name"] = CLEAR
    data["halo"]["clients"][0]["name"] = "Red\x1b[31m Client\u202e"
    db_path = tmp_path / "trueup.sqlite"
    db = open_database(db_path)
    try:
        asyncio.run(sync_unchecked(db, data))
    finally:
        db.dispose()
    monkeypatch.setenv("TRUEUP_DB", str(db_path))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRUEUP_TODAY", "2026-11-21")
    runner = CliRunner()
    for args in (["unmapped"], ["map", "suggest"], ["unmapped", "--json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        printed = result.output.replace("\n", "")  # the CLI's own line ends
        assert not any(c in printed for c in CONTROLS), args
    shown = json.loads(runner.invoke(app, ["unmapped", "--json"]).stdout)
    names = {c["name"] for c in shown["companies"]}
    assert "\\x1b[2J\\x1b[Hcleared" in names


def test_a_reason_and_a_stale_mapping_line_reach_no_terminal_with_their_controls(db, tmp_path):
    """Typed text is outside text too: an override's reason given through a script, and a
    mapping file's `stale` words echoed when the line is skipped, are kept visible."""
    from datetime import date

    from trueup.core.batch.approval import approve
    from trueup.core.batch.build import build_batch
    from trueup.core.batch.review import override_code, standing_codes
    from trueup.core.batch.stored import load_batch
    from trueup.core.mapping.file import import_mappings

    batch = build_batch(db, "2026-11", today=date(2026, 11, 21))
    first, second = (c.code for c in standing_codes(db, batch.batch_id)[:2])
    override_code(db, batch.batch_id, first, f"ok {CLEAR}")
    approve(db, batch.batch_id, overrides=[(second, f"fine\r{CLEAR}")])
    reasons = set(load_batch(db, batch.batch_id).overrides.values())
    assert reasons == {"ok \\x1b[2J\\x1b[Hcleared", "fine\\x0d\\x1b[2J\\x1b[Hcleared"}
    mappings = tmp_path / "map.json"
    mappings.write_text(
        json.dumps({"version": 1, "companies": [{"company_id": "x", "stale": CLEAR}]})
    )
    [skipped] = import_mappings(db, mappings).skipped
    assert "marked stale, \\x1b[2J\\x1b[Hcleared" in skipped and "\x1b" not in skipped
