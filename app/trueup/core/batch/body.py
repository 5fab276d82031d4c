"""The batch as JSON (contract.md §3), and its invoices read back past that boundary as typed
rows: `StoredInvoice` for approval, posting and the ledger, `InvoiceView` (with the operator's
word) for the workbench.

The JSON is the stored body: keys sorted, lists in a fixed order, money as two-decimal strings,
quantities as four-decimal strings, no timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson

from trueup.core.values.distributors import distributor_name
from trueup.core.values.money import money_json, money_json_or_none, money_prose, quantity_json

if TYPE_CHECKING:  # the engine's types: reading a stored invoice needs none of the engine
    from trueup.core.billing.invoice import Anomaly, ClientInvoice, InvoiceLine

SEVERITIES = ("error", "warning", "info")
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


# orjson writes what `json.dumps(sort_keys=True, ensure_ascii=False)` writes, compact or with
# indent=2 (tests/test_batch_json.py holds it to that), eight times faster: 0.1 s, not 0.9 s, on
# a 26 MB body.


def canonical_text(body: Mapping[str, Any]) -> str:
    """The one byte sequence a body is stored and printed as."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()


def canonical_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def spliced(body: Mapping[str, Any], key: str, items: Sequence[bytes | memoryview]) -> bytes:
    """`canonical_text` of `body` with a list under `key` whose items are already encoded
    (`canonical_bytes`), as UTF-8: the same bytes, without holding the items as JSON values."""
    chunks: list[bytes] = []
    for name in sorted([*body, key]):
        chunks.append(b"," if chunks else b"{")
        chunks.append(canonical_bytes(name) + b":")
        if name == key:
            chunks += (b"[", b",".join(items), b"]")
        else:
            chunks.append(canonical_bytes(body[name]))
    chunks.append(b"}")
    return b"".join(chunks)


def pretty_text(body: Mapping[str, Any]) -> str:
    """For people (`trueup batch --json`): indented, still sorted, so still byte-stable."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode()


def parsed_body(text: str | bytes) -> Any:
    """A stored body (or a part of one) back as plain JSON values."""
    return orjson.loads(text)


def anomaly_json(anomaly: Anomaly, **context: Any) -> dict[str, Any]:
    found = {"code": anomaly.code, "severity": anomaly.severity, "message": anomaly.message}
    return found | {key: value for key, value in context.items() if value is not None}


def anomaly_order(anomaly: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        _RANK.get(anomaly["severity"], len(SEVERITIES)),
        anomaly["code"],
        anomaly.get("subscription_id") or "",
        anomaly["message"],
    )


def line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "subscription_id": line.subscription_id,
        "product_id": line.product_id,
        "sku": line.sku,
        "description": line.description,
        "quantity": quantity_json(line.quantity),
        "unit_price": money_json(line.unit_price),
        # Exact (12.3456, a markup's 2.05625): what the amount is quantity times, so a document
        # bills 8 x 12.3456 = 98.76, where the price to the cent reads 8 x 12.35 = 98.80.
        "unit_price_exact": money_prose(line.unit_price),
        "amount": money_json(line.amount),
        "cost": money_json_or_none(line.cost),
        # Exact, not rounded: next month's PRICE_CHANGED compares it with Pax8's.
        "unit_cost": None if line.unit_cost is None else str(line.unit_cost),
        "currency": line.currency,
        "policy": line.policy,
        "explanation": line.explanation,
        "anomalies": _anomalies_json(line.anomalies),
        "proration": line.proration,
        "recovered": None if line.recovered is None else quantity_json(line.recovered),
    }


def invoice_json(invoice: ClientInvoice) -> dict[str, Any]:
    return {
        "client_id": invoice.client_id,
        "client_name": invoice.client_name,
        "currency": invoice.currency,
        "subtotal": money_json(invoice.subtotal),
        "tax": money_json(invoice.tax),
        "total": money_json(invoice.total),
        "cost": money_json_or_none(invoice.cost),
        "margin": money_json_or_none(invoice.margin),
        "margin_percent": None
        if invoice.margin_percent is None
        else str(invoice.margin_percent.quantize(Decimal("0.01"))),
        "anomalies": _anomalies_json(invoice.anomalies),
        "lines": [line_json(line) for line in invoice.lines],
    }


def _anomalies_json(anomalies: Sequence[Anomaly]) -> list[dict[str, Any]]:
    if not anomalies:  # most lines
        return []
    return sorted((anomaly_json(a) for a in anomalies), key=anomaly_order)


def invoice_digest(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """What the rest of the body takes from an invoice (its summary, totals, usage lines and
    change): a few hundred bytes of its ~13 kB, so the invoice itself can be dropped once
    encoded, and a batch built again reads only these of the invoices it reuses."""
    counts = anomaly_counts(invoice)
    return {key: invoice[key] for key in _DIGESTED} | {
        "line_count": len(invoice["lines"]),
        "line_facts": line_facts(invoice),
        "recovered": recovered_sums(invoice),
        "anomaly_counts": {severity: counts.get(severity, 0) for severity in SEVERITIES},
        "codes": invoice_codes(invoice),
        "products": list(invoice_products(invoice)),
        "usage_lines": [
            {
                "client_id": invoice["client_id"],
                "client_name": invoice["client_name"],
                "currency": invoice["currency"],
                "subscription_id": line["subscription_id"],
                "amount": line["amount"],
                "cost": line["cost"],
                "policy": line["policy"],
            }
            for line in invoice["lines"]
            if line["kind"] == "usage"
        ],
    }


def recovered_sums(invoice: Mapping[str, Any]) -> dict[str, list[str]]:
    """By currency, [under-billed seats now billed, over-billed seats now removed]: the sums
    of the lines' `recovered` (the summary's leakage by month reads them from the digests)."""
    sums: dict[str, list[Decimal]] = {}
    for line in invoice["lines"]:
        if line.get("recovered") is not None:
            value = Decimal(line["recovered"])
            found = sums.setdefault(line["currency"], [Decimal(0), Decimal(0)])
            found[0 if value > 0 else 1] += abs(value)
    return {currency: [quantity_json(v) for v in values] for currency, values in sums.items()}


def line_facts(invoice: Mapping[str, Any]) -> list[list[str | None]]:
    """Each subscription line's [subscription, quantity, unit price, unit cost]: what a later
    batch compares its own lines with (billing_facts.PreviousLine)."""
    return [
        [line["subscription_id"], line["quantity"], line["unit_price"], line.get("unit_cost")]
        for line in invoice["lines"]
        if line.get("subscription_id") and line.get("kind") != "usage"
    ]


_DIGESTED = (
    *("client_id", "client_name", "currency"),
    *("subtotal", "tax", "total", "cost", "margin", "margin_percent"),
)
_DIGEST_FIELDS = {*_DIGESTED, "codes", "products"}  # what StoredInvoice.read takes from it


def totals_json(
    digests: Sequence[Mapping[str, Any]], anomalies: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Counts, and money per currency: amounts in different currencies are never added.
    `digests`: each invoice's `invoice_digest`."""
    money: dict[str, dict[str, Decimal]] = {}
    severities: Counter[str] = Counter(a["severity"] for a in anomalies)
    lines = 0
    for digest in digests:
        sums = money.setdefault(digest["currency"] or "", {})
        for key in ("subtotal", "tax", "total", "cost", "margin"):
            if digest[key] is not None:
                sums[key] = sums.get(key, Decimal(0)) + Decimal(digest[key])
        lines += digest["line_count"]
        severities.update(digest["anomaly_counts"])
    return {
        "invoices": len(digests),
        "lines": lines,
        "anomalies": {severity: severities.get(severity, 0) for severity in SEVERITIES},
        "by_currency": {
            currency: {key: money_json(value) for key, value in sums.items()}
            for currency, sums in sorted(money.items())
        },
    }


def anomaly_counts(invoice: Mapping[str, Any]) -> Counter[str]:
    """The invoice's anomalies by severity, each once: its own (the engine lists the lines'
    ones there too) and each line's."""
    counts: Counter[str] = Counter()
    on_lines = set()
    for line in invoice["lines"]:
        for anomaly in line["anomalies"]:
            counts[anomaly["severity"]] += 1
            on_lines.add(_key(anomaly))
    for anomaly in invoice["anomalies"]:
        if _key(anomaly) not in on_lines:
            counts[anomaly["severity"]] += 1
    return counts


def _key(anomaly: Mapping[str, Any]) -> tuple[str, str, str]:
    return anomaly["code"], anomaly["severity"], anomaly["message"]


# --- typed rows ---------------------------------------------------------------------------------
# Past the JSON boundary the batch's invoices are read as these: approval, posting, the ledger
# and the workbench never index the JSON values themselves.


@dataclass(frozen=True)
class AnomalyView:
    code: str
    severity: str
    message: str
    subscription_id: str | None  # the line it is on; None for the invoice's own
    overridden: str | None = None  # the reason, when the operator let this error through


@dataclass(frozen=True)
class LineView:
    kind: str  # subscription | usage | manual
    subscription_id: str | None
    product_id: str | None
    sku: str | None
    description: str
    quantity: Decimal
    unit_price: Decimal  # to the cent, as shown
    amount: Decimal
    cost: Decimal | None
    currency: str
    policy: str
    explanation: str
    anomalies: tuple[AnomalyView, ...]
    unit_cost: Decimal | None  # exact, not rounded (what PRICE_CHANGED compares)
    # What the amount is quantity times (12.3456, a markup's 2.05625): what documents carry.
    unit_price_exact: Decimal
    proration: str | None  # the seats and days behind a prorated quantity, in words
    recovered: Decimal | None  # seats under-billed now billed (+), over-billed now removed (-)

    @property
    def distributor(self) -> str:
        """`Pax8`, `Partner Center` ...: whose subscription the line bills (Pax8 for others)."""
        return distributor_name(self.subscription_id)


@dataclass(frozen=True)
class InvoiceFigures:
    """Whose invoice it is and its money, as the batch states them."""

    client_id: int
    client_name: str
    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    cost: Decimal | None
    margin: Decimal | None
    margin_percent: Decimal | None


_FIGURES = tuple(f.name for f in fields(InvoiceFigures))


@dataclass(frozen=True)
class StoredInvoice(InvoiceFigures):
    """One invoice of a batch as approval, posting and the ledger read it. Its figures are read
    at once (from its digest when the store gives one); its JSON, lines, anomalies and codes
    when first asked for, once: the ledger of 2,000 clients parses no invoice."""

    # What it was read from: its canonical bytes as stored (batch/rows.py), or JSON values.
    stored: bytes | Mapping[str, Any] = field(repr=False, compare=False)
    # Its digest (invoice_digest), when stored with it: codes and products without parsing.
    digest: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, invoice: Mapping[str, Any]) -> StoredInvoice:
        return cls(**_figures(invoice), stored=invoice)

    @classmethod
    def read(cls, text: bytes, digest: Mapping[str, Any] | None = None) -> StoredInvoice:
        """From its stored bytes; a digest (of the same invoice) spares parsing them."""
        if digest is None or not digest.keys() >= _DIGEST_FIELDS:
            # No digest (a text the schema 10 migration moved, digested only when a build
            # reads it): read from the text, parsed once.
            return cls.of(parsed_body(text))
        return cls(**_figures(digest), stored=text, digest=digest)

    @cached_property
    def source(self) -> Mapping[str, Any]:
        """Its JSON values: only this class reads them."""
        return parsed_body(self.stored) if isinstance(self.stored, bytes) else self.stored

    @cached_property
    def text(self) -> bytes:
        """Its canonical bytes: what an approval's fingerprint covers (batch/approval.py)."""
        return self.stored if isinstance(self.stored, bytes) else canonical_bytes(self.stored)

    @cached_property
    def lines(self) -> tuple[LineView, ...]:
        return tuple(self._line(line) for line in self.source["lines"])

    def _line(self, line: Mapping[str, Any]) -> LineView:
        return LineView(
            kind=line["kind"],
            subscription_id=line["subscription_id"],
            product_id=line["product_id"],
            sku=line["sku"],
            description=line["description"],
            quantity=Decimal(line["quantity"]),
            unit_price=Decimal(line["unit_price"]),
            amount=Decimal(line["amount"]),
            cost=_decimal(line["cost"]),
            currency=line.get("currency") or self.currency,
            policy=line["policy"],
            explanation=line["explanation"],
            anomalies=_anomaly_views(line["anomalies"], line["subscription_id"]),
            unit_cost=_decimal(line.get("unit_cost")),
            # A batch stored before lines carried it: the price to the cent.
            unit_price_exact=Decimal(line.get("unit_price_exact") or line["unit_price"]),
            proration=line.get("proration"),
            recovered=_decimal(line.get("recovered")),
        )

    @cached_property
    def anomalies(self) -> tuple[AnomalyView, ...]:
        """Every one, once: the invoice's own (the engine lists its lines' ones there too), then
        each line's."""
        lines = self.source["lines"]
        on_lines = {_key(a) for line in lines for a in line["anomalies"]}
        own = [a for a in self.source["anomalies"] if _key(a) not in on_lines]
        return _anomaly_views(own, None) + tuple(
            view
            for line in lines
            for view in _anomaly_views(line["anomalies"], line["subscription_id"])
        )

    @cached_property
    def codes(self) -> frozenset[str]:
        """The codes of its anomalies and its lines' (none typed: the ledger reads all)."""
        if "codes" in self.digest:
            return frozenset(self.digest["codes"])
        return frozenset(invoice_codes(self.source))

    @cached_property
    def products(self) -> tuple[str, ...]:
        """The products its lines bill, each once (where an approval says it posts)."""
        if "products" in self.digest:
            return tuple(self.digest["products"])
        return invoice_products(self.source)


def _figures(invoice: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "client_id": int(invoice["client_id"]),
        "client_name": invoice["client_name"],
        "currency": invoice["currency"],
        "subtotal": Decimal(invoice["subtotal"]),
        "tax": Decimal(invoice["tax"]),
        "total": Decimal(invoice["total"]),
        "cost": _decimal(invoice["cost"]),
        "margin": _decimal(invoice["margin"]),
        "margin_percent": _decimal(invoice.get("margin_percent")),
    }


def invoice_codes(invoice: Mapping[str, Any]) -> list[str]:
    lines = invoice["lines"]
    on_lines = {a["code"] for line in lines for a in line["anomalies"]}
    return sorted(on_lines.union(a["code"] for a in invoice["anomalies"]))


def invoice_products(invoice: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({line["product_id"] for line in invoice["lines"] if line["product_id"]}))


def _anomaly_views(
    anomalies: Sequence[Mapping[str, Any]], subscription_id: str | None
) -> tuple[AnomalyView, ...]:
    if not anomalies:  # most lines
        return ()
    return tuple(
        AnomalyView(a["code"], a["severity"], a["message"], subscription_id) for a in anomalies
    )


def override_reason(
    overrides: Mapping[tuple[int, str, str | None], str], client_id: int, anomaly: AnomalyView
) -> str | None:
    """Why the operator let the anomaly through, or None: an override keyed on its line, or on
    the whole invoice (subscription None)."""
    reason = overrides.get((client_id, anomaly.code, anomaly.subscription_id))
    if reason is None and anomaly.subscription_id is not None:
        reason = overrides.get((client_id, anomaly.code, None))  # the whole invoice's
    return reason


def standing_errors(
    invoice: StoredInvoice,
    overrides: Mapping[tuple[int, str, str | None], str],
    code: str | None = None,
) -> list[AnomalyView]:
    """The invoice's errors (of `code`, if given) that no override lets through."""
    return [
        a
        for a in invoice.anomalies
        if a.severity == "error"
        and (code is None or a.code == code)
        and override_reason(overrides, invoice.client_id, a) is None
    ]


@dataclass(frozen=True)
class InvoiceView(InvoiceFigures):
    """An invoice with the operator's word on it: its state and the errors let through."""

    anomalies: tuple[AnomalyView, ...]  # every one: the invoice's and its lines'
    lines: tuple[LineView, ...]
    state: str = "draft"  # draft | held | ready

    def count(self, severity: str) -> int:
        """Anomalies of a severity still standing (overridden errors do not count)."""
        return sum(a.severity == severity and a.overridden is None for a in self.anomalies)

    @property
    def open_errors(self) -> int:
        return self.count("error")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def invoice_view(
    invoice: StoredInvoice,
    states: Mapping[int, str],
    overrides: Mapping[tuple[int, str, str | None], str],
) -> InvoiceView:
    """The invoice with its state and the errors overridden on it: `overrides` maps (client,
    code, subscription or None) to the reason."""

    def reviewed(anomaly: AnomalyView) -> AnomalyView:
        reason = override_reason(overrides, invoice.client_id, anomaly)
        return anomaly if reason is None else replace(anomaly, overridden=reason)

    return InvoiceView(
        **{name: getattr(invoice, name) for name in _FIGURES},
        anomalies=tuple(map(reviewed, invoice.anomalies)),
        lines=tuple(
            replace(line, anomalies=tuple(map(reviewed, line.anomalies)))
            if line.anomalies
            else line
            for line in invoice.lines
        ),
        state=states.get(invoice.client_id, "draft"),
    )


def invoice_views(
    invoices: Iterable[StoredInvoice],
    states: Mapping[int, str],
    overrides: Mapping[tuple[int, str, str | None], str],
) -> list[InvoiceView]:
    """The batch's invoices, each with its state and the errors overridden on it."""
    return [invoice_view(invoice, states, overrides) for invoice in invoices]
