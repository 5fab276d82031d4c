"""The file format of each `trueup import --source`, and a clear refusal for those not built."""

from __future__ import annotations

from trueup.core.errors import TrueupError
from trueup.core.sources.files import partner_center
from trueup.core.sources.files.shapes import FileFormat
from trueup.core.values.distributors import FILE_SOURCES, NAMES

FORMATS = {f.distributor: f for f in (partner_center.FORMAT,)}


class NotBuilt(TrueupError):
    """A source the contract names whose file trueup cannot read yet."""


def file_format(source: str) -> FileFormat:
    if source in FORMATS:
        return FORMATS[source]
    if source in FILE_SOURCES:
        raise NotBuilt(
            f"importing {NAMES[source]} files is not built yet: only --source partner-center "
            "imports today"
        )
    raise NotBuilt(f"no source {source!r} (the sources are: {', '.join(FILE_SOURCES)})")
