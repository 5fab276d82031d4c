"""The in-process transport: the simulators served through httpx without a socket."""

from __future__ import annotations

import asyncio

import httpx

from trueup.sandbox.common import ConnectionResetFault


class SandboxTransport(httpx.ASGITransport):
    """An ASGI transport that behaves like a network for the faults the simulators inject.

    httpx.ASGITransport enforces no timeouts and surfaces application exceptions as they are;
    here a slow response becomes httpx.ReadTimeout and an injected reset httpx.RemoteProtocolError,
    exactly what a client sees over a socket.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        read_timeout = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(super().handle_async_request(request), read_timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("read timed out", request=request) from None
        except ConnectionResetFault:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from None
