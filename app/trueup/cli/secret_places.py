"""After `trueup connect ... --secrets`: the store it names is every connection's, not only the
one being connected, so each configured connection is listed with where its secrets are now, and
one whose secret is not there is told how to put it there."""

from __future__ import annotations

from trueup.cli import render
from trueup.core.settings.config import Settings
from trueup.core.settings.connections import Connections
from trueup.core.settings.secret_backends import EncryptedFileStore
from trueup.core.settings.secrets import Secrets

FLAG = "--secrets"  # the origin `connect` gives [secrets] backend when the flag sets it
NOT_THERE = ("no secret stored", "no refresh token stored")


def say_where_secrets_live(settings: Settings, secrets: Secrets) -> None:
    """Nothing unless --secrets was given; `secrets` reads the store it names."""
    if settings.origin("secrets", "backend") != FLAG:
        return
    store = secrets.store
    here = f"the encrypted file {store.path}" if isinstance(store, EncryptedFileStore) else ""
    other = "OS keyring" if here else "encrypted file"
    lines = [
        f"Every connection's secrets are kept in {here or 'the OS keyring'} from now on "
        f"([secrets] backend in {settings.path}; a secret in a TRUEUP_* environment variable still "
        "wins):"
    ]
    for state in Connections(settings, secrets=secrets).states():
        if not state.configured:
            continue
        kept = [where for where in (state.secret, state.token) if where is not None]
        missing = [where for where in kept if not where.found]
        if not missing:
            lines.append(f"  {state.name}: {', '.join(dict.fromkeys(w.where for w in kept))}")
        elif all(where.problem in NOT_THERE for where in missing):
            lines.append(
                f"  {state.name}: not in the {store.where} (a copy in the {other} is no longer "
                f"read): run `trueup connect {state.source}` to store it there"
            )
        else:
            lines.append(f"  {state.name}: {missing[0].problem}")
    for line in lines:
        render.stderr.print(line, markup=False, soft_wrap=True)
