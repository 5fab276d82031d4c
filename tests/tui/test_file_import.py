"""Issue 20: a distributor's file imported from the workbench (`i` on the Overview), keyboard
only: whose file from a picker, its path typed; the store then holds its customers, and a bad
file is refused with its problems named and nothing stored."""

import csv
import shutil
from pathlib import Path

from tools.demo_workbench import wait_until_idle
from trueup.core.sources.files.problems import Problems
from trueup.tui.screens.file_import import refusal_text
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


def test_a_refusal_past_what_the_cli_lists_counts_them_all_and_quotes_the_command():
    problems = Problems()
    for row in range(2, 1002):
        problems.add(row, "Quantity", "not a number")
    said = refusal_text(
        problems.refuse("broken.csv"),
        "partner-center",
        Path("/home/me/My Downloads/broken.csv"),
        Path("/srv/trueup.sqlite"),
    ).splitlines()
    assert said[0].startswith("broken.csv was not imported (1000 problems;")
    assert said[1:6] == [f"row {n}, Quantity: not a number" for n in range(2, 7)]
    assert said[6] == (
        "and 995 more: `trueup --db /srv/trueup.sqlite import '/home/me/My Downloads/broken.csv' "
        "--source partner-center` lists the first 50"
    )
