"""The QBO query language, as much as the simulator serves (accounting-and-reliability.md §1.4).

``SELECT * [, Field]... | count(*) FROM Entity [WHERE cond [AND cond]...]
[ORDERBY | ORDER BY f [ASC|DESC], ...] [STARTPOSITION n] [MAXRESULTS n]``; a condition is
``Field op value`` with op one of ``= != < > <= >= LIKE`` (``%`` wildcards) or
``Field IN (v, ...)``. Keywords are case-insensitive, entity names are not. Dotted fields read
nested objects; a reference (``CustomerRef``) compares by its ``value``. String comparison ignores
case. Like QBO, Customer and Item queries leave inactive rows out unless the query filters on
``Active``, and Item's SELECT * leaves out Sku unless it is named.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

QUERYABLE = (
    "Customer",
    "Item",
    "Invoice",
    "CreditMemo",
    "TaxCode",
    "TaxRate",
    "CompanyInfo",
    "Preferences",
)
# Fields QuickBooks leaves out of SELECT * unless named (SELECT *, Sku FROM Item): seen by
# python-quickbooks' users (its issue 373; PR 379 made `Item.all()` ask for Sku by name).
UNSELECTED = {"Item": ("Sku",)}
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_CAP = 1000  # QBO serves at most 1000 rows per query
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|=|<|>)|(?P<punct>[(),*])"
    r"|(?P<word>[\w.:+-]+))"
)
_COMPARISONS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_OPERATORS = (*_COMPARISONS, "like", "in")


class QueryError(ValueError):
    """A query QBO would reject; the message is the Fault's Detail."""


@dataclass
class Query:
    entity: str
    count: bool = False
    conditions: list[tuple[str, str, list[Any]]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
    fields: list[str] = field(default_factory=list)  # named beside *, lower case


def parse_query(text: str) -> Query:
    tokens = _tokenize(text)
    reader = _Reader(tokens)
    reader.keyword("select")
    count = reader.peek() == "count"
    if count:
        for expected in ("count", "(", "*", ")"):
            reader.keyword(expected)
    else:
        reader.keyword("*")
    fields = []
    while reader.accept(","):  # SELECT *, Sku: fields SELECT * leaves out, named
        fields.append(reader.take())
    reader.keyword("from")
    entity = reader.take()
    if entity not in QUERYABLE:
        raise QueryError(f"QueryParserError: Invalid entity name {entity!r}")
    query = Query(entity, count, fields=[name.lower() for name in fields])
    if reader.accept("where"):
        query.conditions.append(_condition(reader))
        while reader.accept("and"):
            query.conditions.append(_condition(reader))
    if reader.accept("orderby") or _two_word_order_by(reader):
        query.order.append(_order_term(reader))
        while reader.accept(","):
            query.order.append(_order_term(reader))
    while not reader.done():
        if reader.accept("startposition"):
            query.start = _positive(reader.take(), "STARTPOSITION")
        elif reader.accept("maxresults"):
            query.max_results = min(_positive(reader.take(), "MAXRESULTS"), MAX_RESULTS_CAP)
        else:
            raise QueryError(f'QueryParserError: Encountered "{reader.take()}"')
    return query


def run_query(query: Query, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The QueryResponse body of a parsed query over an entity's rows."""
    conditions = list(query.conditions)
    if query.entity in ("Customer", "Item") and not any(c[0] == "Active" for c in conditions):
        conditions.append(("Active", "!=", [False]))
    matched = [row for row in rows if all(_holds(row, *c) for c in conditions)]
    if query.count:
        return {"QueryResponse": {"totalCount": len(matched)}}
    for field_name, descending in reversed(query.order):
        matched.sort(key=_sort_key(field_name), reverse=descending)
    page = matched[query.start - 1 : query.start - 1 + query.max_results]
    hidden = [name for name in UNSELECTED.get(query.entity, ()) if name.lower() not in query.fields]
    if hidden:
        page = [{k: v for k, v in row.items() if k not in hidden} for row in page]
    if not page:
        return {"QueryResponse": {}}  # QBO leaves out the entity and paging keys when empty
    return {
        "QueryResponse": {query.entity: page, "startPosition": query.start, "maxResults": len(page)}
    }


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def done(self) -> bool:
        return self.position >= len(self.tokens)

    def peek(self) -> str:
        return self.tokens[self.position][1].lower() if not self.done() else ""

    def take(self) -> str:
        if self.done():
            raise QueryError("QueryParserError: Encountered <EOF>")
        self.position += 1
        return self.tokens[self.position - 1][1]

    def take_token(self) -> tuple[str, str]:
        self.take()
        return self.tokens[self.position - 1]

    def accept(self, word: str) -> bool:
        if self.peek() == word and (self.tokens[self.position][0] != "string"):
            self.position += 1
            return True
        return False

    def keyword(self, word: str) -> None:
        if not self.accept(word):
            found = self.tokens[self.position][1] if not self.done() else "<EOF>"
            raise QueryError(f'QueryParserError: Encountered "{found}", expected {word.upper()}')


def _two_word_order_by(reader: _Reader) -> bool:
    """QBO's grammar spells it ORDERBY; python-quickbooks' `all(order_by=...)` sends "ORDER BY",
    which QuickBooks takes too (the library's users rely on it)."""
    if not reader.accept("order"):
        return False
    reader.keyword("by")
    return True


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"QueryParserError: Invalid character at {position}")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _condition(reader: _Reader) -> tuple[str, str, list[Any]]:
    field_name = reader.take()
    op = reader.take().lower()
    if op not in _OPERATORS:
        raise QueryError(f'QueryParserError: Encountered "{op}", expected an operator')
    if op != "in":
        return field_name, op, [_literal(reader.take_token())]
    reader.keyword("(")
    values = [_literal(reader.take_token())]
    while reader.accept(","):
        values.append(_literal(reader.take_token()))
    reader.keyword(")")
    return field_name, op, values


def _order_term(reader: _Reader) -> tuple[str, bool]:
    field_name = reader.take()
    if reader.accept("desc"):
        return field_name, True
    reader.accept("asc")
    return field_name, False


def _literal(token: tuple[str, str]) -> Any:
    kind, text = token
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return Decimal(text)
    except InvalidOperation:
        raise QueryError(f'QueryParserError: Encountered "{text}", expected a value') from None


def _positive(text: str, clause: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise QueryError(f"QueryParserError: {clause} must be a positive number, not {text!r}")
    return int(text)


def _read(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value.get("value") if isinstance(value, dict) else value


def _holds(row: dict[str, Any], field_name: str, op: str, values: list[Any]) -> bool:
    actual = _read(row, field_name)
    if op == "in":
        return any(_compare(actual, "=", value) for value in values)
    if op == "like":
        pattern = ".*".join(re.escape(part) for part in str(values[0]).split("%"))
        return actual is not None and re.fullmatch(pattern, str(actual), re.I) is not None
    return _compare(actual, op, values[0])


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return op == "!="
    if isinstance(expected, bool) or isinstance(actual, bool):
        left, right = actual, expected
        if op not in ("=", "!="):
            return False
    elif (a := _number(actual)) is not None and (b := _number(expected)) is not None:
        left, right = a, b
    else:
        left, right = str(actual).lower(), str(expected).lower()
    return bool(_COMPARISONS[op](left, right))


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _sort_key(field_name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    """Numbers, then text (ignoring case), then missing values."""

    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = _read(row, field_name)
        if value is None:
            return (2, "")
        if (number := _number(value)) is not None:
            return (0, number)
        return (1, str(value).lower())

    return key
