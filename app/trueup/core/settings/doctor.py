"""`trueup doctor`: is this install fit to sync and post, and if not, what to do about it.

Each check is one line: ok, warn, fail (or skip), with the fix when there is one. Nothing here
ever reads a secret's value into a message: credentials are only located (see core/secrets.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keyring

from trueup.core.settings.config import (
    ConfigError,
    ConfigUnreadableError,
    Settings,
    load_settings,
)
from trueup.core.settings.connections import Connections, ConnectionState
from trueup.core.settings.paths import data_dir
from trueup.core.settings.secret_backends import EncryptedFileStore, StoreLockedError
from trueup.core.settings.secrets import PASSPHRASE_ENV, SecretError, Secrets, secrets_file
from trueup.core.store.backup import backups_dir, list_backups, restore_hint
from trueup.core.store.database import APP_MARKER, connect_read_only
from trueup.core.store.migrations import SCHEMA_VERSION
from trueup.core.store.soundness import FULL, damage

Status = Literal["ok", "warn", "fail", "skip"]

# The WAL-reset bug (sqlite.org/wal.html#walresetbug) can corrupt a WAL database written by
# several connections at once; 3.7.0 to 3.51.2 have it.
SQLITE_FIXED = (3, 51, 3)
REQUIRED_SOURCES = ("pax8", "halo")  # a sync needs both; QuickBooks only for posting to it


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str
    fix: str = ""


def run_doctor(
    config_path: Path, db_path: Path, *, offline: bool, connections: Connections | None = None
) -> list[Check]:
    """Every check, in the order a user would fix them."""
    checks: list[Check] = []
    settings: Settings | None = None
    try:
        settings = load_settings(config_path)
        where = "parses" if config_path.exists() else "absent: defaults and environment in use"
        checks.append(Check("config", "ok", f"{config_path} {where}"))
    except ConfigError as exc:  # one that cannot be read says how to make it readable
        fix = "" if isinstance(exc, ConfigUnreadableError) else f"edit {config_path}"
        checks.append(Check("config", "fail", str(exc), fix))
    states: list[ConnectionState] = []
    if settings is not None:
        connections = connections or Connections(settings)
        states = connections.states()
        checks.extend(_credentials(state) for state in states)
        checks.append(_keyring(connections.secrets, states))
    checks.append(_store(db_path))
    checks.extend(_permissions(config_path, db_path, settings))
    checks.append(_sqlite_version())
    if connections is not None:
        checks.extend(_connectivity(connections, states, offline=offline))
    return checks


def _credentials(state: ConnectionState) -> Check:
    name = f"credentials {state.source}"
    if not state.configured:
        if state.source in REQUIRED_SOURCES:
            return Check(
                name, "fail", f"{state.name} is not configured", f"trueup connect {state.source}"
            )
        return Check(name, "skip", f"{state.name} is not configured (needed only to post to it)")
    problem = state.problem
    if problem:
        locked = any(where is not None and where.locked for where in (state.secret, state.token))
        fix = (
            "unlock it (the keyring line says how)" if locked else f"trueup connect {state.source}"
        )
        return Check(name, "fail", f"{state.name}: {problem}", fix)
    kept = [
        (what, loc.where)
        for what, loc in (("secret", state.secret), ("refresh token", state.token))
        if loc is not None
    ]
    places = list(dict.fromkeys(where for _, where in kept))
    what = " and ".join(w for w, _ in kept) if len(places) == 1 else "secrets"
    return Check(name, "ok", f"{state.name} {state.account}; {what} in {', '.join(places)}")


def _keyring(secrets: Secrets, states: list[ConnectionState]) -> Check:
    """Whether the store the config names ([secrets] backend) opens and keeps what it is given:
    tried, as a keyring can say it is usable and still be locked, or keep nothing."""
    store = secrets.store
    path = store.path if isinstance(store, EncryptedFileStore) else None  # None: OS keyring
    try:
        absent = path is not None and not path.exists()
    except OSError as exc:  # its folder not open to this user
        return Check(
            "keyring",
            "fail",
            f"{path} cannot be looked at ({exc.strerror or exc})",
            f"give your user access to {path.parent if path else ''}, or set "
            "TRUEUP_SECRETS_FILE to a file in a folder of your own",
        )
    if absent:
        return Check(
            "keyring",
            "warn",
            f"no encrypted secrets file yet at {path}",
            "`trueup connect pax8` (or any other) stores the first secret in it",
        )
    try:
        store.check()
    except StoreLockedError:
        return _locked(path, secrets.env.get(PASSPHRASE_ENV))
    except SecretError as exc:  # no keyring at all, or a file that is not trueup's
        if path is not None:
            return Check(
                "keyring", "fail", str(exc), "then run `trueup connect` again for each service"
            )
        return Check(
            "keyring", "warn", f"{exc}: trueup cannot keep secrets there", _no_keyring(states)
        )
    if path is not None:
        return Check("keyring", "ok", f"secrets in the encrypted file {path}, opened")
    return Check("keyring", "ok", f"the OS keyring ({_keyring_name()}) is usable")


def _no_keyring(states: list[ConnectionState]) -> str:
    """What to do with no keyring. A rotating refresh token (QuickBooks', a Xero consent's) has
    only the encrypted file: the environment was offered for it too, which keeps no successor."""
    rotating = [state for state in states if state.configured and state.token is not None]
    source = rotating[0].source if rotating else "pax8"
    fix = (
        f"keep them in an encrypted file: `trueup connect {source} --secrets encrypted-file` "
        "(then connect the others again)"
    )
    if not rotating:
        return (
            f"{fix}, or set TRUEUP_PAX8_CLIENT_SECRET and TRUEUP_HALO_CLIENT_SECRET in the "
            "environment"
        )
    names = " and ".join(f"{state.name}'s" for state in rotating)
    return (
        f"{fix}: {names} refresh token, a new one at each refresh, can be kept nowhere else; "
        "TRUEUP_PAX8_CLIENT_SECRET and TRUEUP_HALO_CLIENT_SECRET in the environment do for "
        "Pax8 and HaloPSA"
    )


def _locked(path: Path | None, passphrase: str | None) -> Check:
    """The store is locked (`path`: the encrypted file's, None: the OS keyring): what opens it."""
    if path is None:
        return Check(
            "keyring",
            "warn",
            "the OS keyring is locked, so trueup cannot read the secrets in it",
            "unlock it: log in to the desktop, or over SSH run `gnome-keyring-daemon --unlock` "
            "in a `dbus-run-session`",
        )
    if passphrase:
        return Check(
            "keyring",
            "warn",
            f"{PASSPHRASE_ENV} does not open the encrypted secrets file {path}",
            "set it to the passphrase the file was made with (a lost one means running "
            "`trueup connect` again for each service, with a new file)",
        )
    return Check(
        "keyring",
        "warn",
        f"the encrypted secrets file {path} is locked: no passphrase was given",
        f"set {PASSPHRASE_ENV} to its passphrase",
    )


def _keyring_name() -> str:
    backend = keyring.get_keyring()
    return str(getattr(backend, "name", type(backend).__name__))


def _store(path: Path) -> Check:
    """Integrity and schema version, read-only: a doctor never changes the file it examines."""
    try:
        there = path.exists()
    except OSError as exc:  # its folder not open to this user
        return Check(
            "database",
            "fail",
            f"{path} cannot be looked at ({exc.strerror or exc})",
            f"give your user access to {path.parent}, or give --db a store of your own",
        )
    if not there:  # nothing to bill from: not a healthy install
        return Check(
            "database",
            "fail",
            f"no store yet at {path}",
            "`trueup sync` makes it once Pax8 and HaloPSA are connected; `trueup demo` tries "
            "trueup on sample data, in a store of its own",
        )
    if path.stat().st_size == 0:
        return Check("database", "warn", f"{path} is empty", "trueup sync fills it")
    unwritable = _unwritable(path)
    if unwritable is not None:
        return unwritable
    try:
        with closing(connect_read_only(path)) as conn:
            problem = damage(conn, FULL)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            meta = (
                dict(conn.execute("SELECT key, value FROM schema_meta").fetchall())
                if "schema_meta" in tables
                else {}
            )
    except sqlite3.DatabaseError as exc:
        if "malformed" in str(exc) or "not a database" in str(exc):
            return Check("database", "fail", f"{path} is corrupt ({exc})", restore_hint(path))
        return Check(
            "database",
            "fail",
            f"{path} cannot be opened ({exc})",
            f"your user must be able to read it and write in its folder {path.parent}",
        )
    if problem is not None:
        return Check("database", "fail", f"{path} is corrupt ({problem})", restore_hint(path))
    if meta.get("app") != APP_MARKER:
        return Check(
            "database", "fail", f"{path} is not a trueup store", "choose another file with --db"
        )
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        return Check(
            "database",
            "fail",
            f"{path} has schema {version}, newer than this trueup's {SCHEMA_VERSION}",
            "upgrade trueup",
        )
    if version < SCHEMA_VERSION:
        return Check(
            "database",
            "warn",
            f"{path}: schema {version}; the next command migrates it to {SCHEMA_VERSION}",
        )
    return Check("database", "ok", f"{path}: integrity ok, schema {version}")


def _unwritable(path: Path) -> Check | None:
    """Why the store cannot be written, if it cannot: every command writes to it or beside it
    (SQLite's write-ahead log), so a read-only one stops them all, however sound it is."""
    folder = path.parent
    if os.access(path, os.W_OK) and os.access(folder, os.W_OK):
        return None
    try:
        mounted_read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows
        mounted_read_only = False
    if mounted_read_only:
        return Check(
            "database",
            "fail",
            f"{path} cannot be written: the disk it is on is mounted read-only",
            "remount that disk read-write, or copy the store to a writable disk and give it "
            "with --db (or TRUEUP_DB)",
        )
    return Check(
        "database",
        "fail",
        f"{path} cannot be written: it or its folder is read-only for your user (SQLite writes "
        "its log beside the store)",
        f"give your user write access to both (as their owner: `chmod u+w {path} {folder}`), "
        "or give --db a store in a folder you can write",
    )


def _permissions(config_path: Path, db_path: Path, settings: Settings | None) -> list[Check]:
    """Folders 0700 and files 0600: group and others must not read the store or the config."""
    if os.name == "nt":
        return [Check("permissions", "skip", "not checked on Windows (ACLs, not modes)")]
    wanted = [(folder, 0o700) for folder in _unique([db_path.parent, data_dir()])]
    wanted.append((backups_dir(db_path), 0o700))
    wanted.extend((Path(f"{db_path}{suffix}"), 0o600) for suffix in ("", "-wal", "-shm"))
    with contextlib.suppress(OSError):  # a folder not open to this user: its line says so
        wanted.extend((backup, 0o600) for backup in list_backups(db_path))
    wanted.append((config_path, 0o600))
    if settings is not None and settings.secrets.backend == "encrypted-file":
        wanted.append((secrets_file(), 0o600))
    problems = []
    closed: set[Path] = set()  # folders not open to this user: one line each, not one a file
    for path, mode in wanted:
        if path.parent in closed:
            continue
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        except OSError as exc:  # a folder above it not open to this user: said, not a crash
            closed.add(path.parent)
            problems.append(
                Check(
                    "permissions",
                    "fail",
                    f"{path} cannot be looked at ({exc.strerror or exc})",
                    f"give your user access to {path.parent}, or keep trueup's files in a "
                    "folder of your own (--db, --config)",
                )
            )
            continue
        if info.st_uid != os.getuid():
            problems.append(
                Check(
                    "permissions",
                    "warn",
                    f"{path} belongs to another user",
                    "keep trueup's files in a folder of your own (--db, --config)",
                )
            )
        elif stat.S_IMODE(info.st_mode) & 0o077:
            problems.append(
                Check(
                    "permissions",
                    "fail",
                    f"{path} is {stat.S_IMODE(info.st_mode):o}, open to other users",
                    f"chmod {mode:o} {path}",
                )
            )
    return problems or [Check("permissions", "ok", "folders 0700, files 0600")]


def _sqlite_version() -> Check:
    found = sqlite3.sqlite_version
    if sqlite3.sqlite_version_info >= SQLITE_FIXED:
        return Check("sqlite", "ok", f"SQLite {found}")
    return Check(
        "sqlite",
        "warn",
        f"SQLite {found} has the WAL-reset bug (rare corruption under concurrent writers; "
        "fixed in 3.51.3)",
        "use a Python built with SQLite 3.51.3 or later; meanwhile run one trueup at a time",
    )


def _connectivity(
    connections: Connections, states: list[ConnectionState], *, offline: bool
) -> list[Check]:
    checks: dict[str, Check] = {}
    to_test = []
    for state in states:
        name = f"connection {state.source}"
        refused = connections.in_clear(state.source)
        if refused:  # a client refuses it: said offline too, where it would only be skipped
            status: Status = "fail" if state.configured else "warn"
            why = "; ".join(why for _, _, why in refused)
            checks[state.source] = Check(name, status, why, _https_fix(state.source, refused))
        elif offline:
            checks[state.source] = Check(name, "skip", "not tested (--offline)")
        elif state.problem:
            checks[state.source] = Check(name, "skip", f"not tested: {state.problem}")
        else:
            to_test.append(state.source)

    async def test_all() -> None:
        results = await asyncio.gather(*(connections.check(source) for source in to_test))
        for result in results:
            status: Status = "ok" if result.ok else "fail"
            checks[result.source] = Check(f"connection {result.source}", status, result.message)

    if to_test:
        asyncio.run(test_all())
    return [checks[state.source] for state in states]


def _https_fix(source: str, refused: list[tuple[str, str, str]]) -> str:
    """How to give each URL refused an https:// one: where it was set says where to mend it."""
    fixes = []
    for _, key, why in refused:
        if why.startswith("environment: "):
            variable = why.removeprefix("environment: ").split(" ", 1)[0]
            fixes.append(f"set {variable} to an https:// URL, or unset it")
        elif key == "token_url":  # no flag of `trueup connect` sets it
            fixes.append(f"give [{source}] token_url an https:// URL, or remove it")
        else:
            fixes.append(f"trueup connect {source} --{key.replace('_', '-')} https://…")
    return "; ".join(dict.fromkeys(fixes))


def _unique(paths: list[Path]) -> Iterator[Path]:
    seen: set[Path] = set()
    for path in paths:
        resolved = path.expanduser().resolve()
        if resolved not in seen:
            seen.add(resolved)
            yield path
