"""How fast a batch goes: requests in flight, starts per second, and backing off together.

``Pacer.acquire`` is called before each request starts and ``release`` when it ends. It
holds a start back while:

- ``limit`` requests are in flight (``concurrency`` at first);
- the last start was less than ``1 / rate`` seconds ago (with ``rate``);
- the run is paused after a 429.

A 429 from the site is a message to the whole run, not to one request: ``rate_limited``
pauses every new start for the server's ``Retry-After`` (capped at 60 s, as the client caps
it; without one, 1 s, doubling while 429s keep coming, at most 30 s) and halves ``limit``
(at most once per pause, so a burst of 429s from requests already in flight counts as
one). ``limit`` then grows back by one each time a ``limit``'s worth of requests succeeds in
a row: additive increase, multiplicative decrease, as TCP does with a congested link.
"""

from __future__ import annotations

import asyncio

from voigpt.domain.pace import FIRST_BACKOFF, MAX_BACKOFF, pause_after

__all__ = ["FIRST_BACKOFF", "MAX_BACKOFF", "Pacer"]


class Pacer:
    def __init__(self, concurrency: int, rate: float | None = None) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if rate is not None and not rate > 0:
            raise ValueError(f"rate must be a positive number per second, got {rate}")
        self.concurrency, self.rate = concurrency, rate
        self.limit = concurrency
        self.in_flight = 0
        self.paused_until = 0.0
        self.pauses = 0  # how many times a 429 paused the run
        self._next_start = 0.0
        self._backoff = FIRST_BACKOFF
        self._streak = 0  # successes since the limit last changed
        self._changed = asyncio.Event()

    async def acquire(self) -> None:
        """Wait until a new request may start, and count it in flight."""
        while True:
            now = _now()
            if now < self.paused_until:
                await asyncio.sleep(self.paused_until - now)
            elif self.in_flight >= self.limit:
                self._changed.clear()
                await self._changed.wait()
            elif self.rate is not None and now < self._next_start:
                await asyncio.sleep(self._next_start - now)
            else:
                break
        if self.rate is not None:
            self._next_start = max(self._next_start, now) + 1 / self.rate
        self.in_flight += 1

    @property
    def paused(self) -> bool:
        return _now() < self.paused_until

    async def resumed(self) -> None:
        """Wait out a pause (for a request that will be sent again)."""
        while (left := self.paused_until - _now()) > 0:
            await asyncio.sleep(left)

    def release(self, succeeded: bool) -> None:
        self.in_flight -= 1
        if succeeded:
            self._backoff = FIRST_BACKOFF
            self._streak += 1
            if self._streak >= self.limit and self.limit < self.concurrency:
                self.limit += 1
                self._streak = 0
        self._changed.set()

    def rate_limited(self, retry_after: float | None) -> None:
        """The site answered 429: pause every start, and slow down for a while after."""
        now = _now()
        pause, self._backoff = pause_after(retry_after, self._backoff)
        if now >= self.paused_until:  # a new episode, not another 429 of the same burst
            self.limit = max(1, self.limit // 2)
            self._streak = 0
            self.pauses += 1
        self.paused_until = max(self.paused_until, now + pause)


def _now() -> float:
    return asyncio.get_running_loop().time()
