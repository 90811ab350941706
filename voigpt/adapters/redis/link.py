"""The one connection to Redis every adapter of a ``RedisState`` shares, and what happens
when Redis goes away: each call then answers as the process alone would (the ``alone``
path), with one warning on the way down (logger ``voigpt.state``), and Redis is tried
again at most once every ``retry_every`` seconds, so shared state comes back by itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("voigpt.state")
T = TypeVar("T")

RETRY_EVERY = 1.0  # seconds between tries of a Redis that went away
LOST = ("each process keeps its own pace and token; stored responses and cached replies "
        "are its own until Redis returns")


class Link:
    """``run(shared, alone)``: ``shared()`` against Redis, or ``alone()`` when Redis is away.
    ``healthy`` and ``outages`` (how many times it went away) are for the metrics;
    ``on_change(healthy)``, if set, is called on each transition."""

    def __init__(self, client: Redis, shown: str, secret: str | None, *,
                 retry_every: float = RETRY_EVERY,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.client, self.shown, self._secret = client, shown, secret
        self.retry_every, self._now = retry_every, now
        self.healthy = True
        self.outages = 0
        self.on_change: Callable[[bool], None] | None = None
        self._next_try = 0.0

    @property
    def skipping(self) -> bool:
        """Redis is away and not due for another try: go straight to ``alone``. The first
        caller after ``retry_every`` is the one that tries it (the others keep skipping)."""
        if self.healthy:
            return False
        now = self._now()
        if now < self._next_try:
            return True
        self._next_try = now + self.retry_every
        return False

    async def run(self, shared: Callable[[], Awaitable[T]],
                  alone: Callable[[], Awaitable[T]]) -> T:
        if self.skipping:
            return await alone()
        try:
            result = await shared()
        except RedisError as error:
            self.failed(error)
            return await alone()
        self.succeeded()
        return result

    def failed(self, error: BaseException) -> None:
        self._next_try = self._now() + self.retry_every
        if not self.healthy:
            return
        self.healthy = False
        self.outages += 1
        log.warning("shared state %s is unreachable (%s): %s", self.shown,
                    self.describe(error), LOST)
        if self.on_change is not None:
            self.on_change(False)

    def succeeded(self) -> None:
        if self.healthy:
            return
        self.healthy = True
        log.info("shared state %s is back: the fleet shares it again", self.shown)
        if self.on_change is not None:
            self.on_change(True)

    def describe(self, error: BaseException) -> str:
        """The error's type and message, with the password (should a message ever hold
        it) replaced by ``***``."""
        text = f"{type(error).__name__}: {error}"[:300]
        return text.replace(self._secret, "***") if self._secret else text


def as_bytes(value: bytes | str | None) -> bytes | None:
    """A value read from Redis (bytes: the client never decodes) as bytes."""
    return value.encode() if isinstance(value, str) else value
