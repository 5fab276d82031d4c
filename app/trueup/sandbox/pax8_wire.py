"""Fields the Pax8 spec documents that scenarios leave out, added as objects are served.

Added here rather than by the generator, so the bundled demo (and every batch built from it) stays
byte-identical. A value the scenario holds always wins.
"""

from __future__ import annotations

from trueup.sandbox.pax8_query import Json
from trueup.sandbox.pax8_store import Pax8Store

# InvoiceItem fields of every item in the spec's examples. `rateType` is capitalised as on the
# wire ("Flat" [PYPAX8]), matching the Flat pricing the simulator derives; the item is priced
# per seat ("per", not "flat"); Pax8 offers it; no billing fee, so no fee rate; "N/A" is the
# spec's example purchase order number.
ITEM_DEFAULTS: Json = {
    "rateType": "Flat",
    "chargeType": "per",
    "offeredBy": "Pax8",
    "billingFeeRate": 0,
    "purchaseOrderNumber": "N/A",
}
# Orders read back with the enum's name, not its documented text: "When an order [is] retrieved
# from the API and [the] order is placed by the partner, the API returns "Pax8Partner" instead of
# "Pax8 Partner"" [PYPAX8 README]. Orders are stored with the documented text (what a create
# sends); the answer to the create is served like a read (the spec's example of it has none).
ORDERED_BY_ON_READ = {"Pax8 Partner": "Pax8Partner"}


def invoice(store: Pax8Store, served: Json) -> Json:
    """An invoice with `externalId`, "the company external id", when its company has one."""
    return _with_external_id(store, served)


def invoice_item(store: Pax8Store, item: Json) -> Json:
    return _with_external_id(store, ITEM_DEFAULTS | item)


def subscription(served: Json) -> Json:
    """A subscription with `provisioningDetails` ([{key, values[]}]; none for a scenario's own).
    `parentSubscriptionId` is only known for an add-on: the scenario's, or its order line's."""
    if "provisioningDetails" in served:
        return served
    return served | {"provisioningDetails": []}


def order(served: Json) -> Json:
    ordered_by = served.get("orderedBy")
    if ordered_by not in ORDERED_BY_ON_READ:
        return served
    return served | {"orderedBy": ORDERED_BY_ON_READ[ordered_by]}


def _with_external_id(store: Pax8Store, served: Json) -> Json:
    if "externalId" in served:
        return served
    company = store.companies.get(served.get("companyId") or "")
    external_id = company.get("externalId") if company else None
    return (served | {"externalId": external_id}) if external_id else served
