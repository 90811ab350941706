"""The site's pace in the state file, for every process on it.

- A 429 writes ``paused_until`` (and the next backoff: ``voigpt.domain.pace.pause_after``).
- ``--site-concurrency``: a slot is a row of ``slots`` (this state's ``owner``, a lease of
  ``lease`` seconds, renewed every third of it while held, so a long completion keeps its
  slot and a SIGKILLed process's slots free themselves within one lease). Counting and
  taking happen in one IMMEDIATE transaction, so two processes never take the last slot.
- ``--site-rate``: ``next_start``, the earliest the next start may be (starts are spaced by
  ``1/rate``), moved in the same transaction.
The tasks of one process queue (``GroupTakes``): one transaction takes slots for as many
of them as the cap allows (one start, with a rate), and waiting is polling every ``pace_sql.POLL``
seconds (or until the pause or the next start is due), once for the process. Slots given
back in one turn of the loop are deleted together.

With neither cap (the default), a start only checks the pause, from a copy read at most
every ``PAUSE_REFRESH`` seconds: no file access on most requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from functools import partial

from voigpt.adapters.group_takes import GroupTakes
from voigpt.adapters.memory.caches import LoopLocks
from voigpt.adapters.memory.state import MemoryPace
from voigpt.adapters.sqlite.database import Database, StoreDown
from voigpt.adapters.sqlite.loop_writes import Later
from voigpt.adapters.sqlite.pace_sql import Caps, pause, read_pause, release, undo

SLOT_LEASE = 30.0  # seconds; renewed while held
PAUSE_REFRESH = 0.1  # seconds the default path trusts its copy of the pause


class SqlitePace:
    """``SitePace`` in the state file; the process's own ``MemoryPace`` while it fails."""

    def __init__(self, db: Database, *, rate: float | None, concurrency: int | None,
                 lease: float = SLOT_LEASE) -> None:
        self._db, self.rate, self.concurrency, self.lease = db, rate, concurrency, lease
        self._caps = Caps(rate, concurrency, db.owner, lease)
        self._fallback = MemoryPace(rate=rate, concurrency=concurrency)
        self._paused_until, self._checked = 0.0, float("-inf")
        self._takes = GroupTakes(self._take_group, self._give_back)
        self._releases: list[str] = []  # given back this turn of the loop
        self._refreshing = LoopLocks()
        self._held: set[str] = set()
        self._renewer: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        slot_id: str | None = None
        shared = True
        try:
            if self.rate is None and self.concurrency is None:
                await self._unpaused()
            else:
                slot_id = await self._take()
        except StoreDown:
            shared = False
        if not shared:  # outside the except: the block's own errors carry no StoreDown
            async with self._fallback.slot():
                yield
            return
        try:
            yield
        finally:
            self._give_back(slot_id)

    def started(self) -> bool:
        """Uncapped, with a fresh copy of the pause and none in force: as ``_unpaused``
        would find without reading the file."""
        return (self.rate is None and self.concurrency is None
                and time.monotonic() - self._checked < PAUSE_REFRESH
                and self._paused_until - time.time() <= 0)

    async def rate_limited(self, retry_after: float | None) -> None:
        await self._fallback.rate_limited(retry_after)  # known here too, should the file fail
        with contextlib.suppress(StoreDown):
            until = await self._db.run(partial(pause, retry_after))
            self._paused_until = max(self._paused_until, until)

    async def _unpaused(self) -> None:
        while True:
            if time.monotonic() - self._checked >= PAUSE_REFRESH:
                # One task reads; the others wait for what it read (none starts on a stale
                # copy while the read is under way).
                async with self._refreshing.current():
                    if time.monotonic() - self._checked >= PAUSE_REFRESH:
                        self._paused_until = await self._db.run(read_pause)
                        self._checked = time.monotonic()
            wait = self._paused_until - time.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _take(self) -> str | None:
        slot_id = await self._takes.take()
        if slot_id is not None:
            self._held.add(slot_id)
            if self._renewer is None or self._renewer.done():
                self._renewer = asyncio.get_running_loop().create_task(self._renew())
        return slot_id

    async def _take_group(self, n: int) -> tuple[list[str | None], float]:
        return await self._db.write(partial(self._caps.take, n), 0, on_abandon=undo)

    def _give_back(self, slot_id: str | None) -> None:
        """Free the slot with the others given back in this turn of the loop, in one
        transaction (on the loop if the file lets it at once, else on the state's thread)."""
        if slot_id is None:
            return
        self._held.discard(slot_id)
        self._releases.append(slot_id)
        if len(self._releases) == 1:
            asyncio.get_running_loop().call_soon(self._release_all)

    def _release_all(self) -> None:
        ids, self._releases = self._releases, []
        waiting = self._takes.waiting()
        if waiting:  # give back and take for them in one transaction, if it need not wait
            taken = self._db.write_now(partial(self._caps.take, waiting, releasing=ids), 0)
            if not isinstance(taken, Later):
                self._takes.hand(taken[0])
                return
        elif not isinstance(self._db.write_now(partial(release, ids), 0), Later):
            self._takes.freed()
            return
        self._db.submit(partial(release, ids))  # before any take the woken queue sends there
        self._takes.freed()

    async def _renew(self) -> None:
        while self._held and not self._db.closed:
            await asyncio.sleep(self.lease / 3)
            if self._held:
                with contextlib.suppress(StoreDown):
                    await self._db.run(self._caps.extend)

    def __repr__(self) -> str:
        return (f"SqlitePace({self._db.shown!r}, rate={self.rate}, "
                f"concurrency={self.concurrency}, holding={len(self._held)})")
