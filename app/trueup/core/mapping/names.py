"""Name normalisation for suggesting mappings: the same company or product, spelled differently.

Pax8 and Halo name the same customer "Bear Creek Winery" and "Bear Creek Winery LLC", the same
product "Microsoft 365 Business Standard" and "M365 Business Standard". Names only ever *suggest*
a mapping (billing-rules §1), so the rules here aim to be predictable, and each match explains
itself in words an operator can check.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# Trailing words that name a legal form, not the business (normalised spelling: no dots).
LEGAL_SUFFIXES = frozenset(
    {
        "llc", "lc", "pllc", "llp", "lp", "ltd", "limited", "inc", "incorporated", "corp",
        "corporation", "co", "company", "gmbh", "mbh", "ag", "kg", "ug", "pty", "plc", "pc", "pa",
        "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy", "ab", "as", "aps", "kk", "ulc",
        "lllp",
    }
)  # fmt: skip

# Abbreviations product catalogues use for the same words (token -> its long form).
PRODUCT_ALIASES = {
    "m365": "microsoft 365",
    "o365": "office 365",
    "ms": "microsoft",
    "msft": "microsoft",
    "aad": "azure ad",
}

_PARENTHESISED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_JOINING = re.compile(r"['’.]")  # "L.L.C." -> "llc", "O'Brien" -> "obrien"
_SEPARATING = re.compile(r"[^\w]+|_")


def fold(text: str) -> str:
    """Lower case without accents: "Zürich Café" -> "zurich cafe" ("ß" -> "ss")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """Folded words separated by single spaces, `&` read as `and`, punctuation dropped."""
    folded = fold(text).replace("&", " and ")
    return " ".join(_SEPARATING.sub(" ", _JOINING.sub("", folded)).split())


@dataclass(frozen=True)
class CompanyName:
    """A company name split into the business's own name and what only decorates it."""

    key: str  # normalised body: what two names of the same company share
    body: str  # the body as written
    dropped: tuple[str, ...]  # as written: a leading "The", legal suffixes, "(HQ)"-like qualifiers


@functools.lru_cache(maxsize=1 << 16)  # the workbench re-derives rows on every change
def company_name(name: str) -> CompanyName:
    qualifiers = [q.strip() for q in _PARENTHESISED.findall(name)]
    words = [w.strip(",;:") for w in _PARENTHESISED.sub(" ", name).split()]
    words = [w for w in words if w]
    suffixes: list[str] = []
    # Peel legal forms off the end, keeping at least one word of the name itself.
    while len(words) > 1 and normalise(words[-1]) in LEGAL_SUFFIXES:
        suffixes.insert(0, words.pop())
    leading = [words.pop(0)] if len(words) > 1 and normalise(words[0]) == "the" else []
    body = " ".join(words)
    key = normalise(body) or normalise(name)
    return CompanyName(key, body, (*leading, *suffixes, *qualifiers))


@functools.lru_cache(maxsize=1 << 12)
def product_key(name: str) -> str:
    """A product name with catalogue abbreviations spelled out: "M365 E3" -> "microsoft 365 e3"."""
    return " ".join(PRODUCT_ALIASES.get(word, word) for word in normalise(name).split())


def explain_same_company(pax8_name: str, halo_name: str) -> str:
    """Why two names with the same key are one company, e.g. "same name without 'LLC'"."""
    left, right = company_name(pax8_name), company_name(halo_name)
    dropped = [f"'{x}'" for x in _differing(left.dropped, right.dropped)]
    return _describe(dropped, _cosmetic(left.body, right.body))


def explain_same_product(pax8_name: str, halo_name: str) -> str:
    spelled = [
        f"'{word}' read as '{PRODUCT_ALIASES[fold(word)]}'"
        for word in re.findall(r"\w+", f"{pax8_name} {halo_name}")
        if fold(word) in PRODUCT_ALIASES
    ]
    return _describe([], list(dict.fromkeys(spelled)) or _cosmetic(pax8_name, halo_name))


def _describe(dropped: list[str], differences: list[str]) -> str:
    parts = []
    if dropped:
        parts.append("without " + ", ".join(dropped))
    if differences:
        parts.append("apart from " + " and ".join(differences))
    return "same name " + ", ".join(parts) if parts else "same name"


def _differing(left: tuple[str, ...], right: tuple[str, ...]) -> list[str]:
    """What one side writes that the other does not (compared normalised, reported as written)."""
    left_keys = {normalise(x) for x in left}
    right_keys = {normalise(x) for x in right}
    return [x for x in left if normalise(x) not in right_keys] + [
        x for x in right if normalise(x) not in left_keys
    ]


def _cosmetic(left: str, right: str) -> list[str]:
    """What normalisation forgave between two spellings: '&', accents, case, punctuation."""
    differences = []
    if ("&" in left) != ("&" in right):
        differences.append("'&' for 'and'")
        left, right = (re.sub(r"\s*&\s*", " and ", x) for x in (left, right))
    left_letters, right_letters = (re.sub(r"\W", "", x) for x in (left, right))
    if _unaccented(left_letters) != left_letters or _unaccented(right_letters) != right_letters:
        if left_letters.casefold() != right_letters.casefold():
            differences.append("accents")
        left_letters, right_letters = _unaccented(left_letters), _unaccented(right_letters)
    if left_letters != right_letters and left_letters.casefold() == right_letters.casefold():
        differences.append("case")
    if re.sub(r"[\w\s]", "", left) != re.sub(r"[\w\s]", "", right):
        differences.append("punctuation")
    return differences


def _unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
