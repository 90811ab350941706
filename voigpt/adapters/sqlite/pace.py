"""The site's pace in the state file, for every process on it.

- A 429 writes ``paused_until`` (and the next backoff: ``voigpt.domain.pace.pause_after``).
- ``--site-concurrency``: a slot is a row of ``slots`` (this state's ``owner``, a lease of
  ``lease`` seconds, renewed every third of it while held, so a long completion keeps its
  slot and a SIGKILLed process's slots free themselves within one lease). Counting and
  taking happen in one IMMEDIATE transaction, so two processes never take the last slot.
- ``--site-rate``: ``next_start``, the earliest the next start may be (starts are spaced by
  ``1/rate``), moved in the same transaction.
Waiting is polling every ``POLL`` seconds (or until the pause or the next start is due);
the tasks of one process queue on a lock of their own, so one process polls once.

With neither cap (the default), a start only checks the pause, from a copy read at most
every ``PAUSE_REFRESH`` seconds: no file access on most requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from functools import partial

from voigpt.adapters.memory.caches import LoopLocks
from voigpt.adapters.memory.state import MemoryPace
from voigpt.adapters.sqlite.database import Database, StoreDown
from voigpt.adapters.sqlite.transaction import immediate
from voigpt.domain.pace import FIRST_BACKOFF, pause_after

SLOT_LEASE = 30.0  # seconds; renewed while held
POLL = 0.025  # seconds between tries while every slot is taken
PAUSE_REFRESH = 0.1  # seconds the default path trusts its copy of the pause


class SqlitePace:
    """``SitePace`` in the state file; the process's own ``MemoryPace`` while it fails."""

    def __init__(self, db: Database, *, rate: float | None, concurrency: int | None,
                 lease: float = SLOT_LEASE) -> None:
        self._db, self.rate, self.concurrency, self.lease = db, rate, concurrency, lease
        self._fallback = MemoryPace(rate=rate, concurrency=concurrency)
        self._paused_until, self._checked = 0.0, float("-inf")
        self._queue = LoopLocks()
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
            if slot_id is not None:
                self._held.discard(slot_id)
                self._db.submit(partial(_release, slot_id))

    def started(self) -> bool:
        """Uncapped, with a fresh copy of the pause and none in force: as ``_unpaused``
        would find without reading the file."""
        return (self.rate is None and self.concurrency is None
                and time.monotonic() - self._checked < PAUSE_REFRESH
                and self._paused_until - time.time() <= 0)

    async def rate_limited(self, retry_after: float | None) -> None:
        await self._fallback.rate_limited(retry_after)  # known here too, should the file fail
        with contextlib.suppress(StoreDown):
            until = await self._db.run(partial(self._pause, retry_after))
            self._paused_until = max(self._paused_until, until)

    async def _unpaused(self) -> None:
        while True:
            if time.monotonic() - self._checked >= PAUSE_REFRESH:
                # One task reads; the others wait for what it read (none starts on a stale
                # copy while the read is under way).
                async with self._refreshing.current():
                    if time.monotonic() - self._checked >= PAUSE_REFRESH:
                        self._paused_until = await self._db.run(_read_pause)
                        self._checked = time.monotonic()
            wait = self._paused_until - time.time()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _take(self) -> str | None:
        async with self._queue.current():
            while True:
                started, slot_id, wait = await self._db.run(self._try, on_abandon=_undo)
                if started:
                    break
                await asyncio.sleep(max(wait, 0.001))
        if slot_id is not None:
            self._held.add(slot_id)
            if self._renewer is None or self._renewer.done():
                self._renewer = asyncio.get_running_loop().create_task(self._renew())
        return slot_id

    async def _renew(self) -> None:
        while self._held and not self._db.closed:
            await asyncio.sleep(self.lease / 3)
            if self._held:
                with contextlib.suppress(StoreDown):
                    await self._db.run(self._extend)

    # On the state's thread:

    def _try(self, conn: sqlite3.Connection) -> tuple[bool, str | None, float]:
        """(started, the slot's id if a cap needs one, or how long to wait first)."""
        now = time.time()
        with immediate(conn):
            row = conn.execute("SELECT paused_until, next_start FROM pace "
                               "WHERE name = 'site'").fetchone()
            paused_until, next_start = row if row is not None else (0.0, 0.0)
            if paused_until > now:
                return False, None, paused_until - now
            if self.concurrency is not None:
                conn.execute("DELETE FROM slots WHERE expires <= ?", (now,))
                (held,) = conn.execute("SELECT count(*) FROM slots").fetchone()
                if held >= self.concurrency:
                    return False, None, POLL
            if self.rate:
                if next_start > now:
                    return False, None, next_start - now
                conn.execute("INSERT INTO pace (name, next_start) VALUES ('site', ?) ON "
                             "CONFLICT (name) DO UPDATE SET next_start = excluded.next_start",
                             (now + 1 / self.rate,))
            if self.concurrency is None:
                return True, None, 0.0
            slot_id = uuid.uuid4().hex
            conn.execute("INSERT INTO slots (id, owner, expires) VALUES (?, ?, ?)",
                         (slot_id, self._db.owner, now + self.lease))
            return True, slot_id, 0.0

    def _pause(self, retry_after: float | None, conn: sqlite3.Connection) -> float:
        now = time.time()
        with immediate(conn):
            row = conn.execute("SELECT paused_until, backoff FROM pace "
                               "WHERE name = 'site'").fetchone()
            paused_until, backoff = row if row is not None else (0.0, FIRST_BACKOFF)
            if now >= paused_until + 1.0:  # well past the last pause: growth starts over
                backoff = FIRST_BACKOFF
            pause, backoff = pause_after(retry_after, backoff)
            until = max(paused_until, now + pause)
            conn.execute("INSERT INTO pace (name, paused_until, backoff) VALUES ('site', ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET paused_until = "
                         "excluded.paused_until, backoff = excluded.backoff", (until, backoff))
            return float(until)

    def _extend(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE slots SET expires = ? WHERE owner = ?",
                     (time.time() + self.lease, self._db.owner))

    def __repr__(self) -> str:
        return (f"SqlitePace({self._db.shown!r}, rate={self.rate}, "
                f"concurrency={self.concurrency}, holding={len(self._held)})")


def _read_pause(conn: sqlite3.Connection) -> float:
    row = conn.execute("SELECT paused_until FROM pace WHERE name = 'site'").fetchone()
    return 0.0 if row is None else float(row[0])


def _release(slot_id: str, conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM slots WHERE id = ?", (slot_id,))


def _undo(result: tuple[bool, str | None, float]) -> partial[None]:
    """A slot taken for a caller that was cancelled meanwhile: give it back."""
    return partial(_release, result[1] or "")
