"""Operating commands: `trueup config show`, `trueup paths`, `trueup doctor`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render, state
from trueup.core.service.stores import backups_dir
from trueup.core.settings.config import Settings, in_clear_urls, load_settings, toml_value
from trueup.core.settings.connections import Connections, ConnectionState
from trueup.core.settings.doctor import Check, run_doctor
from trueup.core.settings.paths import data_dir, default_db_path
from trueup.core.settings.secrets import SecretLocation, secrets_file
from trueup.core.values.urls import HTTPS_ONLY

config_app = typer.Typer(help="The configuration in force.", no_args_is_help=True)


@config_app.command("show")
@handles_errors
def config_show(ctx: typer.Context) -> None:
    """The effective config as TOML, each value with where it came from (file, env, default).

    Secrets are never printed: only whether each is set, and where it is kept.
    """
    settings = load_settings(state(ctx).config_path)
    found = "" if settings.path.exists() else " (not found: defaults and environment only)"
    lines = [f"# {settings.path}{found}"]
    secrets = {s.source: s for s in Connections(settings).states()}
    # Plain http:// off loopback, which every client refuses: flagged on its row and on stderr.
    refused = {(name, key): why for name, key, why in in_clear_urls(settings)}
    for name, section in settings.sections():
        rows = [
            (key, toml_value(value), _origin(settings, name, key) + _flag(name, key, refused))
            for key, value in vars(section).items()
        ]
        if name in secrets:
            rows.extend(_secret_rows(secrets[name]))
        width = max(len(f"{key} = {value}") for key, value, _ in rows)
        lines.append(f"\n[{name}]")
        lines.extend(f"{f'{key} = {value}':<{width}}  # {origin}" for key, value, origin in rows)
    for source, headers in settings.import_columns.items():  # only ever from the file
        lines.append(f"\n[import.{source}]")
        lines.extend(f"{key} = {toml_value(header)}" for key, header in headers.items())
        lines.append(f"# file {settings.path}")
    typer.echo("\n".join(lines))
    for why in refused.values():
        render.stderr.print(Text(f"warning: {why}", style="yellow"), soft_wrap=True)


def _flag(section: str, key: str, refused: dict[tuple[str, str], str]) -> str:
    return f"; refused: {HTTPS_ONLY}" if (section, key) in refused else ""


def _origin(settings: Settings, section: str, key: str) -> str:
    origin = settings.origin(section, key)
    return f"file {settings.path}" if origin == "file" else origin


def _secret_rows(connection: ConnectionState) -> list[tuple[str, str, str]]:
    # A Xero PKCE consent has no client secret: its refresh token is what must be there.
    pkce = connection.configured and connection.secret is None
    rows = [] if pkce else [("client_secret", connection.secret)]
    if connection.source == "qbo" or pkce:
        rows.append(("refresh_token", connection.token))
    return [(key, *_redacted(location)) for key, location in rows]


def _redacted(location: SecretLocation | None) -> tuple[str, str]:
    if location is None:
        return '"(not set)"', "not configured"
    if location.found:
        return '"(set)"', location.where
    if location.locked:  # not known to be missing: the problem says how to unlock it
        return '"(locked)"', f"{location.where}: {location.problem}"
    return '"(not set)"', f"{location.where}: {location.problem}"


@handles_errors
def paths_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Where trueup keeps its files, one per line: config, database, data, backups, log,
    secrets.

    The log is the `log_event` table inside the database (`trueup log` reads it), so its line
    names the database. Secrets is the encrypted secrets file (TRUEUP_SECRETS_FILE moves it),
    used when the config says `[secrets] backend = "encrypted-file"`.
    """
    current = state(ctx)
    database = (current.db_path or default_db_path()).expanduser()
    places = {
        "config": current.config_path,
        "database": database,
        "data": data_dir(),
        "backups": backups_dir(database),
        "log": database,
        "secrets": secrets_file(),
    }
    if as_json:
        render.emit_json({name: str(path) for name, path in places.items()})
        return
    for name, path in places.items():
        typer.echo(f"{name:<9} {path}")


@handles_errors
def doctor_command(
    ctx: typer.Context,
    offline: Annotated[
        bool, typer.Option("--offline", help="Skip the connection tests (no network).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check this install: config, credentials (never printed), keyring, the database's
    integrity and schema, file permissions, the SQLite version and each connection.

    One line per check: ok, warn, fail or skip, with the fix. Exit 1 if any check fails.

    Backups: trueup copies the store into backups/ beside it before every post and before a
    schema upgrade (the newest 20 kept, `[backup] keep`). To restore one, close trueup, move
    the store (and any -wal/-shm beside it) aside, then copy the backup to the store's path.
    """
    current = state(ctx)
    checks = run_doctor(
        current.config_path, (current.db_path or default_db_path()).expanduser(), offline=offline
    )
    failed = any(check.status == "fail" for check in checks)
    if as_json:
        render.emit_json({"ok": not failed, "checks": [_check_json(check) for check in checks]})
    else:
        for check in checks:
            _print_check(check)
    if failed:
        raise typer.Exit(1)


STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def _print_check(check: Check) -> None:
    line = Text()
    line.append(f"{check.status:<4}", style=STYLES[check.status])
    line.append(f"  {check.name}: {check.message}")
    if check.fix:
        line.append(f" — fix: {check.fix}")
    render.stdout.print(line, soft_wrap=True)


def _check_json(check: Check) -> dict[str, str]:
    return {"name": check.name, "status": check.status, "message": check.message, "fix": check.fix}
