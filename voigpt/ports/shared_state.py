"""Ports: the state that ``voigpt serve`` processes (and ``voigpt batch``) share, wherever
it lives (``--state``: the process's memory, a SQLite file, Redis).

A ``SharedState`` hands out one adapter of each kind. Every adapter may lose its store for
a while (Redis down): it then answers as the process alone would, and never raises for
that alone.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from voigpt.ports.response_store import ResponseStore
from voigpt.ports.token_cache import AsyncTokenCache


class SitePace(Protocol):
    """The site's pace, one for every process on the same state."""

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Wait until a completion may start (no pause after a 429 is in force, fewer than
        the concurrency cap are in flight, the start rate allows), then hold its slot for
        the block. A slot is a lease that expires, so a killed process leaks none."""
        ...

    def started(self) -> bool:
        """Start a completion now, if nothing could make it wait or hold a slot: no cap is
        set and no pause is in force (as far as a copy read within the last moment says).
        False: go through ``slot()``, which reads, waits or takes what it must. The
        uncapped path of every request, with no context manager to enter and leave."""
        ...

    async def rate_limited(self, retry_after: float | None) -> None:
        """The site answered 429: new starts pause everywhere until ``retry_after`` seconds
        have passed (without one: a pause that grows while 429s keep coming, capped)."""
        ...


class ReplyCache(Protocol):
    """Answers by the hash of everything that shapes them (opt-in: ``--cache-ttl``)."""

    async def get(self, key: str) -> bytes | None:
        ...

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        ...


class SharedState(Protocol):
    """Where shared state lives: one adapter of each kind, ``open`` and ``aclose``.
    ``healthy`` is false while the store fails and the process answers alone."""

    @property
    def healthy(self) -> bool:
        ...

    def token_cache(self) -> AsyncTokenCache:
        ...

    def pace(self, *, rate: float | None, concurrency: int | None) -> SitePace:
        ...

    def response_store(self, *, max_records: int, ttl: float) -> ResponseStore:
        ...

    def reply_cache(self) -> ReplyCache:
        ...

    async def open(self) -> None:
        """Check the store at start-up: ``InvalidConfig`` naming the location (never its
        password) if it cannot be used (a corrupt or read-only file, a wrong password)."""
        ...

    async def aclose(self) -> None:
        ...
