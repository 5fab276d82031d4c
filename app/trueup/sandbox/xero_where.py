"""Xero's `where` and `order` query parameters, for the Xero simulator.

Xero documents the filter as a small expression language (developer.xero.com "Requests and
responses", and integrators' guides such as Coupler's): `Name=="ABC"`, `Status!="DELETED"`,
`Type=="ACCREC" AND Status=="AUTHORISED"` (also `&&`), `Type=="ACCPAY" OR Type=="ACCREC"` (also
`||`), parentheses, `Name.Contains("x")`, `.StartsWith(..)`, `.EndsWith(..)`, `Contact.ContactID==
GUID("...")`, `Date >= DateTime(2015, 01, 01)`, `EmailAddress!=null`, numbers and `true`/`false`,
nested fields with a dot (`Contact.Name`). Xero recommends the explicit list parameters (IDs,
InvoiceNumbers, Statuses) over OR chains for speed, but OR is part of the language.

A string literal escapes a quote by doubling it (`""`), and only so: a backslash is an ordinary
character. Xero's parser is Dynamic LINQ's (its QueryParseException messages are that library's:
"No property or field 'Bat' exists in type 'Contact'", xeroizer issue 160; "Unterminated string
literal", laravel-xero issue 83; "Character literal must contain exactly one character", xeroizer
issue 454), whose string literals end at the first lone quote; and `Name=="asd\\"asd"` is
"Syntax error" from Xero (XeroAPI/Xero-Java issue 347).

Not confirmed, so chosen here: string comparison ignores case (Xero's store answers
`Name=="acme"` for "Acme" in integrators' reports); field names ignore case. A field the record
type does not have is a QueryParseException (Xero's message names the property and the type).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from trueup.sandbox.xero_wire import parse_moment

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
Getter = Callable[[Record], Any]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"]|"")*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<>|>=|<=|&&|\|\||[=<>!().,])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
METHODS = {"contains", "startswith", "endswith", "tolower", "toupper"}


class WhereError(ValueError):
    """A filter Xero would refuse; the message says where."""


class _Missing:
    pass


MISSING = _Missing()


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise WhereError(f"Syntax error at index {position} of the where filter")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, entity: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.entity = entity

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def expect(self, value: str) -> None:
        _, text = self.take()
        if text != value:
            raise WhereError(f"'{value}' expected, found '{text or 'the end'}'")

    def _word(self, *words: str) -> bool:
        kind, text = self.peek()
        return (kind == "name" and text.upper() in words) or (kind == "op" and text in words)

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.peek()[0] != "end":
            raise WhereError(f"Unexpected '{self.peek()[1]}' in the where filter")
        return predicate

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self._word("OR", "||"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while self._word("AND", "&&"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)

    def negation(self) -> Predicate:
        if self._word("NOT", "!"):
            self.take()
            inner = self.negation()
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> Predicate:
        if self.peek()[1] == "(":
            self.take()
            inner = self.disjunction()
            self.expect(")")
            return inner
        left = self.operand()
        kind, op = self.peek()
        if kind == "op" and op in ("==", "=", "!=", "<>", ">", ">=", "<", "<="):
            self.take()
            right = self.operand()
            return lambda r: _compare(op, left(r), right(r))
        return lambda r: left(r) is True

    def operand(self) -> Getter:
        kind, text = self.take()
        if kind == "string":
            literal = _unquote(text)
            return lambda r: literal
        if kind == "number":
            number = Decimal(text)
            return lambda r: number
        if kind != "name":
            raise WhereError(f"A value or field expected, found '{text or 'the end'}'")
        lowered = text.lower()
        if lowered in ("true", "false"):
            flag = lowered == "true"
            return lambda r: flag
        if lowered == "null":
            return lambda r: None
        if lowered == "guid" and self.peek()[1] == "(":
            self.take()
            kind, value = self.take()
            if kind != "string":
                raise WhereError("GUID() takes a string")
            self.expect(")")
            guid = _unquote(value).lower()
            return lambda r: guid
        if lowered == "datetime" and self.peek()[1] == "(":
            return self._datetime()
        return self._path(text)

    def _datetime(self) -> Getter:
        self.take()
        parts: list[int] = []
        while True:
            kind, value = self.take()
            if kind != "number":
                raise WhereError("DateTime() takes numbers: DateTime(2026, 11, 30)")
            parts.append(int(value))
            if self.peek()[1] != ",":
                break
            self.take()
        self.expect(")")
        if not 3 <= len(parts) <= 6:
            raise WhereError("DateTime() takes a year, month and day, then hours, minutes, seconds")
        year, month, day, hour, minute, second = (*parts, 0, 0, 0)[:6]
        try:
            moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            raise WhereError("DateTime() is not a valid date") from None
        return lambda r: moment

    def _path(self, first: str) -> Getter:
        names = [first]
        methods: list[tuple[str, Getter | None]] = []
        while self.peek()[1] == ".":
            self.take()
            kind, name = self.take()
            if kind != "name":
                raise WhereError("A field or method name expected after '.'")
            if self.peek()[1] == "(" and name.lower() in METHODS:
                self.take()
                argument = None if self.peek()[1] == ")" else self.operand()
                self.expect(")")
                methods.append((name.lower(), argument))
            elif methods:
                raise WhereError(f"'{name}' cannot follow a method call")
            else:
                names.append(name)
        entity = self.entity
        dotted = ".".join(names)

        def get(record: Record) -> Any:
            value: Any = record
            for name in names:
                value = _field(value, name)
                if value is MISSING:
                    raise WhereError(f"No property or field '{dotted}' exists in type '{entity}'")
            for method, argument in methods:
                value = _call(method, value, argument(record) if argument else None)
            return value

        return get


def _unquote(text: str) -> str:
    return text[1:-1].replace('""', '"')


def _field(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        return None if value is None else MISSING
    if name in value:
        return value[name]
    lowered = name.lower()
    for key, found in value.items():
        if key.lower() == lowered:
            return found
    return None if _KNOWN.get(lowered) else MISSING


# Optional fields a record may lack (absent means null, as in Xero's typed records).
_OPTIONAL = (
    "EmailAddress", "AccountNumber", "ContactNumber", "FirstName", "LastName", "Reference",
    "InvoiceNumber", "CreditNoteNumber", "DueDate", "Description", "Code", "Name", "TaxType",
    "BankAccountNumber", "ContactStatus", "IsCustomer", "IsSupplier", "Status", "Type",
    "CurrencyCode", "DefaultCurrency", "SystemAccount", "Class", "UpdatedDateUTC", "Date",
    "ExpectedPaymentDate", "FullyPaidOnDate", "Url", "BrandingThemeID", "PurchaseDetails",
    "SalesDetails", "IsSold", "IsPurchased", "ReportTaxType",
)  # fmt: skip
_KNOWN = {name.lower(): True for name in _OPTIONAL}


def _call(method: str, value: Any, argument: Any) -> Any:
    if method == "tolower":
        return value.lower() if isinstance(value, str) else value
    if method == "toupper":
        return value.upper() if isinstance(value, str) else value
    if not isinstance(value, str) or not isinstance(argument, str):
        return False
    text, part = value.lower(), argument.lower()
    if method == "contains":
        return part in text
    return text.startswith(part) if method == "startswith" else text.endswith(part)


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _comparable(left, right), _comparable(right, left)
    if op in ("==", "="):
        return bool(left == right)
    if op in ("!=", "<>"):
        return bool(left != right)
    if left is None or right is None or type(left) is not type(right):
        return False
    ordered = {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}
    return bool(ordered[op])


def _comparable(value: Any, other: Any) -> Any:
    """Bring a record's value and a literal to one type: dates, numbers, case-folded text."""
    if isinstance(other, datetime) and isinstance(value, str):
        return parse_moment(value)
    if isinstance(value, bool) or value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        if isinstance(other, Decimal):
            try:
                return Decimal(value)
            except InvalidOperation:
                return value.casefold()
        return value.casefold()
    return value


def compile_where(text: str, entity: str) -> Predicate:
    """A predicate for Xero's `where` text over records of `entity` (for the messages)."""
    predicate = _Parser(text, entity).parse()

    def check(record: Record) -> bool:
        return predicate(record)

    return check


def sort_rows(rows: list[Record], order: str, entity: str) -> list[Record]:
    """Xero's `order`: `Name ASC`, `UpdatedDateUTC DESC`, several by commas."""
    keys: list[tuple[str, bool]] = []
    for part in filter(None, (p.strip() for p in order.split(","))):
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise WhereError(f"Cannot order by '{part}'")
        keys.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    for name, descending in reversed(keys):
        get = _dotted(name, entity)

        def key(row: Record, get: Getter = get) -> tuple[int, Any]:
            return _sort_key(get(row))

        rows = sorted(rows, key=key, reverse=descending)
    return rows


def _dotted(name: str, entity: str) -> Getter:
    parser = _Parser(name, entity)
    kind, first = parser.take()
    if kind != "name":
        raise WhereError(f"Cannot order by '{name}'")
    getter = parser._path(first)
    if parser.peek()[0] != "end":
        raise WhereError(f"Cannot order by '{name}'")
    return getter


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        moment = parse_moment(value) if value.startswith("/Date(") else None
        return (2, moment.timestamp()) if moment else (3, value.casefold())
    if isinstance(value, bool | int | float | Decimal):
        return (1, Decimal(str(value)))
    return (4, str(value))
