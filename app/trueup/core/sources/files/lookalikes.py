"""The files a download may be mistaken for, told by headers only they have, so a file given
as the wrong --source is refused naming what it looks like rather than every column it lacks.
"""

from __future__ import annotations

from trueup.core.sources.files.columns import header_key
from trueup.core.sources.files.table import OtherFormat
from trueup.core.values.distributors import INGRAM, ION, PARTNER_CENTER, SHERWEB

# (what the file is, the importable format it is (None: none), headers it has, any case).
_LOOKALIKES: tuple[tuple[str, str | None, frozenset[str]], ...] = (
    ("a Pax8 invoice export", None, frozenset({"billedbypax8"})),
    ("a Pax8 invoice export", None, frozenset({"companyname", "startperiod", "endperiod"})),
    (
        "a Partner Center (new commerce) invoice reconciliation file",
        PARTNER_CENTER,
        frozenset({"effectiveunitprice", "billablequantity"}),
    ),
    ("a Partner Center daily rated usage file", None, frozenset({"usagedate", "meterid"})),
    (
        "a Partner Center legacy (not new commerce) license reconciliation file",
        None,
        frozenset({"durableofferid"}),
    ),
    (
        "a Partner Center legacy (not new commerce) license reconciliation file",
        None,
        frozenset({"offerid"}),
    ),
    ("a TD SYNNEX StreamOne Ion billing report", ION, frozenset({"sellercost", "customercost"})),
    (
        "an Ingram Micro Cloud Marketplace rated data export",
        INGRAM,
        frozenset({"reselleraccountcurrency"}),
    ),
    ("a Sherweb payable charges file", SHERWEB, frozenset({"listprice", "netprice"})),
)


def other_format(source: str) -> OtherFormat:
    """The lookalike test of the files `source` may be mistaken for (never its own)."""

    def lookalike(headers: set[str]) -> str | None:
        return next(
            (
                name
                for name, format_of, marks in _LOOKALIKES
                if format_of != source and {header_key(m) for m in marks} <= headers
            ),
            None,
        )

    return lookalike
