"""Keeping a rotated refresh token (QuickBooks', a Xero consent's): the new one is stored
durably before the access token that came with it is used, or nothing is sent with it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from trueup.core.sources.http import ApiError

OnRefreshToken = Callable[[str], Awaitable[None] | None]


async def store_refresh_token(service: str, new: str, on_refresh_token: OnRefreshToken) -> None:
    """Hand `new` to `on_refresh_token`; an ApiError (the token never in it) if that fails."""
    try:
        stored = on_refresh_token(new)
        if inspect.isawaitable(stored):
            await stored
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".replace(new, "***")
        raise ApiError(
            service,
            "config",
            None,
            f"{service} issued a new refresh token but storing it failed ({reason}); nothing "
            "was sent with it: fix that and run again",
        ) from exc
