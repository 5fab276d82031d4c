"""The config file (TOML) and the environment that overrides it (contract.md §1)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAX8_DEFAULT_URL = "https://api.pax8.com/v1"


class ConfigError(Exception):
    """The config cannot be used; the message names the file, the key and the fix."""


@dataclass
class Pax8Settings:
    url: str = PAX8_DEFAULT_URL
    client_id: str = ""


@dataclass
class HaloSettings:
    url: str = ""  # the tenant's host root, e.g. https://acme.halopsa.com
    auth_url: str = ""  # the authorisation server; empty = discover it from /api/authinfo
    client_id: str = ""
    tenant: str = ""
    scope: str = "all"


@dataclass
class MappingSettings:
    threshold: int = 90  # name matches scoring this or more are offered for one-key acceptance


@dataclass
class Settings:
    path: Path
    pax8: Pax8Settings = field(default_factory=Pax8Settings)
    halo: HaloSettings = field(default_factory=HaloSettings)
    mapping: MappingSettings = field(default_factory=MappingSettings)


def load_settings(path: Path) -> Settings:
    """Read the config file (absent is fine) and apply the TRUEUP_* environment on top."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    settings = Settings(path=path)
    _fill(settings.pax8, data.get("pax8", {}), path, "pax8")
    _fill(settings.halo, data.get("halo", {}), path, "halo")
    _fill(settings.mapping, data.get("mapping", {}), path, "mapping")
    if not 0 <= settings.mapping.threshold <= 100:
        raise ConfigError(f"{path}: [mapping] threshold must be between 0 and 100")
    env = os.environ
    settings.pax8.url = env.get("TRUEUP_PAX8_URL") or settings.pax8.url
    settings.pax8.client_id = env.get("TRUEUP_PAX8_CLIENT_ID") or settings.pax8.client_id
    settings.halo.url = env.get("TRUEUP_HALO_URL") or settings.halo.url
    settings.halo.auth_url = env.get("TRUEUP_HALO_AUTH_URL") or settings.halo.auth_url
    settings.halo.client_id = env.get("TRUEUP_HALO_CLIENT_ID") or settings.halo.client_id
    return settings


def _fill(target: Any, section: Any, path: Path, name: str) -> None:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    for key, value in section.items():
        if not hasattr(target, key):
            known = ", ".join(vars(target))
            raise ConfigError(f"{path}: unknown key '{key}' in [{name}] (known: {known})")
        wanted = type(getattr(target, key))
        if not isinstance(value, wanted) or isinstance(value, bool):
            kind = "a number" if wanted is int else "a string"
            raise ConfigError(f"{path}: [{name}] {key} must be {kind}")
        setattr(target, key, value)


def save_settings(settings: Settings) -> None:
    """Write the config (no secrets ever go here: they live in the keyring)."""
    lines = []
    sections = (("pax8", settings.pax8), ("halo", settings.halo), ("mapping", settings.mapping))
    for name, section in sections:
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in vars(section).items())
        lines.append("")
    settings.path.parent.mkdir(parents=True, exist_ok=True)
    settings.path.write_text("\n".join(lines), encoding="utf-8")


def _toml_value(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
