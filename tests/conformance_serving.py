"""Serving a vendor's hosts from the loopback simulators to third-party clients built on requests.

The conformance tests (tests/test_conformance_*.py) serve the simulators with
`trueup.sandbox.serve.serve_in_background`. A client that takes a base URL (python-quickbooks,
xero-python) is simply given the loopback one. A client that hard-codes the vendor's https hosts
(pax8, HaloPSA) gets instead a requests.Session whose adapter sends each request for a vendor
origin to the simulator serving it, and refuses every other address, so nothing can reach the
network. The adapter keeps what was sent, for the tests to check the wire:

    adapter = LoopbackAdapter({"https://api.vendor.com": "http://127.0.0.1:8001"})
    monkeypatch.setattr(vendor_module, "requests", adapter.session())
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter


class LoopbackAdapter(HTTPAdapter):
    """Rewrites `https://vendor.host/...` to `http://127.0.0.1:port/...` (per `origins`)."""

    def __init__(self, origins: Mapping[str, str]) -> None:
        super().__init__()
        self.origins = {origin.rstrip("/"): base.rstrip("/") for origin, base in origins.items()}
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        url = str(request.url)
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.origins:
            raise AssertionError(f"a request for {url}, which no simulator serves")
        request.url = self.origins[origin] + url[len(origin) :]
        self.sent.append(request.copy())
        return super().send(request, *args, **kwargs)

    def requests_to(self, method: str, path: str) -> list[requests.PreparedRequest]:
        """What was sent with `method` to a loopback `path` (query string ignored)."""
        return [
            sent
            for sent in self.sent
            if sent.method == method and urlsplit(str(sent.url)).path == path
        ]

    def session(self) -> requests.Session:
        """A new Session routed through this adapter (one per client, as each makes its own:
        a client that sets headers on its session must not set them on another's)."""
        session = requests.Session()
        session.trust_env = False  # no proxy or .netrc from the environment
        session.mount("https://", self)
        session.mount("http://", self)
        return session
