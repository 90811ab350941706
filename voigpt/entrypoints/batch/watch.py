"""Every 429 the site sends reaches the ``Pacer``, also those the client retries by itself:
the run's client gets an observer (the container's ``observer``, overridden for the run)
that passes each ``RateLimited`` on, and everything to the observer it replaces."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from voigpt.async_client import AsyncClient
from voigpt.domain.errors import RateLimited
from voigpt.entrypoints.batch.pacing import Pacer
from voigpt.ports.observer import CompletionObserver


class RateLimitWatch:
    def __init__(self, pacer: Pacer, inner: CompletionObserver) -> None:
        self._pacer, self._inner = pacer, inner
        self._loop = asyncio.get_running_loop()

    def token_fetched(self, seconds: float, error: BaseException | None) -> None:
        self._see(error)
        self._inner.token_fetched(seconds, error)

    def sent(self, seconds: float, error: BaseException | None) -> None:
        self._see(error)
        self._inner.sent(seconds, error)

    def retrying(self, error: Exception, pause: float) -> None:
        self._inner.retrying(error, pause)

    def repairing(self, problem: str) -> None:
        self._inner.repairing(problem)

    def _see(self, error: BaseException | None) -> None:
        # Only from the run's own loop: a client shared with other threads reports there too.
        if isinstance(error, RateLimited) and _running_loop() is self._loop:
            self._pacer.rate_limited(error.retry_after)


@contextlib.contextmanager
def watching(client: AsyncClient, pacer: Pacer) -> Iterator[None]:
    """For the block, the client's 429s pace the run."""
    observer = client.container.observer
    with observer.override(RateLimitWatch(pacer, observer())):
        yield


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
