"""Creating the Halo item a Pax8 product lacks, exactly once, then billing the product as it.

Halo takes no idempotency key, so once rests on the SKU: the item carries it as its supplier part
code, and Halo's items are read for it before sending and again after an answer that was lost (a
timeout, a 5xx, a reply without the item). A run after any failure finds the item the one before
created instead of creating a second. What was found or created is stored as a sync stores it,
the product mapped to it (source "created", journaled: undo takes the mapping back, never the
item) and a log entry written, all in one transaction.

The swagger's Item fields: `name`, `supplier_part_code`, `isrecurringitem`, `costprice` and
`baseprice` (a sale's cost and price), `recurringcost` and `recurringprice` (the recurring
invoice's, which trueup reads back for the seat diff). GET /api/Item has no filter by supplier
part code, and its `search` matches fields Halo does not document: every item is read and the
code compared exactly (trimmed, any case).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trueup.core.mapping.engine import MappingError
from trueup.core.mapping.journal import PRODUCT, Key, write_mapping
from trueup.core.posting.item_draft import ItemDraft, draft_item
from trueup.core.posting.run import posting_lock
from trueup.core.settings.operator import current_user
from trueup.core.sources.halo import HaloClient
from trueup.core.sources.http import ApiError, Row
from trueup.core.store.database import Database
from trueup.core.store.json_text import dump_json
from trueup.core.store.logbook import log_event
from trueup.core.sync.records import ENTITIES
from trueup.core.sync.staging import upsert
from trueup.core.values.money import money_prose


@dataclass(frozen=True)
class CreatedItem:
    item_id: int
    name: str
    created: bool  # False: Halo had it already (a run before this one created it)


async def create_item(
    db: Database, halo: HaloClient, product_id: str, price: str | None = None
) -> CreatedItem:
    """Create the product's item in Halo unless Halo has it, store it, map the product to it.
    Under the posting lock: two trueups would both find no item, then both create one."""
    with posting_lock(db):
        return await _create_item(db, halo, draft_item(db, product_id, price))


async def _create_item(db: Database, halo: HaloClient, draft: ItemDraft) -> CreatedItem:
    saved = await find_item(halo, draft.sku)
    created = saved is None
    if saved is None:
        body = item_body(draft)
        try:
            # What the answer leaves out is as sent: the store's row says what Halo was told.
            saved = body | await halo.create_item(body)
        except ApiError as error:
            if not error.ambiguous:
                raise
            saved = await find_item(halo, draft.sku)  # the write may have been applied
            if saved is None:
                raise _unsettled(error, draft) from error
    _record(db, draft, saved, created)
    return CreatedItem(int(saved["id"]), str(saved.get("name") or draft.name), created)


async def find_item(halo: HaloClient, sku: str) -> Row | None:
    """Halo's item with this supplier part code, an active one first; None when none has it."""
    wanted = sku.strip().casefold()
    found: list[Row] = []
    async for page in halo.items():
        found += [
            row
            for row in page
            if type(row.get("id")) is int
            and str(row.get("supplier_part_code") or "").strip().casefold() == wanted
        ]
    found.sort(key=lambda row: (_inactive(row), row["id"]))
    return found[0] if found else None


def item_body(draft: ItemDraft) -> Row:
    body: Row = {"name": draft.name, "supplier_part_code": draft.sku, "isrecurringitem": True}
    if draft.cost is not None:
        body |= {"costprice": draft.cost, "recurringcost": draft.cost}
    return body | {"baseprice": draft.price, "recurringprice": draft.price}


def _record(db: Database, draft: ItemDraft, saved: Row, created: bool) -> None:
    items = ENTITIES["halo_item"]
    row = items.parse(saved, {})
    if row["inactive"]:
        raise MappingError(
            f"Halo item {row['id']} ({row['name']}) has supplier part code {draft.sku} but is "
            f"inactive: make it active in Halo and sync, then map {draft.name} to it"
        )
    with db.write() as conn:
        upsert(conn, items.table, ["id"], [row | {"raw": dump_json(saved)}])
        write_mapping(
            conn,
            Key(PRODUCT, draft.product_id),
            row["id"],
            action="create-item",
            source="created",
            reason=f"{'created' if created else 'found'} in Halo by trueup",
        )
        log_event(
            conn,
            "INFO",
            "Halo item created" if created else "Halo item found, not created again",
            source="halo",
            item_id=row["id"],
            name=row["name"],
            supplier_part_code=draft.sku,
            cost=_amount(draft.cost),
            price=_amount(draft.price),
            product_id=draft.product_id,
            by=current_user(),
        )


def _unsettled(error: ApiError, draft: ItemDraft) -> ApiError:
    """A write whose fate is unknown and whose item is not (yet) listed: only a run again, which
    looks first, can settle it; nothing was mapped."""
    service = error.service
    failure = f"{error.kind} {error.status}" if error.status else error.kind
    return ApiError(
        service,
        error.kind,
        error.status,
        f"{service} may not have created {draft.name} (POST /api/Item: {failure}) and no item "
        f"with supplier part code {draft.sku} is there yet: run it again, it looks for the "
        "item before creating one",
        ambiguous=True,
    )


def _inactive(row: Row) -> bool:
    return bool(ENTITIES["halo_item"].parse(row, {})["inactive"])


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else money_prose(value)
