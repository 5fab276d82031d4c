"""Options several commands share, declared once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.text import Text

from trueup.cli import render
from trueup.core.errors import TrueupError
from trueup.core.service.stores import Database
from trueup.core.settings.config import load_settings, today
from trueup.core.values.bounds import INT64
from trueup.core.values.months import Month

if TYPE_CHECKING:
    from trueup.sandbox.common import FaultSpec


def checked_month(month: str | None) -> Month | None:
    # Checked while parsing, so a bad month is a usage error (exit 2) before anything runs.
    if month is None:
        return None
    try:
        day = today()
    except TrueupError as exc:  # TRUEUP_TODAY unreadable: said as without --month, not blamed on it
        render.fail(str(exc))
        raise typer.Exit(1) from None
    try:
        return Month(month).check_reachable(day)
    except TrueupError as exc:  # not a month, or after next month
        raise typer.BadParameter(str(exc)) from None


MonthOption = Annotated[
    str | None,
    typer.Option(
        "--month",
        metavar="YYYY-MM",
        help="The service month YYYY-MM (default: the month being closed: the previous month "
        "through [billing] close_day of this one, 10 unless configured; TRUEUP_TODAY counts).",
        callback=checked_month,
        show_default=False,
    ),
]


# A Halo client id as the store can hold one: past it, a usage error naming the range.
CLIENT_ID: dict[str, Any] = {"min": 1, "max": INT64}
ITEM_ID = CLIENT_ID  # a Halo item id, likewise
Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
ClientId = Annotated[
    int | None,
    typer.Option("--client", help="A Halo client id.", show_default=False, **CLIENT_ID),
]
MinScore = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=100,
        help="Accept suggestions scoring at least this (default: the configured threshold).",
        show_default=False,
    ),
]


def month_or_default(ctx: typer.Context, month: str | None, today: date) -> Month:
    """The --month given, else the month being closed on `today`."""
    return Month(month) if month else default_month(ctx, today)


def default_month(ctx: typer.Context, today: date) -> Month:
    """The month being closed on `today`, by the config's [billing] close_day: the workbench
    opens on the same month."""
    return Month.being_closed(today, configured_close_day(ctx))


def configured_close_day(ctx: typer.Context) -> int:
    from trueup.cli import state

    return load_settings(state(ctx).config_path).billing.close_day


def configured_threshold(ctx: typer.Context, given: int | None) -> int:
    """The score given on the command line, else the config's [mapping] threshold."""
    from trueup.cli import state

    return given if given is not None else load_settings(state(ctx).config_path).mapping.threshold


@contextmanager
def open_store(ctx: typer.Context, *, existing: bool = True) -> Iterator[Database]:
    from trueup.cli import state

    db = state(ctx).open_db(existing=existing)
    try:
        yield db
    finally:
        db.dispose()


def parsed_faults(text: str) -> FaultSpec:
    """--faults read while parsing, so a bad spec is a usage error (exit 2) before anything is
    served: it was exit 1, and `seed=1e999` an unexpected OverflowError."""
    from trueup.sandbox.common import FaultSpec, FaultSpecError

    try:
        return FaultSpec.parse(text)
    except FaultSpecError as exc:
        raise typer.BadParameter(str(exc)) from None


def usage_error(message: str) -> NoReturn:
    """Bad usage: one line and exit 2, like the option parser's own errors."""
    render.fail(f"{message} (see --help)")
    raise typer.Exit(2)


def say(message: str) -> None:
    """A confirmation for the person at the terminal: stderr, one line, never markup."""
    render.stderr.print(Text(render.visible_lines(message)), soft_wrap=True)
