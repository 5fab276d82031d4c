"""Reading a distributor's file format in the import tests (Ion, Ingram, Sherweb): its records,
its refusal, and its subscriptions as an import rebuilds them from the raw cells it keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trueup.core.sources.files.columns import renamed
from trueup.core.sources.files.problems import FileRefused


class FormatReader:
    def __init__(self, file_format: Any) -> None:
        self.format = file_format

    def read(self, path: Path, **renames: str) -> Any:
        return self.format.read(path, renamed(self.format.columns, renames))

    def refusal(self, path: Path, **renames: str) -> FileRefused:
        with pytest.raises(FileRefused) as caught:
            self.read(path, **renames)
        return caught.value

    def subscriptions(self, records: Any) -> dict[str, Any]:
        """By id; the rebuild from the raw cells must equal the one from the parsed rows."""
        rebuilt = self.format.subscriptions([], [i["raw"] for i in records.items])
        assert rebuilt == self.format.subscriptions(records.parsed.values(), [])
        return {row["id"]: (row, history) for row, history in rebuilt}
