"""The Xero simulator against Xero's official OpenAPI (tests/specs/xero-*-openapi.json): every
route's answer, the bodies the tests send, the 400 error and its elements, the token answer and
the connections validate against the schema the spec gives for them.

Xero's schemas allow unknown properties, so they are made strict here (additionalProperties
false on every object the simulator serves): a field the simulator invents fails. The few fields
real Xero sends that the schemas lack are allowed by name, each shown in the spec's own examples:
the envelope's `Id`, `Status`, `ProviderName`, `DateTimeUTC`; a document's `DateString` and
`DueDateString`; a credit note's `ID`; a written line's `ValidationErrors`. Formats are not
asserted (Xero's dates are `/Date(ms+0000)/`, not RFC 3339).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from xero_fixtures import (
    ACME,
    API,
    BETA,
    TENANT,
    connected,
    credit_note,
    invoice,
    plain,
    xero_app,
)

SPEC_DIR = Path(__file__).parent / "specs"
ACCOUNTING_SPEC = SPEC_DIR / "xero-accounting-openapi.json"
IDENTITY_SPEC = SPEC_DIR / "xero-identity-openapi.json"
if not ACCOUNTING_SPEC.exists() or not IDENTITY_SPEC.exists():
    pytest.skip(f"the Xero OpenAPI specs are not in {SPEC_DIR}", allow_module_level=True)

ACCOUNTING, IDENTITY = "urn:xero:accounting", "urn:xero:identity"
STRICT = ("Invoice", "CreditNote", "LineItem", "LineItemItem", "Contact", "Item", "Purchase",
          "Account", "TaxRate", "TaxComponent", "Organisation", "Currency", "Pagination",
          "ValidationError", "Error")  # fmt: skip
ENVELOPES = ("Invoices", "CreditNotes", "Contacts", "Items", "Accounts", "TaxRates",
             "Organisations", "Currencies")  # fmt: skip
TEXT = {"type": "string"}


@functools.cache
def accounting_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(ACCOUNTING_SPEC.read_text(encoding="utf-8"))
    return spec


def strict(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for name in (*STRICT, *ENVELOPES):
        schemas[name]["additionalProperties"] = False
    for name in ENVELOPES:  # Xero's envelope, in every example of the spec
        schemas[name]["properties"] |= {"Id": TEXT, "Status": TEXT, "ProviderName": TEXT,
                                        "DateTimeUTC": TEXT}  # fmt: skip
    for name in ("Invoice", "CreditNote"):  # beside Date and DueDate in every example
        schemas[name]["properties"] |= {"DateString": TEXT, "DueDateString": TEXT}
    schemas["CreditNote"]["properties"]["ID"] = TEXT  # the credit notes' examples
    schemas["LineItem"]["properties"]["ValidationErrors"] = {
        "type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}  # fmt: skip
    return spec


@functools.cache
def registry() -> Registry[Any]:
    identity = json.loads(IDENTITY_SPEC.read_text(encoding="utf-8"))
    return Registry().with_resources([
        (ACCOUNTING, Resource.from_contents(strict(accounting_spec()),
                                            default_specification=DRAFT4)),
        (IDENTITY, Resource.from_contents(identity, default_specification=DRAFT4)),
    ])  # fmt: skip


def validate(body: Any, pointer: str, uri: str = ACCOUNTING) -> None:
    OAS30Validator({"$ref": f"{uri}#{pointer}"}, registry=registry()).validate(body)


def schema(name: str) -> str:
    return f"/components/schemas/{name}"


def answer_schema(path: str, method: str, status: str = "200") -> str:
    """The pointer of the schema the spec gives an answer."""
    escaped = path.replace("~", "~0").replace("/", "~1")
    response = accounting_spec()["paths"][path][method]["responses"][status]
    assert "$ref" in response or "content" in response, f"{method} {path} {status}"
    if "$ref" in response:
        return response["$ref"].removeprefix("#") + "/content/application~1json/schema"
    return f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"


def request_schema(path: str, method: str) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    body = accounting_spec()["paths"][path][method]["requestBody"]
    if "$ref" in body:
        return body["$ref"].removeprefix("#") + "/content/application~1json/schema"
    return f"/paths/{escaped}/{method}/requestBody/content/application~1json/schema"


def test_the_validator_rejects_what_xero_would_not_send() -> None:
    validate({"Invoices": [invoice()]}, request_schema("/Invoices", "put"))
    with pytest.raises(ValidationError):
        validate({"InvoiceID": ACME, "Invented": 1}, schema("Invoice"))
    with pytest.raises(ValidationError):
        validate({"Type": "ACCRECREFUND"}, schema("Invoice"))
    with pytest.raises(ValidationError):
        validate({"Contacts": [{"ContactID": ACME, "Name": 5}]}, schema("Contacts"))


def test_the_spec_facts_trueup_relies_on() -> None:
    """Where the simulator (and trueup's client) lean on the spec; a newer copy that changes one
    calls for a second look."""
    spec = accounting_spec()
    components = spec["components"]
    assert components["parameters"]["requiredHeader"]["name"] == "xero-tenant-id"
    assert components["parameters"]["requiredHeader"]["required"] is True
    assert components["parameters"]["idempotencyKey"]["name"] == "Idempotency-Key"
    invoices = {p.get("name") or p["$ref"].rsplit("/", 1)[1]
                for p in spec["paths"]["/Invoices"]["get"]["parameters"]}  # fmt: skip
    credit_notes = {p.get("name") or p["$ref"].rsplit("/", 1)[1]
                    for p in spec["paths"]["/CreditNotes"]["get"]["parameters"]}  # fmt: skip
    assert {"InvoiceNumbers", "IDs", "Statuses", "page", "pageSize", "where"} <= invoices
    # Credit notes have no list of numbers to ask for: they are found with `where`.
    assert {"where", "page", "pageSize"} <= credit_notes
    assert not {"CreditNoteNumbers", "IDs"} & credit_notes
    for path in ("/Invoices", "/CreditNotes"):
        for method in ("put", "post"):
            names = {p["$ref"].rsplit("/", 1)[1] for p in spec["paths"][path][method]["parameters"]}
            assert {"summarizeErrors", "unitdp", "idempotencyKey"} <= names
    # The schema says summarizeErrors defaults to false; Xero's docs and the simulator treat an
    # absent parameter as true (a 400 for any refused element). Send it explicitly.
    assert components["parameters"]["summarizeErrors"]["schema"]["default"] is False
    statuses = components["schemas"]["Invoice"]["properties"]["Status"]["enum"]
    assert {"DRAFT", "SUBMITTED", "AUTHORISED", "VOIDED", "DELETED"} <= set(statuses)
    assert components["schemas"]["CreditNote"]["properties"]["Type"]["enum"] == [
        "ACCPAYCREDIT",
        "ACCRECCREDIT",
    ]
    assert components["schemas"]["Invoice"]["properties"]["InvoiceNumber"]["maxLength"] == 255


READS = (
    ("/Organisation", "/Organisation", {}),
    ("/Contacts", "/Contacts", {"page": "2"}),
    ("/Contacts", "/Contacts", {"includeArchived": "true"}),
    ("/Contacts/{ContactID}", f"/Contacts/{BETA}", {}),
    ("/Items", "/Items", {"unitdp": "4"}),
    ("/Items/{ItemID}", "/Items/MSP-USER", {}),
    ("/Accounts", "/Accounts", {}),
    ("/TaxRates", "/TaxRates", {}),
    ("/Currencies", "/Currencies", {}),
)


@pytest.mark.parametrize(("path", "url", "params"), READS)
async def test_reads_match_the_spec(path: str, url: str, params: dict[str, str]) -> None:
    async with connected(xero_app()) as client:
        answer = await client.get(f"{API}{url}", params=params)
    assert answer.status_code == 200, answer.text
    validate(answer.json(), answer_schema(path, "get"))


@pytest.mark.parametrize("collection", ["Invoices", "CreditNotes"])
async def test_writes_and_their_reads_match_the_spec(collection: str) -> None:
    make = invoice if collection == "Invoices" else credit_note
    id_field = "InvoiceID" if collection == "Invoices" else "CreditNoteID"
    body = {
        collection: [
            make("C-1"),
            make(
                "C-2",
                Status="DRAFT",
                Contact={"ContactID": BETA},
                CurrencyCode="CAD",
                LineAmountTypes="Inclusive",
            ),
        ]
    }
    refused = {collection: [make("C-3", CurrencyCode="EUR")]}
    single = f"/{collection}/{{{id_field}}}"
    validate(body, request_schema(f"/{collection}", "put"))
    async with connected(xero_app()) as client:
        created = await client.put(f"{API}/{collection}", params={"unitdp": 4}, json=body)
        first, second = created.json()[collection]
        void = {collection: [{id_field: first[id_field], "Status": "VOIDED"}]}
        delete = {collection: [{id_field: second[id_field], "Status": "DELETED"}]}
        validate(void, request_schema(single, "post"))
        voided = await client.post(f"{API}/{collection}/{first[id_field]}", json=void)
        deleted = await client.post(f"{API}/{collection}", json=delete)
        mixed = await client.put(
            f"{API}/{collection}",
            params={"summarizeErrors": "false"},
            json={collection: [make("C-4"), *refused[collection]]},
        )
        summarized = await client.put(f"{API}/{collection}", json=refused)
        paged = await client.get(f"{API}/{collection}", params={"page": 1})
        listed = await client.get(f"{API}/{collection}")
        one = await client.get(f"{API}/{collection}/{first[id_field]}")
    for answer, path, method in ((created, f"/{collection}", "put"), (voided, single, "post"),
                                 (deleted, f"/{collection}", "post"),
                                 (mixed, f"/{collection}", "put"),
                                 (paged, f"/{collection}", "get"),
                                 (listed, f"/{collection}", "get"),
                                 (one, single, "get")):  # fmt: skip
        assert answer.status_code == 200, answer.text
        validate(answer.json(), answer_schema(path, method))
    assert summarized.status_code == 400
    validate(summarized.json(), answer_schema(f"/{collection}", "put", "400"))
    for element in summarized.json()["Elements"]:  # each is the document as sent, with errors
        validate(element, schema(collection[:-1]))


async def test_the_token_answer_and_the_connections_match_the_identity_spec() -> None:
    async with plain(xero_app()) as client:
        token = await client.post("/identity/connect/token", data={
            "grant_type": "refresh_token", "refresh_token": "RT-seed",
            "client_id": "PKCE-client"})  # fmt: skip
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        connections = await client.get("/Connections")
    validate(token.json(), schema("AccessToken"), IDENTITY)
    pointer = "/paths/~1Connections/get/responses/200/content/application~1json/schema"
    validate(connections.json(), pointer, IDENTITY)
    identity = json.loads(IDENTITY_SPEC.read_text(encoding="utf-8"))
    known = set(identity["components"]["schemas"]["Connection"]["properties"])
    for connection in connections.json():  # nothing the spec does not name
        assert set(connection) <= known
    assert connections.json()[0]["tenantId"] == TENANT
