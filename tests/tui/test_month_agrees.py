"""The Batch screen tells the month as `trueup month` does (ledger/month.py): each client's
state word and the summary's counts, through approve, hold, post, void, a rules change and its
adjustment, and a run left on its way; the Journal dialog says what the month posted."""

from decimal import Decimal

import pytest
from test_post import (
    MONTH,
    FakeDestination,
    approvable,
    bill_otherwise,
    open_batch,
    post_approved,
    posting_workbench,
    press,
    put_cursor,
)

from tools.demo_workbench import wait_until_idle
from trueup.core.values.months import Month
from trueup.tui.app import make_app
from trueup.tui.screens.journal import JournalScreen
from trueup.tui.screens.post_progress import PostProgressScreen
from trueup.tui.screens.post_summary import PostSummaryScreen

# The row's word with its marks, as the ledger words the client's month (help/batch.md).
WORDS = {"posted Δ": "posted", "adjust Δ": "adjusted", "voided ✓": "voided", "voided !": "voided"}


@pytest.fixture
def destination():
    return FakeDestination()


@pytest.fixture
def workbench(store, destination):
    return posting_workbench(store, destination)


def ledger_of(workbench):
    return {c.client_id: c for c in workbench.ledger.month(Month(MONTH)).clients}


def summary(screen):
    return str(screen.query_one("#batch-summary").content)


async def shown_state(pilot, screen, client_id):
    """The State cell of the client's row as the 80-column screen draws it (its last column)."""
    put_cursor(screen, client_id)
    await wait_until_idle(pilot)
    assert pilot.app.screen is screen, pilot.app.screen
    table = screen.table
    head = "".join(s.text for s in table.render_line(0))
    line = "".join(s.text for s in table.render_line(table.cursor - table.scroll_offset.y + 1))
    return line[head.index("State") :].rstrip(" │")


async def assert_agrees(pilot, screen, workbench, clients):
    """Each client's row reads the ledger's state; the summary counts what the ledger does."""
    ledger = ledger_of(workbench)
    for client_id in clients:
        shown = await shown_state(pilot, screen, client_id)
        assert WORDS.get(shown, shown) == ledger[client_id].state, client_id
    states = [c.state for c in ledger.values()]
    head = summary(screen)
    sent = states.count("posted") + states.count("adjusted")
    assert (f", {sent} posted" in head) == bool(sent)
    assert f"{states.count('held')} held" in head
    adjusting = sum(1 for c in ledger.values() if c.posted and c.difference)
    assert (f"{adjusting} posted bill differently now" in head) == bool(adjusting)


async def test_the_batch_reads_the_month_as_the_ledger_through_post_void_and_adjust(
    workbench, destination
):
    _, clean = approvable(workbench)
    ids = [i.client_id for i in clean]
    approved, held = ids[:3], ids[3]
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        for client_id in approved:
            put_cursor(screen, client_id)
            await press(pilot, "a")
        put_cursor(screen, held)
        await press(pilot, "h")
        await assert_agrees(pilot, screen, workbench, [*approved, held])
        assert "3 approved for posting" in summary(screen)
        await press(pilot, "p", *MONTH, "enter")
        if isinstance(app.screen, PostSummaryScreen) or not isinstance(
            app.screen, PostProgressScreen
        ):
            await press(pilot, "y")  # the unsettled too
        await press(pilot, "escape")
        await assert_agrees(pilot, screen, workbench, [*approved, held])
        voided, moved, _ = approved
        put_cursor(screen, voided)
        await press(pilot, "v", *f"void {MONTH}", "enter")
        await assert_agrees(pilot, screen, workbench, approved)
        assert await shown_state(pilot, screen, voided) == "voided ✓"  # its approval stands
        bill_otherwise(workbench, moved)
        await press(pilot, "b")
        await assert_agrees(pilot, screen, workbench, approved)
        assert await shown_state(pilot, screen, moved) == "posted Δ"
        await press(pilot, "P", *MONTH, "enter")
        if not isinstance(app.screen, PostProgressScreen):
            await press(pilot, "y")
        await press(pilot, "escape")
        await assert_agrees(pilot, screen, workbench, approved)
        assert await shown_state(pilot, screen, moved) == "adjusted"
        put_cursor(screen, moved)
        await press(pilot, "J")
        journal = app.screen
        assert isinstance(journal, JournalScreen)
        posted = ledger_of(workbench)[moved].posted_total
        assert f"posted and standing: ${posted:,.2f}" in str(
            journal.query_one("#journal-summary").content
        )


async def test_an_invoice_on_its_way_reads_posting_as_the_month_says_and_p_finishes_it(
    workbench, destination
):
    """A run cut short (the workbench killed mid-post, an answer lost) leaves its documents
    pending or unknown: `trueup month` reads those clients `posting`; the Batch screen said
    `approved` and counted them "approved for posting", as though nothing had gone out."""
    batch, clean = approvable(workbench)
    ids = [i.client_id for i in clean[:3]]
    assert workbench.batches.approve(batch.batch_id, ids).approved
    workbench.posting.queue(workbench.posting.plan(batch.batch_id, "halo-invoice"))
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        assert {c: ledger_of(workbench)[c].state for c in ids} == dict.fromkeys(ids, "posting")
        for client_id in ids:
            assert await shown_state(pilot, screen, client_id) == "posting"
        head = summary(screen)
        assert "approved for posting" not in head
        assert "3 posting (on the way: p finishes)" in head
        await press(pilot, "p", *MONTH, "enter")  # as said: p finishes them
        if not isinstance(app.screen, PostProgressScreen):
            await press(pilot, "y")
        await press(pilot, "escape")
        for client_id in ids:
            assert await shown_state(pilot, screen, client_id) == "posted"
        assert "posting" not in summary(screen)
    assert len(destination.documents) == 3


async def test_the_journal_of_a_recurring_true_up_says_what_the_month_posted(
    workbench, destination
):
    """A true-up of Halo's recurring invoice bills the month that invoice's total; its one-off
    document is the difference. J said "posted and standing: -$69.44" for a client whose month
    `trueup month` says posted at $4,850.54."""
    batch, clean = approvable(workbench)
    ids = [i.client_id for i in clean[:3]]
    assert workbench.batches.approve(batch.batch_id, ids).approved
    workbench.posting.queue(workbench.posting.plan(batch.batch_id, "halo-recurring"))
    await workbench.posting.run(
        batch.batch_id, "halo-recurring", action="create", progress=lambda e: None
    )
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        for client_id in ids:
            month = ledger_of(workbench)[client_id]
            (document,) = month.postings
            assert document.amount != month.posted_total  # the one-off, not the month
            put_cursor(screen, client_id)
            await press(pilot, "J")
            said = str(app.screen.query_one("#journal-summary").content)
            assert f"posted and standing: ${month.posted_total:,.2f}" in said
            assert f"trued up by {'-' if document.amount < 0 else ''}$" in said
            assert f"{abs(document.amount):,.2f}" in said
            await press(pilot, "escape")
    assert Decimal(0) not in {ledger_of(workbench)[c].posted_total for c in ids}


async def test_a_posted_client_who_left_the_batch_is_named_not_passed_over(workbench, destination):
    """A client posted, then its Pax8 company unmapped: the batch built again has no row for it
    and `trueup month` has it billing 0 against what was posted (-4,850.54 to adjust). The
    summary counted it in "2 posted" with one row reading posted, and P said "Every posted
    month bills as posted: nothing to adjust"."""
    batch, clean = approvable(workbench)
    ids = [i.client_id for i in clean[:2]]
    assert workbench.batches.approve(batch.batch_id, ids).approved
    await post_approved(workbench, batch.batch_id)
    company = next(r for r in workbench.mappings.company_rows() if r.client_id == ids[0])
    workbench.mappings.unmap_company(company.company_id)
    left = ledger_of(workbench)[ids[0]]
    assert (left.state, left.total, left.difference) == ("posted", 0, -left.posted_total)
    app = make_app(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "b")
        assert ids[0] not in {r.client_id for r in screen.table.rows}
        void = f"`trueup void {MONTH} --to halo-invoice --client {ids[0]}` voids one"
        said = f"1 posted client(s) not in this batch bill nothing now: `trueup month {MONTH}`"
        assert f"{said} names them, {void}" in " ".join(summary(screen).split())
        await press(pilot, "P")
        assert app.screen is screen
        message = list(app._notifications)[-1].message
        assert "Every posted month bills as posted" not in message
        assert message.startswith("Nothing to adjust here; 1 posted client(s) not in this batch")
