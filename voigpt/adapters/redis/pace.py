"""The site's pace for the fleet, in Redis, read and taken in one script call per start:
the pause after a 429 (``paused``: until when, in Redis's own clock), the concurrency cap
(``slots``: a sorted set of leases, member = owner:number, score = expiry, renewed while
held, so a killed process's slots run out), and the start rate (``next``: the earliest
next start). Redis's ``TIME`` is the one clock, so the machines' clocks never matter."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import secrets
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from voigpt.adapters.memory import MemoryPace
from voigpt.adapters.redis.link import Link
from voigpt.domain.pace import FIRST_BACKOFF, pause_after

LEASE = 10.0  # seconds a slot lasts unless renewed (renewed every third of it while held)
POLL = (0.02, 0.06)  # seconds between looks while the slots are all taken (jittered)
LONGEST_NAP = 1.0  # seconds a waiter sleeps at most before looking again
PAUSE_REFRESH = 0.1  # seconds the uncapped path trusts its copy of the pause

_NOW = """local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS: slots, next, paused. ARGV: member, cap (0: none), lease ms, interval ms (0: none).
# 0: started (the slot taken); > 0: ms to wait; -1: every slot taken.
START = _NOW + """
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return paused - now end
local cap = tonumber(ARGV[2])
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= cap then return -1 end
end
local interval = tonumber(ARGV[4])
if interval > 0 then
  local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
  if nxt > now then return nxt - now end
  redis.call('SET', KEYS[2], now + interval, 'PX', interval + 1000)
end
if cap > 0 then redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1]) end
return 0
"""
# KEYS: paused. The ms of the pause still to run (0: none), on Redis's clock.
LEFT = _NOW + """
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then return paused - now end
return 0
"""
# KEYS: slots. ARGV: lease ms, members... (re-added: a Redis that restarted counts them)
RENEW = _NOW + """
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
return 0
"""
# KEYS: paused, backoff. ARGV: the first backoff. The backoff now in force: growth starts
# over once the last pause has been over for a second, as in MemoryPace.
BACKOFF = _NOW + """
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if now >= paused + 1000 then return ARGV[1] end
return redis.call('GET', KEYS[2]) or ARGV[1]
"""
# KEYS: paused, backoff. ARGV: pause ms, the next backoff. A pause only ever grows.
PAUSE = _NOW + """
local paused = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], paused, 'PX', paused - now + 60000)
redis.call('SET', KEYS[2], ARGV[2], 'PX', paused - now + 60000)
return paused - now
"""


class RedisPace:
    """``SitePace`` for every process on one Redis; ``MemoryPace`` (the process alone, with
    the same numbers) while Redis is away."""

    def __init__(self, link: Link, prefix: str, *, rate: float | None,
                 concurrency: int | None, lease: float = LEASE) -> None:
        self._link, self.rate, self.concurrency, self.lease = link, rate, concurrency, lease
        self._keys = [f"{prefix}pace:slots", f"{prefix}pace:next", f"{prefix}pace:paused"]
        self._pause_keys = [f"{prefix}pace:paused", f"{prefix}pace:backoff"]
        client = link.client
        self._start, self._renew = client.register_script(START), client.register_script(RENEW)
        self._backoff = client.register_script(BACKOFF)
        self._pause = client.register_script(PAUSE)
        self._left = client.register_script(LEFT)
        # With neither cap, a start only waits out a pause: read from a copy refreshed at
        # most every PAUSE_REFRESH seconds (so most completions make no round trip).
        self._paused_until, self._checked = 0.0, float("-inf")
        self._alone = MemoryPace(rate=rate, concurrency=concurrency)
        self._owner = secrets.token_hex(8)
        self._numbers = itertools.count()
        self._held: set[str] = set()
        self._renewer: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if not self.rate and not self.concurrency:
            if not await self._link.run(self._unpaused, _false):
                await self._alone_unpaused()
            yield
            return
        member = f"{self._owner}:{next(self._numbers)}"
        if not await self._link.run(lambda: self._take(member), _false):
            async with self._alone.slot():
                yield
            return
        if self.concurrency:
            self._hold(member)
        try:
            yield
        finally:
            if self.concurrency:
                await self._give_back(member)

    async def _take(self, member: str) -> bool:
        args: list[str | int] = [member, self.concurrency or 0, int(self.lease * 1000),
                max(1, round(1000 / self.rate)) if self.rate else 0]
        while True:
            wait = int(await self._start(keys=self._keys, args=args))
            if wait == 0:
                return True
            await asyncio.sleep(random.uniform(*POLL) if wait < 0 else
                                min(wait / 1000, LONGEST_NAP))

    async def _unpaused(self) -> bool:
        """Wait out the fleet's pause, if one is in force (the uncapped path)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if now >= self._checked + PAUSE_REFRESH:
                left = int(await self._left(keys=self._keys[2:]))
                self._checked = loop.time()
                self._paused_until = max(self._paused_until, self._checked + left / 1000)
            wait = self._paused_until - loop.time()
            if wait <= 0:
                return True
            await asyncio.sleep(min(wait, LONGEST_NAP))

    async def _alone_unpaused(self) -> None:
        async with self._alone.slot():
            pass

    def _hold(self, member: str) -> None:
        self._held.add(member)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_while_held())

    async def _renew_while_held(self) -> None:
        while self._held:
            await asyncio.sleep(self.lease / 3)
            held = sorted(self._held)
            if not held:
                return
            with contextlib.suppress(RedisError):  # a slot that runs out is only lost
                await self._renew(keys=self._keys[:1],
                                  args=[int(self.lease * 1000), *held])

    async def _give_back(self, member: str) -> None:
        self._held.discard(member)
        if self._link.skipping:
            return
        try:
            await self._link.client.zrem(self._keys[0], member)
        except RedisError as error:  # its lease runs out by itself
            self._link.failed(error)

    async def rate_limited(self, retry_after: float | None) -> None:
        await self._alone.rate_limited(retry_after)  # in force here if Redis goes away

        async def shared() -> None:
            raw = await self._backoff(keys=self._pause_keys, args=[FIRST_BACKOFF])
            pause, grown = pause_after(retry_after, float(raw))
            left = int(await self._pause(keys=self._pause_keys, args=[int(pause * 1000), grown]))
            self._paused_until = max(self._paused_until,
                                     asyncio.get_running_loop().time() + left / 1000)

        async def alone() -> None:
            return None

        await self._link.run(shared, alone)

    async def aclose(self) -> None:
        """Give back the slots still held (a process that ends on purpose leaks none)."""
        if self._renewer is not None:
            self._renewer.cancel()
        for member in list(self._held):
            await self._give_back(member)

    def __repr__(self) -> str:
        return (f"RedisPace({self._link.shown!r}, rate={self.rate}, "
                f"concurrency={self.concurrency}, held={len(self._held)})")


async def _false() -> bool:
    return False
