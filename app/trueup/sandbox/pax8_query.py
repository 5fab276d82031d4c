"""Pax8 simulator request plumbing: the error envelope, paging, sorting and typed query params."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from trueup.sandbox.common import json_response

Json = dict[str, Any]
SortKey = Callable[[Json], Any]

DEFAULT_PAGE_SIZE = 10
# The spec caps size at 200; Pax8's own CLI sends 1000 and whether the server clamps or rejects is
# unconfirmed. Clamping (what Spring Data's pageable resolver does with a max size) is the safest.
MAX_PAGE_SIZE = 200
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PAGING = ("page", "size")


@dataclass
class Pax8Error(Exception):
    """An error answered with the Pax8 envelope; `instance` is filled in from the request path."""

    status: int
    type: str
    message: str
    details: list[Json] = field(default_factory=list)


def invalid_param(name: str, problem: str) -> Pax8Error:
    detail = {"type": "INVALID_PARAM", "status": 400, "message": f"{name}: {problem}"}
    return Pax8Error(400, "BAD_REQUEST", f"Invalid parameter '{name}'", [detail])


def reject_invalid(problems: list[str], message: str = "Validation failed") -> None:
    """422 listing every problem; the envelope's type for it is not documented (our choice)."""
    if problems:
        details = [{"type": "INVALID_PARAM", "status": 422, "message": text} for text in problems]
        raise Pax8Error(422, "UNPROCESSABLE_ENTITY", message, details)


def error_response(request_path: str, error: Pax8Error) -> Response:
    body = {
        "type": error.type,
        "message": error.message,
        "instance": "/public" + request_path,  # Pax8 reports its internal prefix
        "status": error.status,
        "details": error.details,
    }
    return json_response(body, error.status)


async def json_body(request: Request) -> Json:
    """The request body as a JSON object; 400 when it is not one."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise Pax8Error(400, "BAD_REQUEST", "Malformed JSON request body") from None
    if not isinstance(body, dict):
        raise Pax8Error(400, "BAD_REQUEST", "The request body must be a JSON object")
    return body


@dataclass(frozen=True)
class PageRequest:
    number: int
    size: int


def page_request(request: Request) -> PageRequest:
    number = _int_param(request, "page", 0)
    size = _int_param(request, "size", DEFAULT_PAGE_SIZE)
    # Out-of-range values are clamped rather than rejected, as Spring Data's resolver does.
    return PageRequest(max(number, 0), min(max(size, 1), MAX_PAGE_SIZE))


def _int_param(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise invalid_param(name, f"'{text}' is not a number") from None


def paged(items: Sequence[Json], page: PageRequest, hidden_key: str | None = None) -> Json:
    """The Spring-style page envelope over `items`; `hidden_key` names a scenario-only key."""
    start = page.number * page.size
    content = list(items[start : start + page.size])
    if hidden_key:
        content = [without(item, hidden_key) for item in content]
    return {
        "content": content,
        "page": {
            "size": page.size,
            "totalElements": len(items),
            "totalPages": math.ceil(len(items) / page.size),
            "number": page.number,
        },
    }


def without(item: Json, key: str) -> Json:
    if key not in item:
        return item
    return {name: value for name, value in item.items() if name != key}


def sorted_by(items: list[Json], request: Request, keys: Mapping[str, SortKey]) -> list[Json]:
    """Apply `sort=field,asc|desc` (repeatable, direction case-insensitive).

    Unknown fields are ignored like any unknown parameter. Nulls sort last ascending and first
    descending, as a SQL backend orders them.
    """
    for spec in reversed(request.query_params.getlist("sort")):
        name, _, direction = spec.partition(",")
        key = keys.get(name.strip())
        if key is None:
            continue

        def null_last(item: Json, key: SortKey = key) -> tuple[bool, Any]:
            value = key(item)
            return (value is None, value if value is not None else 0)

        items = sorted(items, key=null_last, reverse=direction.strip().lower() == "desc")
    return items


def field_key(name: str) -> SortKey:
    return lambda item: item.get(name)


def folded_key(name: str) -> SortKey:
    """Case-insensitive text order, as a database collation gives for names."""
    return lambda item: value.casefold() if isinstance(value := item.get(name), str) else None


def instant_key(name: str) -> SortKey:
    return lambda item: instant(value) if isinstance(value := item.get(name), str) else None


@functools.lru_cache(maxsize=262_144)
def instant(text: str) -> float | None:
    """Epoch seconds of any Pax8 timestamp style (`-0600`, `Z`, `-05:00`, date-only as UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def bool_param(request: Request, name: str) -> bool | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if text.lower() not in ("true", "false"):
        raise invalid_param(name, f"'{text}' is not a boolean")
    return text.lower() == "true"


def number_param(request: Request, name: str) -> float | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        raise invalid_param(name, f"'{text}' is not a number") from None
    if not math.isfinite(number):
        raise invalid_param(name, f"'{text}' is not a number")
    return number


def date_param(request: Request, name: str) -> str | None:
    """A yyyy-MM-dd parameter, kept as text: ISO dates compare correctly as strings."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        valid = bool(_DATE.match(text)) and date.fromisoformat(text) is not None
    except ValueError:  # e.g. 2026-02-30
        valid = False
    if not valid:
        raise invalid_param(name, f"'{text}' is not a yyyy-MM-dd date")
    return text


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


def filtered(items: Iterable[Json], wanted: Mapping[str, Any]) -> list[Json]:
    """The items whose fields equal every wanted value that is not None."""
    active = [(name, value) for name, value in wanted.items() if value is not None]
    return [item for item in items if all(item.get(name) == value for name, value in active)]


class ListingCache:
    """Filtered, sorted listings kept per path and query (bar page and size) while the data is
    unchanged, so a client paging through tens of thousands of rows does not redo it per page."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = capacity
        self._version = -1
        self._listings: dict[Hashable, list[Json]] = {}

    def get(
        self,
        request: Request,
        version: int,
        build: Callable[[], list[Json]],
        sort_keys: Mapping[str, SortKey],
        context: Hashable = None,
    ) -> list[Json]:
        """The cached listing, or build() sorted as asked; `context` adds to the cache key."""
        if version != self._version:
            self._listings.clear()
            self._version = version
        query = tuple(item for item in request.query_params.multi_items() if item[0] not in _PAGING)
        key = (request.url.path, query, context)
        listing = self._listings.pop(key, None)
        if listing is None:
            listing = sorted_by(build(), request, sort_keys)
        self._listings[key] = listing  # re-inserted: the dict's order is least recently used first
        if len(self._listings) > self._capacity:
            del self._listings[next(iter(self._listings))]
        return listing
