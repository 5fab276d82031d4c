"""Issue 20: a distributor's file imported from the workbench (`i` on the Overview), keyboard
only: whose file from a picker, its path typed; the store then holds its customers, and a bad
file is refused with its problems named and nothing stored."""

import csv
import shutil
from pathlib import Path

from tools.demo_workbench import wait_until_idle
from trueup.tui.screens.overview import OverviewScreen

HANDWRITTEN = Path(__file__).resolve().parent.parent / "files" / "partner_center_handwritten.csv"


async def settle(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)
    await pilot.app.workers.wait_for_complete()
    await wait_until_idle(pilot)


def companies(workbench) -> set[str]:
    return {row.company_name for row in workbench.mappings.company_rows()}


async def import_file(pilot, path: Path) -> None:
    await settle(pilot, "i")
    await settle(pilot, *"partner", "enter")
    await settle(pilot, *str(path), "enter")


async def test_i_imports_a_partner_center_file_whose_customers_then_map(app, workbench, tmp_path):
    assert "Fabrikam, Inc." not in companies(workbench)
    path = tmp_path / "recon.csv"
    shutil.copy(HANDWRITTEN, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        await import_file(pilot, path)
        assert isinstance(app.screen, OverviewScreen)
        (said,) = [n for n in app._notifications if n.title == "Imported"]
        assert said.message.startswith("imported recon.csv (Partner Center): ")
    assert "Fabrikam, Inc." in companies(workbench)


async def test_a_bad_file_is_refused_by_row_and_column_and_nothing_is_stored(
    app, workbench, tmp_path
):
    with HANDWRITTEN.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        header, rows = list(reader.fieldnames or ()), list(reader)
    for row in rows:  # two problems a row, eight in all
        row["Quantity"], row["UnitPrice"] = "many", "lots"
    path = tmp_path / "broken.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, header)
        writer.writeheader()
        writer.writerows(rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until_idle(pilot)
        await import_file(pilot, path)
        (refused,) = [n for n in app._notifications if n.title == "Not imported"]
        lines = refused.message.splitlines()
        assert "row 2" in lines[1] and ("Quantity" in lines[1] or "UnitPrice" in lines[1])
        assert len(lines) == 1 + 5 + 1
        assert (
            lines[-1].startswith("and ") and "--source partner-center` lists them all" in lines[-1]
        )
        await import_file(pilot, tmp_path / "nowhere.csv")
        assert any(
            n.message == f"No file at {tmp_path / 'nowhere.csv'}." for n in app._notifications
        )
    assert "Fabrikam, Inc." not in companies(workbench)
