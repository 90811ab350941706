"""A shared token cache read through a per-process copy: the shared store is asked about
once a second, a dropped token is dropped here and there."""

from __future__ import annotations

import asyncio

from voigpt.adapters.memory import AsyncInMemoryTokenCache, RememberedTokenCache
from voigpt.domain.values import AccessToken


class CountingShared(AsyncInMemoryTokenCache):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.dropped: list[AccessToken] = []

    async def acquire(self, fetch):  # type: ignore[no-untyped-def]
        self.reads += 1
        return await super().acquire(fetch)

    async def invalidate(self, stale: AccessToken) -> None:
        self.dropped.append(stale)
        await super().invalidate(stale)


def test_the_shared_store_is_read_once_a_second_and_a_drop_reaches_it() -> None:
    clock = [100.0]
    shared = CountingShared()
    cache = RememberedTokenCache(shared, 1.0, now=lambda: clock[0])
    fetched = iter([AccessToken("first"), AccessToken("second")])

    async def fetch() -> AccessToken:
        return next(fetched)

    async def run() -> list[str]:
        seen = [(await cache.acquire(fetch)).value for _ in range(5)]
        assert shared.reads == 1
        clock[0] += 1.5
        seen.append((await cache.acquire(fetch)).value)
        assert shared.reads == 2
        await cache.invalidate(AccessToken("first"))
        assert shared.dropped == [AccessToken("first")]
        seen.append((await cache.acquire(fetch)).value)
        assert shared.reads == 3
        return seen

    assert asyncio.run(run()) == ["first"] * 6 + ["second"]
