"""Secrets: the environment wins, else the store the config chose (the OS keyring, or the
encrypted file the user opted into with `[secrets] backend = "encrypted-file"`).

Values never reach the config file, the database, a log or a message: only where a secret
lives is ever said ("OS keyring"), never what it is.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trueup.core.settings.config import ConfigError, Settings
from trueup.core.settings.paths import data_dir
from trueup.core.settings.secret_backends import (
    EncryptedFileStore,
    KeyringStore,
    PassphraseSource,
    SecretError,
    SecretStore,
    StoreLockedError,
    StoreUnavailableError,
)

__all__ = ["SecretError", "SecretLocation", "Secrets"]

SOURCES = ("pax8", "halo", "qbo", "xero")
PASSPHRASE_ENV = "TRUEUP_SECRETS_PASSPHRASE"
SECRETS_FILE_ENV = "TRUEUP_SECRETS_FILE"
REFRESH_TOKEN_ENV = "TRUEUP_QBO_REFRESH_TOKEN"
# source -> (its name in messages, the variable that seeds its refresh token, if any)
REFRESH_TOKEN_SOURCES = {"qbo": ("QuickBooks'", REFRESH_TOKEN_ENV), "xero": ("Xero's", "")}


def secret_env(source: str) -> str:
    return f"TRUEUP_{source.upper()}_CLIENT_SECRET"


def secrets_file(env: Mapping[str, str] = os.environ) -> Path:
    """The encrypted file's place: TRUEUP_SECRETS_FILE, else beside the database."""
    return Path(env[SECRETS_FILE_ENV]) if env.get(SECRETS_FILE_ENV) else data_dir() / "secrets.enc"


def locked_file(or_else: str) -> str:
    """The encrypted file is locked: how to unlock it, `or_else` the other way there is."""
    return (
        f"the encrypted secrets file is locked: set {PASSPHRASE_ENV} to its passphrase to "
        f"unlock it; {or_else}"
    )


def passphrase_from_env(env: Mapping[str, str] = os.environ) -> PassphraseSource:
    """The passphrase for hosts where nobody types it (cron, the workbench)."""

    def passphrase(creating: bool) -> str:
        value = env.get(PASSPHRASE_ENV)
        if not value:
            raise StoreLockedError(locked_file("`trueup connect` asks for it on a terminal"))
        return value

    return passphrase


@dataclass(frozen=True)
class SecretLocation:
    """Where a secret lives, in words, and whether it is there."""

    where: str  # "environment (TRUEUP_PAX8_CLIENT_SECRET)", "OS keyring", "encrypted file"
    found: bool
    problem: str = ""  # why it is not there or cannot be looked at
    locked: bool = False  # the store is locked: whether it is there is not known


class Secrets:
    """The secrets of one config: client secrets and the QuickBooks refresh token."""

    def __init__(
        self,
        settings: Settings,
        *,
        env: Mapping[str, str] = os.environ,
        store: SecretStore | None = None,
        passphrase: PassphraseSource | None = None,
    ) -> None:
        self.settings = settings
        self.env = env
        self.store = store or _configured_store(settings, env, passphrase)

    def client_secret(self, source: str, client_id: str) -> str:
        """The secret for `source`; SecretError says how to provide it."""
        # Without the line end an env file or `export X=$(cat ...)` of a CRLF file brings
        # along: kept, it failed every sign-in as a wrong secret.
        from_env = (self.env.get(secret_env(source)) or "").strip()
        if from_env:
            return from_env
        try:
            secret = self.store.get(_client_key(source, client_id))
        except StoreUnavailableError as exc:
            raise type(exc)(f"{exc}{self.fallbacks(source)}") from None
        if not secret:
            raise SecretError(
                f"no {source} client secret in the {self.store.where}: run "
                f"`trueup connect {source}` or set {secret_env(source)}"
            )
        return secret

    def save_client_secret(self, source: str, client_id: str, secret: str) -> None:
        try:
            self.store.set(_client_key(source, client_id), secret)
        except StoreUnavailableError as exc:
            raise type(exc)(f"{exc}{self.fallbacks(source)}") from None

    def check_store(self, source: str, *, refresh_token: bool = False) -> None:
        """Raise SecretError now if the store cannot be used or would not keep what it is
        given (before a test, or a consent's code is spent). `refresh_token`: the store is for
        a rotating refresh token, which no environment variable can keep, so the environment
        is no way out (it was offered where TRUEUP_QBO_CLIENT_SECRET was already set)."""
        try:
            self.store.check()
        except StoreUnavailableError as exc:
            way_out = _token_store_hint(self, source) if refresh_token else self.fallbacks(source)
            raise type(exc)(f"{exc}{way_out}") from None

    def locate(self, source: str, client_id: str) -> SecretLocation:
        """Where the secret would be read from, without ever returning it."""
        name = secret_env(source)
        if self.env.get(name):
            return SecretLocation(f"environment ({name})", True)
        try:
            found = bool(self.store.get(_client_key(source, client_id)))
        except StoreUnavailableError as exc:
            problem, locked = f"{exc}{self.fallbacks(source)}", isinstance(exc, StoreLockedError)
            return SecretLocation(self.store.where, False, problem, locked)
        except SecretError as exc:
            return SecretLocation(self.store.where, False, str(exc))
        return SecretLocation(self.store.where, found, "" if found else "no secret stored")

    def refresh_tokens(self, owner: str, source: str = "qbo") -> RefreshTokenStore:
        """The refresh token of a QuickBooks company (`owner`: its realm id) or of a Xero PKCE
        consent (`owner`: the app's client id)."""
        return RefreshTokenStore(self, owner, source)

    def fallbacks(self, source: str) -> str:
        """What else to do when the store cannot be used: the end of a one-line message."""
        if isinstance(self.store, EncryptedFileStore):
            return f" (or set {secret_env(source)} in the environment)"
        return (
            f": set {secret_env(source)} in the environment, or keep secrets in an encrypted "
            f"file: `trueup connect {source} --secrets encrypted-file` "
            '(README: "Connecting for real")'
        )


class RefreshTokenStore:
    """A rotating refresh token (QuickBooks', Xero's). Each refresh hands out a new one, so
    `save` keeps it durably before the access token that came with it is used.

    TRUEUP_QBO_REFRESH_TOKEN seeds QuickBooks'; the stored token remembers which seed it grew
    from, so a new seed (consent given again elsewhere) wins over what was stored from the old.
    """

    def __init__(self, secrets: Secrets, owner: str, source: str = "qbo") -> None:
        self._secrets = secrets
        self._name = f"{source}:{owner}:refresh_token"
        self._source = source
        self._label, self._seed_env = REFRESH_TOKEN_SOURCES[source]

    def load(self) -> str | None:
        return self._current()[0]

    def stored(self) -> str | None:
        """The token as stored now, for a refresh to start from (another process may have
        rotated it in); None when the store cannot be read: the client's own is used."""
        try:
            return self.load()
        except SecretError:
            return None

    def locate(self) -> SecretLocation:
        """Where `load` takes the token from, without returning it."""
        try:
            return self._current()[1]
        except SecretError as exc:
            locked = isinstance(exc, StoreLockedError)
            return SecretLocation(self._secrets.store.where, False, str(exc), locked)

    def save(self, token: str) -> None:
        seed = self._seed()
        entry = json.dumps({"token": token, "seed": _fingerprint(seed) if seed else ""})
        try:
            self._secrets.store.set(self._name, entry)
        except StoreUnavailableError as exc:
            raise SecretError(
                f"cannot keep {self._label} new refresh token, which must be stored before it "
                f"is used ({exc}){self._hint()}"
            ) from None

    def _seed(self) -> str:
        return (self._secrets.env.get(self._seed_env) or "") if self._seed_env else ""

    def _current(self) -> tuple[str | None, SecretLocation]:
        seed = self._seed()
        from_env = (seed, SecretLocation(f"environment ({self._seed_env})", True))
        where = self._secrets.store.where
        try:
            stored = self._secrets.store.get(self._name)
        except StoreUnavailableError as exc:
            if seed:
                return from_env  # saving the rotated one will say what is wrong
            raise type(exc)(f"{exc}{self._hint()}") from None
        if stored:
            entry = json.loads(stored)
            if not seed or entry.get("seed") == _fingerprint(seed):
                return str(entry["token"]), SecretLocation(where, True)
        if seed:
            return from_env
        return None, SecretLocation(where, False, "no refresh token stored")

    def _hint(self) -> str:
        return _token_store_hint(self._secrets, self._source)


def _configured_store(
    settings: Settings, env: Mapping[str, str], passphrase: PassphraseSource | None
) -> SecretStore:
    backend = settings.secrets.backend
    if backend == "keyring":
        return KeyringStore()
    if backend == "encrypted-file":
        return EncryptedFileStore(secrets_file(env), passphrase or passphrase_from_env(env))
    raise ConfigError(
        f'{settings.path}: [secrets] backend must be "keyring" or "encrypted-file", not {backend!r}'
    )


def _token_store_hint(secrets: Secrets, source: str) -> str:
    """Where else a rotating refresh token can be kept: the end of a one-line message."""
    if isinstance(secrets.store, EncryptedFileStore):
        return ""
    return (
        f": keep secrets in an encrypted file (`trueup connect {source} --secrets encrypted-file`)"
    )


def _client_key(source: str, client_id: str) -> str:
    return f"{source}:{client_id}"


def _fingerprint(seed: str) -> str:
    """Which seed a stored token grew from: a short digest, never the seed itself."""
    return hashlib.sha256(seed.encode()).hexdigest()[:16]
