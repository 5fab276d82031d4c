"""The evidence pack written to a folder: one self-contained HTML page (Rich's own export), the
same blocks as a PDF (evidence_pdf.py), and the raw records beside them as JSON. Names are
data: always Text, never markup."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from trueup.core.reports.evidence import EvidencePack
from trueup.core.reports.evidence_doc import Block, Heading, Para, blocks, title
from trueup.core.reports.evidence_pdf import pdf_bytes
from trueup.core.store.replaced import private_folder, replaced

WIDTH = 120


def write_pack(pack: EvidencePack, folder: Path) -> list[Path]:
    """evidence.html, evidence.pdf and records.json in `folder` (made if missing); the paths
    written."""
    private_folder(folder)
    laid_out = blocks(pack)
    console = Console(record=True, width=WIDTH, file=io.StringIO(), color_system="truecolor")
    for block in laid_out:
        console.print(_renderable(block))
    page, pdf, records = folder / "evidence.html", folder / "evidence.pdf", folder / "records.json"
    contents = (
        console.export_html(inline_styles=True).encode(),
        pdf_bytes(title(pack), laid_out),
        (json.dumps(pack.records, indent=2, default=str) + "\n").encode(),
    )
    # Renamed into place once all three are whole: a full disk at the PDF leaves the last
    # pack's three as they were, not this month's page beside last month's PDF.
    with contextlib.ExitStack() as written:
        for path, content in zip((page, pdf, records), contents, strict=True):
            written.enter_context(replaced(path)).write_bytes(content)
    return [page, pdf, records]


def _renderable(block: Block) -> RenderableType:
    if isinstance(block, Heading):
        return Text(("\n" if block.level > 1 else "") + block.text, style="bold")
    if isinstance(block, Para):
        return Text(block.text)
    table = Table(title=block.title, title_justify="left", expand=False)
    for header in block.headers:
        table.add_column(header, overflow="fold")
    for row in block.rows:
        table.add_row(*(Text(cell) for cell in row))
    return table
