"""The evidence pack as a PDF, set by Typst (the `typst` package: the compiler and its own
fonts, from the package index alone) from the same blocks as the HTML page. Typst shapes the
text and falls back glyph by glyph across its fonts, then the system's: × − → Δ print from its
own, a name in another script from a system font that has it (else as a box). The template is
evidence.typ beside this file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from importlib.resources import files

import typst

from trueup.core.reports.evidence_doc import Block


def pdf_bytes(title: str, blocks: Sequence[Block]) -> bytes:
    parts = [{"kind": type(block).__name__.lower(), **asdict(block)} for block in blocks]
    template = files(__package__).joinpath("evidence.typ").read_bytes()
    pack = json.dumps({"title": title, "blocks": parts})
    return typst.compile(template, format="pdf", sys_inputs={"pack": pack})
