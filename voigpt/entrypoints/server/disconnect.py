"""A client that goes away cancels its completion: ``until_disconnected`` awaits the
work in the request's own task and, once it has run ``WATCH_AFTER`` seconds, watches the
connection for the client's disconnect; if that comes first, the work is cancelled (its
slot given back) and the answer is 499. Shared by every completion endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from voigpt.entrypoints.server.errors import APIError
from voigpt.entrypoints.server.gate import Receive

T = TypeVar("T")


# A completion still running after this many seconds starts being watched for its client
# going away. Sooner, a watcher would cost more than the completion (a task of its own,
# on a path that serves thousands of completions a second); the site itself takes
# seconds, so every real completion is watched, and a client that left is noticed at most
# this late.
WATCH_AFTER = 0.02


async def until_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """``work``'s result, awaited in this task; if the client disconnects first, ``work``
    is cancelled and the answer is 499."""
    task = asyncio.current_task()
    assert task is not None
    watch = _Watch(receive, task)
    timer = asyncio.get_running_loop().call_later(WATCH_AFTER, watch.start)
    try:
        result = await work
    except asyncio.CancelledError:
        if not watch.gone:
            raise  # the server is stopping this request
        _uncancel(task)
        raise gone() from None
    finally:
        timer.cancel()
        watch.stop()
    if watch.gone:  # cancelled, but something under ``work`` swallowed the cancellation
        _uncancel(task)
        raise gone()
    return result


def gone() -> APIError:
    return APIError(499, "the client closed the request", code="client_disconnected")


class _Watch:
    """Waits for the client's disconnect in a task of its own; cancels ``task`` if it comes
    while the completion is still running."""

    __slots__ = ("_over", "_receive", "_task", "_watcher", "gone")

    def __init__(self, receive: Receive, task: asyncio.Task[Any]) -> None:
        self._receive, self._task = receive, task
        self._watcher: asyncio.Task[None] | None = None
        self._over = False
        self.gone = False

    def start(self) -> None:
        if not self._over:
            self._watcher = asyncio.ensure_future(_disconnect(self._receive))
            self._watcher.add_done_callback(self._ended)

    def stop(self) -> None:
        self._over = True
        if self._watcher is not None:
            self._watcher.cancel()

    def _ended(self, watcher: asyncio.Task[None]) -> None:
        if not self._over and not watcher.cancelled() and watcher.exception() is None:
            self.gone = True
            self._task.cancel()


def _uncancel(task: asyncio.Task[Any]) -> None:
    """Take back the cancellation this module asked for (3.11+ counts them)."""
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


async def _disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            return
