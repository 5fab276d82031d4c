"""Which URLs a connection may use: one rule for the clients that call them (sources/http.py)
and for the settings that hold them (`trueup connect`, `config show`, `doctor`).

Plain http:// sends the client secret, the tokens and the client list as they are: allowed
only to loopback (this machine: the sandbox `trueup demo` serves), never over a network.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost"})
# What a URL in clear must be instead, after its name: "TRUEUP_PAX8_URL must be ...".
HTTPS_ONLY = "must be an https:// URL (plain http:// only on loopback: 127.0.0.1, ::1, localhost)"


def in_clear(url: str) -> bool:
    """Whether `url` is plain http:// to a host that is not loopback: what it carries would
    cross a network unencrypted. A URL too broken to read is not (other checks refuse it)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme == "http" and not is_loopback(parts.hostname or "")


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: localhost, 127.0.0.0/8 or ::1."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
