"""`trueup doctor` on a healthy, sandbox-synced install and on broken ones."""

import json
import os
import sqlite3
import subprocess
from contextlib import contextmanager

import keyring
import pytest
from keyring.backends.fail import Keyring as NoKeyring
from keyring.backends.null import Keyring as NullKeyring
from keyring.errors import KeyringLocked
from typer.testing import CliRunner

from fake_keyrings import RaisingKeyring, using
from store_damage import damage_page_of
from trueup.cli import app
from trueup.core.settings import secret_backends
from trueup.core.settings.config import ENV_OVERRIDES, load_settings
from trueup.core.settings.doctor import run_doctor
from trueup.core.settings.secrets import Secrets
from trueup.core.store.backup import backup_database
from trueup.core.store.database import open_database
from trueup.core.store.migrations import SCHEMA_VERSION
from trueup.sandbox.scenario import parse_scenario
from trueup.sandbox.serve import build_simulators, serve_in_background
from world import world

SECRETS = {
    "TRUEUP_PAX8_CLIENT_SECRET": "pax8-Xq9-secret",
    "TRUEUP_HALO_CLIENT_SECRET": "halo-Zr7-secret",
}


@pytest.fixture
def install(tmp_path, monkeypatch):
    """A clean environment: its own files, no keyring, nothing configured yet."""
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "data" / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in (*ENV_OVERRIDES.values(), "TRUEUP_QBO_REFRESH_TOKEN", "TRUEUP_QBO_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    yield tmp_path
    keyring.set_keyring(previous)


@pytest.fixture
def sandbox(install, monkeypatch):
    """Pax8 and Halo served on loopback, configured through the environment, synced once."""
    data = world()
    data["credentials"] = {
        "pax8": {"client_id": "sandbox", "client_secret": SECRETS["TRUEUP_PAX8_CLIENT_SECRET"]},
        "halo": {"client_id": "sandbox", "client_secret": SECRETS["TRUEUP_HALO_CLIENT_SECRET"]},
    }
    with serve_in_background(build_simulators(parse_scenario(data))) as urls:
        for name, value in {
            "TRUEUP_PAX8_URL": urls.pax8,
            "TRUEUP_HALO_URL": urls.halo,
            "TRUEUP_HALO_AUTH_URL": urls.halo_auth,
            "TRUEUP_PAX8_CLIENT_ID": "sandbox",
            "TRUEUP_HALO_CLIENT_ID": "sandbox",
            **SECRETS,
        }.items():
            monkeypatch.setenv(name, value)
        synced = CliRunner().invoke(app, ["sync", "--quiet"])
        assert synced.exit_code == 0, synced.output
        yield install


def doctor(*args):
    return CliRunner().invoke(app, ["doctor", *args])


def by_name(result):
    report = json.loads(result.stdout)
    return report, {check["name"]: check for check in report["checks"]}


def test_a_healthy_synced_install_passes(sandbox):
    result = doctor("--json")
    report, checks = by_name(result)
    assert result.exit_code == 0, result.output
    assert report["ok"] is True
    assert checks["config"]["status"] == "ok"
    assert checks["credentials pax8"]["status"] == "ok"
    assert "environment (TRUEUP_PAX8_CLIENT_SECRET)" in checks["credentials pax8"]["message"]
    assert checks["credentials qbo"]["status"] == "skip"
    assert checks["database"] == {
        "name": "database",
        "status": "ok",
        "message": f"{sandbox / 'data' / 'trueup.sqlite'}: integrity ok, schema {SCHEMA_VERSION}",
        "fix": "",
    }
    assert checks["permissions"]["status"] == "ok"
    assert checks["keyring"]["status"] == "warn"  # no keyring here: secrets come from env
    assert checks["sqlite"]["status"] in ("ok", "warn")
    assert checks["connection pax8"] == {
        "name": "connection pax8",
        "status": "ok",
        "message": "connection works",
        "fix": "",
    }
    assert checks["connection halo"]["status"] == "ok"
    assert checks["connection qbo"]["status"] == "skip"
    assert not any(secret in result.output for secret in SECRETS.values())


def test_the_text_report_is_one_line_per_check(sandbox):
    result = doctor("--offline")
    lines = result.stdout.strip().splitlines()
    assert result.exit_code == 0
    assert len(lines) == len(by_name(doctor("--json", "--offline"))[0]["checks"])
    assert all(line.split()[0] in ("ok", "warn", "fail", "skip") for line in lines)


def test_offline_tests_no_connection(sandbox):
    _, checks = by_name(doctor("--json", "--offline"))
    assert checks["connection pax8"]["status"] == "skip"
    assert "--offline" in checks["connection pax8"]["message"]


def test_a_wrong_secret_fails_its_connection(sandbox, monkeypatch):
    monkeypatch.setenv("TRUEUP_HALO_CLIENT_SECRET", "not-the-secret")
    result = doctor("--json")
    _, checks = by_name(result)
    assert result.exit_code == 1
    assert checks["connection halo"]["status"] == "fail"
    assert "rejected the client id or secret" in checks["connection halo"]["message"]
    assert checks["connection pax8"]["status"] == "ok"
    assert "not-the-secret" not in result.output


def test_loose_permissions_fail_with_the_chmod_that_fixes_them(sandbox):
    db = sandbox / "data" / "trueup.sqlite"
    config = sandbox / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text("[sync]\nmin_interval_minutes = 0\n")
    config.chmod(0o644)
    db.chmod(0o644)
    db.parent.chmod(0o755)
    result = doctor("--json", "--offline")
    report, _ = by_name(result)
    assert result.exit_code == 1
    fixes = {c["fix"] for c in report["checks"] if c["name"] == "permissions"}
    sidecars = {f"chmod 600 {db}{s}" for s in ("-wal", "-shm") if os.path.exists(f"{db}{s}")}
    assert fixes - sidecars == {f"chmod 600 {db}", f"chmod 700 {db.parent}", f"chmod 600 {config}"}
    for fix in fixes:
        mode, path = fix.split()[1:]
        os.chmod(path, int(mode, 8))
    assert doctor("--offline").exit_code == 0


def test_a_corrupt_database_fails_naming_the_latest_backup(sandbox):
    path = sandbox / "data" / "trueup.sqlite"
    db = open_database(path)
    backup = backup_database(db, "posting")
    db.dispose()
    for sidecar in (f"{path}-wal", f"{path}-shm"):
        if os.path.exists(sidecar):
            os.remove(sidecar)
    path.write_bytes(b"\x00not a database" * 1000)
    before = path.read_bytes()
    result = doctor("--json", "--offline")
    _, checks = by_name(result)
    assert result.exit_code == 1
    assert checks["database"]["status"] == "fail"
    assert str(backup) in checks["database"]["fix"]
    assert path.read_bytes() == before  # a doctor only looks


@pytest.fixture
def configured(install, monkeypatch):
    """Pax8 and Halo configured through the environment (tested only online)."""
    for name, value in {
        "TRUEUP_PAX8_CLIENT_ID": "sandbox",
        "TRUEUP_HALO_URL": "https://acme.halopsa.com",
        "TRUEUP_HALO_CLIENT_ID": "sandbox",
        **SECRETS,
    }.items():
        monkeypatch.setenv(name, value)
    return install


def test_no_store_yet_is_not_healthy_and_says_how_to_make_one(configured):
    """From an operations pass: with no store the doctor passed, exit 0."""
    result = doctor("--json", "--offline")
    report, checks = by_name(result)
    assert result.exit_code == 1 and report["ok"] is False
    database = checks["database"]
    assert database["status"] == "fail"
    assert database["message"] == f"no store yet at {configured / 'data' / 'trueup.sqlite'}"
    assert "`trueup sync` makes it" in database["fix"] and "`trueup demo`" in database["fix"]


@contextmanager
def read_only(folder):
    """`folder` unwritable: by its mode, or for root (whom modes do not stop) immutable."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder read-only here (chattr +i refused)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_store_is_said_so_with_what_to_do(configured):
    """From an operations pass: a store on a read-only disk or folder 'cannot be read', and the
    doctor advised syncing again into a new file."""
    path = configured / "data" / "trueup.sqlite"
    open_database(path).dispose()
    with read_only(path.parent):
        result = doctor("--json", "--offline")
    _, checks = by_name(result)
    database = checks["database"]
    assert result.exit_code == 1 and database["status"] == "fail"
    assert database["message"].startswith(f"{path} cannot be written:")
    assert "read-only" in database["message"] and "cannot be read" not in database["message"]
    assert "write access" in database["fix"] and "new file" not in database["fix"]


def test_a_damaged_page_is_named_in_one_line(tmp_path):
    path = tmp_path / "trueup.sqlite"
    open_database(path).dispose()
    page = damage_page_of(path, "pax8_company")
    checks = run_doctor(tmp_path / "config.toml", path, offline=True)
    database = next(c for c in checks if c.name == "database")
    assert database.status == "fail"
    assert database.message == f"{path} is corrupt (Page {page}: free space corruption)"


def test_the_keyring_check_says_plainly_what_is_wrong_and_what_to_do(install):
    """From an operations pass: it read "fail Keyring: no usable OS keyring; secrets must come
    from TRUEUP_*_CLIENT_SECRET ..." with a fix naming SOURCE."""
    _, checks = by_name(doctor("--json", "--offline"))
    keyring_check = checks["keyring"]
    assert keyring_check["status"] == "warn"
    assert keyring_check["message"].startswith("no OS keyring on this host")
    assert "trueup connect pax8 --secrets encrypted-file" in keyring_check["fix"]
    assert "TRUEUP_PAX8_CLIENT_SECRET" in keyring_check["fix"]
    said = keyring_check["message"] + keyring_check["fix"]
    assert "fail Keyring" not in said and "*" not in said and "SOURCE" not in said
    with using(RaisingKeyring(KeyringLocked("locked"))):
        _, checks = by_name(doctor("--json", "--offline"))
    assert checks["keyring"]["message"].startswith("the OS keyring is locked")
    assert "unlock it" in checks["keyring"]["fix"]


def test_no_keyring_with_quickbooks_offers_only_the_file_for_its_refresh_token(
    install, monkeypatch
):
    """The jump box's case: QuickBooks seeded from the environment and no keyring. The fix
    offered the environment, where no refresh token QuickBooks rotates in can be kept."""
    for name, value in {
        "TRUEUP_QBO_REALM": "9130357799991234",
        "TRUEUP_QBO_CLIENT_ID": "qbo-app",
        "TRUEUP_QBO_CLIENT_SECRET": "qbo-Xr5-secret",
        "TRUEUP_QBO_REFRESH_TOKEN": "RT1-seed",
    }.items():
        monkeypatch.setenv(name, value)
    _, checks = by_name(doctor("--json", "--offline"))
    assert checks["keyring"]["status"] == "warn"
    assert checks["keyring"]["fix"] == (
        "keep them in an encrypted file: `trueup connect qbo --secrets encrypted-file` (then "
        "connect the others again): QuickBooks Online's refresh token, a new one at each "
        "refresh, can be kept nowhere else; TRUEUP_PAX8_CLIENT_SECRET and "
        "TRUEUP_HALO_CLIENT_SECRET in the environment do for Pax8 and HaloPSA"
    )


def test_a_keyring_that_keeps_nothing_is_not_called_usable(install):
    with using(NullKeyring()):
        _, checks = by_name(doctor("--json", "--offline"))
    assert checks["keyring"]["status"] == "warn"
    assert "(keyring.backends.null.Keyring) does not keep" in checks["keyring"]["message"]
    assert "--secrets encrypted-file" in checks["keyring"]["fix"]


def test_a_locked_secrets_file_is_said_locked_with_how_to_unlock(install, monkeypatch):
    monkeypatch.setattr(secret_backends, "SCRYPT_N", 2**10)
    monkeypatch.setenv("TRUEUP_SECRETS_FILE", str(install / "secrets.enc"))
    config = install / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text('[pax8]\nclient_id = "p"\n[secrets]\nbackend = "encrypted-file"\n')
    monkeypatch.setenv("TRUEUP_SECRETS_PASSPHRASE", "correct horse")
    Secrets(load_settings(config)).save_client_secret("pax8", "p", "s3cret")
    monkeypatch.delenv("TRUEUP_SECRETS_PASSPHRASE")
    _, checks = by_name(doctor("--json", "--offline"))
    locked = checks["keyring"]
    assert locked["status"] == "warn"
    assert locked["message"] == (
        f"the encrypted secrets file {install / 'secrets.enc'} is locked: no passphrase was given"
    )
    assert locked["fix"] == "set TRUEUP_SECRETS_PASSPHRASE to its passphrase"
    assert checks["credentials pax8"]["fix"] == "unlock it (the keyring line says how)"
    monkeypatch.setenv("TRUEUP_SECRETS_PASSPHRASE", "correct horse")
    _, checks = by_name(doctor("--json", "--offline"))
    assert checks["keyring"]["status"] == "ok"
    assert checks["keyring"]["message"] == (
        f"secrets in the encrypted file {install / 'secrets.enc'}, opened"
    )


def test_missing_credentials_fail_and_say_how_to_connect(install, monkeypatch):
    monkeypatch.setenv("TRUEUP_PAX8_CLIENT_ID", "abc")  # an id, but no secret anywhere
    result = doctor("--json")
    _, checks = by_name(result)
    assert result.exit_code == 1
    pax8 = checks["credentials pax8"]
    assert pax8["status"] == "fail" and "no OS keyring" in pax8["message"]
    assert pax8["fix"] == "trueup connect pax8"
    assert checks["credentials halo"]["status"] == "fail"
    assert "not configured" in checks["credentials halo"]["message"]
    assert checks["connection pax8"]["status"] == "skip"  # nothing to test it with
    assert checks["database"]["status"] == "fail"  # not synced yet


def test_a_broken_config_fails_first(install):
    config = install / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text("[pax8\n")
    result = doctor("--json")
    _, checks = by_name(result)
    assert result.exit_code == 1
    assert checks["config"]["status"] == "fail" and "not valid TOML" in checks["config"]["message"]
    assert "database" in checks  # the rest is still examined


def _set_schema(path, version):
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_meta SET value=? WHERE key='schema_version'", (str(version),))


def test_schema_versions(tmp_path):
    path = tmp_path / "trueup.sqlite"
    open_database(path).dispose()
    config = tmp_path / "config.toml"
    _set_schema(path, SCHEMA_VERSION + 1)
    newer = next(c for c in run_doctor(config, path, offline=True) if c.name == "database")
    assert (newer.status, newer.fix) == ("fail", "upgrade trueup")
    _set_schema(path, SCHEMA_VERSION - 1)
    older = next(c for c in run_doctor(config, path, offline=True) if c.name == "database")
    assert older.status == "warn" and "migrates" in older.message


def test_a_secret_and_a_token_in_one_place_name_it_once():
    from trueup.core.settings.connections import ConnectionState
    from trueup.core.settings.doctor import _credentials
    from trueup.core.settings.secrets import SecretLocation

    filed = SecretLocation("encrypted file", True)
    both = ConnectionState("qbo", "QuickBooks Online", True, "u", "company 1", filed, filed)
    assert _credentials(both).message.endswith("; secret and refresh token in encrypted file")
    apart = ConnectionState(
        "qbo", "QuickBooks Online", True, "u", "company 1",
        SecretLocation("environment (TRUEUP_QBO_CLIENT_SECRET)", True), filed,
    )  # fmt: skip
    assert _credentials(apart).message.endswith(
        "; secrets in environment (TRUEUP_QBO_CLIENT_SECRET), encrypted file"
    )


@contextmanager
def closed(folder, monkeypatch):
    """`folder` not open to this user (another user's, as `sudo trueup connect` leaves
    ~/.config/trueup): by its mode, or for root (whom modes do not stop) by refusing to look."""
    if os.geteuid() != 0:
        folder.chmod(0o000)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    real_stat = os.stat

    def refused(path, *args, **kwargs):
        if str(path).startswith(f"{folder}{os.sep}"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "stat", refused)
        yield


def test_a_config_folder_not_open_to_the_user_is_a_check_not_the_end(install, monkeypatch):
    """From a boundary review: doctor stopped at its first line with 'error: ...: Permission
    denied' and examined nothing else; every command said only that."""
    config = install / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text("[sync]\nmin_interval_minutes = 5\n")
    config.chmod(0o600)
    with closed(config.parent, monkeypatch):
        result = doctor("--json", "--offline")
        shown = CliRunner().invoke(app, ["config", "show"])
    report, checks = by_name(result)
    assert result.exit_code == 1 and "database" in checks and "sqlite" in checks
    said = checks["config"]
    assert said["status"] == "fail" and said["fix"] == ""
    assert said["message"] == (
        f"cannot read {config}: Permission denied (its folder {config.parent} is not open to "
        f"your user): give your user access to it (as its owner: `chmod u+rwx {config.parent}`), "
        "or give --config (or TRUEUP_CONFIG) a file of your own"
    )
    looked = [c for c in report["checks"] if c["name"] == "permissions"]
    assert [c["message"] for c in looked] == [f"{config} cannot be looked at (Permission denied)"]
    assert shown.exit_code == 1 and shown.stderr == f"error: {said['message']}\n"


def test_a_store_folder_not_open_to_the_user_is_said_once(install, monkeypatch):
    db = install / "data" / "trueup.sqlite"
    open_database(db).dispose()
    with closed(db.parent, monkeypatch):
        result = doctor("--json", "--offline")
    report, checks = by_name(result)
    assert result.exit_code == 1
    assert checks["database"]["message"] == f"{db} cannot be looked at (Permission denied)"
    looked = [c for c in report["checks"] if c["name"] == "permissions"]
    assert len(looked) == 1 and "cannot be looked at" in looked[0]["message"]


def test_a_store_in_a_folder_named_with_a_hash_is_the_one_checked(tmp_path):
    """'file:Billing #2/trueup.sqlite?mode=ro' opened (and made) the file 'Billing ' and read
    its emptiness as the store's."""
    folder = tmp_path / "Billing #2"
    folder.mkdir()
    path = folder / "trueup.sqlite"
    open_database(path).dispose()
    _set_schema(path, SCHEMA_VERSION + 1)
    checked = next(
        c for c in run_doctor(tmp_path / "config.toml", path, offline=True) if c.name == "database"
    )
    assert (checked.status, checked.fix) == ("fail", "upgrade trueup")  # the store's own version
    assert not (tmp_path / "Billing ").exists()


def test_the_help_says_where_backups_are_and_how_one_is_restored():
    said = " ".join(CliRunner().invoke(app, ["doctor", "--help"]).output.split())
    assert "before every post and before a schema upgrade" in said
    assert "To restore one, close trueup, move the store (and any -wal/-shm beside it) aside" in (
        said
    )
