"""The file format of each `trueup import --source` (values/distributors.py FILE_SOURCES)."""

from __future__ import annotations

from trueup.core.errors import TrueupError
from trueup.core.sources.files import ingram, ion, partner_center, sherweb
from trueup.core.sources.files.shapes import FileFormat
from trueup.core.values.distributors import FILE_SOURCES

FORMATS = {
    f.distributor: f for f in (partner_center.FORMAT, ion.FORMAT, ingram.FORMAT, sherweb.FORMAT)
}


class NotBuilt(TrueupError):
    """A source trueup has no file format for."""


def file_format(source: str) -> FileFormat:
    if source not in FORMATS:
        raise NotBuilt(f"no source {source!r} (the sources are: {', '.join(FILE_SOURCES)})")
    return FORMATS[source]
