"""The `trueup` command: the scriptable front door (contract.md §2)."""

from __future__ import annotations

import functools
import gc
import io
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperOption
from typer.exceptions import TyperException

from trueup.cli import render
from trueup.cli.commands import LazyGroup
from trueup.core.settings.paths import default_config_path, default_db_path
from trueup.core.values.bounds import INT64

if TYPE_CHECKING:
    from trueup.core.service.stores import Database

app = typer.Typer(
    name="trueup",
    help="Month-end billing workbench for MSPs: reconcile Pax8 against HaloPSA.\n\n"
    "Start with `trueup demo` (no credentials needed). Data goes to stdout, diagnostics to "
    "stderr; exit 0 on success, 1 when you must act, 2 on bad usage.",
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)

_typed = TyperOption.display_type_rich
_ranged = TyperOption._get_number_range_help_str


def _flag_without_type(option: TyperOption, ctx: Any) -> str | None:
    """Typer 0.29 prints `<bool>` beside every flag in --help, though a flag takes no value,
    and `<list[int]>` or `<int range>` beside an id: nothing there for flags, the type of one
    value for options that take one (the help says to repeat, the range follows)."""
    if option.is_flag:
        return None
    shown = _typed(option, ctx)
    if shown and shown.startswith("<list[") and shown.endswith("]>"):
        shown = f"<{shown[6:-2]}>"
    return shown.replace(" range>", ">") if shown else shown


def _range_worth_reading(option: TyperOption) -> str | None:
    """A bound of INT64 is the store's (a Halo id), not advice: `[x>=1]`. Its 19 digits took a
    third of the line beside every --client, squeezing the help into a narrow column."""
    if option.max == INT64:
        return f"x>={option.min}"
    return _ranged(option)


setattr(TyperOption, "display_type_rich", _flag_without_type)  # noqa: B010 (a method)
setattr(TyperOption, "_get_number_range_help_str", _range_worth_reading)  # noqa: B010

F = TypeVar("F", bound=Callable[..., Any])
LOG_LEVELS = ("INFO", "WARNING", "ERROR")


def user_errors() -> tuple[type[Exception], ...]:
    """Every failure a user can act on: one line on stderr and exit 1, never a traceback (a
    file the user named that cannot be read or written is one too)."""
    from trueup.core.errors import TrueupError

    return (TrueupError, OSError)


class State:
    def __init__(self, db_path: Path | None, config_path: Path, *, db_from_env: bool = False):
        self.db_path = db_path
        self.config_path = config_path
        self.db_from_env = db_from_env  # TRUEUP_DB, not --db: the demo keeps to its own file
        self.opened: Path | None = None  # the store this command opened, if any

    def open_db(self, default: Path | None = None, *, existing: bool = True) -> Database:
        """The store; with `existing` (all but the commands that make one: sync, demo, import,
        the books' refresh, the workbench), StoreError when there is none at the path: a
        mistyped --db must not read as an empty month, approve and post nothing, or take a
        mapping the store never sees."""
        from trueup.core.service.stores import (
            StoreError,
            open_database,  # with the models: ~0.5 s, for stores only
        )

        path = self.db_path or default or default_db_path()
        if existing and not path.expanduser().exists():
            raise StoreError(
                f"no store at {path}: `trueup sync` makes one (or `trueup demo`, its own); "
                "--db or TRUEUP_DB names another"
            )

        if _ONE_COMMAND:
            # What is imported by now lives as long as the process: kept out of every later
            # collection, which otherwise walks it again and again while a command reads a
            # month of 2,000 clients (bench/README.md, "trueup month --json").
            gc.freeze()
        self.opened = path
        return open_database(path)


def handles_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            # A step that finished before the key (an import committed) stays: said, not denied.
            render.fail(
                "interrupted: nothing half-done was saved; "
                f"`{_log_command([*args, *kwargs.values()])}` lists what finished"
            )
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, TyperException):  # typer's own exits and usage errors
            raise
        except BrokenPipeError:
            # The reader left (`| head`): nothing more to say, and nowhere to say it. Python's
            # own advice: point stdout at devnull so flushing it at exit raises nothing more.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(141) from None
        except Exception as exc:
            if isinstance(exc, user_errors()):
                render.fail(_said(exc))
                raise typer.Exit(1) from None
            # A bug, not the user's doing: still one line, the traceback only on request.
            if os.environ.get("TRUEUP_DEBUG"):
                raise
            render.fail(f"unexpected {type(exc).__name__}: {exc} (TRUEUP_DEBUG=1 shows where)")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _log_command(arguments: list[Any]) -> str:
    """`trueup log`, naming the store the command opened (its context among its `arguments`)
    when a bare `trueup log` would read another (a --db, the demo's own file)."""
    states = [a.obj for a in arguments if isinstance(getattr(a, "obj", None), State)]
    opened = states[0].opened if states else None
    env = os.environ.get("TRUEUP_DB")
    if opened is None or opened == (Path(env) if env else default_db_path()):
        return "trueup log"
    return f"trueup --db {shlex.quote(str(opened))} log"


def _checked_faults(text: str | None) -> str | None:
    """--faults as given, once it reads as a spec: a bad one is a usage error (exit 2), as
    `sandbox serve` says it, before anything is served or synced."""
    if text is not None:
        from trueup.cli.options import parsed_faults

        parsed_faults(text)
    return text


def _file_path(given: str) -> Path:
    # An empty value (`--db "$UNSET"`) would be read as the current folder.
    if not given.strip():
        raise typer.BadParameter("is empty: give a file name, or leave it out for the default")
    return Path(given)


def _said(exc: Exception) -> str:
    """A user's error in words: an OSError of a file says the file first ("out: Permission
    denied"), not Python's "[Errno 13] Permission denied: 'out'"."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"trueup {version('trueup')}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main_options(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            parser=_file_path,
            metavar="<path>",
            envvar="TRUEUP_DB",
            help="The SQLite file (default: in your user data folder).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            parser=_file_path,
            metavar="<path>",
            envvar="TRUEUP_CONFIG",
            help="The config file (default: in your user config folder).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
            expose_value=False,
        ),
    ] = False,
) -> None:
    for name, given in (("TRUEUP_DB", db), ("TRUEUP_CONFIG", config)):
        # Click reads an empty variable as unset, so `TRUEUP_DB=$UNSET` would open the default
        # store: refused, as `--db ''` is.
        if given is None and os.environ.get(name) == "":
            raise typer.BadParameter(
                "is set but empty: give a file name, or unset it for the default", param_hint=name
            )
    source = ctx.get_parameter_source("db")
    from_env = source is not None and source.name == "ENVIRONMENT"
    ctx.obj = State(db, config or default_config_path(), db_from_env=from_env)
    if ctx.invoked_subcommand is None:
        if not sys.stdout.isatty():  # no terminal to draw on: teach instead
            typer.echo(ctx.get_help())
            return
        _open_workbench(ctx.obj, mouse=True)


@handles_errors
def _open_workbench(current: State, *, mouse: bool) -> None:
    from trueup.cli.tui import run_tui

    run_tui(current, mouse=mouse)


def state(ctx: typer.Context) -> State:
    assert isinstance(ctx.obj, State)
    return ctx.obj


NoMouse = Annotated[
    bool,
    typer.Option(
        "--no-mouse", help="Leave the mouse to the terminal, so text can be selected and copied."
    ),
]


@app.command()
def tui(ctx: typer.Context, no_mouse: NoMouse = False) -> None:
    """Open the workbench on your store (what a bare `trueup` does)."""
    _open_workbench(state(ctx), mouse=not no_mouse)


@app.command()
@handles_errors
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What the local store holds: rows per entity, last sync of each source, open batches."""
    from trueup.core.service.ledger import Ledger
    from trueup.core.service.syncing import Syncing
    from trueup.core.settings.config import today

    db = state(ctx).open_db(existing=True)  # a mistyped --db is said, never made
    try:
        day = today()
        result = Syncing(db, today=day).status()
        result["open_batches"] = Ledger(db, today=day).open_batches_json()
    finally:
        db.dispose()
    if as_json:
        render.emit_json(result)
    else:
        render.status_tables(result)


@app.command()
@handles_errors
def log(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    level: Annotated[str | None, typer.Option(help="Only INFO, WARNING or ERROR.")] = None,
    limit: Annotated[
        int, typer.Option(help="How many entries, newest first.", min=1, max=100_000)
    ] = 50,
) -> None:
    """The sync (and later posting) log, newest first."""
    from trueup.core.service.logs import Logs

    if level is not None and level.upper() not in LOG_LEVELS:
        from trueup.cli.options import usage_error

        usage_error(f"--level {level!r} is not one of {', '.join(LOG_LEVELS)}")
    db = state(ctx).open_db(existing=True)
    try:
        entries = Logs(db).latest(level=level.upper() if level else None, limit=limit)
    finally:
        db.dispose()
    if as_json:
        render.emit_json({"entries": entries})
    else:
        render.log_table(entries)


@app.command()
@handles_errors
def sync(
    ctx: typer.Context,
    sandbox: Annotated[
        Path | None,
        typer.Option(
            help="Sync from the in-process simulators serving this scenario file instead of the "
            "configured Pax8 and Halo.",
            show_default=False,
        ),
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            help="With --sandbox: inject faults, e.g. `429=0.05,500=0.02,reset=0.01,seed=7`.",
            show_default=False,
            callback=_checked_faults,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="For cron and systemd: no output on success, one line on failure."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Sync even within `[sync] min_interval_minutes`.")
    ] = False,
    accept_shrink: Annotated[
        bool,
        typer.Option(
            "--accept-shrink",
            help="Apply a source's answer even when it holds far fewer records than the store "
            "(more than `[sync] max_shrink_percent` fewer): only when the drop is real.",
        ),
    ] = False,
) -> None:
    """Pull Pax8 and HaloPSA into the local file, both at once.

    Each source is applied in one transaction: a sync that fails or is interrupted leaves the
    previous data as it was, and the log says why. Only one sync runs per file at a time. A
    source whose answer collapses (say Halo listing no clients where the store has 59) fails
    and keeps the last good data, unless --accept-shrink. A store SQLite finds damaged is
    refused before anything is written into it (`trueup doctor` examines it).

    Exit codes:

    - **0** synced
    - **1** failed: a source failed, or something you must fix (the line on stderr says what)
    - **2** bad usage
    - **3** skipped: another sync of the same file is in progress ("sync in progress")
    - **4** skipped: the last good sync is younger than `[sync] min_interval_minutes`
    (silent with --quiet; --force syncs anyway)

    --json prints one document every time: "ok" (no source failed), "sources", and for a skip
    "skipped": true with "reason" (in_progress, too_soon) and "message"; a sync that could not
    start has "ok": false and "error".
    """
    from trueup.cli.syncing import run_sync

    if quiet and as_json:
        raise typer.BadParameter("--quiet prints nothing on success; drop --json or --quiet")
    if faults and sandbox is None:
        raise typer.BadParameter("--faults works only with --sandbox", param_hint="--faults")
    try:
        outcome = run_sync(
            state(ctx),
            scenario_path=sandbox,
            faults=faults,
            as_json=as_json,
            quiet=quiet,
            force=force,
            accept_shrink=accept_shrink,
        )
    except user_errors() as exc:  # nothing synced: said on stderr, and in the JSON asked for
        if as_json:
            render.emit_json({**render.sync_json([]), "ok": False, "error": _said(exc)})
        raise
    if outcome:
        raise typer.Exit(int(outcome))


@app.command()
@handles_errors
def demo(
    ctx: typer.Context,
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="A scenario file (default: the bundled 60-client MSP).", show_default=False
        ),
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            help="Inject faults into the simulators, e.g. `429=0.05,reset=0.01,seed=7`.",
            show_default=False,
            callback=_checked_faults,
        ),
    ] = None,
    no_mouse: NoMouse = False,
) -> None:
    """Serve the sandbox on loopback, sync it over real HTTP, and open the workbench on it.

    Needs no credentials and keeps its own file (demo.sqlite), apart from your real data. When
    stdout is not a terminal, it prints what the store holds instead.
    """
    from trueup.cli.syncing import run_demo

    if not run_demo(state(ctx), scenario_path=scenario, faults=faults, mouse=not no_mouse):
        raise typer.Exit(1)


_ONE_COMMAND = False  # this process runs one command and exits (not a test calling `app`)


def main() -> None:
    from trueup.cli.diagnostics import one_line_diagnostics

    global _ONE_COMMAND
    _ONE_COMMAND = True
    _printable_anywhere()
    one_line_diagnostics()
    app()


def _printable_anywhere() -> None:
    """A terminal whose encoding lacks a character trueup prints ('•', '…', '€' under a
    Latin-1 or ASCII locale on an old jump box) gets '?' for it, not a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
