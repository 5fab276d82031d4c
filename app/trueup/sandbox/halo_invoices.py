"""Invoice actions: /updatelines, /Lines and /process on recurring invoices, and voiding an
invoice (halo-api.md §5)."""

from __future__ import annotations

from typing import Any

from trueup.sandbox.halo_store import (
    RESOURCES,
    HaloError,
    HaloStore,
    Resource,
    Row,
    check_types,
    invalid,
    line_by_id,
    object_array,
    patch_fields,
    recompute_totals,
)

# RI-only header fields that a processed invoice does not inherit.
# fmt: off
_SCHEDULE_FIELDS = frozenset({
    "id", "lines", "schedule", "schedule_id", "lastcreated", "nextcreationdate",
    "nextcreationperiod", "period", "disabled", "is_recurring_invoice", "use",
})
# Line fields describing how an RI line's quantity is computed; an invoice line is a fixed copy.
_QUANTITY_FIELDS = frozenset({
    "id", "ihid", "quantity_licences", "quantity_subscriptions", "quantity_users",
    "quantity_assets", "prorata_data", "recurring_invoice_quantity_type",
})
# fmt: on


def update_lines(store: HaloStore, resource: Resource, body: Any) -> list[Row]:
    """POST /{RecurringInvoice|Invoice}/updatelines: patch existing lines by id."""
    lines = object_array(body, "InvoiceDetail")
    headers = store.tables[resource.route].rows
    targets = []
    for index, sent in enumerate(lines):
        path = f"[{index}]"
        check_types(sent, path)
        line_id = sent.get("id") or 0
        owner = store.line_owner.get(line_id)
        line = line_by_id(headers[owner], line_id) if owner in headers else None
        if owner is None or line is None:
            raise invalid(f"{path}.id", f"No {resource.name} line with id {line_id}.")
        if sent.get("ihid", owner) != owner:
            raise invalid(f"{path}.ihid", f"Line {line_id} belongs to {owner}.")
        store.check_item(sent, line, path)
        targets.append((headers[owner], line, sent))
    for header, line, sent in targets:
        patch_fields(line, sent, keep=("id", "ihid"))
        recompute_totals(header, is_invoice=not resource.negative_ids)
    return [line for _, line, _ in targets]


def append_lines(store: HaloStore, resource: Resource, body: Any) -> tuple[list[Row], bool]:
    """POST /RecurringInvoice/Lines: id-less lines are added to their `ihid`, others patched."""
    lines = object_array(body, "InvoiceDetail")
    headers = store.tables[resource.route].rows
    for index, sent in enumerate(lines):
        check_types(sent, f"[{index}]")
        if sent.get("ihid") not in headers:
            raise invalid(f"[{index}].ihid", f"No {resource.name} with id {sent.get('ihid')}.")
        current = line_by_id(headers[sent["ihid"]], sent["id"]) if sent.get("id") else None
        if sent.get("id") and current is None:
            raise invalid(f"[{index}].id", f"No line {sent['id']} on {sent['ihid']}.")
        store.check_item(sent, current, f"[{index}]")
    saved, created = [], False
    for sent in lines:
        header = headers[sent["ihid"]]
        if sent.get("id"):
            line = line_by_id(header, sent["id"])
            assert line is not None
            patch_fields(line, sent, keep=("id", "ihid"))
        else:
            line = store.new_line(header, sent)
            header.setdefault("lines", []).append(line)
            created = True
        recompute_totals(header, is_invoice=not resource.negative_ids)
        saved.append(line)
    return saved, created


def process(store: HaloStore, body: Any) -> list[Row]:
    """POST /RecurringInvoice/process: one new invoice per RI id, from its active lines."""
    if not isinstance(body, list) or not body:
        raise invalid("$", "Expected a JSON array of recurring invoice ids.")
    recurring = store.tables["recurringinvoice"].rows
    for index, ri_id in enumerate(body):
        if type(ri_id) is not int or ri_id not in recurring:
            raise invalid(f"[{index}]", f"No RecurringInvoice with id {ri_id}.")
    invoices = store.tables["invoice"]
    created = []
    for ri_id in body:
        source = recurring[ri_id]
        invoice_id = invoices.allocate_id()
        invoice = {key: value for key, value in source.items() if key not in _SCHEDULE_FIELDS}
        invoice |= {
            "id": invoice_id,
            "invoicenumber": str(invoice_id),
            "invoice_date": store.today,
            "recurring_invoice_id": ri_id,
            "is_recurring_invoice": False,
            "posted": False,
            "amountpaid": 0.0,
            "paymentstatus": 0,
            "lines": [],
        }
        for line in source.get("lines", []):
            if line.get("isinactive"):
                continue
            copy = {k: v for k, v in line.items() if k not in _QUANTITY_FIELDS}
            copy |= {"recurring_invoice_id": ri_id, "recurring_invoice_line_id": line["id"]}
            invoice["lines"].append(store.new_line(invoice, copy))
        recompute_totals(invoice, is_invoice=True)
        invoices.add(invoice)
        source["lastcreated"] = store.today
        created.append(invoice)
    return created


def void(store: HaloStore, invoice_id: int) -> Row:
    """POST /Invoice/{id}/void: the invoice stays, reference and all, flagged `voided`.

    Not in the 2024 swagger (its way is `voided: true` posted back to /Invoice, which the
    generic save already applies); trueup falls back on this route (HaloClient.post_invoice_void)
    when that does not take. Halo's answer to voiding twice is unconfirmed: here it is a 400.
    """
    invoice = store.get(RESOURCES["invoice"], invoice_id)
    if invoice.get("voided"):
        raise HaloError(400, {"Message": f"Invoice {invoice_id} is already void."})
    invoice["voided"] = True
    return invoice
