"""Port: where a fresh csrftoken comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from voigpt.domain.values import AccessToken

if TYPE_CHECKING:
    from voigpt.domain.retry import Deadline


class TokenSource(Protocol):
    """Acquires a fresh token (for voigpt.com: ``GET /`` and read the cookie)."""

    def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        """Return a new token, or raise ``TokenUnavailable`` / a transport error."""
        ...


class AsyncTokenSource(Protocol):
    """``TokenSource`` for asyncio: the same contract, awaited."""

    async def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        ...
