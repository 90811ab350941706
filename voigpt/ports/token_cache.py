"""Port: where an acquired csrftoken is kept between calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from voigpt.domain.values import AccessToken


class TokenCache(Protocol):
    """Holds at most one token. Implementations must be safe to share across threads."""

    def get(self) -> AccessToken | None:
        """The cached token, or None."""
        ...

    def put(self, token: AccessToken) -> None:
        """Remember ``token``, replacing any other."""
        ...

    def invalidate(self, stale: AccessToken) -> None:
        """Forget ``stale``, but only if it is still the cached token.

        Comparing first means that many threads rejected with the same stale token
        cause one refresh, not one each.
        """
        ...

    def acquire(self, fetch: Callable[[], AccessToken]) -> AccessToken:
        """The cached token; on a miss call ``fetch`` once, cache and return its result.

        Concurrent misses share one ``fetch`` (single flight).
        """
        ...


class AsyncTokenCache(Protocol):
    """``TokenCache`` for asyncio: concurrent misses of the tasks of one event loop share one
    awaited ``fetch`` (a cache shared between processes: one fetch for all of them).
    ``invalidate`` is awaited, so a shared cache can drop the token where it is kept."""

    async def invalidate(self, stale: AccessToken) -> None:
        ...

    async def acquire(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        ...
