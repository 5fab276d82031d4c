"""Keeping a rotated refresh token (QuickBooks', a Xero consent's): the new one is stored
durably before the access token that came with it is used, or nothing is sent with it; and
a refresh starts from the token stored last, which another process may have rotated in."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from trueup.core.sources.http import ApiError

OnRefreshToken = Callable[[str], Awaitable[None] | None]
# How long a service still takes a refresh token after it issued the next (Xero's "grace
# period of 30 minutes"; QuickBooks' is not documented): the time to mend a failed store.
GRACE = {"Xero": "30 minutes"}
Reload = Callable[[], str | None]  # the token as stored now; None when none can be read


def newest_refresh_token(current: str | None, reload: Reload | None) -> str | None:
    """The stored token when another process (a scheduled sync beside the workbench) refreshed
    since this one read it: the one in hand is then spent, and refreshing with it would lose
    the connection. The one in hand when nothing can be read."""
    return (reload() if reload is not None else None) or current


async def store_refresh_token(service: str, new: str, on_refresh_token: OnRefreshToken) -> None:
    """Hand `new` to `on_refresh_token`; an ApiError (the token never in it) if that fails."""
    try:
        stored = on_refresh_token(new)
        if inspect.isawaitable(stored):
            await stored
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".replace(new, "***")
        grace = GRACE.get(service)
        when = (
            f" within {grace}, while {service} still takes the one stored before (later, "
            "connect again)"
            if grace
            else ""
        )
        raise ApiError(
            service,
            "config",
            None,
            f"{service} issued a new refresh token but storing it failed ({reason}); nothing "
            f"was sent with it: fix that and run again{when}",
        ) from exc
