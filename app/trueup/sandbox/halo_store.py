"""The Halo simulator's data: indexed rows, list selection, array writes, invoice-line arithmetic.

Rows are held once, without null fields (Halo leaves nulls out of responses), so a response is the
stored dict serialised as it is: nothing is copied per request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Row = dict[str, Any]
Query = Mapping[str, str]

CENT = Decimal("0.01")
MAX_CACHED_SELECTIONS = 64


class HaloError(Exception):
    """A request Halo refuses: the HTTP status and the JSON body to answer with."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def invalid(key: str, message: str = "The value is not valid.") -> HaloError:
    """ASP.NET model-binding style 400, keyed by the JSON path of the bad field."""
    return HaloError(400, {key: message})


def not_found(message: str) -> HaloError:
    return HaloError(404, {"Message": message})


@dataclass(frozen=True)
class Resource:
    route: str  # the path segment, lower case (routes match case-insensitively)
    name: str
    scenario_key: str
    list_key: str
    is_inactive: Callable[[Row], bool] | None = None
    search_fields: tuple[str, ...] = ("name",)
    client_filters: bool = False  # client_id
    client_ids_filter: bool = False  # client_ids=1,2,3
    int_filters: tuple[str, ...] = ()
    text_filters: tuple[str, ...] = ()
    has_lines: bool = False
    negative_ids: bool = False
    bool_params: tuple[str, ...] = ()  # checked to be booleans, and otherwise not modelled


# GET /Invoice and /RecurringInvoice: "(bool) Include the field invoicedatestart in the
# response" in the swagger, so not a date filter: a date is refused as any bad value is.
_INCLUDE_DATE_FIELDS = ("invoicedatestart", "invoicedateend")


def _item_inactive(row: Row) -> bool:
    # Item has no `inactive` in the swagger; `status` is the likely flag (UNCONFIRMED), 0 = active.
    return bool(row.get("inactive")) or row.get("status", 0) != 0


# fmt: off
RESOURCES: dict[str, Resource] = {
    resource.route: resource
    for resource in (
        Resource("client", "Client", "clients", "clients", lambda r: bool(r.get("inactive")),
                 int_filters=("toplevel_id",)),
        Resource("site", "Site", "sites", "sites", lambda r: bool(r.get("inactive")),
                 client_filters=True),
        Resource("item", "Item", "items", "items", _item_inactive),
        Resource("recurringinvoice", "RecurringInvoice", "recurring_invoices", "invoices",
                 lambda r: bool(r.get("disabled")), search_fields=("client_name", "reference"),
                 client_filters=True, client_ids_filter=True, has_lines=True, negative_ids=True,
                 bool_params=_INCLUDE_DATE_FIELDS),
        Resource("invoice", "Invoice", "invoices", "invoices",
                 search_fields=("client_name", "reference", "invoicenumber"),
                 client_filters=True, client_ids_filter=True, has_lines=True,
                 bool_params=_INCLUDE_DATE_FIELDS),
        Resource("softwarelicence", "SoftwareLicence", "licences", "licences",
                 lambda r: r.get("is_active") is False or bool(r.get("deleted")),
                 client_filters=True, int_filters=("site_id",)),
        # Halo's list key for /ExternalLink is UNCONFIRMED; our client reads `links`.
        Resource("externallink", "ExternalLink", "external_links", "links",
                 search_fields=("third_party_desc", "halo_desc", "third_party_id"),
                 int_filters=("halo_id", "module_id", "table_id", "details_id"),
                 text_filters=("third_party_id", "third_party_type")),
    )
}
# fmt: on

# Fields whose type matters to the simulator's arithmetic and indexes: reject what Halo would.
_INT_FIELDS = frozenset({"client_id", "ihid", "_itemid", "sequenceid", "site_id", "halo_id"})
_NUMBER_FIELDS = frozenset({
    "qty_order", "unit_price", "unit_cost", "baseprice", "tax_rate",
    "costprice", "recurringprice", "recurringcost",  # an Item's (swagger: double)
})  # fmt: skip
# An Item's text fields (swagger: string) that trueup writes or matches on.
_ITEM_TEXT_FIELDS = ("name", "supplier_part_code", "description", "internalreference")
# Halo's "none" for a foreign key (halo-api.md §4): a line with _itemid 0 or -1 is free text.
_UNSET_IDS = (0, -1)


# A new line takes what it does not send from its item, as Halo defaults RI lines [G-PRICE].
_ITEM_DEFAULTS = (
    ("item_shortdescription", "name"),
    ("unit_price", "recurringprice"),
    ("baseprice", "recurringprice"),
    ("unit_cost", "recurringcost"),
    ("nominal_code", "nominalcode"),
)


def _drop_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if value is not None}


def clean(value: Any) -> Any:
    """A private, null-free copy of JSON data (json does the deep copy at C speed)."""
    return json.loads(json.dumps(value), object_hook=_drop_nulls)


def money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def int_list(query: Query, name: str) -> list[int]:
    """A comma-separated list of ids (a single id is a list of one)."""
    parts = [part.strip() for part in query.get(name, "").split(",")]
    try:
        return [int(part) for part in parts if part]
    except ValueError:
        raise invalid(name, f"The value '{query[name]}' is not valid.") from None


def int_param(query: Query, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid(name, f"The value '{raw}' is not valid.") from None


def check_bool(query: Query, name: str) -> None:
    """A boolean parameter takes true or false (any case), as .NET's bool binding does."""
    raw = query.get(name, "").strip()
    if raw and raw.lower() not in ("true", "false"):
        raise invalid(name, f"The value '{raw}' is not valid.")


class Table:
    """The rows of one resource by id, plus a client_id index for the client filters."""

    def __init__(self, resource: Resource, rows: Iterable[Row]) -> None:
        self.resource = resource
        self.rows: dict[int, Row] = {}
        self.by_client: dict[int, dict[int, None]] = {}  # insertion-ordered set of row ids
        for row in rows:
            self.add(row)
        ids = list(self.rows)
        if resource.negative_ids:
            self._next_id = min([0, *ids]) - 1
        else:
            self._next_id = max([0, *ids]) + 1

    def allocate_id(self) -> int:
        new_id = self._next_id
        self._next_id += -1 if self.resource.negative_ids else 1
        return new_id

    def add(self, row: Row) -> None:
        self.rows[row["id"]] = row
        self.index(row)

    def remove(self, row_id: int) -> Row:
        row = self.rows.pop(row_id)
        self.unindex(row)
        return row

    def index(self, row: Row) -> None:
        if isinstance(row.get("client_id"), int):
            self.by_client.setdefault(row["client_id"], {})[row["id"]] = None

    def unindex(self, row: Row) -> None:
        if isinstance(row.get("client_id"), int):
            self.by_client.get(row["client_id"], {}).pop(row["id"], None)


class HaloStore:
    def __init__(self, halo: Mapping[str, Any], *, omitted_lines: str, today: str) -> None:
        data = clean(dict(halo))
        self.omitted_lines = omitted_lines
        self.today = today  # the sandbox's date, as Halo writes dates: no zone
        self.tables = {
            route: Table(resource, data.get(resource.scenario_key) or [])
            for route, resource in RESOURCES.items()
        }
        # Line ids are unique across recurring and one-off invoices (one InvoiceDetail table);
        # RI ids are negative and invoice ids positive, so the owner id tells the table too.
        self.line_owner: dict[int, int] = {}
        for route in ("recurringinvoice", "invoice"):
            for header in self.tables[route].rows.values():
                for line in header.setdefault("lines", []):
                    line.setdefault("ihid", header["id"])
                    self.line_owner[line["id"]] = header["id"]
        self._next_line_id = max([0, *self.line_owner]) + 1
        # Paging re-asks the same selection once per page: keep it until the next write.
        self._selections: dict[tuple[Any, ...], list[Row]] = {}

    def forget_selections(self) -> None:
        """Called on every write: any cached selection may no longer match."""
        self._selections.clear()

    # --- reads ---------------------------------------------------------------------------

    def get(self, resource: Resource, row_id: int) -> Row:
        row = self.tables[resource.route].rows.get(row_id)
        if row is None:
            raise not_found(f"{resource.name} {row_id} not found.")
        return row

    def select(self, resource: Resource, query: Query, include_inactive: bool) -> list[Row]:
        """The rows a list request matches, in storage order. Do not mutate the list."""
        for name in resource.bool_params:
            check_bool(query, name)
        filters = ("client_id", "client_ids", *resource.int_filters, *resource.text_filters)
        key = (resource.route, include_inactive, query.get("search"), *map(query.get, filters))
        if key not in self._selections:
            if len(self._selections) >= MAX_CACHED_SELECTIONS:
                self._selections.clear()
            self._selections[key] = self._select(resource, query, include_inactive)
        return self._selections[key]

    def _select(self, resource: Resource, query: Query, include_inactive: bool) -> list[Row]:
        table = self.tables[resource.route]
        client_ids = int_list(query, "client_id") if resource.client_filters else []
        if resource.client_ids_filter:
            client_ids += int_list(query, "client_ids")
        if client_ids:  # through the index: a per-client sync must not scan every row
            rows = [table.rows[i] for cid in client_ids for i in table.by_client.get(cid, {})]
        else:
            rows = list(table.rows.values())
        if resource.is_inactive and not include_inactive:
            is_inactive = resource.is_inactive
            rows = [row for row in rows if not is_inactive(row)]
        for field in resource.int_filters:
            if (number := int_param(query, field)) is not None:
                rows = [row for row in rows if row.get(field) == number]
        for field in resource.text_filters:
            if text := query.get(field, "").lower():
                rows = [row for row in rows if _lower(row, field) == text]
        if search := query.get("search", "").strip().lower():
            fields = resource.search_fields
            rows = [row for row in rows if any(search in _lower(row, f) for f in fields)]
        return rows

    # --- writes --------------------------------------------------------------------------

    def save(self, resource: Resource, body: Any) -> tuple[list[Row], bool]:
        """POST /api/{Resource}: create id-less elements, patch the others. All or nothing."""
        elements = object_array(body, resource.name)
        table = self.tables[resource.route]
        for index, element in enumerate(elements):
            self._check_element(resource, table, element, f"[{index}]")
        saved, created = [], False
        for element in elements:
            row_id = element.get("id") or 0
            if row_id:
                row = table.rows[row_id]
                self._patch(table, row, element)
            else:
                row = {"id": table.allocate_id()}
                self._patch(table, row, element)
                created = True
            saved.append(row)
        return saved, created

    def delete(self, resource: Resource, row_id: int) -> None:
        row = self.get(resource, row_id)
        self.tables[resource.route].remove(row_id)
        for line in row.get("lines", []):
            self.line_owner.pop(line["id"], None)

    # --- write helpers -------------------------------------------------------------------

    def check_item(self, line: Row, current: Row | None, path: str) -> None:
        """Halo refuses a line for an item it does not have, so a stale item mapping fails here
        as it would there. A line echoed with its item unchanged is not checked again."""
        item_id = line.get("_itemid")
        if item_id in (None, *_UNSET_IDS) or (current and item_id == current.get("_itemid")):
            return
        if item_id not in self.tables["item"].rows:
            raise invalid(f"{path}._itemid", f"No Item with id {item_id}.")

    def _check_element(self, resource: Resource, table: Table, element: Row, path: str) -> None:
        check_types(element, path)
        row_id = element.get("id") or 0
        if row_id and row_id not in table.rows:
            raise invalid(f"{path}.id", f"No {resource.name} with id {row_id}.")
        client_id = element.get("client_id")
        if (
            resource.has_lines
            and client_id is not None
            and client_id != table.rows.get(row_id, {}).get("client_id")
            and client_id not in self.tables["client"].rows
        ):
            # An invoice for a client Halo does not have is refused (a stale client mapping).
            raise invalid(f"{path}.client_id", f"No Client with id {client_id}.")
        if resource.route == "item":
            _check_item(element, path, is_new=not row_id)
        if "lines" not in element:
            return
        if not resource.has_lines or not isinstance(element["lines"], list):
            raise invalid(f"{path}.lines")
        existing = table.rows.get(row_id, {})
        for index, line in enumerate(element["lines"]):
            line_path = f"{path}.lines[{index}]"
            if not isinstance(line, dict):
                raise invalid(line_path)
            check_types(line, line_path)
            line_id = line.get("id") or 0
            current = line_by_id(existing, line_id) if line_id else None
            if line_id and current is None:
                raise invalid(f"{line_path}.id", f"No line {line_id} on {resource.name} {row_id}.")
            if row_id and line.get("ihid", row_id) != row_id:
                raise invalid(f"{line_path}.ihid", f"Line belongs to {resource.name} {row_id}.")
            self.check_item(line, current, line_path)

    def _patch(self, table: Table, row: Row, element: Row) -> None:
        resource = table.resource
        is_new = row["id"] not in table.rows
        old_client_id = row.get("client_id")
        patch_fields(row, element, keep=("id", "lines"))
        if "client_id" in element and "client_name" not in element:
            client = self.tables["client"].rows.get(row.get("client_id", 0))
            if client and "name" in client:
                row["client_name"] = client["name"]
        if "lines" in element:
            self._merge_lines(row, element["lines"])
        if resource.has_lines:
            row.setdefault("lines", [])
            recompute_totals(row, is_invoice=not resource.negative_ids)
        if is_new:
            if resource.route == "invoice":  # Halo numbers a new invoice
                row.setdefault("invoicenumber", str(row["id"]))
            table.add(row)
        elif row.get("client_id") != old_client_id:
            table.unindex({"id": row["id"], "client_id": old_client_id})
            table.index(row)

    def _merge_lines(self, header: Row, sent_lines: list[Row]) -> None:
        """Lines with an id are patched, id-less ones added; omitted ones go if 'replace'."""
        current = {line["id"]: line for line in header.get("lines", [])}
        sent_order = []
        for sent in sent_lines:
            if sent.get("id"):
                line = current[sent["id"]]
                patch_fields(line, sent, keep=("id", "ihid"))
            else:
                line = self.new_line(header, sent)
            sent_order.append(line)
        if self.omitted_lines == "replace":
            sent_ids = {line["id"] for line in sent_order}
            for line_id in current.keys() - sent_ids:
                self.line_owner.pop(line_id, None)
            header["lines"] = sent_order
        else:
            added = [line for line in sent_order if line["id"] not in current]
            header["lines"] = [*current.values(), *added]

    def new_line(self, header: Row, sent: Row) -> Row:
        line = {"id": self._next_line_id, "ihid": header["id"]}
        self._next_line_id += 1
        patch_fields(line, sent, keep=("id", "ihid"))
        item = self.tables["item"].rows.get(line.get("_itemid", 0))
        for line_field, item_field in _ITEM_DEFAULTS:
            if item and item_field in item:
                line.setdefault(line_field, item[item_field])
        if "sequenceid" not in line:
            line["sequenceid"] = 1 + max(
                (other.get("sequenceid", 0) for other in header.get("lines", [])), default=0
            )
        self.line_owner[line["id"]] = header["id"]
        return line


def recompute_totals(header: Row, *, is_invoice: bool) -> None:
    """Line net = qty × price (2 dp); header revenue = active nets, total = revenue + tax."""
    revenue = tax = Decimal(0)
    for line in header.get("lines", []):
        net = (_decimal(line.get("qty_order")) * _decimal(line.get("unit_price"))).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
        line["net_amount"] = line["total_price"] = float(net)
        line_tax = Decimal(0)
        if "tax_rate" in line:
            line_tax = (net * _decimal(line["tax_rate"]) / 100).quantize(CENT, ROUND_HALF_UP)
            line["tax_amount"] = float(line_tax)
        if not line.get("isinactive"):
            revenue += net
            tax += line_tax
    header["revenue"] = money(revenue)
    header["tax_total"] = money(tax)
    header["total"] = money(revenue + tax)
    if is_invoice:
        header["amountdue"] = money(revenue + tax - _decimal(header.get("amountpaid")))


def _lower(row: Row, field: str) -> str:
    value = row.get(field)
    return str(value).lower() if value is not None else ""


def line_by_id(header: Row, line_id: int) -> Row | None:
    return next((line for line in header.get("lines", []) if line["id"] == line_id), None)


def object_array(body: Any, type_name: str) -> list[Row]:
    if not isinstance(body, list):
        raise invalid("$", f"The JSON value could not be converted to List<{type_name}>.")
    if not body:
        raise invalid("$", "The array is empty.")
    for index, element in enumerate(body):
        if not isinstance(element, dict):
            raise invalid(f"[{index}]", f"The JSON value could not be converted to {type_name}.")
    return body


def check_types(element: Row, path: str) -> None:
    row_id = element.get("id")
    if row_id is not None and type(row_id) is not int:
        raise invalid(f"{path}.id", f"The value '{row_id}' is not valid.")
    for key, value in element.items():
        if value is None:
            continue
        if key in _INT_FIELDS and type(value) is not int:
            raise invalid(f"{path}.{key}", f"The value '{value}' is not valid.")
        if key in _NUMBER_FIELDS and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise invalid(f"{path}.{key}", f"The value '{value}' is not valid.")


def _check_item(element: Row, path: str, *, is_new: bool) -> None:
    """An Item's text fields must be text, and an item needs a name: Halo's screens refuse one
    without (its API's own message for it is UNCONFIRMED)."""
    for key in _ITEM_TEXT_FIELDS:
        value = element.get(key)
        if value is not None and not isinstance(value, str):
            raise invalid(f"{path}.{key}", f"The value '{value}' is not valid.")
    if (is_new or "name" in element) and not (element.get("name") or "").strip():
        raise invalid(f"{path}.name", "The Name field is required.")


def patch_fields(row: Row, sent: Row, *, keep: tuple[str, ...]) -> None:
    """Only the fields sent change; a null removes the field (nulls are never served)."""
    for key, value in sent.items():
        if key in keep:
            continue
        if value is None:
            row.pop(key, None)
        else:
            row[key] = clean(value) if isinstance(value, dict | list) else value
