"""The concurrency limit: at most N completions in flight upstream. A request beyond it
waits up to ``queue_timeout`` seconds for a slot, then gets a 429 with ``Retry-After``.
A slot is given back however its request ends (an answer, an error, or the client going
away, which cancels the request), so the in-flight gauge returns to zero.

``async with slots:`` holds one slot for the block (a plain class, not a generator-based
context manager: it is on every completion's path)."""

from __future__ import annotations

import asyncio
import math
from types import TracebackType

from voigpt.entrypoints.server.errors import APIError
from voigpt.entrypoints.server.metrics import ServerMetrics


class Slots:
    def __init__(self, limit: int, queue_timeout: float, metrics: ServerMetrics) -> None:
        self.limit = limit
        self.queue_timeout = queue_timeout
        self._free = asyncio.Semaphore(limit)
        self._metrics = metrics

    async def __aenter__(self) -> None:
        if self._free.locked():
            try:
                await asyncio.wait_for(self._free.acquire(), self.queue_timeout)
            except asyncio.TimeoutError:
                raise APIError(
                    429, f"the server is at its limit of {self.limit} concurrent completions; "
                    "try again shortly", type="requests", code="server_busy",
                    headers={"Retry-After": str(max(1, math.ceil(self.queue_timeout)))},
                ) from None
        else:
            await self._free.acquire()
        self._metrics.in_flight.inc()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._metrics.in_flight.dec()
        self._free.release()
