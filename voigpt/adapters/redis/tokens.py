"""The site token, one for the fleet: single flight across processes through a lock that is
a lease (``SET lock owner NX PX``), so a holder that died blocks nobody past it; the others
poll until the holder's token is stored or its lease has run out. A token the site rejected
is dropped fleet-wide, but only if it is still the stored one (compare-and-delete)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from voigpt.adapters.memory import AsyncInMemoryTokenCache
from voigpt.adapters.memory.caches import LoopLocks
from voigpt.adapters.redis.link import Link, as_bytes
from voigpt.domain.values import AccessToken

TOKEN_TTL = 3600.0  # seconds a stored token lives at most
LEASE = 30.0  # seconds a fetch may hold the lock before another process may take it
POLL = 0.05  # seconds between a waiter's looks

# Delete KEYS[1] only if it still holds ARGV[1]: the lock by its owner, the token by value.
COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisTokenCache:
    """``AsyncTokenCache`` on Redis: every ``acquire`` reads the stored token (the server
    reads it through a per-process copy, ``RememberedTokenCache``, as for every shared
    store)."""

    def __init__(self, link: Link, prefix: str, *, lease: float = LEASE,
                 ttl: float = TOKEN_TTL) -> None:
        self._link, self._key, self._lock = link, f"{prefix}token", f"{prefix}token:lock"
        self.lease, self.ttl = lease, ttl
        self._cad = link.client.register_script(COMPARE_AND_DELETE)
        self._alone = AsyncInMemoryTokenCache()
        self._flights = LoopLocks()
        self.fetches = 0  # fetches this process made (for tests and the curious)

    async def acquire(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        async with self._flights.current():  # one flight per process, then one per fleet
            return await self._link.run(lambda: self._shared(fetch),
                                        lambda: self._alone.acquire(self._counted(fetch)))

    async def _shared(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        client = self._link.client
        while True:
            stored = as_bytes(await client.get(self._key))
            if stored is not None:
                return self._keep(AccessToken(stored.decode()))
            owner = secrets.token_hex(16)
            if await client.set(self._lock, owner, nx=True, px=int(self.lease * 1000)):
                try:
                    stored = as_bytes(await client.get(self._key))  # stored while we took the lock?
                    if stored is not None:
                        return self._keep(AccessToken(stored.decode()))
                    return await self._fetch_and_store(fetch)
                finally:
                    await self._release(owner)
            await asyncio.sleep(POLL)

    async def _fetch_and_store(self, fetch: Callable[[], Awaitable[AccessToken]]
                               ) -> AccessToken:
        token = await self._counted(fetch)()
        try:
            await self._link.client.set(self._key, token.value, px=int(self.ttl * 1000))
        except RedisError as error:  # fetched already: keep it here, never fetch twice
            self._link.failed(error)
        return self._keep(token)

    async def _release(self, owner: str) -> None:
        try:
            await self._cad(keys=[self._lock], args=[owner])
        except RedisError as error:  # the lease runs out by itself
            self._link.failed(error)

    def _counted(self, fetch: Callable[[], Awaitable[AccessToken]]
                 ) -> Callable[[], Awaitable[AccessToken]]:
        async def counted() -> AccessToken:
            self.fetches += 1
            return await fetch()
        return counted

    def _keep(self, token: AccessToken) -> AccessToken:
        if self._alone.get() != token:  # what the process goes on with if Redis goes away
            self._alone = AsyncInMemoryTokenCache(token)
        return token

    async def invalidate(self, stale: AccessToken) -> None:
        await self._alone.invalidate(stale)

        async def shared() -> None:
            await self._cad(keys=[self._key], args=[stale.value])

        async def alone() -> None:
            return None

        await self._link.run(shared, alone)

    def __repr__(self) -> str:
        return f"RedisTokenCache({self._link.shown!r}, fetches={self.fetches})"

