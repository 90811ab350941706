"""One batch request sent on the ``AsyncClient``, its 429s included.

Each attempt runs inside the shared pace's slot, if the run has one (``--state``). A 429 is
reported to the run's ``Pacer``, and to the shared pace so that it pauses every process on
the state, unless the ``Pacer`` is already paused (then the watch has seen this very 429).
The next attempt waits for the pause to end; after ``RATE_LIMITED_ATTEMPTS`` 429s the
request fails like any other. Kept apart from the runner, which decides when a request
starts and where its result goes, not how it is sent.
"""

from __future__ import annotations

import contextlib

from voigpt.async_client import AsyncClient
from voigpt.domain.errors import RateLimited
from voigpt.domain.tools.values import asking
from voigpt.domain.values import Completion
from voigpt.entrypoints.batch.pacing import Pacer
from voigpt.entrypoints.batch.parsing import BatchRequest
from voigpt.ports.shared_state import SitePace

RATE_LIMITED_ATTEMPTS = 3  # per request, each after the run's pause; then it fails


class Sender:
    """Sends the requests of one run on ``client``, paced by ``pacer`` and ``pace``: ``ready``
    before the first, then each with ``await sender(request)``."""

    __slots__ = ("client", "pace", "pacer")

    def __init__(self, client: AsyncClient, pacer: Pacer, pace: SitePace | None) -> None:
        self.client, self.pacer, self.pace = client, pacer, pace

    async def ready(self) -> None:
        """Wait out a pause in force on the shared state, if any, before the first starts,
        which come all at once: SQLite's pace reads the pause for its first caller, and lets
        those that come while it reads through."""
        if self.pace is not None:
            async with self.pace.slot():
                pass

    async def __call__(self, request: BatchRequest) -> Completion:
        """``request``'s completion; its error if it failed, the last 429 included."""
        for attempt in range(1, RATE_LIMITED_ATTEMPTS + 1):
            try:
                async with self._slot():
                    return await self._send(request)
            except RateLimited as exc:
                if not self.pacer.paused:  # else the watch has seen this very 429
                    self.pacer.rate_limited(exc.retry_after)
                    if self.pace is not None:
                        await self.pace.rate_limited(exc.retry_after)
                if attempt == RATE_LIMITED_ATTEMPTS:
                    raise
                await self.pacer.resumed()
        raise AssertionError("unreachable")

    def _slot(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The shared pace's slot (a 429 anywhere on the state pauses it), if there is one."""
        return contextlib.nullcontext() if self.pace is None else self.pace.slot()

    async def _send(self, request: BatchRequest) -> Completion:
        return await self.client.complete(request.conversation, model=request.model,
                                          **asking(request.spec))
