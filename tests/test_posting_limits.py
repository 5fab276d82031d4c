"""What the destinations refuse for its size: QuickBooks takes a line Description and a
PrivateNote of at most 4,000 characters (Intuit's invoice reference; error 2050), so the
simulator refuses more, and a plan names the line before anything is sent."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from qbo_fixtures import qbo_app, qbo_client
from test_sink_qbo import document
from trueup.core.posting.documents import missing_targets
from trueup.core.posting.qbo import QboSink
from trueup.core.posting.sink import DocumentLine, Posted, Refused


def _with_description(text: str, **changes: object) -> DocumentLine:
    line = DocumentLine("manual", text, Decimal(2), Decimal("10.00"), Decimal("20.00"),
                        qbo_item_id="4")  # fmt: skip
    return replace(line, **changes)  # type: ignore[arg-type]


async def test_quickbooks_refuses_a_description_or_note_past_4000_characters() -> None:
    fits = document("TU2611-1", lines=(_with_description("x" * 4000),), subtotal=Decimal(20),
                    total=Decimal(20))  # fmt: skip
    long_line = replace(fits, reference="TU2611-2", lines=(_with_description("x" * 4001),))
    long_note = replace(fits, reference="TU2611-3", note="n" * 4001)
    async with qbo_client(qbo_app()) as client:
        posted, line_refused, note_refused = await QboSink(client).create(
            [fits, long_line, long_note]
        )
    assert isinstance(posted, Posted)
    for refused, length in ((line_refused, "4,001"), (note_refused, "4,001")):
        assert isinstance(refused, Refused)
        assert "error 2050" in refused.reason
        assert f"Max:4,000 supported. Supplied length:{length}" in refused.reason


def test_a_plan_names_a_line_too_long_for_quickbooks_as_it_would_be_sent() -> None:
    fits = _with_description("y" * 4000)
    # 3 x 6.67 is not 20.00: it goes as 1 x 20.00, " (3 x 6.67, rounded)" added to its words.
    grows = _with_description("z" * 3990, quantity=Decimal(3), unit_price=Decimal("6.67"))
    assert missing_targets(document(lines=(fits,)), "qbo") == []
    [problem] = missing_targets(document(lines=(fits, grows)), "qbo")
    assert problem.startswith(f"line 2 ({'z' * 40}…) has a description of 4,010 characters")
    assert "QuickBooks takes at most 4,000" in problem
    assert missing_targets(document(lines=(grows,)), "xero") != []  # no Xero item: unrelated
    assert not any("4,000" in p for p in missing_targets(document(lines=(grows,)), "xero"))
