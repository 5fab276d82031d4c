"""Reading what a destination answers a post with: the checks every sink makes on a record
before it is taken as one of ours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trueup.core.posting.sink import Document, Posted, Refused
from trueup.core.sources.http import ApiError


def described(record: dict[str, Any], id_field: str, number_field: str) -> str:
    """What a destination's record says it is, for an error: its id and number, cut short,
    control characters escaped."""
    return (
        f"{id_field} {str(record.get(id_field))[:40]!r} "
        f"numbered {str(record.get(number_field))[:40]!r}"
    )


def without_id(service: str, record: dict[str, Any], id_field: str, number_field: str) -> ApiError:
    """A lookup found one of our documents without an id to know it by: recorded, it would be
    a posting under a bogus id; passed over, the document would be sent again."""
    return ApiError(
        service,
        "bad_response",
        None,
        f"{service} answered a lookup with {described(record, id_field, number_field)}, ours "
        f"but without a usable id: check it in {service}, then post again",
    )


def one_each(
    service: str, documents: Sequence[Document], outcomes: list[Posted | Refused]
) -> list[Posted | Refused]:
    """`outcomes`, unless the destination answered two documents of a kind with one id (credits
    are numbered apart from invoices at QuickBooks): then neither answer can be trusted, and the
    request is settled by looking them up."""
    seen: set[tuple[bool, str]] = set()
    for document, outcome in zip(documents, outcomes, strict=True):
        if not isinstance(outcome, Posted):
            continue
        key = (document.credit, outcome.remote_id)
        if key in seen:
            raise ApiError(
                service,
                "bad_response",
                None,
                f"{service} answered {len(documents)} documents with id "
                f"{outcome.remote_id[:40]!r} for more than one: the request is settled by "
                "looking them up",
                ambiguous=True,
            )
        seen.add(key)
    return outcomes


def held_by(service: str, document: Document, kind: str, holder: object, ours: object) -> None:
    """Stop when a record with our number belongs to another customer than the document's (a
    client re-numbered by a new Halo tenant, another company's trueup in the same books):
    taken as ours, the client's month would read billed while nobody billed it."""
    if holder == ours:
        return
    raise ApiError(
        service,
        "bad_response",
        None,
        f"{service} holds {kind} {document.reference} for customer {repr(holder)[:40]}, not "
        f"{document.client_name}'s ({ours}): another {kind} has trueup's number; renumber it "
        f"in {service} or check the client's mapping, then post again",
    )
