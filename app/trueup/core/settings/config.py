"""The config file (TOML) and the environment that overrides it (contract.md §1).

Every value remembers where it came from (the file, a TRUEUP_* variable or the default), so
`trueup config show` can say why trueup does what it does.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trueup.core.errors import TrueupError
from trueup.core.settings.import_columns import (
    ImportColumns,
    import_columns_toml,
    read_import_columns,
)
from trueup.core.values.months import FIRST_YEAR, LAST_YEAR
from trueup.core.values.text import toml_string, visible
from trueup.core.values.urls import HTTPS_ONLY, in_clear

PAX8_DEFAULT_URL = "https://api.pax8.com/v1"
QBO_DEFAULT_URL = "https://quickbooks.api.intuit.com"
XERO_DEFAULT_URL = "https://api.xero.com"
XERO_DEFAULT_IDENTITY_URL = "https://identity.xero.com"
XERO_AUTHS = ("custom", "pkce")
XERO_STATUSES = ("draft", "authorised")
MIN_LOG_RETENTION_DAYS = 30
DEFAULT_MAX_SHRINK = 50


class ConfigError(TrueupError):
    """The config cannot be used; the message names the file, the key and the fix."""


class ConfigUnreadableError(ConfigError):
    """The config file cannot be read at all; the message says how to make it readable."""


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
class BillingSettings:
    # Through this day of a month, the month being closed (every command's and the workbench's
    # default month) is the previous one; after it, the current one. 0: always the current one.
    close_day: int = 10


@dataclass
class SyncSettings:
    # A sync this soon after the last good one is skipped (exit 4) unless forced; 0 = never.
    min_interval_minutes: int = 0
    # A source whose count of a kind of record falls by more than this share of what the store
    # holds is refused, the last good data kept (`trueup sync --accept-shrink` applies it).
    max_shrink_percent: int = DEFAULT_MAX_SHRINK


@dataclass
class LogSettings:
    retention_days: int = 90  # log entries older than this are deleted at the end of a sync


@dataclass
class BackupSettings:
    keep: int = 20  # the newest backups kept beside the database; older ones are deleted


@dataclass
class QboSettings:
    url: str = QBO_DEFAULT_URL  # the API host root; the client adds /v3/company/{realm}/...
    token_url: str = ""  # empty: Intuit's for Intuit hosts, else the sandbox's own
    realm_id: str = ""  # the company id Intuit sends back with the consent
    client_id: str = ""


@dataclass
class XeroSettings:
    url: str = XERO_DEFAULT_URL  # the API host root; the client adds /api.xro/2.0/...
    identity_url: str = XERO_DEFAULT_IDENTITY_URL  # the client adds /connect/token
    client_id: str = ""
    tenant: str = ""  # the organisation (tenant id); empty: the only one connected
    auth: str = "custom"  # custom: a Custom Connection (client secret); pkce: a consent
    invoice_status: str = "authorised"  # or "draft": what an invoice is created as
    account_code: str = "200"  # the sales account of a line whose Xero item names none
    tax_type: str = ""  # the tax type of such a line; empty: the account's default
    due_days: int = 30  # an invoice is due this many days after its date


@dataclass
class SecretsSettings:
    backend: str = "keyring"  # or "encrypted-file", for hosts with no OS keyring


@dataclass
class Settings:
    path: Path
    pax8: Pax8Settings = field(default_factory=Pax8Settings)
    halo: HaloSettings = field(default_factory=HaloSettings)
    mapping: MappingSettings = field(default_factory=MappingSettings)
    billing: BillingSettings = field(default_factory=BillingSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    log: LogSettings = field(default_factory=LogSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    qbo: QboSettings = field(default_factory=QboSettings)
    xero: XeroSettings = field(default_factory=XeroSettings)
    secrets: SecretsSettings = field(default_factory=SecretsSettings)
    # [import.<source>]: a distributor file's columns renamed (settings/import_columns.py)
    import_columns: ImportColumns = field(default_factory=dict)
    # "section.key" -> "file" | "env TRUEUP_..." ; absent means the built-in default. `trueup
    # connect` notes what it was given instead ("--url", "the client id you typed"), and the
    # client secret's origin as "<source>.client_secret", for messages (value_names.py).
    origins: dict[str, str] = field(default_factory=dict)
    # "section.key" -> the file's (or the default) value an environment variable stands over
    beneath: dict[str, Any] = field(default_factory=dict)

    def sections(self) -> Iterator[tuple[str, Any]]:
        """(name, section) for every [table] of the file, in file order."""
        for f in fields(self):
            value = getattr(self, f.name)
            if is_dataclass(value):
                yield f.name, value

    def origin(self, section: str, key: str) -> str:
        return self.origins.get(f"{section}.{key}", "default")


# (section, key) -> the variable that wins over the file
ENV_OVERRIDES: dict[tuple[str, str], str] = {
    ("pax8", "url"): "TRUEUP_PAX8_URL",
    ("pax8", "client_id"): "TRUEUP_PAX8_CLIENT_ID",
    ("halo", "url"): "TRUEUP_HALO_URL",
    ("halo", "auth_url"): "TRUEUP_HALO_AUTH_URL",
    ("halo", "client_id"): "TRUEUP_HALO_CLIENT_ID",
    ("qbo", "url"): "TRUEUP_QBO_URL",
    ("qbo", "token_url"): "TRUEUP_QBO_TOKEN_URL",
    ("qbo", "realm_id"): "TRUEUP_QBO_REALM",
    ("qbo", "client_id"): "TRUEUP_QBO_CLIENT_ID",
    ("xero", "url"): "TRUEUP_XERO_URL",
    ("xero", "identity_url"): "TRUEUP_XERO_IDENTITY_URL",
    ("xero", "client_id"): "TRUEUP_XERO_CLIENT_ID",
    ("xero", "tenant"): "TRUEUP_XERO_TENANT",
}

# (section, key, lowest allowed, highest allowed or None)
_BOUNDS: tuple[tuple[str, str, int, int | None], ...] = (
    ("mapping", "threshold", 0, 100),
    ("billing", "close_day", 0, 31),
    ("sync", "min_interval_minutes", 0, 527_040),  # a leap year
    ("sync", "max_shrink_percent", 0, 100),
    ("log", "retention_days", MIN_LOG_RETENTION_DAYS, 36_600),  # a century
    ("backup", "keep", 1, 10_000),
    ("xero", "due_days", 0, 366),
)


def load_settings(path: Path) -> Settings:
    """Read the config file (absent is fine) and apply the TRUEUP_* environment on top."""
    data: dict[str, Any] = {}
    if _exists(path):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not UTF-8 text: is it the config file?") from None
        except RecursionError:
            raise ConfigError(f"{path} nests arrays or tables deeper than a config has") from None
        except OSError as exc:
            raise ConfigUnreadableError(
                f"cannot read {path}: {exc.strerror or exc}: give your user read access to it "
                f"(as its owner: `chmod 600 {path}`), or give --config (or TRUEUP_CONFIG) a file "
                "of your own"
            ) from None
    settings = Settings(path=path)
    if "import" in data:
        settings.import_columns = read_import_columns(path, data.pop("import"), ConfigError)
    sections = dict(settings.sections())
    for name in data:
        if name not in sections:
            known = ", ".join([*sections, "import.<source>"])
            raise ConfigError(f"{path}: unknown table [{name}] (known: {known})")
    for name, section in sections.items():
        _fill(settings, section, data.get(name, {}), name)
    for section_name, key, low, high in _BOUNDS:
        value = getattr(sections[section_name], key)
        if value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ConfigError(f"{path}: [{section_name}] {key} must be {limit}")
    _check_words(settings, sections)
    for (section_name, key), env in ENV_OVERRIDES.items():
        if os.environ.get(env):
            if key.endswith("url") and _has_credentials(os.environ[env]):  # never repeated
                raise ConfigError(
                    f"{env} carries a user name or password: give the host alone and keep "
                    "credentials in the keyring (`trueup connect`)"
                )
            settings.beneath[f"{section_name}.{key}"] = getattr(sections[section_name], key)
            setattr(sections[section_name], key, os.environ[env])
            settings.origins[f"{section_name}.{key}"] = f"env {env}"
    settings.qbo.realm_id = qbo_realm(settings.qbo.realm_id)
    return settings


def qbo_realm(value: str) -> str:
    """A QuickBooks company id as QuickBooks shows it (Billing & subscription: `9130 3577
    9999 1234`) taken as its API takes it, the digits alone: with the spaces every call went to
    another company's path and was refused, as if the id were wrong. Anything else as given."""
    digits = "".join(value.split())
    return digits if digits.isascii() and digits.isdigit() else value


def _exists(path: Path) -> bool:
    """Whether the config file is there; a folder that may not be looked in (another user's,
    as `sudo trueup connect` leaves ~/.config/trueup, or a mode 000 one) is a ConfigError
    saying so, not Python's bare "Permission denied" out of every command and of doctor."""
    try:
        return path.exists()
    except OSError as exc:
        raise ConfigUnreadableError(
            f"cannot read {path}: {exc.strerror or exc} (its folder {path.parent} is not open "
            "to your user): give your user access to it (as its owner: `chmod u+rwx "
            f"{path.parent}`), or give --config (or TRUEUP_CONFIG) a file of your own"
        ) from None


def url_problem(value: str) -> str | None:
    """Why `value` is not an http(s) URL with a host, or None."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number raises, as an IPv6 host without ]
        fine = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        fine = False
    if _has_credentials(value):  # never quoted: what stands before the host may be a password
        return "carries a user name or password: give the host alone (https://host)"
    if not fine or value != value.strip() or visible(value) != value:
        return f"'{visible(value)}' is not a URL like https://host"
    return None


def check_urls(settings: Settings, name: str) -> None:
    """The URLs of section `name`, as a client is about to use them: a config error naming
    where a bad one was set (the file or a variable), not a crash in the client. Checked on
    use, so a stray one blocks only its service, and `trueup connect` can still mend it."""
    for key, value in vars(getattr(settings, name)).items():
        if key.endswith("url") and isinstance(value, str) and value:
            problem = url_problem(value)
            if problem is not None:
                origin = settings.origins.get(f"{name}.{key}", "file")
                if origin.startswith("env "):
                    raise ConfigError(f"environment: {origin[4:]} = {problem}")
                raise ConfigError(f"{settings.path}: [{name}] {key} = {problem}")


def in_clear_urls(settings: Settings, name: str | None = None) -> list[tuple[str, str, str]]:
    """(section, key, why) for each URL of section `name` (None: of every section) that is
    plain http:// to a host not on loopback (values.urls, the rule every client applies): a
    client refuses it on use, so `trueup connect` refuses to save one and `config show` and
    `doctor` flag one held. `why` says where it was set: the file, a variable, a flag."""
    found = []
    for section, values in settings.sections():
        if name is not None and section != name:
            continue
        for key, value in vars(values).items():
            if key.endswith("url") and isinstance(value, str) and in_clear(value):
                found.append((section, key, f"{_set_at(settings, section, key)} {HTTPS_ONLY}"))
    return found


def _set_at(settings: Settings, section: str, key: str) -> str:
    """A URL as set, and where: `{path}: [pax8] url = '...'`, `environment: TRUEUP_PAX8_URL =
    '...'`, or `[pax8] url '...'` for one `trueup connect` was given."""
    value = f"'{visible(getattr(getattr(settings, section), key))}'"
    origin = settings.origin(section, key)
    if origin.startswith("env "):
        return f"environment: {origin[4:]} = {value}"
    if origin in ("file", "default"):
        return f"{settings.path}: [{section}] {key} = {value}"
    return f"[{section}] {key} {value}"


SECRET_BACKENDS = ("keyring", "encrypted-file")


def _check_words(settings: Settings, sections: dict[str, Any]) -> None:
    """What a config may not say: a secrets backend trueup does not have, or a URL carrying a
    user name or password (secrets live in the keyring; the message never repeats them)."""
    backend = sections["secrets"].backend
    if backend not in SECRET_BACKENDS:
        raise ConfigError(
            f"{settings.path}: [secrets] backend = {backend!r} is not one trueup has: use "
            f"{' or '.join(repr(b) for b in SECRET_BACKENDS)}"
        )
    for key, allowed in (("auth", XERO_AUTHS), ("invoice_status", XERO_STATUSES)):
        value = getattr(sections["xero"], key)
        if value not in allowed:
            raise ConfigError(
                f"{settings.path}: [xero] {key} = {value!r}: use "
                f"{' or '.join(repr(a) for a in allowed)}"
            )
    for name, section in sections.items():
        for key, value in vars(section).items():
            if key.endswith("url") and isinstance(value, str) and _has_credentials(value):
                raise ConfigError(
                    f"{settings.path}: [{name}] {key} carries a user name or password: give "
                    "the host alone and keep credentials in the keyring (`trueup connect`)"
                )


def _has_credentials(url: str) -> bool:
    """Whether `url` names a user or password before its host. Read from the text as well as
    parsed: a URL too broken to parse ("https://user:pass@[::1") still carries them, and
    every message that quotes a bad URL would repeat them."""
    if "@" in _authority(url):
        return True
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return bool(parts.username or parts.password)


def _authority(url: str) -> str:
    """What stands between '//' and the path, query or fragment: where a URL's user info is."""
    _, slashes, rest = url.strip().partition("//")
    return rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0] if slashes else ""


def _fill(settings: Settings, target: Any, section: Any, name: str) -> None:
    path = settings.path
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    for key, value in section.items():
        if not hasattr(target, key):
            known = ", ".join(vars(target))
            raise ConfigError(f"{path}: unknown key '{key}' in [{name}] (known: {known})")
        wanted = type(getattr(target, key))
        if not isinstance(value, wanted) or isinstance(value, bool):
            kind = "a whole number" if wanted is int else "a string"
            raise ConfigError(f"{path}: [{name}] {key} must be {kind}")
        setattr(target, key, value)
        settings.origins[f"{name}.{key}"] = "file"


def save_settings(settings: Settings) -> None:
    """Write the config, 0600 in a 0700 folder (no secrets ever go here: they live in the
    keyring), replacing the old file in one step so a crash never leaves half a config."""
    lines = []
    for name, section in settings.sections():
        lines.append(f"[{name}]")
        lines.extend(
            f"{key} = {toml_value(_own_value(settings, name, key, value))}"
            for key, value in vars(section).items()
        )
        lines.append("")
    lines.extend(import_columns_toml(settings.import_columns, toml_value))
    path = settings.path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
    os.chmod(partial, 0o600)  # O_CREAT's mode does not apply to a leftover partial file
    os.replace(partial, path)


def check_writable(settings: Settings) -> None:
    """ConfigError now if save_settings could not write the config (a read-only home, a
    folder of another user's): `trueup connect` asks before a secret is stored or a consent's
    code spent, which a config it then failed to write would leave unnamed and unused."""
    path = settings.path
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(partial)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the config {path}: {exc.strerror or exc}: give --config (or "
            "TRUEUP_CONFIG) a file in a folder you can write (nothing was saved)"
        ) from None


def _own_value(settings: Settings, section: str, key: str, value: Any) -> Any:
    """What the file keeps: a value still as an environment variable set it is the variable's,
    for this run only, so the file's own value stays."""
    origin = settings.origin(section, key)
    if origin.startswith("env ") and value == os.environ.get(origin.removeprefix("env ")):
        return settings.beneath.get(f"{section}.{key}", value)
    return value


def toml_value(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return toml_string(value)


def today(default: date | None = None) -> date:
    """TRUEUP_TODAY (YYYY-MM-DD) if set, else `default`, else the UTC date."""
    text = os.environ.get("TRUEUP_TODAY")
    if text:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"TRUEUP_TODAY={text!r} is not a date like 2026-11-21") from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ConfigError(
                f"TRUEUP_TODAY={text!r} is outside the years trueup bills "
                f"({FIRST_YEAR}-{LAST_YEAR}): unset it, or give a date like 2026-11-21"
            )
        return day
    return default or datetime.now(UTC).date()
