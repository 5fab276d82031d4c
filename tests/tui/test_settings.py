"""The Settings screen: each connection's state and where its secret lives (never the secret),
the last sync's error, `t` testing in the background, and the schedule."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from conftest import NOW, TODAY
from keyring.backends import fail
from rich.console import Console
from sqlalchemy import insert

from tools.demo_workbench import demo_connections, wait_until_idle
from trueup.core.service.workbench import Workbench
from trueup.core.settings.clients import sandbox_clients
from trueup.core.settings.config import Settings
from trueup.core.settings.connections import Connections
from trueup.core.settings.secret_backends import KeyringStore
from trueup.core.settings.secrets import Secrets
from trueup.core.store import tables as m
from trueup.core.store.logbook import read_log
from trueup.sandbox.generate import DEMO_PATH
from trueup.sandbox.memory_keyring import MemoryKeyring
from trueup.sandbox.scenario import load_scenario
from trueup.sandbox.serve import build_simulators, in_process_transports
from trueup.tui.app import make_app
from trueup.tui.screens.settings import SANDBOX

HALO_SECRET = "halo-secret-Zk27-do-not-show"


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


def shown(app, selector):
    """What a panel of the screen reads, as plain text."""
    console = Console(width=200, file=io.StringIO(), color_system=None)
    console.print(app.screen.query_one(selector).content)
    return " ".join(console.file.getvalue().split())


def connections(settings, env, store=None):
    sims = build_simulators(load_scenario(DEMO_PATH), rate_limits=False)
    secrets = Secrets(settings, env=env, store=store or KeyringStore(MemoryKeyring()))
    return Connections(settings, secrets=secrets, transports=in_process_transports(sims))


def sandbox_settings(tmp_path, *, qbo=False):
    settings = Settings(path=tmp_path / "config.toml")
    settings.pax8.url, settings.pax8.client_id = "http://pax8.sandbox/v1", "sandbox"
    settings.halo.url, settings.halo.client_id = "http://halo.sandbox", "sandbox"
    settings.halo.auth_url = "http://halo.sandbox/auth"
    if qbo:
        settings.qbo.url, settings.qbo.client_id = "http://qbo.sandbox", "sandbox"
        settings.qbo.realm_id = "sandbox"
    return settings


@pytest.fixture
def settings_app(store):
    """The demo store, with the sandbox's connections as the screenshots show them."""

    def build(connections_=None, sync_clients=None):
        workbench = Workbench(
            store,
            today=TODAY,
            clock=lambda: NOW,
            sync_clients=sync_clients,
            connections=connections_ or demo_connections(),
        )
        return make_app(workbench)

    return build


def row_text(app, index):
    table = app.screen.table
    return "".join(segment.text for segment in table.render_line(index + 1))


async def test_each_connection_shows_its_state_and_where_its_secret_lives(settings_app):
    app = settings_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "9")
        assert app.screen.TITLE_TEXT == "Settings"
        assert row_text(app, 0).split() == [
            "Pax8",
            "configured",
            "OS",
            "keyring",
            "9h",
            "ago",
            "not",
            "tested",
        ]
        assert row_text(app, 1).split()[:4] == ["HaloPSA", "configured", "environment", "3"]
        assert row_text(app, 2).split()[:5] == [
            "QuickBooks",
            "Online",
            "configured",
            "OS",
            "keyring",
        ]
        assert shown(app, "#connection-detail") == (
            "URL http://pax8.sandbox/v1 Account client id sandbox Secret OS keyring "
            "Last sync ok, 9h ago Test not tested yet: press t"
        )
        await press(pilot, "down")
        assert "Secret environment (TRUEUP_HALO_CLIENT_SECRET)" in shown(app, "#connection-detail")
        await press(pilot, "down")
        assert app.screen.query_one("#connection-detail").border_title == "QuickBooks Online"
        assert "Account company sandbox, client id sandbox" in shown(app, "#connection-detail")
        assert "Token OS keyring" in shown(app, "#connection-detail")
        assert shown(app, "#schedule") == (
            "Between syncs 60 minutes [sync] min_interval_minutes On a timer systemd or cron "
            "(README: Scheduled sync), e.g. 30 2 * * * trueup sync --quiet"
        )


async def test_t_tests_in_the_background_and_says_it_works(settings_app):
    app = settings_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "9")
        await press(pilot, "t")
        assert row_text(app, 0).split()[-1] == "works"
        assert shown(app, "#connection-detail").endswith("Test connection works")
        await press(pilot, "a")  # every configured one
        assert [row_text(app, i).split()[-1] for i in range(3)] == ["works", "works", "works"]
        said = [n.message for n in app._notifications]
        # QuickBooks' says whose company answered: a wrong company shows at once.
        assert any(m.startswith("QuickBooks Online: connection works: company ") for m in said)


async def test_a_failed_test_says_exactly_why_and_never_shows_the_secret(settings_app, tmp_path):
    env = {"TRUEUP_PAX8_CLIENT_SECRET": "sandbox", "TRUEUP_HALO_CLIENT_SECRET": HALO_SECRET}
    app = settings_app(connections(sandbox_settings(tmp_path), env))
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "9", "down", "t")
        assert row_text(app, 1).split()[-1] == "failed"
        detail = shown(app, "#connection-detail")
        assert "Test HaloPSA rejected the client id or secret (401" in detail
        assert "Secret environment (TRUEUP_HALO_CLIENT_SECRET)" in detail
        assert HALO_SECRET not in detail and HALO_SECRET not in app.export_screenshot()


async def test_an_unconfigured_connection_says_how_to_connect(settings_app, tmp_path):
    env = {"TRUEUP_PAX8_CLIENT_SECRET": "sandbox", "TRUEUP_HALO_CLIENT_SECRET": "sandbox"}
    app = settings_app(connections(sandbox_settings(tmp_path), env))
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "9", "down", "down")
        assert row_text(app, 2).split()[:4] == ["QuickBooks", "Online", "not", "configured"]
        assert "State not configured: run `trueup connect qbo`" in shown(app, "#connection-detail")
        assert not app.screen.check_action("test", ())  # nothing to test yet


async def test_no_keyring_is_said_plainly_with_the_fallbacks(settings_app, tmp_path):
    settings = sandbox_settings(tmp_path)
    app = settings_app(connections(settings, {}, store=KeyringStore(fail.Keyring())))
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "9")
        assert row_text(app, 0).split()[:4] == ["Pax8", "needs", "a", "secret"]
        detail = shown(app, "#connection-detail")
    assert "Secret OS keyring — no OS keyring on this host" in detail
    assert "set TRUEUP_PAX8_CLIENT_SECRET in the environment" in detail


async def test_the_last_failed_sync_shows_its_error(settings_app, tmp_path):
    sims = build_simulators(load_scenario(DEMO_PATH), rate_limits=False)
    wrong = {
        "pax8": {"client_id": "sandbox", "client_secret": "wrong"},
        "halo": {"client_id": "sandbox", "client_secret": "sandbox"},
    }
    env = {"TRUEUP_PAX8_CLIENT_SECRET": "sandbox", "TRUEUP_HALO_CLIENT_SECRET": "sandbox"}
    app = settings_app(
        connections(sandbox_settings(tmp_path), env),
        sync_clients=lambda: sandbox_clients(in_process_transports(sims), wrong),
    )
    await app.workbench.syncing.run()
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "9")
        assert row_text(app, 0).split()[3] == "failed"
        assert "Last sync failed: Pax8 rejected the client id or secret" in shown(
            app, "#connection-detail"
        )


async def test_on_the_sandbox_there_is_nothing_to_configure(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "9")
        assert app.screen.table.row_count == 0
        assert app.screen.table.empty_text == SANDBOX
        table = app.screen.table
        said = " ".join("".join(s.text for s in table.render_line(y)).strip() for y in range(1, 5))
        assert "`trueup connect pax8|halo|qbo` connects the real services." in said  # wrapped
        assert not app.screen.query_one("#connection-detail").display
        await press(pilot, "t", "a")  # nothing to test: no error either
        assert app.screen.table.row_count == 0


async def test_f10_opens_it_and_the_footer_keeps_to_six_keys(settings_app):
    app = settings_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "f10")
        assert app.screen.TITLE_TEXT == "Settings"
        shown = [b for b in app.screen.active_bindings.values() if b.binding.show]
        assert len(shown) <= 6


async def test_a_sync_from_the_workbench_keeps_the_log_for_the_configured_days(
    settings_app, store, tmp_path
):
    settings = sandbox_settings(tmp_path)
    settings.log.retention_days = 30
    now = datetime.now(UTC)
    with store.write() as conn:
        for days, event in ((45, "older than 30 days"), (20, "recent")):
            conn.execute(
                insert(m.table_of(m.LogEvent)).values(
                    at=now - timedelta(days=days), level="INFO", event=event, details="{}"
                )
            )
    sims = build_simulators(load_scenario(DEMO_PATH), rate_limits=False)
    right = {
        source: {"client_id": "sandbox", "client_secret": "sandbox"} for source in ("pax8", "halo")
    }
    env = {"TRUEUP_PAX8_CLIENT_SECRET": "sandbox", "TRUEUP_HALO_CLIENT_SECRET": "sandbox"}
    app = settings_app(
        connections(settings, env),
        sync_clients=lambda: sandbox_clients(in_process_transports(sims), right),
    )
    assert {result.status for result in await app.workbench.syncing.run()} == {"ok"}
    events = {entry["event"] for entry in read_log(store, limit=1000)}
    assert "recent" in events and "older than 30 days" not in events  # the default keeps 90
