"""Pax8 Partner API client: token, paging and the read endpoints trueup syncs."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from trueup.core.sources.http import (
    DEFAULT_RETRY,
    ApiClient,
    Clock,
    Params,
    ParamValue,
    RateLimit,
    RetryPolicy,
    Row,
    Sleep,
)

PAX8_RATE_LIMIT = RateLimit(1000, 60)
PAX8_MAX_PAGE_SIZE = 200
# Far past any list (41,000 subscriptions are 205 pages, 4,100 at Pax8's default size of 10):
# a page block counting more is wrong, and would have a sync ask for every page it names.
PAX8_MAX_PAGES = 50_000
# The one list whose answer may come without a page block (Pax8Client.get_page).
_BLOCK_OPTIONAL = re.compile(r"/usage-summaries/[^/]+/usage-lines")


@dataclass(frozen=True)
class PageInfo:
    """Pax8's page block; number is 0-based."""

    number: int
    size: int
    total_elements: int
    total_pages: int


class Pax8Client(ApiClient):
    service = "Pax8"
    url_env = "TRUEUP_PAX8_URL"
    token_url_env = "TRUEUP_PAX8_URL"
    credential_envs = ("TRUEUP_PAX8_CLIENT_ID", "TRUEUP_PAX8_CLIENT_SECRET")
    url_example = "https://api.pax8.com/v1"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        audience: str = "https://api.pax8.com",
        token_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate: RateLimit | None = PAX8_RATE_LIMIT,
        concurrency: int = 8,
        timeout: httpx.Timeout | None = None,
        page_size: int = PAX8_MAX_PAGE_SIZE,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        names: Mapping[str, str] | None = None,
    ) -> None:
        if not 1 <= page_size <= PAX8_MAX_PAGE_SIZE:
            raise ValueError(f"Pax8 pages hold 1 to {PAX8_MAX_PAGE_SIZE} rows, not {page_size}")
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
        self._audience = audience
        self._token_url = self._checked_url(token_url, self.token_url_env) if token_url else None
        self._page_size = page_size

    async def _fetch_token(self) -> tuple[str, int]:
        grant = {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "audience": self._audience,
            "grant_type": "client_credentials",
        }
        return await self._request_token(
            self._token_url or f"{self.base_url}/token", json_body=grant
        )

    def _permission_hint(self, method: str, path: str) -> str:
        return (
            "check the company id, and that the API credentials (Pax8 > Settings > Integrations) "
            "may see it"
        )

    def _not_found_hint(self) -> str:
        return f"check {self.url_env} ends in /v1 ({self.url_example}), or the record is gone"

    # -- paging ------------------------------------------------------------------------------

    async def get_page(
        self, path: str, page: int, params: Params | None = None
    ) -> tuple[list[Row], PageInfo]:
        """One page (0-based). Every list the spec pages answers with a page block counting
        its rows and pages [SPEC: each paged list's 200 is `{content, page}`, its example too;
        an empty invoice list has the block and no content]: one without them is malformed, as
        read as the only page it would take the first 200 rows for the list and delete the rest
        as gone. Usage lines alone, which the spec gives no page or size parameter (its answer
        has the block; the lines take page and size on the wire [PYPAX8]), are one page
        without it: nothing syncs them, and an answer unpaged is one the spec allows for."""
        query = {**(params or {}), "page": page, "size": self._page_size}
        body = self._object(await self.request("GET", path, params=query), path)
        rows = self._rows(body.get("content", []), path)  # an empty invoice list has no content
        block = body.get("page")
        if not isinstance(block, dict) and _BLOCK_OPTIONAL.fullmatch(path):
            return rows, PageInfo(page, len(rows), len(rows), page + 1)
        counts = ("totalElements", "totalPages")
        block = block if isinstance(block, dict) else None
        counted = [-1 if block is None else _count(block.get(name), -1) for name in counts]
        if min(counted) < 0:
            lacking = " and ".join(name for name, n in zip(counts, counted, strict=True) if n < 0)
            said = "no page block" if block is None else f"a page block without {lacking}"
            raise self._error(
                "bad_response",
                f"Pax8 answered {path} with {said}, so how long the list is is unknown: the "
                "answer is malformed; nothing was saved, sync again",
            )
        assert block is not None
        info = PageInfo(
            number=_count(block.get("number"), page),
            size=_count(block.get("size"), self._page_size),
            total_elements=counted[0],
            total_pages=counted[1],
        )
        if info.total_pages > PAX8_MAX_PAGES:
            raise self._error(
                "bad_response",
                f"Pax8 answered {path} counting {info.total_pages:,} pages, more than any list "
                f"holds ({PAX8_MAX_PAGES:,}): its page block is wrong; sync again later",
            )
        return rows, info

    async def iter_pages(self, path: str, params: Params | None = None) -> AsyncIterator[list[Row]]:
        """Every non-empty page of a list, in order. A page opening on a row an earlier page
        held is refused: the server ignores `page` (or the list moved), and the rows it left
        out would be deleted as gone. So is a list that ends with fewer rows than its first
        page counted (a page empty or cut short on the way): an invoice's items stored short
        are never read again, and the month's cost is taken from the ones that came."""
        page = 0
        seen: set[str] = set()
        counted: int | None = None  # the rows the first page says the list holds
        listed = 0  # the rows listed so far, a row an earlier page held not counted again
        while True:
            rows, info = await self.get_page(path, page, params)
            first = rows[0].get("id") if rows else None
            if first is not None and str(first) in seen:
                raise self._error(
                    "bad_response",
                    f"Pax8 sent page {page} of {path} again (its first row came on an earlier "
                    "page): the list is incomplete; nothing was saved, sync again",
                )
            counted = info.total_elements if counted is None else counted
            listed += sum(1 for row in rows if row.get("id") is None or str(row["id"]) not in seen)
            seen.update(str(row["id"]) for row in rows if row.get("id") is not None)
            if rows:
                yield rows
            # max() so a server that ignores `page` still ends after totalPages requests
            current = max(info.number, page)
            if not rows or info.total_pages == 0 or current + 1 >= info.total_pages:
                if listed < counted:
                    raise self._error(
                        "bad_response",
                        f"Pax8 listed {listed} of the {counted} rows it counted at {path} (a "
                        "page came back empty or cut short): the list is incomplete; nothing was "
                        "saved, sync again",
                    )
                return
            page = current + 1

    # -- endpoints ---------------------------------------------------------------------------

    def companies(self) -> AsyncIterator[list[Row]]:
        return self.iter_pages("/companies")

    def products(self) -> AsyncIterator[list[Row]]:
        return self.iter_pages("/products")

    async def product(self, product_id: str) -> Row:
        return await self._get_object(f"/products/{_segment(product_id)}")

    def subscriptions(self, **filters: ParamValue) -> AsyncIterator[list[Row]]:
        """Filters: status, billingTerm, companyId, productId, sort."""
        return self.iter_pages("/subscriptions", filters)

    async def subscription(self, subscription_id: str) -> Row:
        return await self._get_object(f"/subscriptions/{_segment(subscription_id)}")

    async def subscription_history(self, subscription_id: str) -> list[Row]:
        """Every version of a subscription, newest first (`{content}`, no paging). It holds
        the current version at least: an answer with none is malformed, not a subscription
        without history (read as one, it would delete the stored history and its proration)."""
        path = f"/subscriptions/{_segment(subscription_id)}/history"
        versions = self._rows((await self._get_object(path)).get("content", []), path)
        if not versions:
            raise self._unexpected(path, "the subscription's versions (it has one at least)")
        return versions

    def orders(self, company_id: str | None = None) -> AsyncIterator[list[Row]]:
        return self.iter_pages("/orders", {"companyId": company_id})

    def invoices(self, **filters: ParamValue) -> AsyncIterator[list[Row]]:
        """Filters: status, invoiceDateRangeStart, invoiceDateRangeEnd, companyId, ..."""
        return self.iter_pages("/invoices", filters)

    def invoice_items(self, invoice_id: str) -> AsyncIterator[list[Row]]:
        return self.iter_pages(f"/invoices/{_segment(invoice_id)}/items")

    def usage_summaries(self, subscription_id: str) -> AsyncIterator[list[Row]]:
        return self.iter_pages(f"/subscriptions/{_segment(subscription_id)}/usage-summaries")

    def usage_lines(self, summary_id: str, usage_date: date | str) -> AsyncIterator[list[Row]]:
        path = f"/usage-summaries/{_segment(summary_id)}/usage-lines"
        return self.iter_pages(path, {"usageDate": usage_date})

    async def _get_object(self, path: str) -> Row:
        return self._object(await self.request("GET", path), path)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _count(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return default
