"""The site's pace for the fleet, in Redis, read and taken in one script call per group of
starts (``GroupTakes``: the tasks of a process that wait queue, and one call takes slots for
as many as the cap allows; the slots given back in one turn of the loop go in one call):
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

from voigpt.adapters.group_takes import GroupTakes
from voigpt.adapters.memory import MemoryPace
from voigpt.adapters.redis.link import Link
from voigpt.adapters.redis.pace_scripts import BACKOFF, LEFT, PAUSE, RENEW, START
from voigpt.domain.pace import FIRST_BACKOFF, pause_after

LEASE = 10.0  # seconds a slot lasts unless renewed (renewed every third of it while held)
POLL = (0.02, 0.06)  # seconds between looks while the slots are all taken (jittered)
LONGEST_NAP = 1.0  # seconds a waiter sleeps at most before looking again
PAUSE_REFRESH = 0.1  # seconds the uncapped path trusts its copy of the pause


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
        self._takes = GroupTakes(self._take_group, self._give_back)
        self._returns: list[str] = []  # given back this turn of the loop
        self._returning: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if not self.rate and not self.concurrency:
            if not await self._link.run(self._unpaused, _false):
                await self._alone_unpaused()
            yield
            return
        member = await self._link.run(self._takes.take, _none)
        if member is None:
            async with self._alone.slot():
                yield
            return
        if self.concurrency:
            self._hold(member)
        try:
            yield
        finally:
            if self.concurrency:
                self._give_back(member)

    async def _take_group(self, n: int) -> tuple[list[str], float]:
        members = [f"{self._owner}:{next(self._numbers)}" for _ in range(n)]
        args: list[str | int] = [self.concurrency or 0, int(self.lease * 1000),
                                 max(1, round(1000 / self.rate)) if self.rate else 0, *members]
        started, wait = (int(x) for x in await self._start(keys=self._keys, args=args))
        return members[:started], (random.uniform(*POLL) if wait < 0 else
                                   min(wait / 1000, LONGEST_NAP))

    def started(self) -> bool:
        """Uncapped, Redis answering, a fresh copy of the pause and none in force: as
        ``_unpaused`` would find without a round trip. (Not ``Link.skipping``, which hands
        its caller the next try of a Redis that went away: that try is ``slot()``'s.)"""
        if self.rate or self.concurrency or not self._link.healthy:
            return False
        now = asyncio.get_running_loop().time()
        return now < self._checked + PAUSE_REFRESH and self._paused_until <= now

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

    def _give_back(self, member: str) -> None:
        """Free the slot with the others given back in this turn of the loop, in one call
        (not waited for: a slot that fails to go runs out with its lease)."""
        self._held.discard(member)
        self._returns.append(member)
        if len(self._returns) == 1:
            task = asyncio.get_running_loop().create_task(self._return_all())
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)

    async def _return_all(self) -> None:
        await asyncio.sleep(0)  # the slots given back in this turn go together
        members, self._returns = self._returns, []
        if self._link.skipping:
            return
        try:
            await self._link.client.zrem(self._keys[0], *members)
        except RedisError as error:  # their leases run out by themselves
            self._link.failed(error)
        else:
            self._takes.freed()

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
            self._give_back(member)
        if self._returning:
            await asyncio.gather(*self._returning)

    def __repr__(self) -> str:
        return (f"RedisPace({self._link.shown!r}, rate={self.rate}, "
                f"concurrency={self.concurrency}, held={len(self._held)})")


async def _false() -> bool:
    return False


async def _none() -> None:
    return None
