"""A plan, run on an ``AsyncClient``: requests started as the ``Pacer`` allows, each result
written the moment it arrives, and a clean stop whatever stops the run.

The input is read as the run goes, one line at a time; the ids still to do are the only
thing held for the whole run. Each request is sent as ``sending`` says (its 429s), and its
result written as ``results`` says (OUTPUT or ERRORS). When ``stop`` is set (Ctrl-C,
SIGTERM, a service shutting down), no new request starts, those in flight get ``grace``
seconds to finish and be written (``hurry`` cuts that short), and the rest are cancelled:
they were never written, so the next run sends them again. If OUTPUT or ERRORS cannot be
written, the run stops at once and raises ``WriteFailed``. A line that asked for tools or a
JSON format and whose model reply did not fit them, even after one correction, fails like
any other (``invalid_model_reply`` in ERRORS); it is not retried.

With a shared state (``--state``, ``sharing.shared_pace``), each request also starts as
the site's shared pace allows (inside its slot, after the run's own ``Pacer``), and every
429 the site sends reaches that pace too: a 429 a server or another batch on the same state
received pauses this run's starts, and one this run receives pauses theirs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from voigpt.async_client import AsyncClient
from voigpt.entrypoints.batch.lines import failure_line, success_line
from voigpt.entrypoints.batch.pacing import Pacer
from voigpt.entrypoints.batch.parsing import BatchRequest
from voigpt.entrypoints.batch.plan import Plan
from voigpt.entrypoints.batch.progress import BatchProgress
from voigpt.entrypoints.batch.reading import InputChanged, requests
from voigpt.entrypoints.batch.results import Results
from voigpt.entrypoints.batch.sending import Sender
from voigpt.entrypoints.batch.summary import BatchSummary, WriteFailed
from voigpt.entrypoints.batch.watch import watching
from voigpt.ports.shared_state import SitePace

LOGGER = logging.getLogger("voigpt.batch")
GRACE = 5.0  # seconds in-flight requests get to finish after a stop
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


class Run:
    def __init__(
        self, plan: Plan, client: AsyncClient, pacer: Pacer, *,
        progress: Callable[[BatchProgress], None] | None, scrub: Callable[[str], str],
        stop: asyncio.Event, hurry: asyncio.Event, grace: float, pace: SitePace | None = None,
    ) -> None:
        self.plan, self.client, self.pacer, self.pace = plan, client, pacer, pace
        self.send = Sender(client, pacer, pace)
        self.progress, self.scrub = progress, scrub
        self.stop, self.hurry, self.grace = stop, hurry, grace
        self.results = Results(plan)
        self.skipped = plan.skipped  # in OUTPUT before this run
        self.started = asyncio.get_running_loop().time()
        self.tasks: set[asyncio.Task[None]] = set()
        self.idle = asyncio.Event()
        self.idle.set()

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
            self.results.close()
            self._report()
        summary = BatchSummary(
            self.plan.input, self.plan.output, self.plan.errors, self.snapshot(),
            interrupted=self.stop.is_set() and self.snapshot().remaining > 0,
        )
        if self.results.error is not None:
            raise WriteFailed(*self.results.error, summary)
        return summary

    def snapshot(self) -> BatchProgress:
        elapsed = asyncio.get_running_loop().time() - self.started
        done = self.results
        return BatchProgress(self.plan.total, self.skipped, done.succeeded, done.failed, elapsed)

    async def _run(self) -> None:
        launching = asyncio.ensure_future(self._launch())
        await _any(self.stop, self.results.halted, tasks=[launching])
        if not launching.done():
            launching.cancel()
        await asyncio.gather(launching, return_exceptions=True)
        error = None if launching.cancelled() else launching.exception()
        if error is None:
            await _any(self.idle, self.stop, self.results.halted)
        if not self.idle.is_set():
            grace = 0.0 if self.results.halted.is_set() else self.grace
            await _any(self.idle, self.hurry, self.results.halted, timeout=grace)
            in_flight = list(self.tasks)
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
        if error is not None:
            raise error

    async def _launch(self) -> None:
        done, pending = self.plan.journal.done, self.plan.pending
        await self.send.ready()  # a pause in force on the shared state, before any start
        for count, request in enumerate(requests(self.plan.input)):
            if count % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # signals and the ticker, while done lines are skipped
            if request.custom_id in done:
                continue
            if request.custom_id not in pending:
                raise InputChanged(f"{self.plan.input} changed while it ran: custom_id "
                                   f"{request.custom_id!r} was not in it, or is there twice")
            await self.pacer.acquire()
            if self.stop.is_set() or self.results.halted.is_set():  # set while this one waited
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
            completion = await self.send(request)
        except Exception as exc:  # every failure is a line in ERRORS, a bug included
            self.results.write(failure_line(request.custom_id, exc, self.scrub))
        else:
            succeeded = self.results.write(success_line(request, completion), request.custom_id)
        finally:
            self.pacer.release(succeeded)
        self._report()

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
