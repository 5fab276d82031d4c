"""Where each value a connection uses came from, in words, for its client's messages.

A client names a value by the TRUEUP_* variable that can set it ("check TRUEUP_HALO_URL"); a
value that came from elsewhere is named by where instead: the config file, the default, or what
`trueup connect` was given (a flag, stdin, a prompt), which it notes in `settings.origins`.
"""

from __future__ import annotations

from trueup.core.settings.config import ENV_OVERRIDES, Settings
from trueup.core.settings.secrets import Secrets, secret_env


def value_names(settings: Settings, source: str, secrets: Secrets) -> dict[str, str]:
    """TRUEUP_* variable -> where its value came from, for each value of `source` that did not
    come from that variable. A value not set is left out: a message naming its variable is
    saying how to set it."""
    section = getattr(settings, source)
    names = {
        variable: _where(settings, name, key)
        for (name, key), variable in ENV_OVERRIDES.items()
        if name == source and getattr(section, key)
    }
    variable = secret_env(source)
    given = settings.origins.get(f"{source}.client_secret")  # noted by `trueup connect`
    if given is not None:
        names[variable] = given
    elif not secrets.env.get(variable):
        names[variable] = f"the client secret in the {secrets.store.where}"
    return {v: said for v, said in names.items() if not said.startswith("env ")}


def _where(settings: Settings, section: str, key: str) -> str:
    origin = settings.origin(section, key)
    if origin == "file":
        return f"[{section}] {key} in {settings.path}"
    if origin == "default":
        return f"[{section}] {key} (the default)"
    return origin  # "env TRUEUP_...", or the words `trueup connect` noted
