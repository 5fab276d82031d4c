"""`E` (and `S`) on the Batch screen go through the services `trueup export` (and `summary`) use:
on a store with no client each says there is nothing to export (or summarise) and writes nothing."""

from conftest import NOW, TODAY

from tools.demo_workbench import demo_clients, wait_until_idle
from trueup.core.service.workbench import Workbench
from trueup.core.store.database import open_database
from trueup.tui.app import make_app
from trueup.tui.screens.batch import BatchScreen


async def pressed_on_an_empty_store(tmp_path, key: str) -> list[tuple[str, str, str]]:
    """The notifications after `key` on the Batch screen of an empty store; the screen in view
    must be the Batch screen again (a Summary with nothing in it closed)."""
    db = open_database(tmp_path / "store.sqlite")
    workbench = Workbench(db, today=TODAY, sync_clients=demo_clients(), clock=lambda: NOW)
    app = make_app(workbench)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until_idle(pilot)
            await pilot.press("6")
            await wait_until_idle(pilot)
            await pilot.press(key)
            await wait_until_idle(pilot)
            assert isinstance(app.screen, BatchScreen)
            return [(n.title, n.severity, n.message) for n in app._notifications]
    finally:
        db.dispose()


async def test_E_on_an_empty_store_says_there_is_nothing_to_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notes = await pressed_on_an_empty_store(tmp_path, "E")
    (said,) = [note for note in notes if "export" in note[2]]
    assert said[:2] == ("Not done", "warning")
    assert said[2].startswith("nothing to export for 2026-11: no client has an invoice")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.sqlite"]


async def test_S_on_an_empty_store_says_there_is_nothing_to_summarise(tmp_path):
    """It showed the refusal as a failure (red) over an empty Summary left open."""
    notes = await pressed_on_an_empty_store(tmp_path, "S")
    (said,) = [note for note in notes if "summarise" in note[2]]
    assert said[:2] == ("Not done", "warning")
    assert said[2].startswith("nothing to summarise for 2026-11")
