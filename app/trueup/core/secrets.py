"""Client secrets: the environment wins, else the OS keyring. Never written to a file or log."""

from __future__ import annotations

import os

import keyring
from keyring.errors import KeyringError

SERVICE = "trueup"


class SecretError(Exception):
    pass


def _env_name(source: str) -> str:
    return f"TRUEUP_{source.upper()}_CLIENT_SECRET"


def get_secret(source: str, client_id: str) -> str:
    """The secret for `source` ("pax8" | "halo"); SecretError says how to provide it."""
    from_env = os.environ.get(_env_name(source))
    if from_env:
        return from_env
    try:
        secret = keyring.get_password(SERVICE, f"{source}:{client_id}")
    except KeyringError:
        secret = None
    if not secret:
        raise SecretError(
            f"no {source} client secret: run `trueup connect {source}` or set {_env_name(source)}"
        )
    return secret


def store_secret(source: str, client_id: str, secret: str) -> None:
    try:
        keyring.set_password(SERVICE, f"{source}:{client_id}", secret)
    except KeyringError as exc:
        # Headless SSH boxes often have no Secret Service (D-Bus): say what to do instead.
        raise SecretError(
            f"the OS keyring is not available ({type(exc).__name__}); set {_env_name(source)} "
            "in the environment instead, or install a keyring backend (see README)"
        ) from None
