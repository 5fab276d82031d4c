"""Approving and posting from the Batch screen against a destination kept in memory: what the
screens show at each step, and what they leave in the store and at the destination."""

from contextlib import asynccontextmanager

import pytest
from conftest import NOW, TODAY
from textual.widgets import Static

from tools.demo_workbench import wait_until_idle
from trueup.core.posting.sink import Posted
from trueup.core.service.workbench import Workbench
from trueup.core.sources.http import ApiError
from trueup.tui.app import make_app
from trueup.tui.screens.batch import BatchScreen
from trueup.tui.screens.confirm import ConfirmScreen
from trueup.tui.screens.help import HelpScreen, help_markdown
from trueup.tui.screens.journal import JournalScreen
from trueup.tui.screens.post_progress import PostProgressScreen, TypeToConfirmScreen, _cells
from trueup.tui.screens.post_summary import PostSummaryScreen
from trueup.tui.widgets.row_table import RowTable

MONTH = "2026-11"


class FakeDestination:
    """The workbench's sink factory, on documents kept here by reference. The first create of
    a client in `refuse` is rejected (a 400), as a wrong mapping at the destination would be."""

    def __init__(self, refuse=()):
        self.documents = {}  # reference -> (Posted, Document)
        self.refuse = set(refuse)
        self.voided = set()
        self.opened = []

    def __call__(self, destination):
        self.opened.append(destination)
        return self._open(destination)

    @asynccontextmanager
    async def _open(self, destination):
        yield _Sink(self, destination)


class _Sink:
    batch_size = 1

    def __init__(self, held, destination):
        self.held = held
        self.destination = destination

    async def lookup(self, documents):
        kept = self.held.documents
        return {
            d.reference: kept[d.reference][0]
            for d in documents
            if d.reference in kept and d.reference not in self.held.voided
        }

    async def create(self, documents):
        posted = []
        for document in documents:
            if document.client_id in self.held.refuse:
                self.held.refuse.discard(document.client_id)
                raise ApiError("Fake", "bad_request", 400, "Fake rejected the invoice: no tax code")
            n = len(self.held.documents) + 1
            self.held.documents[document.reference] = (
                Posted(f"{1000 + n}", f"INV-{n:04d}"),
                document,
            )
            posted.append(self.held.documents[document.reference][0])
        return posted

    async def void(self, document, posted):
        self.held.voided.add(document.reference)


def posting_workbench(store, destination):
    return Workbench(store, today=TODAY, clock=lambda: NOW, sinks=destination)


def approvable(workbench):
    """The batch the screen shows and its invoices that can be approved (no error, not held)."""
    batch = workbench.batches.review_batch(MONTH)
    return batch, [i for i in batch.invoices if not i.open_errors and i.state != "held"]


def approve_clean(workbench):
    batch, clean = approvable(workbench)
    assert workbench.batches.approve(batch.batch_id, [i.client_id for i in clean]).approved
    return batch, clean


async def press(pilot, *keys):
    await pilot.press(*keys)
    await wait_until_idle(pilot)


async def open_batch(pilot):
    await wait_until_idle(pilot)
    await press(pilot, "6")
    screen = pilot.app.screen
    assert isinstance(screen, BatchScreen) and screen.approvals is not None
    return screen


async def post_from_the_batch(pilot):
    """Open the Batch screen and post its approved invoices (y: the unsettled too): the results."""
    await open_batch(pilot)
    await press(pilot, "p", *MONTH, "enter", "y")
    return pilot.app.screen


def put_cursor(screen, client_id):
    row = next(i for i in screen.table.rows if i.client_id == client_id)
    screen.table.cursor = screen.table.rows.index(row)


async def post_approved(workbench, batch_id):
    """Post the batch's approved invoices to halo-invoice, as `p` would, without the screens."""
    workbench.posting.queue(workbench.posting.plan(batch_id, "halo-invoice"))
    await workbench.posting.run(batch_id, "halo-invoice", action="create", progress=lambda e: None)


def bill_otherwise(workbench, client_id, markup_percent="50"):
    """The client's invoices billed at a markup on cost from now on: its month bills otherwise."""
    workbench.rules.set_client(client_id, "price", "markup")
    workbench.rules.set_client(client_id, "markup_percent", markup_percent)


def status(workbench, batch_id, client_id):
    state = workbench.batches.approvals(batch_id).states.get(client_id)
    return state.status if state else None


@pytest.fixture
def destination():
    return FakeDestination()


@pytest.fixture
def workbench(store, destination):
    return posting_workbench(store, destination)


async def test_a_approves_the_invoice_and_again_withdraws_it(app, workbench):
    batch, clean = approvable(workbench)
    target = clean[0]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, target.client_id)
        await press(pilot, "a")
        assert status(workbench, batch.batch_id, target.client_id) == "approved"
        assert screen.approval_of(target.client_id).status == "approved"
        assert "1 approved for posting" in str(screen.query_one("#batch-summary").content)
        await press(pilot, "a")
        assert status(workbench, batch.batch_id, target.client_id) is None
        assert screen.approval_of(target.client_id) is None


async def test_an_invoice_with_an_error_is_not_approved(app, workbench):
    batch = workbench.batches.review_batch(MONTH)
    with_error = next(i for i in batch.invoices if i.open_errors)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, with_error.client_id)
        await press(pilot, "a")
        assert status(workbench, batch.batch_id, with_error.client_id) is None


async def test_approve_all_lists_those_it_skips_then_approves_the_rest(app, workbench):
    batch, clean = approvable(workbench)
    held = clean[0]
    workbench.batches.set_invoice_state(batch.batch_id, held.client_id, "held")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "A")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        why = {row[0].plain: row[2].plain for row in confirm.rows}
        assert why[held.client_name] == "held"
        skipped = [name for name, reason in why.items() if reason != "approve"]
        assert len(skipped) == len(batch.invoices) - len(clean) + 1
        assert all("standing" in why[n] for n in skipped if n != held.client_name)
        assert f"Approve {len(clean) - 1} invoice(s)" in confirm.question
        await press(pilot, "y")
        assert app.screen is screen
    states = workbench.batches.approvals(batch.batch_id).states
    assert set(states) == {i.client_id for i in clean[1:]}


def approve_then_move_one(workbench):
    """Approve the clean invoices, then change the first one's price: its approval lapses."""
    batch, clean = approve_clean(workbench)
    moved = clean[0].client_id
    bill_otherwise(workbench, moved, "20")
    return batch, clean, moved


async def test_a_lapsed_approval_shows_what_changed_and_can_be_withdrawn(app, workbench):
    batch, clean, moved = approve_then_move_one(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        assert screen.shown_batch.batch_id == batch.batch_id  # stays on the approved batch
        assert screen.approval_of(moved).status == "lapsed"
        assert screen.approval_of(clean[1].client_id).status == "approved"
        summary = str(screen.query_one("#batch-summary").content)
        assert "1 lapsed" in summary and "b rebuilds" in summary
        put_cursor(screen, moved)
        await press(pilot, "a")
        explained = app.screen
        assert isinstance(explained, ConfirmScreen) and explained.title_text == "Approval lapsed"
        assert any("unit price" in row[0].plain for row in explained.rows)
        assert "build the batch again (b) and approve it there" in explained.question
        await press(pilot, "y")
        assert screen.approval_of(moved) is None
        await press(pilot, "b")  # a new batch: the month's approvals of unchanged invoices hold
        assert screen.shown_batch.batch_id != batch.batch_id and screen.approvals.current
        assert set(screen.approvals.states) == {i.client_id for i in clean[1:]}
        assert {s.status for s in screen.approvals.states.values()} == {"approved"}


async def test_the_invoices_state_follows_a_change_made_on_it(app, workbench):
    # From a TUI pass: s on an approved invoice lapsed its approval, and the invoice's head
    # still read "approved" (the Batch screen's word when it was opened).
    _, clean = approve_clean(workbench)
    target = clean[0].client_id
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, target)
        await press(pilot, "enter")
        invoice = app.screen
        head = lambda: str(invoice.query_one("#invoice-summary").content).split("\n")[0]  # noqa: E731
        assert head().endswith("approved")
        line = next(i for i, x in enumerate(invoice.lines.rows) if getattr(x, "product_id", None))
        invoice.lines.cursor = line
        await press(pilot, "s")
        approvals = workbench.batches.approvals(invoice.shown_batch.batch_id)
        assert approvals.states[target].status == "lapsed"
        assert head().endswith("lapsed")


async def test_a_lapse_on_the_current_batch_says_a_approves_it_once_withdrawn(app, workbench):
    # Already on the batch the store builds now: no "build the batch again (b)".
    _, _, moved = approve_then_move_one(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "b")
        assert screen.approvals.current and screen.approval_of(moved).status == "lapsed"
        put_cursor(screen, moved)
        await press(pilot, "a")
        assert app.screen.title_text == "Approval lapsed"
        assert "y withdraws the approval; then a approves it as it is now" in app.screen.question
        await press(pilot, "y", "a")
        assert screen.approval_of(moved).status == "approved"


async def test_the_summary_posts_only_once_the_month_is_typed(app, workbench, destination):
    batch, clean = approve_clean(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_batch(pilot)
        await press(pilot, "p")
        summary = app.screen
        assert isinstance(summary, PostSummaryScreen)
        plan = summary.plan
        assert plan.destination == "halo-invoice" and len(plan.ready) == len(clean)
        shown = str(summary.query_one("#post-plan").content)
        assert f"{len(clean)} invoices to post" in shown
        assert summary.query_one("#post-blocked").row_count == len(plan.blocked) > 0
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen) and "type the batch's month" in help_markdown(
            summary
        )
        await press(pilot, "escape")
        assert app.screen is summary
        await press(pilot, *"2026-10", "enter")
        assert app.screen is summary and summary.query_one("#post-go").disabled
        assert workbench.posting.entries(batch.batch_id, "halo-invoice", "create") == []
        await press(pilot, *["backspace"] * 7, *MONTH)
        assert not summary.query_one("#post-go").disabled
        await press(pilot, "enter")
        # A month not settled needs a second word: n waits and sends nothing.
        waiting = plan.unsettled()
        assert waiting and isinstance(app.screen, ConfirmScreen)
        assert app.screen.query_one("#confirm-changes").row_count == len(waiting)
        asked = str(app.screen.query_one("#confirm-question").content)
        verb = "is" if len(waiting) == 1 else "are"
        count = "All" if len(waiting) == len(plan.ready) else f"{len(waiting)} of the"
        assert f"{count} {len(plan.ready)} invoices to post {verb} not settled" in asked
        await press(pilot, "n")
        assert app.screen is summary
        assert workbench.posting.entries(batch.batch_id, "halo-invoice", "create") == []
        await press(pilot, "enter", "y")
        assert isinstance(app.screen, PostProgressScreen)
    entries = workbench.posting.entries(batch.batch_id, "halo-invoice", "create")
    assert len(entries) == len(clean) == len(destination.documents)


async def test_the_destination_is_chosen_with_the_arrows(app, workbench, destination):
    batch, _ = approve_clean(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_batch(pilot)
        await press(pilot, "p")
        summary = app.screen
        await press(pilot, "down")
        assert summary.plan.destination == "halo-recurring"
        await press(pilot, "down", "down", "down")  # no further than the last
        assert summary.plan.destination == "xero"
        assert "▸ xero" in str(summary.query_one("#post-destination").content)
        assert not summary.plan.ready  # the demo maps no client to Xero
        assert "no Xero contact" in str(summary.plan.blocked[0].problem)
        # The row's reason is cut to its column; the lines under the table say it, up to five,
        # and one that runs longer ends with "…" (from a TUI pass: it was cut with no mark).
        first = summary.query_one("#post-blocked").current
        detail = str(summary.query_one("#post-blocked-detail").content)
        whole = f"{first.client_name}: {first.problem}"
        assert len(whole) > 5 * 76 and detail.endswith("…") and detail.count("\n") == 4
        flat = " ".join(detail.removesuffix("…").split())
        assert whole.startswith(flat) and "trueup xero map suggest" in flat
        # The workbench's own way is named beside the command (from a TUI pass).
        assert "trueup xero map suggest` (or map it on the workbench's Books screen, 0)" in whole
        await press(pilot, *MONTH, "enter")
        assert app.screen is summary
        # Approved, and nowhere to go at Xero: said as that, not as "approve invoices first".
        said = [n.message for n in app._notifications]
        assert said and "cannot go there; the list says why" in said[-1]
        await press(pilot, "escape")
        assert isinstance(app.screen, BatchScreen)
    assert workbench.posting.entries(batch.batch_id, "xero", "create") == []
    assert destination.opened == []


async def test_the_summary_names_a_month_billed_one_off_for_want_of_a_recurring_invoice(
    app, workbench, store
):
    """halo-recurring, a client with no recurring invoice in Halo: the one-off invoice bills its
    whole month, every month. Said on the Post screen, at 80x24 (it was not said anywhere)."""
    with store.write() as conn:
        conn.exec_driver_sql(
            "DELETE FROM halo_recurring_invoice_line WHERE invoice_id IN "
            "(SELECT id FROM halo_recurring_invoice WHERE client_id = 40)"
        )
        conn.exec_driver_sql("DELETE FROM halo_recurring_invoice WHERE client_id = 40")
    _, clean = approve_clean(workbench)
    name = next(i.client_name for i in clean if i.client_id == 40)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_batch(pilot)
        await press(pilot, "p", "down")
        summary = app.screen
        assert summary.plan.destination == "halo-recurring"
        plan = summary.query_one("#post-plan")
        shown = " ".join(str(plan.content).split())
        assert (
            f"1 with no recurring invoice in Halo: a one-off invoice bills the whole month ({name})"
            in shown
        )
        assert plan.region.height >= 4  # every line of it on the screen, none cut off


async def test_progress_runs_to_the_results_with_the_destinations_ids(workbench, destination):
    _, clean = approve_clean(workbench)
    moves = []

    def hook(message):
        if isinstance(message, PostProgressScreen.Moved):
            moves.append((message.entry.client_id, message.entry.state))

    app = make_app(workbench)
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await open_batch(pilot)
        await press(pilot, "p", *MONTH, "enter")
        question = app.screen
        assert isinstance(question, ConfirmScreen) and question.title_text == "Not settled"
        first = question.query_one(RowTable).current  # its reason is cut to the column...
        detail = str(question.query_one("#confirm-detail").content)
        assert detail == " · ".join(cell.plain for cell in first)  # ...and said whole below
        await press(pilot, "y")  # y: post the unsettled too
        results = app.screen
        assert isinstance(results, PostProgressScreen) and results.sub_title == "Results"
        entries = list(results.entries.values())
        assert [e.state for e in entries] == ["POSTED"] * len(clean)
        posted = {ref: held[0] for ref, held in destination.documents.items()}
        assert {e.remote_id for e in entries} == {p.remote_id for p in posted.values()}
        assert all(e.remote_number == posted[e.reference].remote_number for e in entries)
        head = str(results.query_one("#post-head").content)
        assert f"Posted {len(clean)} of {len(clean)} to halo-invoice" in head
        assert results.query_one("#post-bar").percentage == 1
        await press(pilot, "enter")  # the client's month, document by document
        assert isinstance(app.screen, JournalScreen)
        await press(pilot, "escape")
        assert app.screen is results
        await press(pilot, "escape")
        assert isinstance(app.screen, BatchScreen)
    first = clean[0].client_id
    assert [s for c, s in moves if c == first] == ["SENDING", "POSTED"]


async def test_a_rejected_invoice_shows_the_error_and_r_posts_it_again(store):
    workbench = posting_workbench(store, None)
    _, clean = approve_clean(workbench)
    refused = clean[1]
    destination = FakeDestination(refuse={refused.client_id})
    app = make_app(posting_workbench(store, destination))
    async with app.run_test(size=(80, 24)) as pilot:
        results = await post_from_the_batch(pilot)
        failed = results.table.current
        assert failed.client_id == refused.client_id and failed.state == "REJECTED"
        assert "no tax code" in failed.error
        assert "no tax code" in str(results.query_one("#post-detail").content)
        assert "1 rejected" in str(results.query_one("#post-head").content)
        await press(pilot, "r")
        states = {e.client_id: e.state for e in results.entries.values()}
        assert set(states.values()) == {"POSTED"} and len(states) == len(clean)
        assert not results.check_action("retry", ())
    assert len(destination.documents) == len(clean)


async def test_void_is_typed_then_voids_what_was_posted(app, workbench, destination):
    batch, clean = approve_clean(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        results = await post_from_the_batch(pilot)
        await press(pilot, "V")
        typed = app.screen
        assert isinstance(typed, TypeToConfirmScreen)
        await press(pilot, "f1")  # says what to type, not only that escape does nothing
        assert "Type the words the box asks for exactly" in app.screen.text
        await press(pilot, "escape")
        assert app.screen is typed
        await press(pilot, *"nope", "enter")
        assert isinstance(app.screen, TypeToConfirmScreen) and not destination.voided
        await press(pilot, *["backspace"] * 4, *f"void {MONTH}", "enter")
        assert app.screen is results and results.action_kind == "void"
        assert {e.action for e in results.entries.values()} == {"void"}
        assert {e.state for e in results.entries.values()} == {"POSTED"}
        # From a TUI pass: the rows and the detail read POSTED after "Voided 17 of 17".
        assert {_cells(e)[3].plain for e in results.entries.values()} == {"VOIDED"}
        assert " · VOIDED · id " in str(results.query_one("#post-detail", Static).render())
    assert destination.voided == set(destination.documents)
    voids = workbench.posting.entries(batch.batch_id, "halo-invoice", "void")
    assert len(voids) == len(clean)


async def test_v_on_the_results_voids_the_cursors_invoice_alone(app, workbench, destination):
    # From the issue: v voided the whole batch whatever the cursor was on.
    batch, clean = approve_clean(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        results = await post_from_the_batch(pilot)
        await press(pilot, "down", "down")
        chosen = results.table.current
        await press(pilot, "v")
        assert chosen.client_name in app.screen.question and chosen.reference in app.screen.question
        await press(pilot, *f"void {MONTH}", "enter")
        assert app.screen is results and results.action_kind == "void"
        assert [(e.client_id, e.said) for e in results.entries.values()] == [
            (chosen.client_id, "VOIDED")
        ]
        assert not results.check_action("void", ())  # nothing left to void on this screen
        # A retry after it voids the same client only.
        assert results.voiding == [chosen.client_id]
    assert destination.voided == {chosen.reference}
    posted = {
        e.client_id: e.said
        for e in workbench.posting.entries(batch.batch_id, "halo-invoice", "create")
    }
    assert posted[chosen.client_id] == "VOIDED"
    assert sum(1 for said in posted.values() if said == "POSTED") == len(clean) - 1


async def test_v_on_the_results_leaves_a_client_adjusted_since_to_the_batch_screen(
    app, workbench, destination
):
    # The results screen runs its batch's journal alone: an adjustment posted from another
    # batch would stay live, so the void is sent where it takes the adjustments too.
    _, clean = approve_clean(workbench)
    async with app.run_test(size=(80, 24)) as pilot:
        results = await post_from_the_batch(pilot)
        chosen = results.table.current
        bill_otherwise(workbench, chosen.client_id)
        again = workbench.batches.current(MONTH)
        plan = workbench.posting.plan_adjustments(again.batch_id, "halo-invoice")
        assert [p.client_id for p in plan.ready] == [chosen.client_id]
        workbench.posting.queue(plan)
        await workbench.posting.run(
            again.batch_id, "halo-invoice", action="create", progress=lambda e: None
        )
        await press(pilot, "v")
        assert app.screen is results and results.action_kind == "create"
        said = list(app._notifications)[-1].message
        assert said.startswith(f"{chosen.client_name} ({chosen.client_id}) adjusted since")
        assert f"`trueup void {MONTH} --to halo-invoice --client {chosen.client_id}`" in said
        await press(pilot, "V")  # all: named the same, none voided
        assert list(app._notifications)[-1].message == said
    assert not destination.voided and len(destination.documents) == len(clean) + 1


async def test_the_results_tell_this_runs_documents_from_the_batchs(app, workbench):
    batch, clean = approve_clean(workbench)
    earlier = [i.client_id for i in clean[:2]]
    workbench.posting.queue(workbench.posting.plan(batch.batch_id, "halo-invoice", earlier))
    await workbench.posting.run(
        batch.batch_id, "halo-invoice", action="create", progress=lambda e: None
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await open_batch(pilot)
        await press(pilot, "p", *MONTH, "enter")
        if isinstance(app.screen, ConfirmScreen):
            await press(pilot, "y")
        head = " ".join(str(app.screen.query_one("#post-head").content).split())
        total = len(clean)
        assert head.startswith(f"Posted {total} of {total} ({total - 2} this run) to halo-invoice")


async def test_p_on_a_month_posted_to_one_place_offers_that_place_first(app, workbench):
    # The CLI refuses a bare post there; the workbench starts where the month went.
    batch, clean = approve_clean(workbench)
    first = [clean[0].client_id]
    workbench.posting.queue(workbench.posting.plan(batch.batch_id, "halo-recurring", first))
    await workbench.posting.run(
        batch.batch_id, "halo-recurring", action="create", progress=lambda e: None
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await open_batch(pilot)
        await press(pilot, "p")
        assert app.screen.plan.destination == "halo-recurring"
        assert "▸ halo-recurring" in str(app.screen.query_one("#post-destination").content)


async def test_the_batch_says_posted_once_posted_and_no_longer_once_voided(app, workbench):
    batch, clean = approvable(workbench)
    workbench.batches.set_invoice_state(batch.batch_id, clean[0].client_id, "ready")
    assert workbench.batches.approve(batch.batch_id, [i.client_id for i in clean]).approved
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "p", *MONTH, "enter", "y")  # y: post the unsettled too
        await press(pilot, "escape")
        assert app.screen is screen
        await wait_until_idle(pilot)
        posted = {i.client_id for i in clean}
        assert set(screen.approvals.posted) == posted
        assert all(screen.posted_to(c) == ("halo-invoice",) for c in posted)
        summary = str(screen.query_one("#batch-summary").content)
        assert f"No approved invoice waits to post, {len(posted)} posted" in summary
        assert " 0 ready" in summary  # the one marked ready is posted, as its row says
        put_cursor(screen, clean[0].client_id)
        await wait_until_idle(pilot)
        row = screen.table.cursor - screen.table.scroll_offset.y + 1
        assert "posted" in "".join(s.text for s in screen.table.render_line(row))
        assert f"{len(posted)} posted" in str(screen.query_one("#batch-summary").content)
        workbench.posting.queue_void(batch.batch_id, "halo-invoice")
        await workbench.posting.run(
            batch.batch_id, "halo-invoice", action="void", progress=lambda entry: None
        )
        screen.load_approvals(batch.batch_id)
        await wait_until_idle(pilot)
        assert screen.approvals.posted == {}


async def test_post_is_refused_without_a_destination(store):
    app = make_app(Workbench(store, today=TODAY, clock=lambda: NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "p")
        assert app.screen is screen


async def test_a_posted_month_stays_posted_through_a_rebuild_and_keeps_its_approval(
    app, workbench, destination
):
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    posted = {i.client_id for i in clean}
    workbench.rules.set_default("qty_swing_percent", "30")  # the store moves on: a new batch
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "b")  # build the month's batch again
        await wait_until_idle(pilot)
        assert screen.shown_batch.batch_id != batch.batch_id
        assert all(screen.posted_to(c) == ("halo-invoice",) for c in posted)
        put_cursor(screen, clean[0].client_id)
        await press(pilot, "a")  # no approval of a posted month, and none withdrawn
        assert screen.approval_of(clean[0].client_id) is None  # posted outranks it
        kept = {s.client_id: s.status for s in workbench.batches.approval_states(batch.batch_id)}
        assert kept[clean[0].client_id] == "approved"  # not withdrawn
        await press(pilot, "A")  # nothing left to approve: every clean invoice is posted
        assert app.screen is screen
        rebuilt = screen.shown_batch.batch_id
    with workbench.db.read() as conn:  # and no approval given again on the new batch
        given = conn.exec_driver_sql(
            "SELECT count(*) FROM approval WHERE batch_id = ?", (rebuilt,)
        ).scalar()
    assert given == 0
    assert len(destination.documents) == len(posted)  # nothing was posted twice


async def test_v_voids_the_cursors_client_alone_and_the_row_reads_voided(
    app, workbench, destination
):
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    target, others = clean[0], clean[1:]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, target.client_id)
        await press(pilot, "v")
        assert isinstance(app.screen, TypeToConfirmScreen)
        # From a TUI pass: the question names the document it voids, its number and amount.
        (sent,) = [
            e
            for e in workbench.posting.month_entries(MONTH, "halo-invoice")
            if e.client_id == target.client_id
        ]
        assert f"{sent.reference} (invoice {sent.remote_number or sent.remote_id}, " in str(
            app.screen.question
        )
        await press(pilot, *f"void {MONTH}", "enter")
        await wait_until_idle(pilot)
        assert app.screen is screen
        assert screen.approvals.voided_at(target.client_id) == ("halo-invoice",)
        assert not screen.posted_to(target.client_id)
        assert all(screen.posted_to(i.client_id) == ("halo-invoice",) for i in others)
        row = screen.table.cursor - screen.table.scroll_offset.y + 1
        # Its approval stands: the row says so, and p posts it again.
        assert "voided ✓" in "".join(s.text for s in screen.table.render_line(row))
        await press(pilot, "p", *MONTH, "enter")  # posted again, under the next reference
        if isinstance(app.screen, ConfirmScreen):  # the month is not settled for this client
            await press(pilot, "y")
        results = app.screen
        assert isinstance(results, PostProgressScreen) and results.sub_title == "Results"
        head = str(results.query_one("#post-head").content)
        assert f"Posted {len(clean)} of {len(clean)}" in head and "1 voided before" in head
        assert "failed" not in head and not results.check_action("retry", ())
        assert results.query_one("#post-bar").percentage == 1
    assert destination.voided == {f"TU2611-{target.client_id}"}
    assert f"TU2611-{target.client_id}-2" in destination.documents


async def test_a_posted_month_that_bills_otherwise_reads_delta_and_P_posts_the_adjustment(
    app, workbench, destination
):
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    target = clean[0]
    bill_otherwise(workbench, target.client_id)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "P")  # on the batch posted from, which the rule left behind
        assert app.screen is screen
        said = app._notifications
        assert list(said)[-1].message == (
            "The store changed since this batch: b builds it again, then P."
        )  # not "nothing to adjust", which it said before
        put_cursor(screen, target.client_id)
        await press(pilot, "h")  # refused: a posted month is not held; a warning, not a failure
        refusal = list(app._notifications)[-1]
        assert (refusal.title, refusal.severity) == ("Not done", "warning")
        assert "hold and ready come before posting" in refusal.message
        assert "(or v on the workbench's Batch screen)" in refusal.message
        await press(pilot, "b")  # the batch the store would build now
        put_cursor(screen, target.client_id)
        await wait_until_idle(pilot)
        row = screen.table.cursor - screen.table.scroll_offset.y + 1
        assert "posted Δ" in "".join(s.text for s in screen.table.render_line(row))
        await press(pilot, "enter")  # the invoice says posted, now and the difference
        said = str(app.screen.query_one("#invoice-summary").content)
        assert "posted Δ  posted $" in said and " now: $" in said
        assert "to adjust (P on the Batch screen)" in said  # P is not a key of the invoice
        await press(pilot, "escape")
        assert app.screen is screen
        summary = str(screen.query_one("#batch-summary").content)
        assert "1 posted bill differently now: P posts adjustments" in summary
        await press(pilot, "P")
        adjust = app.screen
        assert isinstance(adjust, PostSummaryScreen) and adjust.adjust
        (planned,) = adjust.plan.ready
        assert planned.client_id == target.client_id
        assert "1 adjustment to post" in str(adjust.query_one("#post-plan").content)
        await press(pilot, *MONTH, "enter")
        if isinstance(app.screen, ConfirmScreen):  # the month is not settled for this client
            await press(pilot, "y")
        assert isinstance(app.screen, PostProgressScreen)
        await press(pilot, "escape")
        await wait_until_idle(pilot)
        row = screen.table.cursor - screen.table.scroll_offset.y + 1
        assert "adjusted" in "".join(s.text for s in screen.table.render_line(row))
        await press(pilot, "J")
        journal = app.screen
        assert isinstance(journal, JournalScreen)
        rows = journal.query_one("#journal-rows").rows
        assert [(p.reference, p.state) for p in rows] == [
            (f"TU2611-{target.client_id}", "posted"),
            (f"TU2611-{target.client_id}-A1", "posted"),
        ]
        journal.query_one("#journal-rows").cursor = 1  # the adjustment, below the invoice
        await wait_until_idle(pilot)
        detail = str(journal.query_one("#journal-detail").content)
        kind = "debit" if rows[1].amount > 0 else "credit"
        assert detail.startswith(f"TU2611-{target.client_id}-A1: {kind} adjusting TU2611-")
        assert " UTC by " in detail  # the journal keeps UTC; a local reader is told so
        await press(pilot, "f1")  # a dialog's keys too, though it cuts the app's bindings off
        assert isinstance(app.screen, HelpScreen) and "Back to the batch" in app.screen.text
        assert "Every document sent for the client's month" in app.screen.text
        assert "Quit trueup" not in app.screen.text  # a dialog takes no app key but F1
        await press(pilot, "escape")
        assert app.screen is journal
        await press(pilot, "escape")
        assert app.screen is screen
    adjustment = destination.documents[f"TU2611-{target.client_id}-A1"][1]
    assert adjustment.adjusts == (f"TU2611-{target.client_id}",)
    assert len(destination.documents) == len(clean) + 1
    other = clean[1]  # voided from the batch that posted it: the review stays where it was
    workbench.posting.queue_void(batch.batch_id, "halo-invoice", [other.client_id])
    await workbench.posting.run(
        batch.batch_id, "halo-invoice", action="void", progress=lambda e: None
    )
    async with make_app(workbench).run_test(size=(80, 24)) as pilot:  # opened again
        screen = await open_batch(pilot)  # on the batch the adjustment was posted from
        assert screen.shown_batch.batch_id != batch.batch_id
        put_cursor(screen, target.client_id)
        await wait_until_idle(pilot)
        row = screen.table.cursor - screen.table.scroll_offset.y + 1
        assert "adjusted" in "".join(s.text for s in screen.table.render_line(row))
        assert "bill differently" not in str(screen.query_one("#batch-summary").content)
        await press(pilot, "v")  # what the void takes: the adjustment goes with the invoice
        assert isinstance(pilot.app.screen, TypeToConfirmScreen)
        assert "November 2026 invoice and its adjustments at" in pilot.app.screen.question
        await press(pilot, "escape")


async def test_E_writes_the_months_workbook_and_says_where(app, workbench, tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "E")
        await wait_until_idle(pilot)
        (note,) = [n for n in app._notifications if n.title == "Export"]
        assert note.message == f"Wrote {tmp_path / 'trueup-2026-11.xlsx'}"
    book = openpyxl.load_workbook(tmp_path / "trueup-2026-11.xlsx")
    assert book["Invoices"].max_row == len(screen.invoices) + 1


async def test_recurring_results_say_the_total_is_the_one_off_invoice(workbench, destination):
    approve_clean(workbench)
    app = make_app(workbench)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_batch(pilot)
        await press(pilot, "p", "down")
        assert app.screen.plan.destination == "halo-recurring"
        await press(pilot, *MONTH, "enter", "y")
        results = app.screen
        assert isinstance(results, PostProgressScreen) and results.sub_title == "Results"
        head = str(results.query_one("#post-head").content)
        assert "recurring invoices were trued up" in head and "not the month's whole bill" in head
    assert destination.opened == ["halo-recurring"]


async def test_hold_and_ready_are_refused_once_approved_or_posted(app, workbench, destination):
    """`h` on an approved invoice read "1 held" beside "approved" and posted nothing; on a
    posted one it did nothing visible. Both are refused, saying why, and nothing is stored."""
    batch, clean = approve_clean(workbench)
    approved, posted = clean[0], clean[1]
    posting = workbench.posting
    posting.queue(posting.plan(batch.batch_id, "halo-invoice", [posted.client_id]))
    await posting.run(batch.batch_id, "halo-invoice", action="create", progress=lambda e: None)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        for invoice, key, said in (
            (approved, "h", "withdraw it first"),
            (approved, "r", "withdraw it first"),
            (posted, "h", "posted to halo-invoice as TU2611-"),
        ):
            put_cursor(screen, invoice.client_id)
            await press(pilot, key)
            await wait_until_idle(pilot)
            assert any(said in str(n.message) for n in app._notifications), (key, said)
    assert workbench.batches.overview(batch.batch_id).states == {}


async def test_P_adjusts_where_the_cursors_client_went(app, workbench, destination):
    """Clients posted to two destinations, both billing otherwise now: P on the second plans its
    destination's adjustments (it planned the first posted client's, where the cursor's could
    not be adjusted at all)."""
    workbench.books["xero"].accept_suggestions()
    batch, clean = approve_clean(workbench)
    first, second = clean[0], clean[1]
    posting = workbench.posting
    for client, where in ((first, "halo-invoice"), (second, "xero")):
        plan = posting.plan(batch.batch_id, where, [client.client_id])
        assert [p.client_id for p in plan.ready] == [client.client_id], plan.blocked
        posting.queue(plan)
        await posting.run(batch.batch_id, where, action="create", progress=lambda e: None)
    for client in (first, second):
        bill_otherwise(workbench, client.client_id)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "b")
        await wait_until_idle(pilot)
        put_cursor(screen, second.client_id)
        await press(pilot, "P")
        adjust = app.screen
        assert isinstance(adjust, PostSummaryScreen) and adjust.adjust
        assert adjust.plan.destination == "xero"
        assert [p.client_id for p in adjust.plan.ready] == [second.client_id]


async def test_two_quick_h_presses_hold_and_release(app, workbench, monkeypatch):
    """The second press read the row before the first was written, and held it again: the
    toggle is now decided by the store. (A slow store makes the second press come first.)"""
    import time

    batch = workbench.batches.current(MONTH)
    target = next(i for i in batch.invoices if i.errors)
    written = workbench.batches.set_invoice_state

    def slowly(*args, **kwargs):
        time.sleep(0.3)
        return written(*args, **kwargs)

    monkeypatch.setattr(workbench.batches, "set_invoice_state", slowly)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, target.client_id)
        await pilot.press("h", "h")
        await wait_until_idle(pilot)
        row = next(i for i in screen.invoices if i.client_id == target.client_id)
        assert row.state == "draft"
    assert workbench.batches.overview(batch.batch_id).states.get(target.client_id) == "draft"


async def test_back_from_an_invoice_changed_there_the_batch_shows_the_rebuilt_batch(app, workbench):
    """From a TUI pass: with the month posted from a batch (which the Batch screen keeps in
    view), a change made on the invoice screen, which builds the batch again, was gone on the
    way back (the old batch, the old line) until `b`."""
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        assert screen.shown_batch.batch_id == batch.batch_id
        put_cursor(screen, clean[0].client_id)
        await press(pilot, "enter")
        invoice = app.screen
        line = next(li for li in invoice.lines.rows if li.kind == "subscription")
        invoice.lines.cursor = invoice.lines.rows.index(line)
        await press(pilot, "s")
        rebuilt = invoice.shown_batch.batch_id
        assert rebuilt != batch.batch_id
        await press(pilot, "escape")
        assert app.screen is screen and screen.shown_batch.batch_id == rebuilt


def row_text(screen):
    """The cursor's row of the Batch screen as drawn."""
    row = screen.table.cursor - screen.table.scroll_offset.y + 1
    return "".join(s.text for s in screen.table.render_line(row))


async def void_one(workbench, batch_id, client_id):
    workbench.posting.queue_void(batch_id, "halo-invoice", [client_id])
    await workbench.posting.run(batch_id, "halo-invoice", action="void", progress=lambda e: None)


async def test_a_voided_month_whose_approval_lapsed_reads_so(app, workbench):
    """From a TUI walk: voided, then billed otherwise, the client's approval from before the
    void lapsed; the summary counted "1 lapsed" while its row read a bare "voided" (as if never
    approved), and a on it opened the lapse. The row and the invoice now say it."""
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    target = clean[0].client_id
    await void_one(workbench, batch.batch_id, target)
    bill_otherwise(workbench, target)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "b")
        put_cursor(screen, target)
        await wait_until_idle(pilot)
        assert screen.approval_of(target).status == "lapsed"
        assert "1 lapsed" in str(screen.query_one("#batch-summary").content)
        assert "voided !" in row_text(screen)
        await press(pilot, "enter")
        head = str(app.screen.query_one("#invoice-summary").content).split("\n")[0]
        assert head.endswith("voided !")
        await press(pilot, "escape")
        assert "`voided !` when that approval lapsed" in help_markdown(screen)


async def test_approve_all_says_what_clears_a_lapsed_approval(app, workbench):
    """From a TUI walk: A's question said a lapsed invoice waits "until the batch is built
    again (b)"; on the batch the store builds now, b builds that same batch and the lapse
    stands. What clears it is a (withdraw, then approve as it is)."""
    batch, clean, moved = approve_then_move_one(workbench)
    workbench.batches.revoke(batch.batch_id, [clean[1].client_id])  # one left to approve
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "A")
        assert "a lapsed one until built again (b), where a withdraws" in app.screen.question
        await press(pilot, "n", "b")
        assert screen.approvals.current and screen.approval_of(moved).status == "lapsed"
        await press(pilot, "A")
        question = app.screen.question
        assert "built again" not in question
        assert "a lapsed one until a withdraws its approval" in question


async def test_the_invoice_of_a_month_to_adjust_sends_to_the_batch_screens_P(app, workbench):
    """From a TUI walk: a posted invoice that now bills otherwise ended "to adjust (P)" on the
    invoice screen, where P does nothing; it is the Batch screen's key."""
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    target = clean[0].client_id
    bill_otherwise(workbench, target)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        await press(pilot, "b")
        put_cursor(screen, target)
        await press(pilot, "enter")
        invoice = app.screen
        said = " ".join(str(invoice.query_one("#invoice-summary").content).split())
        assert "to adjust (P on the Batch screen)" in said


async def test_the_results_of_a_month_posted_again_start_on_the_new_document(app, workbench):
    """From a TUI walk: voided, approved again and posted, the client's results read "VOIDED"
    with no number on the first row (the cursor on it), its new document last, the Reference
    column hidden at 80 columns: two rows of one name, which is which unsaid."""
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    target = clean[0]
    await void_one(workbench, batch.batch_id, target.client_id)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, target.client_id)
        await press(pilot, "a", "a")  # withdrawn, then approved again after the void
        assert screen.approval_of(target.client_id).status == "approved"
        results = await post_from_the_batch(pilot)
        assert isinstance(results, PostProgressScreen) and results.sub_title == "Results"
        current = results.table.current
        assert (current.client_id, current.said) == (target.client_id, "POSTED")
        assert current.reference == f"TU2611-{target.client_id}-2"
        voided = next(e for e in results.entries.values() if e.said == "VOIDED")
        assert _cells(voided)[4].plain == voided.remote_number


async def test_v_waits_for_an_adjustment_still_on_its_way_then_voids_both(
    app, workbench, destination
):
    """From a review: `v` voided the invoice while its adjustment, journaled and cut short (a
    kill between journal and answer), was still on its way: the client would keep it, though
    the month read voided. And the voids were journaled batch by batch, so a void cut short
    between the two left the adjustment with no void pending to say so."""
    batch, clean = approve_clean(workbench)
    await post_approved(workbench, batch.batch_id)
    target = clean[0]
    bill_otherwise(workbench, target.client_id)
    adjusting = workbench.batches.current(MONTH).batch_id
    plan = workbench.posting.plan_adjustments(adjusting, "halo-invoice")
    assert [p.client_id for p in plan.ready] == [target.client_id]
    workbench.posting.queue(plan)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, target.client_id)
        await press(pilot, "v")
        assert app.screen is screen  # no question: nothing can be voided yet
        said = list(app._notifications)[-1]
        assert said.severity == "warning" and said.message.startswith(
            f"TU2611-{target.client_id}-A1 is still on its way to halo-invoice (pending): "
            f"`trueup post {adjusting} --to halo-invoice` finishes it"
        )
    assert destination.voided == set()
    await workbench.posting.run(adjusting, "halo-invoice", action="create", progress=lambda e: 0)
    async with make_app(workbench).run_test(size=(80, 24)) as pilot:
        screen = await open_batch(pilot)
        put_cursor(screen, target.client_id)
        await press(pilot, "v", *f"void {MONTH}", "enter")
        await wait_until_idle(pilot)
    assert destination.voided == {f"TU2611-{target.client_id}", f"TU2611-{target.client_id}-A1"}
