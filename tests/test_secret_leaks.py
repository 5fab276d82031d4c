"""No secret ever leaves its store: distinctive secrets go in through every path (environment,
OS keyring, encrypted file and its passphrase, QuickBooks refresh tokens, rotated ones too);
then syncs (good and failing), connects with a wrong secret and screenshots of every screen
run, and the SQLite file (every table, and its raw bytes), the log, everything printed, every
log record and every SVG are searched for them."""

import asyncio
import json
import logging
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fake_keyrings import MemoryKeyring, using
from tools.demo_workbench import wait_until_idle
from tools.screenshots import SHOTS, capture
from trueup.cli import app
from trueup.core.service.workbench import Workbench
from trueup.core.settings import secret_backends as secret_store
from trueup.core.settings.config import load_settings
from trueup.core.settings.connections import Connections
from trueup.core.settings.secret_backends import EncryptedFileStore
from trueup.core.store.database import open_database
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background
from trueup.tui.app import make_app
from world import world

PAX8_SECRET = "PAX8ENVSECRETq9z7Lk"  # environment
HALO_SECRET = "HALOKEYRINGSECRETw2x8Jm"  # OS keyring, then the encrypted file
QBO_SECRET = "QBOFILESECRETe4r6Pn"  # encrypted file
QBO_SEED = "QBOREFRESHSEEDt5y3Hb"  # environment, rotated into the encrypted file
PASSPHRASE = "PASSPHRASEu7i9Gv"
WRONG = "WRONGSECRETo0p1Fc"
REALM = "4620816365"


@pytest.fixture
def urls():
    data = world()
    data["credentials"] = {
        "pax8": {"client_id": "leak-pax8", "client_secret": PAX8_SECRET},
        "halo": {"client_id": "leak-halo", "client_secret": HALO_SECRET},
        "qbo": {
            "client_id": "leak-qbo",
            "client_secret": QBO_SECRET,
            "refresh_token": QBO_SEED,
            "realm_id": REALM,
        },
    }
    with serve_in_background(build_simulators(parse_scenario(data))) as served:
        yield served


@pytest.fixture
def env(tmp_path, monkeypatch, urls):
    for name in ("TRUEUP_TODAY", "TRUEUP_HALO_CLIENT_SECRET", "TRUEUP_QBO_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_SECRETS_FILE", str(tmp_path / "secrets.enc"))
    monkeypatch.setenv("TRUEUP_PAX8_URL", urls.pax8)
    monkeypatch.setenv("TRUEUP_HALO_URL", urls.halo)
    monkeypatch.setenv("TRUEUP_HALO_AUTH_URL", urls.halo_auth)
    monkeypatch.setenv("TRUEUP_QBO_URL", urls.qbo)
    monkeypatch.setenv("TRUEUP_PAX8_CLIENT_ID", "leak-pax8")
    monkeypatch.setenv("TRUEUP_PAX8_CLIENT_SECRET", PAX8_SECRET)
    monkeypatch.setenv("TRUEUP_QBO_REFRESH_TOKEN", QBO_SEED)
    monkeypatch.setattr(secret_store, "SCRYPT_N", 2**10)
    return tmp_path


class Outputs:
    """Everything the commands printed."""

    def __init__(self):
        self.texts = []

    def run(self, *args, input=None, ok=True):
        result = CliRunner().invoke(app, list(args), input=input)
        self.texts += [result.stdout, result.stderr]
        assert (result.exit_code == 0) is ok, (args, result.output)
        return result


def test_no_secret_reaches_the_store_the_log_the_output_or_a_screenshot(env, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    out = Outputs()
    in_keyring, in_file = (
        ("--config", str(env / "keyring.toml")),
        ("--config", str(env / "file.toml")),
    )
    halo, qbo = (
        ("connect", "halo", "--client-id", "leak-halo"),
        ("connect", "qbo", "--realm", REALM),
    )
    qbo += ("--client-id", "leak-qbo")
    with using(MemoryKeyring()) as keyring:
        # The OS keyring holds Halo's secret; Pax8's comes from the environment.
        out.run(*in_keyring, *halo, "--client-secret-stdin", input=HALO_SECRET + "\n")
        assert keyring.passwords == {("trueup", "halo:leak-halo"): HALO_SECRET}
        out.run(*in_keyring, "sync")
        out.run(*in_keyring, "sync", "--json")
        out.run(*in_keyring, *halo, "--client-secret", WRONG, ok=False)
        monkeypatch.setenv("TRUEUP_PAX8_CLIENT_SECRET", WRONG)
        out.run(*in_keyring, "sync", ok=False)  # a failing sync
        monkeypatch.setenv("TRUEUP_PAX8_CLIENT_SECRET", PAX8_SECRET)

        # The encrypted file holds Halo's and QuickBooks' secrets and the rotated token.
        monkeypatch.setenv("TRUEUP_SECRETS_PASSPHRASE", PASSPHRASE)
        out.run(*in_file, *halo, "--client-secret", HALO_SECRET, "--secrets", "encrypted-file")
        out.run(*in_file, *qbo, "--client-secret", WRONG, "--code", "sandbox-code", ok=False)
        out.run(*in_file, *qbo, "--client-secret", QBO_SECRET, "--refresh-token", QBO_SEED)
        out.run(*in_file, "sync", "--json")
        for command in (("status", "--json"), ("log", "--json"), ("log",), ("status",)):
            out.run(*in_file, *command)
        svgs = asyncio.run(screenshots(env, load_settings(env / "file.toml")))

    file_store = EncryptedFileStore(env / "secrets.enc", lambda creating: PASSPHRASE)
    rotated = json.loads(file_store.get(f"qbo:{REALM}:refresh_token") or "{}")["token"]
    assert rotated.startswith("RT1-")  # the seed was used, and its successor kept
    secrets = [PAX8_SECRET, HALO_SECRET, QBO_SECRET, QBO_SEED, PASSPHRASE, WRONG, rotated]

    places = {
        "database rows": database_rows(env / "trueup.sqlite"),
        "database files": raw_bytes(env, "trueup.sqlite*"),
        "config files": raw_bytes(env, "*.toml"),
        "encrypted file": (env / "secrets.enc").read_text(),
        "printed": "\n".join(out.texts),
        "log records": "\n".join(record.getMessage() for record in caplog.records),
        "screenshots": "\n".join(svgs),
    }
    # The search finds what is there: the ids, the synced rows, the log, every screen.
    assert "leak-halo" in places["config files"] and "leak-qbo" in places["config files"]
    assert f"QuickBooks company {REALM} saved" in places["printed"]
    assert "Bear Creek" in places["database rows"] and "log_event" in places["database rows"]
    assert len(svgs) == len(SHOTS) + 1 and "QuickBooks" in places["screenshots"]
    leaks = {
        (place, secret) for place, text in places.items() for secret in secrets if secret in text
    }
    assert leaks == set()


async def screenshots(folder: Path, settings) -> list[str]:
    """Every screen (at 80x24: secrets could only show on Settings, but look everywhere), and
    Settings with every connection tested at 120x40, on the synced store."""
    db = open_database(folder / "trueup.sqlite")
    try:
        workbench = Workbench(db, today=world_today(), connections=Connections(settings))
        shots = list((await capture(workbench, (80, 24))).values())
        async with make_app(workbench).run_test(size=(120, 40)) as pilot:
            await pilot.press("9", "a", "end")  # test every connection, QuickBooks in view
            await wait_until_idle(pilot)
            shots.append(pilot.app.export_screenshot())
        return shots
    finally:
        db.dispose()


def world_today():
    return parse_scenario(world()).as_of.date()


def database_rows(path: Path) -> str:
    """Every row of every table, as text."""
    connection = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        lines = [f"table {name}" for name in tables]
        for name in tables:
            for row in connection.execute(f'SELECT * FROM "{name}"'):
                lines.append(repr(row))
        return "\n".join(lines)
    finally:
        connection.close()


def raw_bytes(folder: Path, pattern: str) -> str:
    return "\n".join(path.read_bytes().decode("latin-1") for path in sorted(folder.glob(pattern)))
