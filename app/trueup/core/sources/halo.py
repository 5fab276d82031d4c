"""HaloPSA API client: token (with auth-server discovery), paging, the billing lists, writes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from trueup.core.sources.http import (
    DEFAULT_RETRY,
    ApiClient,
    ApiError,
    Clock,
    Params,
    RateLimit,
    RetryPolicy,
    Row,
    Sleep,
)

HALO_RATE_LIMIT = RateLimit(300, 300)  # "300 Requests per rolling 5 minute window"

# The scope a 403 on each resource asks for, by lower-cased resource name.
_SCOPE_AREAS = {
    "client": "customers",
    "site": "customers",
    "item": "items",
    "invoice": "invoices",
    "recurringinvoice": "invoices",
    "softwarelicence": "softwarelicensing",
    "clientcontract": "contracts",
}


class HaloClient(ApiClient):
    service = "HaloPSA"
    url_env = "TRUEUP_HALO_URL"
    token_url_env = "TRUEUP_HALO_AUTH_URL"
    credential_envs = ("TRUEUP_HALO_CLIENT_ID", "TRUEUP_HALO_CLIENT_SECRET")
    url_example = "https://TENANT.halopsa.com"

    def __init__(
        self,
        base_url: str,
        auth_url: str | None,
        client_id: str,
        client_secret: str,
        *,
        scope: str = "all",
        tenant: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate: RateLimit | None = HALO_RATE_LIMIT,
        concurrency: int = 4,
        page_size: int = 1000,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        names: Mapping[str, str] | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be positive, not {page_size}")
        super().__init__(
            base_url,
            client_id,
            client_secret,
            transport=transport,
            rate=rate,
            concurrency=concurrency,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            clock=clock,
            names=names,
        )
        self._auth_url = self._checked_url(auth_url, self.token_url_env) if auth_url else None
        self._scope = scope
        self._tenant = tenant
        self._page_size = page_size

    async def authinfo(self) -> Row:
        """Where the authorisation server is: {auth_url, tenant_id, ...}; needs no token."""
        return self._object(await self._request_public("GET", "/api/authinfo"), "/api/authinfo")

    async def _fetch_token(self) -> tuple[str, int]:
        auth_url = self._auth_url or await self._discover_auth_url()
        token_url = f"{auth_url}/token"
        if self._tenant:
            token_url += "?" + urlencode({"tenant": self._tenant})
        grant = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": self._scope,
        }
        return await self._request_token(token_url, form=grant)

    async def _discover_auth_url(self) -> str:
        info = await self.authinfo()
        auth_url = info.get("auth_url")
        if not isinstance(auth_url, str) or not urlsplit(auth_url).netloc:
            raise self._error(
                "config",
                f"HaloPSA at {self.base_url} did not say where its auth server is "
                f"(GET /api/authinfo has no auth_url): set {self.token_url_env}",
            )
        self._auth_url = self._checked_url(auth_url, self.token_url_env)
        # Like Halo's PowerShell module: an explicit tenant wins over the discovered one.
        tenant_id = info.get("tenant_id")
        if self._tenant is None and isinstance(tenant_id, str) and tenant_id:
            self._tenant = tenant_id
        return self._auth_url

    def _permission_hint(self, method: str, path: str) -> str:
        resource = path.removeprefix("/api/").split("/")[0].lower()
        area = _SCOPE_AREAS.get(resource)
        if area is None:
            return "give the API application (and its login agent) access to it"
        access = "read" if method == "GET" else "edit"
        return f"give the API application the {access}:{area} permission"

    def _not_found_hint(self) -> str:
        return (
            f"check {self.url_env} is the host root ({self.url_example}; trueup adds /api), "
            "or the record is gone"
        )

    def _fresh_token_hint(self, method: str, path: str) -> str:
        # Halo also answers 401 for a scope or module the application lacks.
        return self._permission_hint(method, path) + " (or check its login agent)"

    # -- paging ------------------------------------------------------------------------------

    async def iter_pages(
        self, resource: str, key: str, params: Params | None = None
    ) -> AsyncIterator[list[Row]]:
        """Every non-empty page of /api/{resource}, whose rows sit under `key`."""
        path = f"/api/{resource}"
        query = {**(params or {}), "pageinate": True, "page_size": self._page_size}
        fetched = 0
        first_ids: set[Any] = set()
        seen: set[Any] = set()  # every id listed so far
        again = 0  # rows an earlier page listed already: the list moved while it was paged
        page_no = 1
        counted: int | None = None  # what Halo said the list holds
        while True:
            body = await self.request("GET", path, params={**query, "page_no": page_no})
            rows = self._list_rows(body, key, path)
            record_count = body.get("record_count") if isinstance(body, dict) else None
            counted = record_count if isinstance(record_count, int) else counted
            first_id = rows[0].get("id") if rows else None
            repeated = first_id is not None and first_id in first_ids
            if not rows or repeated:
                # The end, unless Halo counted more (or, with no count, a page came twice: the
                # server ignores page_no): a list stored short deletes what it left out.
                if repeated or (counted is not None and fetched < counted):
                    raise self._short(path, fetched, counted, page_no)
                self._check_moved(path, fetched, again, counted)
                return
            first_ids.add(first_id)
            ids = [row.get("id") for row in rows]
            again += sum(1 for row_id in ids if row_id is not None and row_id in seen)
            seen.update(ids)
            yield rows
            fetched += len(rows)
            if not isinstance(record_count, int):
                # A bare list, or no count: a short page is the last one.
                if isinstance(body, list) or len(rows) < self._page_size:
                    return
            elif fetched >= record_count:
                self._check_moved(path, fetched, again, counted)
                return
            # With a count, a short page is not the end: some endpoints cap page_size (~50 on
            # /Tickets) and serve the rest on later pages.
            page_no += 1

    def _short(self, path: str, fetched: int, counted: int | None, page_no: int) -> ApiError:
        how = "sent a page again" if counted is None else f"counts {counted}"
        return self._error(
            "bad_response",
            f"HaloPSA listed {fetched} rows at {path} by page {page_no - 1} and {how}: the list "
            "is incomplete (the server ignores page_no, or the list changed while paging); "
            "nothing was saved, sync again",
        )

    def _check_moved(self, path: str, fetched: int, again: int, counted: int | None) -> None:
        """Refuse a list whose rows shifted between pages (a record added, or renamed to sort,
        ahead of the page being read): a row listed on two pages stands in for one listed on
        none, and a list stored short deletes the record it left out."""
        if counted is None or fetched - again >= counted:
            return
        raise self._error(
            "bad_response",
            f"HaloPSA listed {fetched - again} different rows at {path} against the {counted} "
            f"it counts, {again} of them on two pages: the list changed while paging; nothing "
            "was saved, sync again",
        )

    def _list_rows(self, body: Any, key: str, path: str) -> list[Row]:
        if isinstance(body, list):
            return self._rows(body, path)  # some endpoints answer a bare array
        envelope = self._object(body, path)
        if key in envelope:
            return self._rows(envelope[key], path)
        # The key is a guess for some resources (ExternalLink's "links" is not in Halo's
        # docs): fall back to the envelope's only list.
        lists = [value for value in envelope.values() if isinstance(value, list)]
        if len(lists) == 1:
            return self._rows(lists[0], path)
        if not lists and not envelope.get("record_count"):
            return []
        raise self._unexpected(path, f"a list under {key!r}")

    # -- endpoints ---------------------------------------------------------------------------

    def clients(self) -> AsyncIterator[list[Row]]:
        return self.iter_pages("Client", "clients", {"includeinactive": True})

    def sites(self) -> AsyncIterator[list[Row]]:
        return self.iter_pages("Site", "sites", {"includeinactive": True})

    def items(self) -> AsyncIterator[list[Row]]:
        return self.iter_pages("Item", "items", {"includeinactive": True})

    def recurring_invoices(
        self, *, client_ids: Sequence[int] = (), include_disabled: bool = False
    ) -> AsyncIterator[list[Row]]:
        """Recurring invoices with their lines, of some clients or all of them."""
        params: dict[str, str | bool] = {"includelines": True}
        if client_ids:
            params["client_ids"] = ",".join(map(str, client_ids))
        if include_disabled:
            # Not in Halo's swagger for /RecurringInvoice, but sent by clients that page it.
            params["includeinactive"] = True
        return self.iter_pages("RecurringInvoice", "invoices", params)

    def licences(self) -> AsyncIterator[list[Row]]:
        return self.iter_pages("SoftwareLicence", "licences", {"includeinactive": True})

    def external_links(self) -> AsyncIterator[list[Row]]:
        return self.iter_pages("ExternalLink", "links")

    def invoices(self, *, client_ids: Sequence[int] = ()) -> AsyncIterator[list[Row]]:
        """Invoices (headers only) of some clients, or of all.

        No date window: the swagger types `invoicedatestart`/`invoicedateend` as booleans
        ("Include the field ... in the response"), and `datesearch` with `start_date`/`end_date`
        is only in newer specs, so a tenant may not know it.
        """
        params = {"client_ids": ",".join(map(str, client_ids))} if client_ids else {}
        return self.iter_pages("Invoice", "invoices", params)

    async def post(self, resource: str, objects: list[dict[str, Any]]) -> Any:
        """Create (no id) or update (with id) records; Halo answers with the saved object."""
        return await self.request("POST", f"/api/{resource}", json=objects)

    async def invoice(self, invoice_id: int) -> Row:
        path = f"/api/Invoice/{invoice_id}"
        return self._object(await self.request("GET", path), path)

    async def create_invoice(self, header: Row) -> Row:
        """Create one invoice; the answer is the saved invoice, with its id."""
        return await self._create_one("Invoice", header, "invoice", "before posting again")

    async def create_item(self, item: Row) -> Row:
        """Create one item (the swagger's Item: `name`, `supplier_part_code`, prices); the
        answer is the saved item, with its id. Halo takes no idempotency key: a caller that
        must create it once looks it up before sending, and after a lost answer."""
        return await self._create_one("Item", item, "item", "before creating it again")

    async def _create_one(self, resource: str, body: Row, what: str, then: str) -> Row:
        answer = await self.post(resource, [body])
        saved = answer[0] if isinstance(answer, list) and len(answer) == 1 else answer
        if not isinstance(saved, dict) or type(saved.get("id")) is not int:
            # The POST succeeded, so the record probably exists: only a lookup can tell.
            raise ApiError(
                self.service,
                "bad_response",
                None,
                f"{self.service} answered POST /api/{resource} without the saved {what}: "
                f"check it in {self.service} {then}",
                ambiguous=True,
            )
        return saved

    async def create_invoices(self, headers: list[Row]) -> list[Row]:
        """Create several invoices in one request. Whether Halo answers a multi-element POST
        with every saved object or only one is unconfirmed (halo-api.md §4): the caller matches
        what comes back by reference and looks up the rest."""
        return self._saved(await self.post("Invoice", headers), "/api/Invoice")

    async def recurring_invoice(self, recurring_invoice_id: int) -> Row:
        """One recurring invoice; a single GET always carries its lines. One answered without
        them, or under another id, is malformed: a change written from it would echo no lines,
        and Halo may drop the lines a write leaves out."""
        path = f"/api/RecurringInvoice/{recurring_invoice_id}"
        row = self._object(await self.request("GET", path), path)
        if row.get("id") != recurring_invoice_id or not isinstance(row.get("lines"), list):
            raise self._unexpected(path, f"recurring invoice {recurring_invoice_id} with its lines")
        return row

    async def save_recurring_invoices(self, headers: list[Row]) -> list[Row]:
        """Update several recurring invoices in one request. Halo may answer with only one
        saved object for several (unconfirmed): the caller must not count on all coming back."""
        return self._saved(await self.post("RecurringInvoice", headers), "/api/RecurringInvoice")

    async def set_invoice_voided(self, invoice_id: int) -> None:
        """The swagger's way to void: `voided` is a writable InvoiceHeader field, and a POST
        with an id changes only the fields sent. Whether Halo acts on it is unconfirmed: read
        the invoice back."""
        await self.post("Invoice", [{"id": invoice_id, "voided": True}])

    async def post_invoice_void(self, invoice_id: int) -> None:
        """`POST /api/Invoice/{id}/void`, without a body: not in the 2024 swagger we hold, but
        in newer Halo specs (halocli's vendored one) and a live-verified CLI table (halo-api.md
        §5). Read the invoice back to confirm."""
        await self.request("POST", f"/api/Invoice/{invoice_id}/void")

    def _saved(self, answer: Any, path: str) -> list[Row]:
        """Halo answers a POST with the saved object, or a list of them."""
        if isinstance(answer, dict):
            return [answer]
        return self._rows(answer, path)
