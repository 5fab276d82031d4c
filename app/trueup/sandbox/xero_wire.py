"""Xero's wire conventions, shared by the Xero simulator's modules: .NET JSON dates, the response
envelope and the error bodies.

- Dates: ``"Date": "/Date(1552262400000+0000)/"`` beside ``"DateString": "2019-03-11T00:00:00"``
  (the official OpenAPI's examples; a few of them write the string with a space instead of the
  ``T``); ``UpdatedDateUTC`` the same way, invoices and credit notes also with
  ``UpdatedDateUTCString``; the envelope's ``DateTimeUTC`` has no offset
  (``/Date(1552327126164)/``).
- Envelope: ``{"Id", "Status": "OK", "ProviderName", "DateTimeUTC", "<Collection>": [...]}``, with
  ``pagination`` (``page``, ``pageSize``, ``pageCount``, ``itemCount``) when a page was asked for.
- 400 ``{"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception
  occurred", "Elements": [the element as sent, with "ValidationErrors": [{"Message"}]]}``.
- 401 and 403 come from Xero's gateway as problem details: ``{"Type": null, "Title":
  "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired at 03/03/2020 09:46:07",
  "Instance", "Extensions": {}}``; ``"Detail": "AuthenticationUnsuccessful"`` for an unknown
  token (401) or an organisation the token may not reach (403). Seen on the wire by the xero-node,
  xero-python, pyxero and xeroizer issue trackers.
- 404 is the text ``The resource you're looking for cannot be found`` (pyxero's test, "verified
  response from the live API"; xero-python's NotFoundException says the same).
- A ``where`` Xero cannot parse: ``{"ErrorNumber": 16, "Type": "QueryParseException", "Message"}``
  (the shape is recalled from integrators' logs, not confirmed here).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.responses import PlainTextResponse, Response

ZERO_ID = "00000000-0000-0000-0000-000000000000"
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/$")
Json = dict[str, Any]


def ms_date(moment: datetime) -> str:
    """`/Date(1518685950940+0000)/`, as Xero writes dates and UpdatedDateUTC."""
    return f"/Date({_millis(moment)}+0000)/"


def day_date(day: date) -> str:
    return ms_date(datetime(day.year, day.month, day.day, tzinfo=UTC))


def day_string(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def utc_string(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _millis(moment: datetime) -> int:
    return (moment.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)


def parse_day(value: Any) -> date:
    """A date as clients send it: `2026-11-30`, `2026-11-30T00:00:00` or `/Date(ms+0000)/`."""
    if isinstance(value, str):
        match = _MS_DATE.match(value.strip())
        if match:
            return (EPOCH + timedelta(milliseconds=int(match[1]))).date()
        text = value.strip()
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r}")


def parse_moment(value: Any) -> datetime | None:
    """An UpdatedDateUTC or If-Modified-Since as a UTC datetime; None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    match = _MS_DATE.match(value.strip())
    if match:
        return EPOCH + timedelta(milliseconds=int(match[1]))
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def money(amount: Decimal) -> float:
    """Money on the wire: a JSON number (Xero sends 40.0, 148062.76)."""
    return float(amount)


@dataclass
class XeroError(Exception):
    """An answer other than 2xx, raised from anywhere in the simulator."""

    status: int
    body: Any  # a JSON object, or text
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        if isinstance(self.body, str):
            return PlainTextResponse(self.body, self.status, headers=self.headers)
        return json_body(self.body, self.status, self.headers)


def json_body(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(text.encode(), status, headers=headers, media_type="application/json")


def validation_exception(elements: list[Json]) -> XeroError:
    return XeroError(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        },
    )


def problem(status: int, detail: str) -> XeroError:
    title = {401: "Unauthorized", 403: "Forbidden", 400: "Bad Request"}.get(status, "Error")
    body: Json = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return XeroError(status, body)


def not_found() -> XeroError:
    return XeroError(404, NOT_FOUND_TEXT)


def query_error(message: str) -> XeroError:
    return XeroError(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


def envelope(
    provider: str, now: datetime, collection: str, rows: list[Json], pagination: Json | None = None
) -> Json:
    body: Json = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": provider,
        "DateTimeUTC": f"/Date({_millis(now)})/",
    }
    if pagination is not None:
        body["pagination"] = pagination
    body[collection] = rows
    return body
