"""The QuickBooks Online simulator: the OpenID discovery document, token grants and revoke,
query (GET, or POST with the query as text), invoice create, read, full and sparse update, void
and delete, credit memo create, read, update and delete, the batch endpoint, and the company's
CompanyInfo, Preferences, TaxCode and TaxRate (its country, currencies and tax:
qbo_company.py). Customers and items are read only, each with its SyncToken and MetaData.

Shapes follow accounting-and-reliability.md §1. The accepted realm is the scenario's
``credentials.qbo.realm_id`` (default "sandbox"), the first refresh token its ``refresh_token``
(default "sandbox"), the authorization code "sandbox-code" or its ``auth_code`` (reusable, unlike
Intuit's one-time codes, so a sandbox can be connected again). Every grant issues a new refresh
token and earlier ones stay valid for the run. The rate limit counts /v3 requests only: the token
endpoint is another host in production. A Payment (create and read) applies its lines to the
customer's invoices, each invoice's Balance down and the payment in its LinkedTxn; the void of an
invoice a payment is applied to is refused (a 6000 in this simulator's words): QuickBooks "will
not void an invoice that has a payment applied" (LanternOps/breeze issue 5180, a production void
refused five times; WYRE-AI/qbo-mcp's void tool says the same). Intuit's reference says nothing
of it, and the Fault's code and words are unconfirmed.

A voided invoice keeps its DocNumber and lines, with every amount and quantity zeroed and
"Voided" put before its PrivateNote, as Intuit's void reference describes ("prepended to existing
text if present"; the " - " between them is this simulator's, unconfirmed). An item line whose
Amount is not Qty x UnitPrice is refused, as integrators report QuickBooks does (the message is
theirs; the code 6070 is unconfirmed). A DocNumber past 21 characters, or a PrivateNote or line
Description past 4,000, is refused with 2050 (Intuit's invoice reference gives the lengths).

An update names the document's `Id` at its current `SyncToken` (else 5010), in a POST with no
operation: full, the body replacing the document, or sparse (`"sparse": true`), changing only
what it names (Intuit's invoice reference); the amounts and tax are worked out again and the
fields QuickBooks computes (READ_ONLY) are never taken from a body. A requestid longer than 50
characters is refused, as in a batch below.

`POST /v3/company/{realm}/batch` takes `{"BatchItemRequest": [...]}`, each item a `bId` with
`"operation": "create"` or `"update"` and an `Invoice` or `CreditMemo`, `"operation": "update"`
with `"optionsData": "void"` and an Invoice's `Id` and `SyncToken` (a void, as Intuit's 2023
batch article describes it), `"operation": "delete"` with either's, or a `"Query"` (no
operation). The answer is `{"BatchItemResponse": [...], "time"}`, one entry per `bId` holding the
entity, a `QueryResponse` or a `Fault` (`{"Error": [...], "type": "ValidationFault"}`): Intuit's
batch reference sample. Every item is checked and written exactly as the single endpoints do
(a taken DocNumber is 6140 for that item alone, the others go through), in the order sent.
At most MAX_BATCH_ITEMS (30) items: Intuit's batch reference ("The maximum number of payloads in
a single BatchItemRequest is 30") and 2023 article, python-quickbooks' BatchManager, the .NET SDK
since its PR 363 (a 2025 report: 30 work, 31 fail); Intuit's older guide page and 2017 article
say 10. More is a Fault for the whole request, whose code and words are this simulator's (no
source quotes Intuit's). A `requestid` on the batch replays the first answer (Intuit's 2015
requestid article; a 2016 report in quickbooks-ruby PR 344 saw a generic 6000 per item instead,
so trueup never relies on it). The article allows a batch's requestid 36 characters and a bId 10;
QuickBooks-V3-Java-SDK issue 180 quotes the 6000 Fault every item got ("more than 50 characters
in the request_id field ... which is 68") for a 32-character requestid and 36-character bIds, so
the simulator refuses an item whose requestid + bId passes 50 (the joining is inferred). A batch
is one request against the 500 a minute, and the batch endpoint allows BATCH_RATE_LIMIT (40 a
minute per company: Intuit's batch reference, guide page and 2017 and 2023 articles); a 2025
Intuit sample app says each item "is metered like a normal call", read here as the App Partner
Program's billing, not the throttle (unconfirmed).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from trueup.sandbox.common import (
    Clock,
    FaultInjector,
    FaultSpec,
    RollingWindow,
    TokenStore,
    json_response,
)
from trueup.sandbox.qbo_company import BUSINESS_RULE, QboCompany
from trueup.sandbox.qbo_query import QueryError, parse_query, run_query
from trueup.sandbox.scenario import Scenario

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8726400  # 101 days, as Intuit reports a fresh refresh token
MAX_DOC_NUMBER = 21
MAX_TEXT = 4000  # PrivateNote, a line's Description
MAX_BATCH_ITEMS = 30
BATCH_RATE_LIMIT = (40, 60.0)  # batch requests per window, per company
MAX_ITEM_REQUEST_ID = 50  # the batch's requestid + an item's bId
CENT = Decimal("0.01")
INACTIVE_REFERENCE = (
    "Invalid Reference Id : Something you're trying to use has been made inactive. Check the "
    "fields with accounts, customers, items, vendors or employees."
)
SANDBOX_AUTH_CODE = "sandbox-code"
# What QuickBooks works out itself: never taken from a create's or an update's body.
READ_ONLY = (
    "Id", "SyncToken", "MetaData", "domain", "sparse", "TotalAmt", "Balance", "HomeTotalAmt",
    "HomeBalance", "RemainingCredit",
)  # fmt: skip
# URL path segment -> entity name (and scenario key).
ENTITIES = {
    "customer": ("Customer", "customers"),
    "item": ("Item", "items"),
    "invoice": ("Invoice", "invoices"),
    "creditmemo": ("CreditMemo", "creditmemos"),
    "payment": ("Payment", "payments"),
    "taxcode": ("TaxCode", "tax_codes"),
    "taxrate": ("TaxRate", "tax_rates"),
    "companyinfo": ("CompanyInfo", ""),  # made from the scenario's qbo.company
    "preferences": ("Preferences", ""),
}
# Intuit's discovery documents (production, sandbox), as intuit-oauth asks for them.
DISCOVERY_PATHS = (["openid_configuration"], ["openid_sandbox_configuration"])
# What each writable entity's POST takes as `?operation=`; without one it is a create, or an
# update when the body names an Id (full, or sparse with "sparse": true).
OPERATIONS = {"Invoice": ("void", "delete"), "CreditMemo": ("delete",), "Payment": ()}
# The same in a batch item: (operation, optionsData) -> what it does.
BATCH_OPERATIONS: dict[str, dict[tuple[Any, Any], str]] = {
    "Invoice": {
        ("create", None): "create",
        ("update", None): "update",
        ("update", "void"): "void",
        ("delete", None): "delete",
    },
    "CreditMemo": {
        ("create", None): "create",
        ("update", None): "update",
        ("delete", None): "delete",
    },
}


@dataclass
class QboFault(Exception):
    """A Fault envelope to answer with: ``{"Fault": {"Error": [...], "type": kind}}``."""

    status: int
    code: str
    message: str
    detail: str
    kind: str = "ValidationFault"


THROTTLED = QboFault(
    429, "3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429",
    "The request limit was reached.  Try again later", "SERVICE",
)  # fmt: skip


def validation_fault(code: str, message: str, detail: str) -> QboFault:
    return QboFault(400, code, message, detail)


def create_qbo_app(
    scenario: Scenario,
    *,
    rate_limit: tuple[int, float] | None = (500, 60.0),
    batch_rate_limit: tuple[int, float] = BATCH_RATE_LIMIT,
    faults: FaultSpec | None = None,
    clock: Clock = time.monotonic,
) -> ASGIApp:
    """The simulator; with no `rate_limit` (limits off) the batch endpoint has none either."""
    batch_limit = batch_rate_limit if rate_limit else None
    simulator = _QboSimulator(scenario, rate_limit, batch_limit, clock)
    app = Starlette(routes=[Route("/{path:path}", simulator.handle, methods=["GET", "POST"])])
    return FaultInjector(app, faults)


class _QboSimulator:
    def __init__(
        self,
        scenario: Scenario,
        rate_limit: tuple[int, float] | None,
        batch_rate_limit: tuple[int, float] | None,
        clock: Clock,
    ) -> None:
        credentials = scenario.credentials_for("qbo")
        self.client_id = credentials["client_id"]
        self.client_secret = credentials["client_secret"]
        self.realm_id = credentials.get("realm_id", "sandbox")
        self.refresh_tokens = {credentials.get("refresh_token", "sandbox")}
        self.auth_codes = {SANDBOX_AUTH_CODE, credentials.get("auth_code", SANDBOX_AUTH_CODE)}
        self.tokens = TokenStore(ACCESS_TOKEN_SECONDS, clock)
        self.window = RollingWindow(*rate_limit, clock=clock) if rate_limit else None
        self.batch_window = (
            RollingWindow(*batch_rate_limit, clock=clock) if batch_rate_limit else None
        )
        self.today = scenario.as_of.date().isoformat()
        data = json.loads(json.dumps(scenario.qbo))  # a private copy: writes stay in this app
        self.rows: dict[str, dict[str, dict[str, Any]]] = {
            entity: {str(row["Id"]): row for row in data.get(key) or []}
            for entity, key in ENTITIES.values()
        }
        created = scenario.as_of.isoformat()
        for entity in ("Customer", "Item", "TaxCode", "TaxRate"):  # QBO always answers with
            for row in self.rows[entity].values():  # these; scenarios may omit them
                row.setdefault("Active", True)
                row.setdefault("SyncToken", "0")
                row.setdefault("MetaData", {"CreateTime": created, "LastUpdatedTime": created})
        self.company = QboCompany(data, self.realm_id, validation_fault)
        # GET companyinfo/{realm} names the company by its realm id; the row's own Id is 1.
        self.rows["CompanyInfo"] = {self.realm_id: self.company.info()}
        self.rows["Preferences"] = {"1": self.company.preferences()}
        self.replies: dict[str, Response] = {}  # requestid -> the original response

    async def handle(self, request: Request) -> Response:
        segments = [part for part in request.url.path.split("/") if part]
        lowered = [s.lower() for s in segments]
        if lowered == ["oauth2", "v1", "tokens", "bearer"]:
            if request.method != "POST":
                return json_response({"error": "invalid_request"}, 405)
            return await self._token(request)
        if lowered == ["v2", "oauth2", "tokens", "revoke"] and request.method == "POST":
            return await self._revoke(request)
        if lowered[:1] == [".well-known"] and lowered[1:] in DISCOVERY_PATHS:
            return json_response(_discovery(str(request.base_url).rstrip("/")))
        if len(segments) < 4 or [s.lower() for s in segments[:2]] != ["v3", "company"]:
            return json_response({"error": "not_found"}, 404)
        if not self._admit(lowered[3:]):
            return _fault_response(THROTTLED)
        if not self.tokens.valid(request.headers.get("authorization")):
            return _authentication_failed()
        try:
            if segments[2] != self.realm_id:
                raise QboFault(
                    403,
                    "3100",
                    "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                    f"The token is not authorised for company {segments[2]}.",
                    "SECURITY",
                )
            return await self._company(request, [s.lower() for s in segments[3:]], segments)
        except QboFault as fault:
            return _fault_response(fault)

    def _admit(self, path: list[str]) -> bool:
        """Count the request against the company's limit, and a batch against the batch
        endpoint's too; refused by either, it counts against neither."""
        windows = [self.window, self.batch_window if path == ["batch"] else None]
        counted = [window for window in windows if window is not None]
        if any(window.remaining() == 0 for window in counted):
            return False
        return all(window.admit() for window in counted)

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        client_id, client_secret = _basic_credentials(request) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        if not (
            secrets.compare_digest(client_id, self.client_id)
            and secrets.compare_digest(client_secret, self.client_secret)
        ):
            return json_response({"error": "invalid_client"}, 401)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if not form.get("refresh_token"):
                return json_response({"error": "invalid_request"}, 400)
            accepted = form["refresh_token"] in self.refresh_tokens
        elif grant == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                return json_response({"error": "invalid_request"}, 400)
            accepted = form["code"] in self.auth_codes
        elif grant:
            return json_response({"error": "unsupported_grant_type"}, 400)
        else:
            return json_response({"error": "invalid_request"}, 400)
        if not accepted:
            return json_response({"error": "invalid_grant"}, 400)
        refresh_token = "RT1-" + secrets.token_urlsafe(32)
        self.refresh_tokens.add(refresh_token)
        return json_response(
            {
                "access_token": self.tokens.issue(),
                "refresh_token": refresh_token,
                "expires_in": ACCESS_TOKEN_SECONDS,
                "x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
                "token_type": "bearer",
            }
        )

    async def _revoke(self, request: Request) -> Response:
        """Intuit's revoke: Basic client credentials, a JSON `{"token"}` (a refresh or access
        token); 200 with no body, also for a token already revoked."""
        client_id, client_secret = _basic_credentials(request) or ("", "")
        if not (
            secrets.compare_digest(client_id, self.client_id)
            and secrets.compare_digest(client_secret, self.client_secret)
        ):
            return json_response({"error": "invalid_client"}, 401)
        try:
            token = json.loads(await request.body()).get("token")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            return json_response({"error": "invalid_request"}, 400)
        self.refresh_tokens.discard(token)
        self.tokens.revoke(token)
        return Response(status_code=200)

    async def _company(self, request: Request, path: list[str], raw: list[str]) -> Response:
        if path == ["query"] and request.method in ("GET", "POST"):
            # GET ?query=..., or POST with the query as the body (Content-Type application/text,
            # as python-quickbooks sends every query).
            if request.method == "GET":
                text = request.query_params.get("query", "")
            else:
                text = (await request.body()).decode("utf-8", "replace")
            try:
                query = parse_query(text)
            except QueryError as error:
                raise validation_fault("4000", "Error parsing query", str(error)) from None
            return _reply(run_query(query, self.rows[query.entity].values()))
        if path == ["batch"] and request.method == "POST":
            return await self._batch(request)
        if len(path) == 1 and ENTITIES.get(path[0], ("",))[0] in OPERATIONS:
            if request.method != "POST":
                raise QboFault(404, "4000", "Unsupported operation", "No such resource.")
            entity = ENTITIES[path[0]][0]
            operation = request.query_params.get("operation", "create")
            if operation not in ("create", *OPERATIONS[entity]):
                raise validation_fault(
                    "2010", "Unsupported operation", f"Operation {operation} is not supported."
                )
            request_id = request.query_params.get("requestid")
            if request_id and request_id in self.replies:
                return self.replies[request_id]
            try:
                _check_request_id(request_id or "")
                body = await _json_object(request)
                if operation == "create" and body.get("Id") not in (None, ""):
                    operation = "update"
                reply = _reply({entity: self._writes[operation](entity, body)})
            except QboFault as fault:
                reply = _fault_response(fault)
            if request_id:
                self.replies[request_id] = reply
            return reply
        if path == ["preferences"] and request.method == "GET":
            return _reply({"Preferences": self.rows["Preferences"]["1"]})
        if len(path) == 2 and path[0] in ENTITIES and request.method == "GET":
            entity = ENTITIES[path[0]][0]
            row = self.rows[entity].get(raw[4])
            if row is None:
                raise validation_fault(
                    "610", "Object Not Found", f"Object Not Found : {entity} {raw[4]} not found."
                )
            return _reply({entity: row})
        raise QboFault(404, "4000", "Unsupported operation", "No such resource.")

    async def _batch(self, request: Request) -> Response:
        request_id = request.query_params.get("requestid")
        if request_id and request_id in self.replies:
            return self.replies[request_id]
        try:
            items = _batch_items(await _json_object(request))
            reply = _reply(
                {"BatchItemResponse": [self._batch_item(item, request_id) for item in items]}
            )
        except QboFault as fault:
            reply = _fault_response(fault)
        if request_id:
            self.replies[request_id] = reply
        return reply

    def _batch_item(self, item: dict[str, Any], request_id: str | None) -> dict[str, Any]:
        """One item's answer: what the single endpoint would answer, or its Fault."""
        bid = item["bId"]
        try:
            _check_request_id((request_id or "") and request_id + bid)
            if "Query" in item:
                if "operation" in item:
                    raise _unsupported("A Query item takes no operation.")
                try:
                    query = parse_query(str(item["Query"]))
                except QueryError as error:
                    raise validation_fault("4000", "Error parsing query", str(error)) from None
                return {"bId": bid, **run_query(query, self.rows[query.entity].values())}
            entity = next((name for name in BATCH_OPERATIONS if name in item), None)
            if entity is None or not isinstance(item[entity], dict):
                raise _unsupported("The item names no Invoice, CreditMemo or Query.")
            operation = (item.get("operation"), item.get("optionsData"))
            action = BATCH_OPERATIONS[entity].get(operation)
            if action is None:
                raise _unsupported(f"Operation {operation[0]} is not supported for {entity}.")
            body = json.loads(json.dumps(item[entity]))
            return {"bId": bid, entity: self._writes[action](entity, body)}
        except QboFault as fault:
            return {"bId": bid, "Fault": {"Error": [_error(fault)], "type": fault.kind}}

    def _create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity == "Payment":
            return self._pay(body)
        return self._save(entity, body, None)

    def _pay(self, body: dict[str, Any]) -> dict[str, Any]:
        """A payment received from a customer, applied to its invoices: each line's Amount to the
        invoice its LinkedTxn names, that invoice's Balance down by it and the payment in its
        LinkedTxn (Intuit's Payment reference and sample)."""
        customer = self._reference(body, "CustomerRef", "Customer")
        try:
            total = Decimal(str(body["TotalAmt"]))
        except (KeyError, InvalidOperation):
            raise _missing("TotalAmt") from None
        applied: list[tuple[dict[str, Any], Decimal]] = []
        for line in body.get("Line") or []:
            linked = (line.get("LinkedTxn") or [{}])[0] if isinstance(line, dict) else {}
            if linked.get("TxnType") != "Invoice":
                raise _unsupported("A payment line here applies to an Invoice only.")
            invoice = self.rows["Invoice"].get(str(linked.get("TxnId")))
            if invoice is None or invoice.get("CustomerRef", {}).get("value") != customer["Id"]:
                raise validation_fault(
                    "2500", "Invalid Reference Id", f"Invalid Reference Id : Invoice "
                    f"{linked.get('TxnId')} is not one of customer {customer['Id']}'s",
                )  # fmt: skip
            amount = Decimal(str(line.get("Amount", 0)))
            if amount <= 0 or amount > Decimal(str(invoice.get("Balance", 0))):
                raise validation_fault(
                    "6000", BUSINESS_RULE, "Business Validation Error: the amount applied to "
                    f"invoice {invoice['Id']} is more than its balance or not above 0.",
                )  # fmt: skip
            applied.append((invoice, amount))
        unapplied = total - sum((amount for _, amount in applied), Decimal(0))
        if unapplied < 0:
            raise validation_fault(
                "6000", BUSINESS_RULE, "Business Validation Error: the lines apply more than "
                "the payment's TotalAmt.",
            )  # fmt: skip
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        payment_id = self._next_id("Payment")
        for invoice, amount in applied:
            balance = Decimal(str(invoice.get("Balance", 0))) - amount
            invoice["Balance"] = float(balance)
            invoice.setdefault("LinkedTxn", []).append({"TxnId": payment_id, "TxnType": "Payment"})
            invoice["SyncToken"] = str(int(invoice.get("SyncToken", "0")) + 1)
            invoice["MetaData"] = {**(invoice.get("MetaData") or {}), "LastUpdatedTime": now}
        payment = {
            **{key: value for key, value in body.items() if key not in READ_ONLY},
            "Id": payment_id,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
            "TxnDate": body.get("TxnDate") or self.today,
            "CustomerRef": {"value": customer["Id"], "name": customer.get("DisplayName", "")},
            "TotalAmt": float(total),
            "UnappliedAmt": float(unapplied),
        }
        self.rows["Payment"][payment_id] = payment
        return payment

    def _update(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """A full update replaces the document with the body (what it leaves out is cleared);
        a sparse one (`"sparse": true`) changes only the fields the body names. Both name the
        Id at its current SyncToken, and the amounts are worked out again."""
        row = self._current(entity, body)
        return self._save(entity, {**row, **body} if body.get("sparse") is True else body, row)

    def _save(
        self, entity: str, body: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Create a document, or write `existing` again: the body's read-only fields (Id,
        SyncToken, MetaData, totals, domain) are QuickBooks' own, never taken from it."""
        customer = self._reference(body, "CustomerRef", "Customer")
        lines = [
            line
            for line in body.get("Line") or []
            if isinstance(line, dict) and line.get("DetailType") != "SubTotalLineDetail"
        ]
        if not lines:
            raise _missing("Line")
        invoices = self.rows[entity]
        doc_number = body.get("DocNumber") or self._next_doc_number(entity)
        _check_length(str(doc_number), MAX_DOC_NUMBER)
        _check_length(body.get("PrivateNote"), MAX_TEXT)
        for line in lines:
            _check_length(line.get("Description"), MAX_TEXT)
        duplicate = next(
            (
                i
                for i in invoices.values()
                if i.get("DocNumber") == doc_number and i is not existing
            ),
            None,
        )
        if duplicate is not None:
            raise validation_fault(
                "6140",
                "Duplicate Document Number Error",
                "Duplicate Document Number Error : You must specify a different number. This "
                f"number has already been used. DocNumber={doc_number} is assigned to "
                f"TxnType={entity} with TxnId={duplicate['Id']}",
            )
        subtotal = Decimal(0)
        for number, line in enumerate(lines, start=1):
            try:
                amount = Decimal(str(line["Amount"]))
            except (KeyError, InvalidOperation):
                raise _missing("Line.Amount") from None
            _check_line_amount(line, amount)
            subtotal += amount
            line |= {"Id": str(number), "LineNum": number}
            detail = line.get("SalesItemLineDetail")
            if isinstance(detail, dict) and "ItemRef" in detail:
                item = self._reference(detail, "ItemRef", "Item")
                detail["ItemRef"] = {"value": item["Id"], "name": item.get("Name", "")}
        currency = self.company.currency_of(body, customer)
        taxed = self.company.tax(body, lines, self.rows["TaxCode"], self.rows["TaxRate"])
        subtotal = subtotal.quantize(CENT, ROUND_HALF_UP)
        total = float(subtotal + taxed.total)
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        if existing is None:
            invoice_id, sync_token, created = self._next_id(entity), "0", now
        else:
            invoice_id = existing["Id"]
            created = (existing.get("MetaData") or {}).get("CreateTime", now)
            sync_token = str(int(existing.get("SyncToken", "0")) + 1)
        invoice = {
            **{key: value for key, value in body.items() if key not in READ_ONLY},
            "Id": invoice_id,
            "SyncToken": sync_token,
            "domain": "QBO",
            "sparse": False,
            "MetaData": {"CreateTime": created, "LastUpdatedTime": now},
            "DocNumber": doc_number,
            "TxnDate": body.get("TxnDate") or self.today,
            "CustomerRef": {"value": customer["Id"], "name": customer.get("DisplayName", "")},
            "CurrencyRef": {"value": currency},
            "Line": [
                *lines,
                {
                    "Amount": float(subtotal),
                    "DetailType": "SubTotalLineDetail",
                    "SubTotalLineDetail": {},
                },
            ],
            "TxnTaxDetail": taxed.detail,
            "TotalAmt": total,
            "Balance": total,
            "EmailStatus": body.get("EmailStatus", "NotSet"),
        }
        if entity == "CreditMemo":  # what is left to apply to the customer's invoices
            invoice["RemainingCredit"] = total
        else:
            invoice.setdefault("DueDate", invoice["TxnDate"])
        invoices[invoice_id] = invoice
        return invoice

    def _delete(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        row = self._current(entity, body)
        del self.rows[entity][row["Id"]]
        return {"status": "Deleted", "domain": "QBO", "Id": row["Id"]}

    def _current(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """The row a void or delete names, at the SyncToken it names."""
        row_id, sync_token = body.get("Id"), body.get("SyncToken")
        if row_id in (None, ""):
            raise _missing("Id")
        if sync_token in (None, ""):
            raise _missing("SyncToken")
        row = self.rows[entity].get(str(row_id))
        if row is None:
            raise validation_fault(
                "610", "Object Not Found", f"Object Not Found : {entity} {row_id} not found."
            )
        if str(sync_token) != str(row.get("SyncToken", "0")):
            raise validation_fault(
                "5010",
                "Stale Object Error",
                "Stale Object Error : You and trueup were working on this at the same time. "
                "trueup finished before you did, so your work was not saved.",
            )
        return row

    def _void(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        invoice = self._current(entity, body)
        payments = [
            str(linked.get("TxnId"))
            for linked in invoice.get("LinkedTxn") or []
            if isinstance(linked, dict) and linked.get("TxnType") == "Payment"
        ]
        if payments:
            # QuickBooks will not void an invoice a payment is applied to; the words are ours.
            raise validation_fault(
                "6000",
                BUSINESS_RULE,
                f"Business Validation Error: Invoice {invoice['Id']} has payment "
                f"{', '.join(payments)} applied to it and cannot be voided; unapply or delete "
                "the payment first.",
            )
        current = str(invoice.get("SyncToken", "0"))
        for line in invoice.get("Line") or []:
            if isinstance(line, dict):
                line["Amount"] = 0
                detail = line.get("SalesItemLineDetail")
                if isinstance(detail, dict) and "Qty" in detail:
                    detail["Qty"] = 0
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        note = str(invoice.get("PrivateNote") or "")
        invoice.update(
            SyncToken=str(int(current) + 1),
            TotalAmt=0,
            Balance=0,
            PrivateNote=f"Voided - {note}" if note else "Voided",
            TxnTaxDetail={**(invoice.get("TxnTaxDetail") or {}), "TotalTax": 0},
            MetaData={**(invoice.get("MetaData") or {}), "LastUpdatedTime": now},
        )
        return invoice

    def _reference(self, holder: dict[str, Any], field: str, entity: str) -> dict[str, Any]:
        ref = holder.get(field)
        value = str(ref.get("value", "")) if isinstance(ref, dict) else ""
        if not value:
            raise _missing(field)
        row = self.rows[entity].get(value)
        if row is None:
            raise validation_fault(
                "2500", "Invalid Reference Id", f"Invalid Reference Id : {entity} {value} not found"
            )
        if row.get("Active") is False:  # QuickBooks' words (QuickBooks-V3-PHP-SDK issue 110)
            raise validation_fault("2500", "Invalid Reference Id", INACTIVE_REFERENCE)
        return row

    def _next_id(self, entity: str) -> str:
        return str(1 + max((int(i) for i in self.rows[entity] if i.isdigit()), default=0))

    @property
    def _writes(self) -> dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]]:
        return {
            "create": self._create,
            "update": self._update,
            "void": self._void,
            "delete": self._delete,
        }

    def _next_doc_number(self, entity: str) -> str:
        numbers = [
            int(i["DocNumber"])
            for i in self.rows[entity].values()
            if str(i.get("DocNumber", "")).isdigit()
        ]
        return str(max(numbers, default=1000) + 1)


def _check_request_id(request_id: str) -> None:
    """A request's requestid (in a batch, joined to each item's bId) of at most 50 characters,
    as QuickBooks-V3-Java-SDK issue 180 quotes the refusal."""
    if len(request_id) > MAX_ITEM_REQUEST_ID:
        raise validation_fault(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: You cannot enter more than "
            f"{MAX_ITEM_REQUEST_ID} characters in the request_id field. You tried "
            f"entering {request_id[:10]}..., which is {len(request_id)} characters.",
        )


def _check_length(text: object, most: int) -> None:
    """QuickBooks' 2050 for a field past its length (DocNumber 21; PrivateNote and a line's
    Description 4000, Intuit's invoice reference; the Detail as quickbooks-ruby PR 436 quotes
    it for a Description of 4,006)."""
    if isinstance(text, str) and len(text) > most:
        raise validation_fault(
            "2050",
            "String length is either shorter or longer than supported by specification",
            f"String length specified does not match the supported length. Min:0 Max:{most:,} "
            f"supported. Supplied length:{len(text):,}",
        )


def _check_line_amount(line: dict[str, Any], amount: Decimal) -> None:
    """QuickBooks refuses an item line whose Amount is not Qty x UnitPrice (to the cent)."""
    detail = line.get("SalesItemLineDetail")
    if not isinstance(detail, dict) or "Qty" not in detail or "UnitPrice" not in detail:
        return
    try:
        product = Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"]))
    except InvalidOperation:
        raise _missing("Line.SalesItemLineDetail.Qty") from None
    if product.quantize(CENT, ROUND_HALF_UP) != amount:
        raise validation_fault(
            "6070",
            "Amount is not equal to UnitPrice * Qty",
            f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
        )


def _batch_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The BatchItemRequest list: 1 to MAX_BATCH_ITEMS objects, each with its own bId."""
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise _missing("BatchItemRequest")
    if len(items) > MAX_BATCH_ITEMS:
        # The limit is documented; this Fault's code and words are the simulator's own.
        raise validation_fault(
            "6000",
            "A business validation error has occurred while processing your request",
            f"Business Validation Error: The batch holds {len(items)} BatchItemRequests; "
            f"at most {MAX_BATCH_ITEMS} are allowed in one request.",
        )
    seen: set[str] = set()
    for item in items:
        bid = item.get("bId") if isinstance(item, dict) else None
        if not isinstance(bid, str) or not bid:
            raise _missing("BatchItemRequest.bId")
        if bid in seen:
            raise validation_fault(
                "2010",
                "Request has invalid or unsupported property",
                f"The bId {bid} is used by more than one BatchItemRequest.",
            )
        seen.add(bid)
    return items


def _unsupported(detail: str) -> QboFault:
    return validation_fault("2010", "Unsupported operation", detail)


def _discovery(base: str) -> dict[str, str]:
    """Intuit's OpenID discovery document (what intuit-oauth reads first), on this host."""
    return {
        "issuer": f"{base}/op/v1",
        "authorization_endpoint": f"{base}/connect/oauth2",
        "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
        "jwks_uri": f"{base}/op/v1/jwks",
    }


def _missing(field: str) -> QboFault:
    return validation_fault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field} is missing in the request",
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise validation_fault(
            "2010", "Request has invalid or unsupported property", "The body must be a JSON object."
        )
    return body


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def _reply(body: dict[str, Any]) -> Response:
    return json_response({**body, "time": _now()})


def _error(fault: QboFault) -> dict[str, str]:
    return {"Message": fault.message, "Detail": fault.detail, "code": fault.code, "element": ""}


def _fault_response(fault: QboFault) -> Response:
    return json_response(
        {"Fault": {"Error": [_error(fault)], "type": fault.kind}, "time": _now()}, fault.status
    )


def _authentication_failed() -> Response:
    # Intuit's gateway answers 401 with lower-case keys (seen live), unlike the API's own Faults.
    error = {
        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        "detail": "Token expired or invalid.",
        "code": "3200",
        "element": None,
    }
    return json_response(
        {
            "warnings": None,
            "intuitObject": None,
            "fault": {"error": [error], "type": "AUTHENTICATION"},
            "time": int(time.time() * 1000),
        },
        401,
    )
