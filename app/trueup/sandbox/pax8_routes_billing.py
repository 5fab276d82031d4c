"""Pax8 simulator routes for subscriptions (with history and usage) and invoices."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trueup.sandbox import pax8_wire as wire
from trueup.sandbox.common import json_response
from trueup.sandbox.pax8_drafts import draft_items, draft_month
from trueup.sandbox.pax8_query import (
    Json,
    ListingCache,
    Pax8Error,
    date_param,
    field_key,
    filtered,
    folded_key,
    instant,
    instant_key,
    invalid_param,
    json_body,
    number_param,
    page_request,
    paged,
    reject_invalid,
    sorted_by,
    without,
)
from trueup.sandbox.pax8_routes_catalog import BILLING_TERMS
from trueup.sandbox.pax8_store import Pax8Store

SUBSCRIPTION_SORT = {
    "quantity": field_key("quantity"),
    "startDate": instant_key("startDate"),
    "endDate": instant_key("endDate"),
    "createdDate": instant_key("createdDate"),
    "billingStart": instant_key("billingStart"),
    "price": field_key("price"),
}
INVOICE_SORT = {
    "invoiceDate": field_key("invoiceDate"),
    "dueDate": field_key("dueDate"),
    "status": field_key("status"),
    "partnerName": folded_key("partnerName"),
    "total": field_key("total"),
    "balance": field_key("balance"),
    "carriedBalance": field_key("carriedBalance"),
}
USAGE_SUMMARY_SORT = {
    "resourceGroup": folded_key("resourceGroup"),
    "currentCharges": field_key("currentCharges"),
    "partnerTotal": field_key("partnerTotal"),
}
SUBSCRIPTION_UPDATABLE = ("quantity", "price", "billingTerm", "startDate")


class BillingRoutes:
    def __init__(self, store: Pax8Store) -> None:
        self.store = store
        self.listings = ListingCache()

    def routes(self) -> list[Route]:
        subscription = "/v1/subscriptions/{subscription_id}"
        summary = "/v1/usage-summaries/{summary_id}"
        return [
            Route("/v1/subscriptions", self.list_subscriptions, methods=["GET"]),
            Route(subscription, self.get_subscription, methods=["GET"]),
            Route(subscription, self.update_subscription, methods=["PUT"]),
            Route(subscription, self.cancel_subscription, methods=["DELETE"]),
            Route(subscription + "/history", self.get_history, methods=["GET"]),
            Route(subscription + "/usage-summaries", self.list_usage_summaries, methods=["GET"]),
            Route(summary, self.get_usage_summary, methods=["GET"]),
            Route(summary + "/usage-lines", self.list_usage_lines, methods=["GET"]),
            Route("/v1/invoices", self.list_invoices, methods=["GET"]),
            # Before /invoices/{invoice_id}, which would otherwise capture it.
            Route("/v1/invoices/draftItems", self.list_draft_items, methods=["GET"]),
            Route("/v1/invoices/{invoice_id}", self.get_invoice, methods=["GET"]),
            Route("/v1/invoices/{invoice_id}/items", self.list_invoice_items, methods=["GET"]),
        ]

    # -- subscriptions ------------------------------------------------------------------------

    async def list_subscriptions(self, request: Request) -> Response:
        page = page_request(request)
        query = request.query_params
        company_id = query.get("companyId") or None
        product_id = query.get("productId") or None
        if company_id is not None and company_id not in self.store.companies:
            # The spec's answer for a company that is not the partner's [SPEC findSubscriptions].
            raise Pax8Error(403, "FORBIDDEN", f"Access is denied to company: {company_id}")
        wanted = {
            "status": query.get("status") or None,
            "billingTerm": query.get("billingTerm") or None,
            "productId": product_id,
        }

        def build() -> list[Json]:
            if company_id:
                ids = self.store.subscriptions_by_company.get(company_id, [])
            elif product_id:
                ids = self.store.subscriptions_by_product.get(product_id, [])
            else:
                return filtered(self.store.subscriptions.values(), wanted)
            return filtered((self.store.subscriptions[sub_id] for sub_id in ids), wanted)

        subscriptions = self.listings.get(request, self.store.version, build, SUBSCRIPTION_SORT)
        body = paged(subscriptions, page)
        body["content"] = [wire.subscription(sub) for sub in body["content"]]
        return json_response(body)

    async def get_subscription(self, request: Request) -> Response:
        subscription = self.store.subscription(request.path_params["subscription_id"])
        return json_response(wire.subscription(subscription))

    async def update_subscription(self, request: Request) -> Response:
        subscription = self.store.subscription(request.path_params["subscription_id"])
        body = await json_body(request)
        changes = {name: body[name] for name in SUBSCRIPTION_UPDATABLE if name in body}
        problems = _subscription_update_problems(changes)
        if subscription.get("status") == "Cancelled":
            problems.append("status: a cancelled subscription cannot be updated")
        elif self.store.is_future_dated(subscription):
            problems.append("startDate: future-dated subscriptions cannot be updated")
        reject_invalid(problems, "Subscription update failed")
        updated = self.store.update_subscription(subscription["id"], changes)
        return json_response(wire.subscription(updated))

    async def cancel_subscription(self, request: Request) -> Response:
        cancel_date = request.query_params.get("cancelDate") or None
        if cancel_date is not None and instant(cancel_date) is None:
            raise invalid_param("cancelDate", f"'{cancel_date}' is not a date-time")
        self.store.cancel_subscription(request.path_params["subscription_id"], cancel_date)
        return Response(status_code=204)

    async def get_history(self, request: Request) -> Response:
        history = self.store.subscription_history(request.path_params["subscription_id"])
        return json_response({"content": [wire.subscription(version) for version in history]})

    # -- usage --------------------------------------------------------------------------------

    async def list_usage_summaries(self, request: Request) -> Response:
        page = page_request(request)
        subscription = self.store.subscription(request.path_params["subscription_id"])
        ids = self.store.summaries_by_subscription.get(subscription["id"], [])
        wanted = {
            "resourceGroup": request.query_params.get("resourceGroup") or None,
            "companyId": request.query_params.get("companyId") or None,
        }
        summaries = filtered((self.store.usage_summaries[summary_id] for summary_id in ids), wanted)
        summaries = sorted_by(summaries, request, USAGE_SUMMARY_SORT)
        return json_response(paged(summaries, page, "lines"))

    async def get_usage_summary(self, request: Request) -> Response:
        summary = self.store.usage_summary(request.path_params["summary_id"])
        return json_response(without(summary, "lines"))

    async def list_usage_lines(self, request: Request) -> Response:
        page = page_request(request)
        summary = self.store.usage_summary(request.path_params["summary_id"])
        usage_date = date_param(request, "usageDate")
        if usage_date is None:
            raise invalid_param("usageDate", "required parameter is missing")
        # Any date the scenario holds lines for is served, closed past months included.
        lines = self.store.usage_lines_by_date[summary["id"]].get(usage_date, [])
        product_id = request.query_params.get("productId")
        if product_id:
            lines = [line for line in lines if line.get("productId") == product_id]
        return json_response(paged(lines, page))

    # -- invoices -----------------------------------------------------------------------------

    async def list_invoices(self, request: Request) -> Response:
        page = page_request(request)
        company_id = request.query_params.get("companyId") or None
        if company_id is not None:
            self.store.company(company_id)  # 404 for an unknown company [SPEC findPartnerInvoices]
        wanted = {
            "status": request.query_params.get("status") or None,
            "invoiceDate": date_param(request, "invoiceDate"),
            "dueDate": date_param(request, "dueDate"),
            "total": number_param(request, "total"),
            "balance": number_param(request, "balance"),
            "carriedBalance": number_param(request, "carriedBalance"),
        }
        range_start = date_param(request, "invoiceDateRangeStart")
        range_end = date_param(request, "invoiceDateRangeEnd")

        def build() -> list[Json]:
            if company_id is None:
                invoices = filtered(self.store.invoices.values(), wanted)
            else:
                ids = self.store.invoices_by_company.get(company_id, [])
                invoices = filtered((self.store.invoices[invoice_id] for invoice_id in ids), wanted)
            if range_start or range_end:
                invoices = [
                    invoice
                    for invoice in invoices
                    if _within(str(invoice.get("invoiceDate")), range_start, range_end)
                ]
            return invoices

        invoices = self.listings.get(request, self.store.version, build, INVOICE_SORT)
        body = paged(invoices, page, "items")
        body["content"] = [wire.invoice(self.store, invoice) for invoice in body["content"]]
        if not body["content"]:
            del body["content"]  # Pax8 leaves an empty content list out of invoice pages
        return json_response(body)

    async def get_invoice(self, request: Request) -> Response:
        invoice = self.store.invoice(request.path_params["invoice_id"])
        return json_response(wire.invoice(self.store, without(invoice, "items")))

    async def list_invoice_items(self, request: Request) -> Response:
        page = page_request(request)
        invoice = self.store.invoice(request.path_params["invoice_id"])
        body = paged(invoice.get("items") or [], page)
        body["content"] = [wire.invoice_item(self.store, item) for item in body["content"]]
        return json_response(body)

    async def list_draft_items(self, request: Request) -> Response:
        page = page_request(request)
        offset_text = request.query_params.get("monthOffset") or "1"
        if offset_text not in ("0", "1"):
            raise Pax8Error(422, "UNPROCESSABLE_ENTITY", "monthOffset must be 0 or 1")
        month = draft_month(self.store, int(offset_text))
        company_id = request.query_params.get("companyId") or None
        if company_id is not None and company_id not in self.store.companies:
            raise Pax8Error(403, "FORBIDDEN", f"Access is denied to company: {company_id}")

        def build() -> list[Json]:
            if company_id is None:
                return draft_items(self.store, self.store.subscriptions.values(), month)
            ids = self.store.subscriptions_by_company.get(company_id, [])
            subscriptions = (self.store.subscriptions[sub_id] for sub_id in ids)
            return draft_items(self.store, subscriptions, month)

        # The month is part of the key: the simulated clock may cross into the next one.
        items = self.listings.get(request, self.store.version, build, {}, context=month)
        return json_response(paged(items, page))


def _within(day: str, first: str | None, last: str | None) -> bool:
    """Whether a yyyy-MM-dd day lies in an inclusive range; ISO dates compare as text."""
    return (first is None or day >= first) and (last is None or day <= last)


def _subscription_update_problems(changes: Json) -> list[str]:
    if not changes:
        return ["at least one of quantity, price, billingTerm or startDate is required"]
    problems = []
    quantity = changes.get("quantity")
    if "quantity" in changes and (
        isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1
    ):
        problems.append("quantity: must be a positive whole number")
    price = changes.get("price")
    if "price" in changes and (
        isinstance(price, bool) or not isinstance(price, int | float) or price < 0
    ):
        problems.append("price: must be a number of at least 0")
    if "billingTerm" in changes and changes["billingTerm"] not in BILLING_TERMS:
        problems.append(f"billingTerm: must be one of {', '.join(BILLING_TERMS)}")
    start = changes.get("startDate")
    if "startDate" in changes and (not isinstance(start, str) or instant(start) is None):
        problems.append("startDate: must be a date-time")
    return problems
