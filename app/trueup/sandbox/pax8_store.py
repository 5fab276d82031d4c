"""The Pax8 simulator's in-memory world: the scenario's objects, their indexes and the writes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from trueup.sandbox.common import Clock
from trueup.sandbox.pax8_query import Json, Pax8Error, instant
from trueup.sandbox.scenario import Scenario

# Company status stays Inactive until it has primary contacts of all three types [SPEC; DEVX-TIPS].
REQUIRED_CONTACT_TYPES = frozenset({"Admin", "Billing", "Technical"})


def _by_id(objects: Iterable[Json] | None) -> dict[str, Json]:
    return {obj["id"]: obj for obj in objects or ()}


def _group_ids(objects: dict[str, Json], key: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for obj_id, obj in objects.items():
        if obj.get(key) is not None:
            groups.setdefault(obj[key], []).append(obj_id)
    return groups


def pax8_timestamp(moment: datetime) -> str:
    """Pax8's `updatedDate` style: milliseconds and an offset without a colon (…314-0600)."""
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + (moment.strftime("%z") or "+0000")
    )


class Pax8Store:
    """Everything the simulator serves, indexed once at startup.

    Scenario objects are shared, never mutated: a write replaces the object with a new dict, so
    the caller's Scenario stays untouched without copying tens of thousands of objects up front.
    Indexes hold ids, which writes never change, so a replaced object needs no re-indexing.
    """

    def __init__(self, scenario: Scenario, clock: Clock = time.monotonic) -> None:
        data = scenario.pax8
        as_of = scenario.as_of
        self._as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        self._clock = clock
        self._started = clock()
        # Bumped on every write, so listings and draft items can be cached until the next one.
        self.version = 0

        self.companies = _by_id(data.get("companies"))
        self.products = _by_id(data.get("products"))
        self.subscriptions = _by_id(data.get("subscriptions"))
        self.subscriptions_by_company = _group_ids(self.subscriptions, "companyId")
        self.subscriptions_by_product = _group_ids(self.subscriptions, "productId")
        self.history: dict[str, list[Json]] = {
            sub_id: list(snapshots)
            for sub_id, snapshots in (data.get("subscription_history") or {}).items()
        }
        self.orders = _by_id(data.get("orders"))
        self.orders_by_company = _group_ids(self.orders, "companyId")
        self.invoices = _by_id(data.get("invoices"))
        self.invoices_by_company = _group_ids(self.invoices, "companyId")
        self.usage_summaries = _by_id(data.get("usage_summaries"))
        self.summaries_by_subscription = _group_ids(self.usage_summaries, "subscriptionId")
        self.usage_lines_by_date: dict[str, dict[str, list[Json]]] = {}
        for summary_id, summary in self.usage_summaries.items():
            by_date = self.usage_lines_by_date.setdefault(summary_id, {})
            for line in summary.get("lines") or ():
                by_date.setdefault(line.get("usageDate", ""), []).append(line)
        # Optional scenario extras keyed by product id; absent ones are derived (see the routes).
        self.pricing: dict[str, list[Json]] = data.get("pricing") or {}
        self.dependencies: dict[str, Json] = data.get("dependencies") or {}
        self.provision_details: dict[str, list[Json]] = data.get("provision_details") or {}
        self.unit_of_measure: dict[str, str] = {}
        for invoice in self.invoices.values():
            for item in invoice.get("items") or ():
                if item.get("productId") and item.get("unitOfMeasure"):
                    self.unit_of_measure.setdefault(item["productId"], item["unitOfMeasure"])

    # -- time -------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated present: the scenario's as_of, advancing with the injected clock."""
        return self._as_of + timedelta(seconds=self._clock() - self._started)

    # -- lookups ----------------------------------------------------------------------------

    def company(self, company_id: str) -> Json:
        return _found(self.companies, company_id, "Company")

    def product(self, product_id: str) -> Json:
        return _found(self.products, product_id, "Product")

    def subscription(self, subscription_id: str) -> Json:
        return _found(self.subscriptions, subscription_id, "Subscription")

    def order(self, order_id: str) -> Json:
        return _found(self.orders, order_id, "Order")

    def invoice(self, invoice_id: str) -> Json:
        return _found(self.invoices, invoice_id, "Invoice")

    def usage_summary(self, summary_id: str) -> Json:
        return _found(self.usage_summaries, summary_id, "Usage Summary")

    def subscription_history(self, subscription_id: str) -> list[Json]:
        current = self.subscription(subscription_id)
        return self.history.get(subscription_id) or [current]

    # -- writes -----------------------------------------------------------------------------

    def add_company(self, fields: Json) -> Json:
        contacts = [self._new_contact(contact) for contact in fields.get("contacts") or ()]
        company = {**fields, "id": str(uuid.uuid4()), "status": _company_status(contacts)}
        company["updatedDate"] = pax8_timestamp(self.now())
        if contacts:
            company["contacts"] = contacts
        self.companies[company["id"]] = company
        self.version += 1
        return company

    def update_company(self, company_id: str, changes: Json) -> Json:
        company = self.company(company_id)
        updated = {**company, **changes, "updatedDate": pax8_timestamp(self.now())}
        if isinstance(changes.get("address"), dict):
            updated["address"] = {**(company.get("address") or {}), **changes["address"]}
        self.companies[company_id] = updated
        self.version += 1
        return updated

    def update_subscription(self, subscription_id: str, changes: Json) -> Json:
        current = self.subscription(subscription_id)
        if all(current.get(name) == value for name, value in changes.items()):
            return current
        return self._replace_subscription(current, changes)

    def cancel_subscription(self, subscription_id: str, cancel_date: str | None) -> None:
        current = self.subscription(subscription_id)
        if current.get("status") == "Cancelled":
            raise Pax8Error(422, "UNPROCESSABLE_ENTITY", "Subscription is already cancelled")
        end_date = cancel_date or self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._replace_subscription(current, {"status": "Cancelled", "endDate": end_date})

    def add_order(self, order: Json, subscriptions: list[Json]) -> None:
        self.orders[order["id"]] = order
        self.orders_by_company.setdefault(order["companyId"], []).append(order["id"])
        for subscription in subscriptions:
            self.subscriptions[subscription["id"]] = subscription
            self.subscriptions_by_company.setdefault(subscription["companyId"], []).append(
                subscription["id"]
            )
            self.subscriptions_by_product.setdefault(subscription["productId"], []).append(
                subscription["id"]
            )
        self.version += 1

    def is_future_dated(self, subscription: Json) -> bool:
        start = instant(subscription.get("startDate") or "")
        return start is not None and start > self.now().timestamp()

    def _replace_subscription(self, current: Json, changes: Json) -> Json:
        """Store the changed subscription and put the new version on top of its history."""
        updated = {**current, **changes, "updatedDate": pax8_timestamp(self.now())}
        self.subscriptions[current["id"]] = updated
        # A subscription without history has had one version, the one just replaced.
        older = self.history.get(current["id"]) or [current]
        self.history[current["id"]] = [updated, *older]
        self.version += 1
        return updated

    def _new_contact(self, contact: Json) -> Json:
        return {**contact, "id": str(uuid.uuid4()), "createdDate": self.now().strftime("%Y-%m-%d")}


def _found(objects: dict[str, Json], object_id: str, kind: str) -> Json:
    found = objects.get(object_id)
    if found is None:
        raise Pax8Error(404, "NOT_FOUND", f"{kind} Not Found: {object_id}")
    return found


def _company_status(contacts: list[Json]) -> str:
    primary_types = {
        kind.get("type")
        for contact in contacts
        for kind in contact.get("types") or ()
        if isinstance(kind, dict) and kind.get("primary")
    }
    return "Active" if primary_types >= REQUIRED_CONTACT_TYPES else "Inactive"
