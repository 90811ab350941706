"""Every 429 the site sends reaches the ``Pacer``, also those the client retries by itself:
the run's client gets an observer (the container's ``observer``, overridden for the run)
that passes each ``RateLimited`` on, and everything to the observer it replaces. With a
shared pace (``--state``), each 429 reaches it too, so that it pauses every process on the
state; ``settle`` waits for those reports before the run ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from voigpt.async_client import AsyncClient
from voigpt.domain.errors import RateLimited
from voigpt.entrypoints.batch.pacing import Pacer
from voigpt.ports.observer import CompletionObserver
from voigpt.ports.shared_state import SitePace

SETTLE = 5.0  # seconds the run's end waits for its last 429 reports to the shared pace


class RateLimitWatch:
    def __init__(self, pacer: Pacer, inner: CompletionObserver,
                 pace: SitePace | None = None) -> None:
        self._pacer, self._inner, self._pace = pacer, inner, pace
        self._loop = asyncio.get_running_loop()
        self._reports: set[asyncio.Task[None]] = set()

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
            if self._pace is not None:
                report = self._loop.create_task(self._pace.rate_limited(error.retry_after))
                self._reports.add(report)
                report.add_done_callback(self._reports.discard)

    async def settle(self, timeout: float = SETTLE) -> None:
        """Wait (``timeout`` at most) for the 429s still being reported to the shared pace;
        those left then are cancelled."""
        reports = list(self._reports)
        if not reports:
            return
        _, late = await asyncio.wait(reports, timeout=timeout)
        for report in late:
            report.cancel()
        await asyncio.gather(*reports, return_exceptions=True)


@contextlib.contextmanager
def watching(client: AsyncClient, pacer: Pacer,
             pace: SitePace | None = None) -> Iterator[RateLimitWatch]:
    """For the block, the client's 429s pace the run (and ``pace``, if given)."""
    observer = client.container.observer
    watch = RateLimitWatch(pacer, observer(), pace)
    with observer.override(watch):
        yield watch


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
