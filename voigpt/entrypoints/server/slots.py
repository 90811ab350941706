"""The concurrency limit: at most N completions in flight upstream. A request beyond it
waits up to ``queue_timeout`` seconds for a slot, then gets a 429 with ``Retry-After``.
A slot is given back however its request ends (an answer, an error, or the client going
away, which cancels the request), so the in-flight gauge returns to zero.

``async with slots:`` holds one slot for the block (a plain class, not a generator-based
context manager: it is on every completion's path). The in-flight gauge is read from the
count at each scrape, or, with ``--workers`` (where a scrape reaches one worker), written
by each worker as its count changes (``ServerMetrics.follow_in_flight``).

A queued request waits for its slot in a task of its own (``asyncio.wait``), never through
``asyncio.wait_for``: on Python 3.10 and 3.11, ``wait_for`` cancelled just as the slot is
handed over returns the slot and swallows the cancellation, so a client that left the
queue at that moment had its completion run upstream to the end. Here a cancellation
always ends the wait, and a slot acquired meanwhile is given back."""

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
        self.in_use = 0
        self._gauge = metrics.follow_in_flight(lambda: self.in_use)

    async def __aenter__(self) -> None:
        if self._free.locked():
            await self._queue()
        else:
            await self._free.acquire()  # a slot is free: taken without suspending
        self.in_use += 1
        if self._gauge is not None:
            self._gauge.inc()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.in_use -= 1
        if self._gauge is not None:
            self._gauge.dec()
        self._free.release()

    async def _queue(self) -> None:
        """Wait for a slot; ``APIError`` 429 after ``queue_timeout``. Cancelled (the client
        went away, or the server is stopping), the cancellation is raised, even when the
        slot came in the same turn of the loop: that slot is given back."""
        if self.queue_timeout <= 0:
            raise self._busy()
        waiting = asyncio.ensure_future(self._free.acquire())
        try:
            await asyncio.wait((waiting,), timeout=self.queue_timeout)
        except BaseException:
            if not waiting.cancel() and not waiting.cancelled() and not waiting.exception():
                self._free.release()  # acquired already: this request is not going on
            raise
        if not waiting.done():
            # The timeout: stop waiting. A slot handed to the wait before the cancellation
            # reaches it is given back by acquire() itself.
            waiting.cancel()
            raise self._busy()

    def _busy(self) -> APIError:
        return APIError(
            429, f"the server is at its limit of {self.limit} concurrent completions; "
            "try again shortly", type="requests", code="server_busy",
            headers={"Retry-After": str(max(1, math.ceil(self.queue_timeout)))},
        )
