"""Serving the simulators: over loopback HTTP (uvicorn) or in-process (httpx transports)."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from trueup.sandbox.common import ConnectionResetFault, FaultSpec
from trueup.sandbox.halo import create_halo_app
from trueup.sandbox.pax8 import create_pax8_app
from trueup.sandbox.qbo import create_qbo_app
from trueup.sandbox.scenario import Scenario
from trueup.sandbox.transport import SandboxTransport
from trueup.sandbox.xero import XeroRateLimit, create_xero_app

QBO_REALM = "9341455000000000"


@dataclass(frozen=True)
class Simulators:
    pax8: ASGIApp
    halo: ASGIApp
    qbo: ASGIApp
    xero: ASGIApp


def build_simulators(
    scenario: Scenario, *, faults: FaultSpec | None = None, rate_limits: bool = True
) -> Simulators:
    return Simulators(
        pax8=create_pax8_app(
            scenario, faults=faults, rate_limit=(1000, 60.0) if rate_limits else None
        ),
        halo=create_halo_app(
            scenario, faults=faults, rate_limit=(300, 300.0) if rate_limits else None
        ),
        qbo=create_qbo_app(
            scenario, faults=faults, rate_limit=(500, 60.0) if rate_limits else None
        ),
        xero=create_xero_app(
            scenario, faults=faults, rate_limit=XeroRateLimit() if rate_limits else None
        ),
    )


@dataclass(frozen=True)
class SandboxUrls:
    """The values for TRUEUP_PAX8_URL, TRUEUP_HALO_URL, TRUEUP_HALO_AUTH_URL, TRUEUP_QBO_URL,
    TRUEUP_XERO_URL and TRUEUP_XERO_IDENTITY_URL. Xero's two hosts are one simulator: the API
    host root (the client adds /connections and /api.xro/2.0/...) and its /identity (the client
    adds /connect/token)."""

    pax8: str
    halo: str
    halo_auth: str
    qbo: str
    xero: str = ""
    xero_identity: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "pax8": self.pax8,
            "halo": self.halo,
            "halo_auth": self.halo_auth,
            "qbo": self.qbo,
            "xero": self.xero,
            "xero_identity": self.xero_identity,
        }


def urls_for(
    host: str, pax8_port: int, halo_port: int, qbo_port: int, xero_port: int = 0
) -> SandboxUrls:
    if ":" in host:  # an IPv6 address: bracketed in a URL (http://[::1]:8080)
        host = f"[{host}]"
    return SandboxUrls(
        pax8=f"http://{host}:{pax8_port}/v1",
        halo=f"http://{host}:{halo_port}",
        halo_auth=f"http://{host}:{halo_port}/auth",
        qbo=f"http://{host}:{qbo_port}",
        xero=f"http://{host}:{xero_port}",
        xero_identity=f"http://{host}:{xero_port}/identity",
    )


SERVICES = ("pax8", "halo", "qbo", "xero")


def in_process_transports(sims: Simulators) -> dict[str, SandboxTransport]:
    return {name: SandboxTransport(app=getattr(sims, name)) for name in SERVICES}


class _DropInjectedResets(logging.Filter):
    """uvicorn logs every exception; an injected reset is the point, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionResetFault))


@contextmanager
def serve_in_background(
    sims: Simulators,
    *,
    host: str = "127.0.0.1",
    pax8_port: int = 0,
    halo_port: int = 0,
    qbo_port: int = 0,
    xero_port: int = 0,
) -> Iterator[SandboxUrls]:
    """Serve the four simulators on `host` from a background thread until the block ends."""
    logging.getLogger("uvicorn.error").addFilter(_DropInjectedResets())
    sockets: list[socket.socket] = []
    try:
        for service, port in (
            ("Pax8", pax8_port),
            ("HaloPSA", halo_port),
            ("QuickBooks", qbo_port),
            ("Xero", xero_port),
        ):
            sockets.append(_bound(host, port, service))
        with _serving(sims, sockets):
            yield urls_for(host, *(sock.getsockname()[1] for sock in sockets))
    finally:
        for sock in sockets:
            sock.close()


def _bound(host: str, port: int, service: str) -> socket.socket:
    """A socket bound before any server starts: a port in use is said at once, naming it (uvicorn
    logged the errno and exited 3 in its thread, said as 'could not start on 127.0.0.1: 3')."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise OSError(f"the sandbox cannot listen on {host!r}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRNOTAVAIL:
            raise OSError(
                f"the sandbox cannot listen on {host}: it is no address of this machine"
            ) from None
        why = (
            "is in use (another program, or a sandbox still serving)"
            if exc.errno == errno.EADDRINUSE
            else f"cannot be listened on ({exc.strerror})"
        )
        raise OSError(
            f"{host}:{port}, the sandbox's {service} port, {why}: "
            "give another port, or 0 for a free one"
        ) from None
    return sock


@contextmanager
def _serving(sims: Simulators, sockets: list[socket.socket]) -> Iterator[None]:
    """uvicorn serving each simulator on its socket from one thread until the block ends."""
    apps = (sims.pax8, sims.halo, sims.qbo, sims.xero)
    servers = [
        uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
        for app in apps
    ]
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_serve_all(servers, sockets))
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name="trueup-sandbox", daemon=True)
    thread.start()
    while not all(s.started for s in servers):
        if failure or not thread.is_alive():
            raise OSError(f"the sandbox could not start: {failure[0] if failure else 'no reason'}")
        thread.join(0.02)
    try:
        yield
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(10)


async def _serve_all(servers: list[uvicorn.Server], sockets: list[socket.socket]) -> None:
    await asyncio.gather(
        *(s.serve(sockets=[sock]) for s, sock in zip(servers, sockets, strict=True))
    )
