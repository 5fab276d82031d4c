"""Pax8 simulator routes for companies, contacts, products and orders."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trueup.sandbox import pax8_wire as wire
from trueup.sandbox.common import json_response
from trueup.sandbox.pax8_query import (
    Json,
    ListingCache,
    Pax8Error,
    SortKey,
    bool_param,
    filtered,
    folded_key,
    instant,
    is_uuid,
    json_body,
    page_request,
    paged,
    reject_invalid,
)
from trueup.sandbox.pax8_store import Pax8Store, pax8_timestamp

BILLING_TERMS = ("Monthly", "Annual", "2-Year", "3-Year", "One-Time", "Trial", "Activation")
ADDRESS_FILTERS = ("city", "country", "stateOrProvince", "postalCode")
COMPANY_FLAGS = ("selfServiceAllowed", "billOnBehalfOfEnabled", "orderApprovalRequired")
COMPANY_TEXT_FIELDS = ("name", "phone", "website", "externalId")
# Company's `required` list in the spec; it describes the POST body (list examples omit some).
COMPANY_REQUIRED = ("name", "address", "phone", "website", *COMPANY_FLAGS)
COMPANY_READ_ONLY = ("id", "status", "updatedDate")
COMPANY_UPDATABLE = ("address", *COMPANY_TEXT_FIELDS, *COMPANY_FLAGS)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_YEARS = re.compile(r"^(\d+)-Year$")


def _address_key(name: str) -> SortKey:
    return lambda company: (company.get("address") or {}).get(name)


COMPANY_SORT = {
    "name": folded_key("name"),
    **{name: _address_key(name) for name in ADDRESS_FILTERS},
}
PRODUCT_SORT = {"name": folded_key("name"), "vendor": folded_key("vendorName")}


class CatalogRoutes:
    def __init__(self, store: Pax8Store) -> None:
        self.store = store
        self.listings = ListingCache()

    def routes(self) -> list[Route]:
        return [
            Route("/v1/companies", self.list_companies, methods=["GET"]),
            Route("/v1/companies", self.create_company, methods=["POST"]),
            Route("/v1/companies/{company_id}", self.get_company, methods=["GET"]),
            Route("/v1/companies/{company_id}", self.update_company, methods=["PATCH"]),
            Route("/v1/companies/{company_id}/contacts", self.list_contacts, methods=["GET"]),
            Route(
                "/v1/companies/{company_id}/contacts/{contact_id}",
                self.get_contact,
                methods=["GET"],
            ),
            Route("/v1/products", self.list_products, methods=["GET"]),
            Route("/v1/products/{product_id}", self.get_product, methods=["GET"]),
            Route("/v1/products/{product_id}/pricing", self.get_pricing, methods=["GET"]),
            Route("/v1/products/{product_id}/dependencies", self.get_dependencies, methods=["GET"]),
            Route(
                "/v1/products/{product_id}/provision-details",
                self.get_provision_details,
                methods=["GET"],
            ),
            Route("/v1/orders", self.list_orders, methods=["GET"]),
            Route("/v1/orders", self.create_order, methods=["POST"]),
            Route("/v1/orders/{order_id}", self.get_order, methods=["GET"]),
        ]

    # -- companies and contacts ---------------------------------------------------------------

    async def list_companies(self, request: Request) -> Response:
        page = page_request(request)
        wanted: dict[str, Any] = {name: bool_param(request, name) for name in COMPANY_FLAGS}
        wanted["status"] = request.query_params.get("status") or None
        address = {name: request.query_params.get(name) or None for name in ADDRESS_FILTERS}

        def build() -> list[Json]:
            companies = filtered(self.store.companies.values(), wanted)
            return [company for company in companies if _has_address(company, address)]

        companies = self.listings.get(request, self.store.version, build, COMPANY_SORT)
        return json_response(paged(companies, page))

    async def get_company(self, request: Request) -> Response:
        return json_response(self.store.company(request.path_params["company_id"]))

    async def create_company(self, request: Request) -> Response:
        body = await json_body(request)
        missing = [name for name in COMPANY_REQUIRED if body.get(name) is None]
        reject_invalid([f"{name}: must not be null" for name in missing] + _company_problems(body))
        fields = {name: value for name, value in body.items() if name not in COMPANY_READ_ONLY}
        return json_response(self.store.add_company(fields))

    async def update_company(self, request: Request) -> Response:
        company_id = request.path_params["company_id"]
        self.store.company(company_id)
        body = await json_body(request)
        reject_invalid(_company_problems(body))
        changes = {name: body[name] for name in COMPANY_UPDATABLE if name in body}
        return json_response(self.store.update_company(company_id, changes))

    async def list_contacts(self, request: Request) -> Response:
        page = page_request(request)
        company = self.store.company(request.path_params["company_id"])
        contacts = sorted(
            company.get("contacts") or (),
            key=lambda contact: instant(contact.get("createdDate") or "") or 0.0,
            reverse=True,
        )
        return json_response(paged(contacts, page))

    async def get_contact(self, request: Request) -> Response:
        company = self.store.company(request.path_params["company_id"])
        contact_id = request.path_params["contact_id"]
        for contact in company.get("contacts") or ():
            if contact.get("id") == contact_id:
                return json_response(contact)
        raise Pax8Error(404, "NOT_FOUND", f"Contact Not Found: {contact_id}")

    # -- products -----------------------------------------------------------------------------

    async def list_products(self, request: Request) -> Response:
        page = page_request(request)
        search = (request.query_params.get("search") or "").casefold()
        vendor = (request.query_params.get("vendorName") or "").casefold()

        def build() -> list[Json]:
            return [
                product
                for product in self.store.products.values()
                if (not vendor or str(product.get("vendorName", "")).casefold() == vendor)
                and (
                    not search
                    or search in str(product.get("name", "")).casefold()
                    or search in str(product.get("sku", "")).casefold()
                )
            ]

        products = self.listings.get(request, self.store.version, build, PRODUCT_SORT)
        # The list serves Product; only ProductDetail carries the long description.
        return json_response(paged(products, page, "description"))

    async def get_product(self, request: Request) -> Response:
        return json_response(self.store.product(request.path_params["product_id"]))

    async def get_pricing(self, request: Request) -> Response:
        product = self.store.product(request.path_params["product_id"])
        company_id = request.query_params.get("companyId")
        if company_id:
            self.store.company(company_id)
        pricing = self.store.pricing.get(product["id"])
        if pricing is None:
            pricing = self._derived_pricing(product, company_id)
        return json_response({"content": pricing})

    async def get_dependencies(self, request: Request) -> Response:
        product = self.store.product(request.path_params["product_id"])
        dependencies = self.store.dependencies.get(product["id"])
        if dependencies is None:
            dependencies = {
                "commitmentDependencies": self._derived_commitments(product),
                "productDependencies": [],
            }
        return json_response(dependencies)

    async def get_provision_details(self, request: Request) -> Response:
        product = self.store.product(request.path_params["product_id"])
        return json_response({"content": self.store.provision_details.get(product["id"], [])})

    def _product_subscriptions(self, product_id: str) -> list[Json]:
        ids = self.store.subscriptions_by_product.get(product_id, ())
        return [self.store.subscriptions[sub_id] for sub_id in ids]

    def _derived_pricing(self, product: Json, company_id: str | None) -> list[Json]:
        """One Flat price per (billing term, commitment) seen on the product's subscriptions.

        The company's own subscriptions win, so a companyId gives that company's price.
        """
        chosen: dict[tuple[Any, Any], Json] = {}
        for sub in self._product_subscriptions(product["id"]):
            commitment = (sub.get("commitmentTerm") or {}).get("term")
            key = (sub.get("billingTerm"), commitment)
            if key not in chosen or (company_id and sub.get("companyId") == company_id):
                chosen[key] = sub
        pricing = []
        for (billing_term, commitment), sub in chosen.items():
            rate: Json = {"partnerBuyRate": sub.get("partnerCost", sub.get("price"))}
            rate |= {"suggestedRetailPrice": sub.get("price"), "startQuantityRange": 1}
            entry: Json = {"productId": product["id"], "productName": product.get("name")}
            entry["billingTerm"] = billing_term
            if commitment:
                years = _YEARS.match(commitment)
                entry["commitmentTerm"] = commitment
                entry["commitmentTermInMonths"] = int(years.group(1)) * 12 if years else 1
            entry |= {"type": "Flat", "unitOfMeasurement": self._unit(product["id"])}
            entry["rates"] = [rate | {"chargeType": "Per Unit"}]
            pricing.append(entry)
        return pricing

    def _derived_commitments(self, product: Json) -> list[Json]:
        """The commitment terms seen on the product's subscriptions, with NCE's rules (no
        decrease or early cancellation after the 7-day window)."""
        commitments: dict[str, Json] = {}
        for sub in self._product_subscriptions(product["id"]):
            term = sub.get("commitmentTerm")
            if term and term.get("id") and term["id"] not in commitments:
                commitments[term["id"]] = {
                    "id": term["id"],
                    "term": term.get("term"),
                    "autoRenew": True,
                    "renewalWindowDaysBeforeTermEnd": 0,
                    "renewalWindowDaysAfterTermEnd": 7,
                    "allowForQuantityIncrease": True,
                    "allowForQuantityDecrease": False,
                    "allowForEarlyCancellation": False,
                    "cancellationFeeApplied": True,
                    "isTransferable": False,
                }
        return list(commitments.values())

    def _unit(self, product_id: str) -> str:
        return self.store.unit_of_measure.get(product_id, "User")

    # -- orders -------------------------------------------------------------------------------

    async def list_orders(self, request: Request) -> Response:
        page = page_request(request)
        company_id = request.query_params.get("companyId") or ""
        # A companyId that is not a uuid is ignored rather than rejected (wire behaviour).
        if is_uuid(company_id):
            ids = self.store.orders_by_company.get(company_id, [])
            orders = [self.store.orders[order_id] for order_id in ids]
        else:
            orders = list(self.store.orders.values())
        # Scheduled (future-dated) orders are not listed [SPEC].
        orders = [order for order in orders if not order.get("isScheduled")]
        body = paged(orders, page)
        body["content"] = [wire.order(order) for order in body["content"]]
        return json_response(body)

    async def get_order(self, request: Request) -> Response:
        return json_response(wire.order(self.store.order(request.path_params["order_id"])))

    async def create_order(self, request: Request) -> Response:
        is_mock = bool_param(request, "isMock")
        body = await json_body(request)
        reject_invalid(self._order_problems(body))
        now = self.store.now()
        order: Json = {
            "id": str(uuid.uuid4()),
            "companyId": body["companyId"],
            "createdDate": now.strftime("%Y-%m-%d"),
            "orderedBy": "Pax8 Partner",
            "isScheduled": False,
            "lineItems": [],
        }
        subscriptions = []
        for line in body["lineItems"]:
            start = line.get("provisionStartDate") or now.strftime("%Y-%m-%dT%H:%M:%SZ")
            order["isScheduled"] |= (instant(start) or 0) > now.timestamp()
            subscription = self._new_subscription(body["companyId"], line, start)
            subscriptions.append(subscription)
            item = {"id": str(uuid.uuid4()), "productId": line["productId"]}
            item |= {"subscriptionId": subscription["id"], "provisionStartDate": start}
            item |= {"billingTerm": line["billingTerm"], "quantity": line["quantity"]}
            if line.get("commitmentTermId"):
                item["commitmentTermId"] = line["commitmentTermId"]
            order["lineItems"].append(item)
        if not is_mock:
            self.store.add_order(order, subscriptions)
        return json_response(wire.order(order))

    def _order_problems(self, body: Json) -> list[str]:
        if body.get("companyId") not in self.store.companies:
            return [f"companyId: company not found: {body.get('companyId')}"]
        lines = body.get("lineItems")
        if not isinstance(lines, list) or not lines:
            return ["lineItems: at least one line item is required"]
        problems = []
        for number, line in enumerate(lines):
            where = f"lineItems[{number}]"
            if not isinstance(line, dict):
                problems.append(f"{where}: must be an object")
                continue
            if line.get("productId") not in self.store.products:
                problems.append(f"{where}.productId: product not found: {line.get('productId')}")
            quantity = line.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                problems.append(f"{where}.quantity: must be a positive whole number")
            if line.get("billingTerm") not in BILLING_TERMS:
                problems.append(f"{where}.billingTerm: must be one of {', '.join(BILLING_TERMS)}")
            start = line.get("provisionStartDate")
            if start is not None and (not isinstance(start, str) or instant(start) is None):
                problems.append(f"{where}.provisionStartDate: must be a date-time")
            parent_id = line.get("parentSubscriptionId")
            parent = self.store.subscriptions.get(parent_id) if isinstance(parent_id, str) else None
            if parent_id is not None and (parent or {}).get("companyId") != body["companyId"]:
                problems.append(f"{where}.parentSubscriptionId: not a subscription of the company")
        return problems

    def _new_subscription(self, company_id: str, line: Json, start: str) -> Json:
        """The subscription an order line creates, priced like the product's existing ones."""
        product = self.store.products[line["productId"]]
        peers = self._product_subscriptions(product["id"])
        same_term = [sub for sub in peers if sub.get("billingTerm") == line["billingTerm"]]
        reference = (same_term or peers or [{}])[0]
        stamp = pax8_timestamp(self.store.now())
        subscription: Json = {
            "id": str(uuid.uuid4()),
            "companyId": company_id,
            "productId": product["id"],
            "productName": product.get("name"),
            "quantity": line["quantity"],
            "startDate": start,
            "createdDate": stamp,
            "updatedDate": stamp,
            "billingStart": start[:10],
            "status": "Active",
            "price": reference.get("price", 0),
            "partnerCost": reference.get("partnerCost", 0),
            "currencyCode": reference.get("currencyCode", "USD"),
            "billingTerm": line["billingTerm"],
            "commitmentTerm": reference.get("commitmentTerm"),
            "provisioningDetails": line.get("provisioningDetails") or [],
        }
        if line.get("parentSubscriptionId"):  # an add-on: the subscription it depends on
            subscription["parentSubscriptionId"] = line["parentSubscriptionId"]
        return subscription


def _has_address(company: Json, wanted: dict[str, str | None]) -> bool:
    address = company.get("address") or {}
    return all(value is None or address.get(name) == value for name, value in wanted.items())


def _company_problems(body: Json) -> list[str]:
    problems = [
        f"{name}: must be a string"
        for name in COMPANY_TEXT_FIELDS
        if name in body and not isinstance(body[name], str)
    ]
    problems += [
        f"{name}: must be a boolean"
        for name in COMPANY_FLAGS
        if name in body and not isinstance(body[name], bool)
    ]
    address = body.get("address")
    if "address" in body and not isinstance(address, dict):
        problems.append("address: must be an object")
    elif isinstance(address, dict) and not _COUNTRY.match(str(address.get("country", "US"))):
        problems.append("address.country: must be an ISO 3166 two-letter code")
    contacts = body.get("contacts")
    if "contacts" in body and not (
        isinstance(contacts, list) and all(isinstance(contact, dict) for contact in contacts)
    ):
        problems.append("contacts: must be a list of contacts")
    return problems
