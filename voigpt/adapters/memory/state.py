"""Shared state kept by the process alone (``--state memory``, and what a library client
uses): the site's pace, the reply cache, and a ``MemoryState`` that hands them out with the
token cache and the response store. Also what a shared store falls back to while it is
unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable

from voigpt.adapters.memory.caches import AsyncInMemoryTokenCache
from voigpt.adapters.memory.responses import BoundedResponseStore
from voigpt.domain.pace import FIRST_BACKOFF, pause_after
from voigpt.domain.values import AccessToken
from voigpt.ports.token_cache import AsyncTokenCache

MAX_CACHED = 10_000  # replies the memory cache keeps at most (the oldest go first)


class MemoryPace:
    """``SitePace`` for one process: at most ``concurrency`` completions in flight, at most
    ``rate`` starts a second, and no start while a 429's pause is in force."""

    def __init__(self, *, rate: float | None = None, concurrency: int | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.concurrency, self._now = rate, concurrency, now
        self._slots = None if concurrency is None else asyncio.Semaphore(concurrency)
        self.paused_until = 0.0
        self._backoff = FIRST_BACKOFF
        self._next_start = 0.0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots is None:
            await self._start()
            yield
            return
        async with self._slots:
            await self._start()
            yield

    def started(self) -> bool:
        if self._slots is not None or self.rate:
            return False
        now = self._now()
        if now < self.paused_until:
            return False
        self._begin(now)
        return True

    async def _start(self) -> None:
        while True:
            now = self._now()
            wait = max(self.paused_until, self._next_start if self.rate else 0.0) - now
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._begin(now)

    def _begin(self, now: float) -> None:
        """A start at ``now``, which nothing holds back any longer."""
        if now >= self.paused_until + 1.0:  # well past the last pause: growth starts over
            self._backoff = FIRST_BACKOFF
        if self.rate:
            self._next_start = max(self._next_start, now) + 1 / self.rate

    async def rate_limited(self, retry_after: float | None) -> None:
        pause, self._backoff = pause_after(retry_after, self._backoff)
        self.paused_until = max(self.paused_until, self._now() + pause)


class MemoryReplyCache:
    """``ReplyCache`` in a dict: at most ``max_entries``, each until its time to live."""

    def __init__(self, max_entries: int = MAX_CACHED,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self._now = max_entries, now
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._now():
            del self._entries[key]
            return None
        return entry[1]

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        self._entries.pop(key, None)
        while len(self._entries) >= self.max_entries:
            self._entries.popitem(last=False)
        self._entries[key] = (self._now() + ttl, value)


class MemoryState:
    """``SharedState`` of one process."""

    healthy = True

    def __init__(self) -> None:
        self._token_cache = AsyncInMemoryTokenCache()
        self._reply_cache = MemoryReplyCache()

    def token_cache(self) -> AsyncInMemoryTokenCache:
        return self._token_cache

    def pace(self, *, rate: float | None, concurrency: int | None) -> MemoryPace:
        return MemoryPace(rate=rate, concurrency=concurrency)

    def response_store(self, *, max_records: int, ttl: float) -> BoundedResponseStore:
        return BoundedResponseStore(max_records, ttl)

    def reply_cache(self) -> MemoryReplyCache:
        return self._reply_cache

    async def open(self) -> None:
        """Nothing to open: the process's memory is always there."""

    async def aclose(self) -> None:
        pass

    def __repr__(self) -> str:
        return "MemoryState()"


class RememberedTokenCache:
    """A shared token cache read through a copy this process keeps for ``seconds``: a
    shared store's read (a thread hop to SQLite, a round trip to Redis) is paid about once
    a second instead of on every completion. A token another process dropped may be sent
    once more from the copy; the site refuses it, this process drops it everywhere, and the
    use case fetches (or finds) the fresh one."""

    def __init__(self, shared: AsyncTokenCache, seconds: float = 1.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._shared, self._seconds, self._now = shared, seconds, now
        self._token: AccessToken | None = None
        self._until = 0.0

    async def acquire(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        token = self._token
        if token is not None and self._now() < self._until:
            return token
        token = await self._shared.acquire(fetch)
        self._token, self._until = token, self._now() + self._seconds
        return token

    async def invalidate(self, stale: AccessToken) -> None:
        if self._token == stale:
            self._token = None
        await self._shared.invalidate(stale)

    def __repr__(self) -> str:
        return f"RememberedTokenCache({self._shared!r})"
