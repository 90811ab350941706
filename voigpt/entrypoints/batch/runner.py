"""A plan, run on an ``AsyncClient``: requests started as the ``Pacer`` allows, each result
written the moment it arrives, and a clean stop whatever stops the run.

The input is read as the run goes, one line at a time; the ids still to do are the only
thing held for the whole run. A success is appended to OUTPUT and its id marked done in the
same step (a line is never written twice); a failure goes to ERRORS. When ``stop`` is set
(Ctrl-C, SIGTERM, a service shutting down), no new request starts, those in flight get
``grace`` seconds to finish and be written (``hurry`` cuts that short), and the rest are
cancelled: they were never written, so the next run sends them again. If OUTPUT or ERRORS
cannot be written, the run stops at once and raises ``WriteFailed``. A line that asked for
tools or a JSON format and whose model reply did not fit them, even after one correction,
fails like any other (``invalid_model_reply`` in ERRORS); it is not retried.

With a shared state (``--state``, ``shared_pace``), each request also starts as the site's
shared pace allows (inside its slot, after the run's own ``Pacer``), and every 429 the site
sends reaches that pace too: a 429 a server or another batch on the same state received
pauses this run's starts, and one this run receives pauses theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from voigpt.async_client import AsyncClient
from voigpt.domain.errors import InvalidConfig, RateLimited
from voigpt.domain.state_location import StateLocation
from voigpt.domain.tools.values import asking
from voigpt.domain.values import Completion
from voigpt.entrypoints.batch.journal import FailureLog
from voigpt.entrypoints.batch.lines import failure_line, success_line
from voigpt.entrypoints.batch.pacing import Pacer
from voigpt.entrypoints.batch.parsing import BatchRequest
from voigpt.entrypoints.batch.plan import Plan
from voigpt.entrypoints.batch.progress import BatchProgress
from voigpt.entrypoints.batch.reading import InputChanged, requests
from voigpt.entrypoints.batch.summary import BatchSummary, WriteFailed
from voigpt.entrypoints.batch.watch import watching
from voigpt.ports.shared_state import SitePace

LOGGER = logging.getLogger("voigpt.batch")
GRACE = 5.0  # seconds in-flight requests get to finish after a stop
RATE_LIMITED_ATTEMPTS = 3  # per request, each after the run's pause; then it fails
TICK = 1.0  # seconds between progress reports when nothing finishes
YIELD_EVERY = 1000  # input lines read without letting the loop run


async def execute(
    plan: Plan, client: AsyncClient, *, concurrency: int = 8, rate: float | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    scrub: Callable[[str], str] = str, stop: asyncio.Event | None = None,
    hurry: asyncio.Event | None = None, grace: float = GRACE, pace: SitePace | None = None,
) -> BatchSummary:
    """Run what ``plan`` has left to do on ``client``; the plan stays open (close it).
    ``pace``: the site's pace shared with other processes (``shared_pace``)."""
    return await Run(plan, client, Pacer(concurrency, rate), progress=progress, scrub=scrub,
                     stop=stop or asyncio.Event(), hurry=hurry or asyncio.Event(),
                     grace=grace, pace=pace)()


@contextlib.asynccontextmanager
async def shared_pace(client: AsyncClient, location: StateLocation | None,
                      where: str = "state") -> AsyncIterator[SitePace | None]:
    """The site's pace on the state at ``location`` (built by ``client``'s container), open
    for the block; None for ``memory`` (or None): a run alone needs none, its ``Pacer``
    does it all. ``InvalidConfig`` naming ``where`` (the setting) and the location (never
    its password) if the state cannot be used; a Redis out of reach is no error (the pace
    is the process's own until it comes back, with one warning).

    The run's own ``--rate`` stays the ``Pacer``'s: given to the shared pace, it would
    space the starts of every process on the state (a server's too) by this run's rate."""
    if location is None or location.kind == "memory":
        yield None
        return
    state = client.container.shared_state(location)
    try:
        try:
            await state.open()
        except InvalidConfig as exc:
            reason = str(exc)
            if reason.startswith("state "):  # the adapters' "state SHOWN: problem"
                reason = reason[len("state "):]
            raise InvalidConfig(f"{where} {reason}") from None
        yield state.pace(rate=None, concurrency=None)
    finally:
        await state.aclose()


class Run:
    def __init__(
        self, plan: Plan, client: AsyncClient, pacer: Pacer, *,
        progress: Callable[[BatchProgress], None] | None, scrub: Callable[[str], str],
        stop: asyncio.Event, hurry: asyncio.Event, grace: float, pace: SitePace | None = None,
    ) -> None:
        self.plan, self.client, self.pacer, self.pace = plan, client, pacer, pace
        self.progress, self.scrub = progress, scrub
        self.stop, self.hurry, self.grace = stop, hurry, grace
        self.failures = FailureLog(plan.errors)
        self.skipped = plan.skipped  # in OUTPUT before this run
        self.succeeded = self.failed = 0
        self.started = asyncio.get_running_loop().time()
        self.tasks: set[asyncio.Task[None]] = set()
        self.idle = asyncio.Event()
        self.idle.set()
        self.halted = asyncio.Event()  # OUTPUT or ERRORS failed: stop now
        self.write_error: tuple[Path, OSError] | None = None

    async def __call__(self) -> BatchSummary:
        ticker = asyncio.ensure_future(self._tick())
        try:
            with watching(self.client, self.pacer, self.pace) as watch:
                try:
                    await self._run()
                finally:
                    await watch.settle()
        finally:
            ticker.cancel()
            self.failures.close()
            self._report()
        summary = BatchSummary(
            self.plan.input, self.plan.output, self.plan.errors, self.snapshot(),
            interrupted=self.stop.is_set() and self.snapshot().remaining > 0,
        )
        if self.write_error is not None:
            raise WriteFailed(*self.write_error, summary)
        return summary

    def snapshot(self) -> BatchProgress:
        elapsed = asyncio.get_running_loop().time() - self.started
        return BatchProgress(self.plan.total, self.skipped, self.succeeded, self.failed, elapsed)

    async def _run(self) -> None:
        launching = asyncio.ensure_future(self._launch())
        await _any(self.stop, self.halted, tasks=[launching])
        if not launching.done():
            launching.cancel()
        await asyncio.gather(launching, return_exceptions=True)
        error = None if launching.cancelled() else launching.exception()
        if error is None:
            await _any(self.idle, self.stop, self.halted)
        if not self.idle.is_set():
            grace = 0.0 if self.halted.is_set() else self.grace
            await _any(self.idle, self.hurry, self.halted, timeout=grace)
            in_flight = list(self.tasks)
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
        if error is not None:
            raise error

    async def _launch(self) -> None:
        done, pending = self.plan.journal.done, self.plan.pending
        if self.pace is not None:
            # A pause in force on the shared state is waited out before the first starts,
            # which come all at once: SQLite's pace reads the pause for its first caller,
            # and lets those that come while it reads through.
            async with self.pace.slot():
                pass
        for count, request in enumerate(requests(self.plan.input)):
            if count % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # signals and the ticker, while done lines are skipped
            if request.custom_id in done:
                continue
            if request.custom_id not in pending:
                raise InputChanged(f"{self.plan.input} changed while it ran: custom_id "
                                   f"{request.custom_id!r} was not in it, or is there twice")
            await self.pacer.acquire()
            if self.stop.is_set() or self.halted.is_set():  # set while this one waited
                self.pacer.release(False)
                return
            pending.discard(request.custom_id)
            task = asyncio.ensure_future(self._one(request))
            self.tasks.add(task)
            self.idle.clear()
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not self.tasks:
            self.idle.set()

    async def _one(self, request: BatchRequest) -> None:
        succeeded = False
        try:
            completion = await self._complete(request)
        except Exception as exc:  # every failure is a line in ERRORS, a bug included
            self._write(failure_line(request.custom_id, exc, self.scrub))
        else:
            succeeded = self._write(success_line(request, completion), request)
        finally:
            self.pacer.release(succeeded)
        self._report()

    async def _complete(self, request: BatchRequest) -> Completion:
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

    def _write(self, line: bytes, request: BatchRequest | None = None) -> bool:
        """A failure's line to ERRORS, or a success's to OUTPUT; True if it was a success."""
        if self.halted.is_set():
            return False
        path = self.plan.errors if request is None else self.plan.output
        try:
            if request is None:
                self.failures.append(line)
                self.failed += 1
            elif request.custom_id not in self.plan.journal.done:  # never twice
                self.plan.journal.append(line)
                self.plan.journal.done.add(request.custom_id)
                self.succeeded += 1
        except OSError as exc:
            self.write_error = (path, exc)
            self.halted.set()
            return False
        return request is not None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self._report()

    def _report(self) -> None:
        if self.progress is None:
            return
        try:
            self.progress(self.snapshot())
        except Exception:
            LOGGER.exception("voigpt batch: the progress callback raised; it is dropped")
            self.progress = None


async def _any(
    *events: asyncio.Event, tasks: Iterable[asyncio.Future[None]] = (),
    timeout: float | None = None,
) -> None:
    """Wait until one of ``events`` is set or one of ``tasks`` ends (or ``timeout``)."""
    waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait([*waiters, *tasks], timeout=timeout,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
