"""`trueup sandbox serve|generate|partner-center|ion|ingram|sherweb`: the simulators and the
distributors' sample files, as a product feature."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from trueup.cli import handles_errors, render
from trueup.cli.options import parsed_faults, usage_error
from trueup.core.settings.config import today
from trueup.sandbox.common import FaultSpec

sandbox_app = typer.Typer(
    help="Sandbox simulators of Pax8, HaloPSA, QuickBooks Online and Xero, for demos, training "
    "and dry runs.",
    no_args_is_help=True,
)


@sandbox_app.command()
@handles_errors
def serve(
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="The scenario file to serve (default: the bundled demo).", show_default=False
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    pax8_port: Annotated[int, typer.Option(help="Pax8 port (0: a free one).")] = 0,
    halo_port: Annotated[int, typer.Option(help="HaloPSA port (0: a free one).")] = 0,
    qbo_port: Annotated[int, typer.Option(help="QuickBooks port (0: a free one).")] = 0,
    xero_port: Annotated[
        int, typer.Option(help="Xero port, API and identity hosts (0: a free one).")
    ] = 0,
    faults: Annotated[
        FaultSpec | None,
        typer.Option(
            parser=parsed_faults,
            metavar="<spec>",
            # Words, not one long example: a line wider than the column is cut at 80 columns.
            help="Inject faults: KIND=SHARE of the requests, joined by commas. Kinds: 429 (with "
            "Retry-After), 429-bare, 500, 503, reset, slow, malformed, lost, late, lost-500; "
            "also seed=N and slow_seconds=N. E.g. `429=0.05,reset=0.01,seed=7`.",
            show_default=False,
        ),
    ] = None,
    rate_limits: Annotated[
        bool,
        typer.Option(
            help="Enforce the real rate limits (Pax8 1000/min, Halo 300/5 min, QBO 500/min, "
            "Xero 60/min, 5 at once and 5,000/day)."
        ),
    ] = True,
) -> None:
    """Serve the simulators over HTTP until stopped (Ctrl-C).

    The first line of stdout is JSON with the URLs to put in TRUEUP_PAX8_URL, TRUEUP_HALO_URL,
    TRUEUP_HALO_AUTH_URL, TRUEUP_QBO_URL, TRUEUP_XERO_URL and TRUEUP_XERO_IDENTITY_URL.
    Credentials: client id `sandbox`, secret `sandbox`, unless the scenario says otherwise.
    """
    from trueup.cli.syncing import BUNDLED_DEMO
    from trueup.sandbox.scenario import load_scenario
    from trueup.sandbox.serve import build_simulators, serve_in_background

    ports = {
        "--pax8-port": pax8_port,
        "--halo-port": halo_port,
        "--qbo-port": qbo_port,
        "--xero-port": xero_port,
    }
    for flag, port in ports.items():  # checked here: a range in the help cut its example short
        if not 0 <= port <= 65_535:
            usage_error(f"{flag} {port} is no port: give one from 1 to 65535, or 0 for a free one")
    chosen = [port for port in ports.values() if port]
    if len(set(chosen)) < len(chosen):
        usage_error("two simulators cannot share a port: give each its own, or 0 for a free one")
    sims = build_simulators(
        load_scenario(scenario or BUNDLED_DEMO), faults=faults, rate_limits=rate_limits
    )
    with serve_in_background(
        sims,
        host=host,
        pax8_port=pax8_port,
        halo_port=halo_port,
        qbo_port=qbo_port,
        xero_port=xero_port,
    ) as urls:
        sys.stdout.write(json.dumps(urls.as_json()) + "\n")
        sys.stdout.flush()
        render.stderr.print("Serving the sandbox; Ctrl-C stops it.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            render.stderr.print("Stopped.")


@sandbox_app.command()
@handles_errors
def generate(
    clients: Annotated[int, typer.Option(min=1, max=100_000, help="How many clients.")],
    seed: Annotated[int, typer.Option(help="Same clients and seed, same bytes.")] = 1,
    month: Annotated[
        str | None,
        typer.Option(
            help="The scenario's current month YYYY-MM (default: this month; TRUEUP_TODAY counts).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a deterministic, realistic scenario of N clients to stdout."""
    from trueup.sandbox.generate import dump_scenario, generate_scenario

    scenario_month = _scenario_month(month)
    sys.stdout.write(dump_scenario(generate_scenario(clients, seed=seed, month=scenario_month)))
    if sys.stdout.isatty():
        sys.stdout.write("\n")


def _scenario_month(given: str | None) -> str:
    """The month given, else today's (a bad TRUEUP_TODAY is said as the other commands say it):
    one trueup bills whose scenario stays in the calendar, whose commitments run three years on.
    Year 0000 or 9999 was an unexpected ValueError (exit 1)."""
    from trueup.core.values.months import FIRST_YEAR, LAST_YEAR, Month, MonthError

    try:
        month = Month(given) if given is not None else Month.of(today())
    except MonthError as exc:
        raise typer.BadParameter(str(exc), param_hint="--month") from None
    if month.first.year > LAST_YEAR - 3:
        raise typer.BadParameter(
            f"{month}: a scenario's commitments run three years on, past the calendar: "
            f"give a month from {FIRST_YEAR}-01 to {LAST_YEAR - 3}-12",
            param_hint="--month",
        )
    return month


Scenario = Annotated[
    Path | None,
    typer.Option(
        help="The scenario whose Halo clients the file bills (default: the bundled demo).",
        show_default=False,
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(help="Where to write the CSV (default: stdout).", show_default=False),
]
Seed = Annotated[int, typer.Option(help="Same scenario and seed, same bytes.")]
Clients = Annotated[int, typer.Option(min=1, max=50, help="How many clients buy through it.")]


@sandbox_app.command("partner-center")
@handles_errors
def partner_center(
    scenario: Scenario = None, out: Out = None, seed: Seed = 1, clients: Clients = 4
) -> None:
    """Write a Partner Center invoice reconciliation file (CSV) for a scenario: a few of its
    clients buying licences direct from Microsoft, and one's Azure usage, for
    `trueup import FILE --source partner-center`."""
    from trueup.sandbox.gen_partner_center import partner_center_csv

    _write_sample(partner_center_csv(_scenario(scenario), seed=seed, clients=clients), out)


@sandbox_app.command("ion")
@handles_errors
def ion(scenario: Scenario = None, out: Out = None, seed: Seed = 1, clients: Clients = 3) -> None:
    """Write a TD SYNNEX StreamOne Ion billing report (CSV) for a scenario: a few of its clients
    buying through Ion, for `trueup import FILE --source ion`."""
    from trueup.sandbox.gen_ion import ion_csv

    _write_sample(ion_csv(_scenario(scenario), seed=seed, clients=clients), out)


@sandbox_app.command("ingram")
@handles_errors
def ingram(
    scenario: Scenario = None, out: Out = None, seed: Seed = 1, clients: Clients = 3
) -> None:
    """Write an Ingram Micro Cloud Marketplace rated data export (CSV) for a scenario: a few of
    its clients buying through Ingram, for `trueup import FILE --source ingram`."""
    from trueup.sandbox.gen_ingram import ingram_csv

    _write_sample(ingram_csv(_scenario(scenario), seed=seed, clients=clients), out)


@sandbox_app.command("sherweb")
@handles_errors
def sherweb(scenario: Scenario = None, out: Out = None, seed: Seed = 1) -> None:
    """Write one client's Sherweb payable charges (CSV, as Sherweb exports them per client) for
    a scenario, for `trueup import FILE --source sherweb`."""
    from trueup.sandbox.gen_sherweb import sherweb_csv

    _write_sample(sherweb_csv(_scenario(scenario), seed=seed), out)


def _scenario(path: Path | None) -> dict[str, object]:
    """What a distributor's file is drawn from, of a scenario checked as serving it is checked:
    a file not JSON, or not of a scenario's shape, was an unexpected JSONDecodeError or
    TypeError."""
    from trueup.cli.syncing import BUNDLED_DEMO
    from trueup.sandbox.scenario import load_scenario

    scenario = load_scenario(path or BUNDLED_DEMO)
    return {
        "as_of": scenario.as_of.date().isoformat(),
        "pax8": {key: scenario.pax8.get(key) or [] for key in ("companies", "subscriptions")},
        "halo": {"clients": scenario.halo.get("clients") or []},
    }


def _write_sample(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8", newline="")
    render.stderr.print(Text(f"wrote {out}"), soft_wrap=True)
