"""Slots of the fleet's pace taken a group at a time: the tasks that wait for one queue in
the order they came, and one trip to the store takes as many as it can for all of them.

For ``--site-concurrency`` on the shared states (``--state sqlite`` and ``redis``): a trip
(a transaction on the state's thread, a script call in Redis) costs the server far more
than one more slot in it, and under load every request takes a slot. One trip per
request held the SQLite server to about a fifth of memory's requests/s and Redis's to a
half (``benchmarks/state.py``'s lease rows); one trip per group costs about what one
costs alone. Nobody starts sooner than the store allows: the store decides how many of a
group start (the cap, the start rate and a pause are all its), in the queue's order.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupTakes(Generic[T]):
    """``take()`` waits for a slot, in the order of the calls: ``take_group(n)`` takes up to
    ``n`` in one trip and says how many seconds to wait before asking again if it took
    fewer; ``give_back(slot)`` frees a slot taken for a caller that left meanwhile. An
    error from ``take_group`` is raised to each caller that trip was for. One queue per
    event loop (a state may serve ``asyncio.run`` twice, or a loop per thread)."""

    def __init__(self, take_group: Callable[[int], Awaitable[tuple[list[T], float]]],
                 give_back: Callable[[T], None]) -> None:
        self._take_group, self._give_back = take_group, give_back
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue[T]] = (
            weakref.WeakKeyDictionary())
        self._last: tuple[weakref.ref[asyncio.AbstractEventLoop], _Queue[T]] | None = None

    def _queue(self, loop: asyncio.AbstractEventLoop) -> _Queue[T]:
        last = self._last
        if last is not None and last[0]() is loop:  # the same loop as last time, mostly
            return last[1]
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues.setdefault(loop, _Queue())
        self._last = (weakref.ref(loop), queue)
        return queue

    async def take(self) -> T:
        loop = asyncio.get_running_loop()
        queue = self._queue(loop)
        got: asyncio.Future[T] = loop.create_future()
        queue.waiting.append(got)
        if queue.taker is None:
            queue.taker = loop.create_task(self._drain(queue))
        try:
            return await got
        except asyncio.CancelledError:
            # Its slot may have come as it was cancelled: nobody else will give it back.
            if got.done() and not got.cancelled() and got.exception() is None:
                self._give_back(got.result())
            raise

    async def _drain(self, queue: _Queue[T]) -> None:
        try:
            while True:
                # One turn of the loop first: the takes of requests already under way join.
                await asyncio.sleep(0)
                group = [got for got in queue.waiting if not got.done()]
                queue.waiting = deque(group)
                if not group:
                    return
                try:
                    taken, wait = await self._take_group(len(group))
                except asyncio.CancelledError:  # the state is closing
                    for got in queue.waiting:
                        got.cancel()
                    raise
                except Exception as exc:  # this group's callers get it; later ones try again
                    for got in group:
                        if not got.done():
                            got.set_exception(exc)
                    continue
                for slot in taken:
                    self._hand(queue, slot)
                if len(taken) < len(group) and any(not g.done() for g in queue.waiting):
                    await self._nap(queue, max(wait, 0.001))
        finally:
            queue.taker = None

    def waiting(self) -> int:
        """How many callers wait for a slot on the running loop."""
        queue = self._queue(asyncio.get_running_loop())
        return sum(not got.done() for got in queue.waiting)

    def hand(self, slots: list[T]) -> None:
        """Slots taken outside a trip of the queue's (a slot given back and another taken
        in one go): to the callers waiting on the running loop, in order; the rest back."""
        queue = self._queue(asyncio.get_running_loop())
        for slot in slots:
            self._hand(queue, slot)

    def freed(self) -> None:
        """A slot of this process went back to the store: the callers waiting on the
        running loop ask again now, not at their next poll (the store still decides)."""
        queue = self._queue(asyncio.get_running_loop())
        if queue.nap is not None and not queue.nap.done():
            queue.nap.set_result(None)

    @staticmethod
    async def _nap(queue: _Queue[T], seconds: float) -> None:
        loop = asyncio.get_running_loop()
        queue.nap = nap = loop.create_future()
        timer = loop.call_later(seconds, _wake, nap)
        try:
            await nap
        finally:
            timer.cancel()
            queue.nap = None

    def _hand(self, queue: _Queue[T], slot: T) -> None:
        """``slot`` to the first caller still waiting; given back if every one has left."""
        while queue.waiting:
            got = queue.waiting.popleft()
            if not got.done():
                got.set_result(slot)
                return
        self._give_back(slot)


class _Queue(Generic[T]):
    def __init__(self) -> None:
        self.waiting: deque[asyncio.Future[T]] = deque()
        self.taker: asyncio.Task[None] | None = None
        self.nap: asyncio.Future[None] | None = None  # the taker's wait before asking again


def _wake(nap: asyncio.Future[None]) -> None:
    if not nap.done():
        nap.set_result(None)
