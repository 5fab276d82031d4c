"""The sandbox scenario file (contract.md §4): one JSON file is a whole Pax8 + Halo + QBO world."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_CREDENTIALS = {"client_id": "sandbox", "client_secret": "sandbox"}


class ScenarioError(ValueError):
    """An invalid scenario file; the message names the object and the field."""


@dataclass
class Scenario:
    as_of: datetime
    pax8: dict[str, Any] = field(default_factory=dict)
    halo: dict[str, Any] = field(default_factory=dict)
    qbo: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)

    def credentials_for(self, service: str) -> dict[str, str]:
        return self.credentials.get(service, DEFAULT_CREDENTIALS)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Raises ScenarioError with a one-line reason."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"scenario {path} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from exc
    return parse_scenario(data)


def parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario: the top level must be a JSON object")
    try:
        as_of = datetime.fromisoformat(str(data["as_of"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise ScenarioError("scenario: 'as_of' must be an ISO timestamp") from exc
    return Scenario(
        as_of=as_of,
        pax8=data.get("pax8") or {},
        halo=data.get("halo") or {},
        qbo=data.get("qbo") or {},
        credentials=data.get("credentials") or {},
    )
