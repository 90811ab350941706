"""The SQLite file behind ``--state sqlite:///PATH``: one file for every kind of shared
state, in WAL mode (readers never wait for the writer), reached through one connection on
one dedicated thread per state, so the event loop never waits on it. The loop itself may
use the connection for a write that need not wait (``write_now``, ``LoopWrites``).

``open`` is for start-up: a file that cannot be used (a directory, read-only, locked past
the busy timeout, not a database) is an ``InvalidConfig`` naming the path and the problem.
Later, at request time, a failing call raises ``StoreDown``: the adapter then answers from
the process's own memory for that call, the state turns unhealthy (one warning in the log
``voigpt.state``) and is tried again at most every ``RETRY_EVERY`` seconds until it works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from voigpt.adapters.sqlite.checkpoints import Checkpoints
from voigpt.adapters.sqlite.loop_writes import LATER, Later, LoopWrites
from voigpt.adapters.sqlite.schema import connect, problem
from voigpt.adapters.sqlite.transaction import roll_back
from voigpt.domain.errors import InvalidConfig

LOGGER = logging.getLogger("voigpt.state")
BUSY_TIMEOUT = 5.0  # seconds a call waits for another process's write lock
RETRY_EVERY = 1.0  # while unhealthy, seconds between attempts to use the file again
T = TypeVar("T")


class StoreDown(Exception):
    """The file failed at request time: answer from the process's memory for this call."""


class Database:
    """The file, its connection and its thread, and whether it currently works."""

    def __init__(self, path: str, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path, self.busy_timeout = path, busy_timeout
        self.owner = uuid.uuid4().hex  # this process's (this state's) leases and locks
        self.healthy = True
        self.fallbacks = 0  # calls answered from memory because the file failed
        self.on_health: Callable[[bool], None] | None = None  # told when healthy changes
        self._conn: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="voigpt-sqlite")
        self._now = LoopWrites(path, busy_timeout)  # writes on the loop, when they can't wait
        self._using = threading.Lock()  # held by whichever thread uses the connection
        self._checkpoints = Checkpoints(path, self._using)  # a thread, a connection of theirs
        self._retry_at = 0.0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def shown(self) -> str:
        return f"sqlite:///{self.path}"

    async def open(self) -> None:
        """Create or check the file now; ``InvalidConfig`` naming the path and the problem."""
        try:
            await asyncio.wrap_future(self._executor.submit(self._open))
        except sqlite3.Error as exc:
            raise InvalidConfig(f"state {self.shown}: {problem(exc, self.busy_timeout)}") \
                from None

    async def run(self, fn: Callable[[sqlite3.Connection], T],
                  on_abandon: Callable[[T], Callable[[sqlite3.Connection], object]]
                  | None = None) -> T:
        """``fn(connection)`` on the state's thread; ``StoreDown`` if the file fails. If the
        caller is cancelled while ``fn`` runs, ``on_abandon(result)`` gives a call that
        undoes it (a slot taken for nobody)."""
        if self._closed or (not self.healthy and time.monotonic() < self._retry_at):
            self.fallbacks += 1
            raise StoreDown
        future = self._executor.submit(self._call, fn)
        try:
            result = await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            if on_abandon is not None:
                future.add_done_callback(lambda done: self._undo(done, on_abandon))
            raise
        except (sqlite3.Error, InvalidConfig, OSError) as exc:
            self._failed(exc)
            raise StoreDown from None
        if not self.healthy:
            self._set_health(True)
            LOGGER.warning("shared state %s works again: the fleet's state is shared again",
                           self.shown)
        return result

    async def write(self, fn: Callable[[sqlite3.Connection], T], size: int,
                    on_abandon: Callable[[T], Callable[[sqlite3.Connection], object]]
                    | None = None) -> T:
        """``fn(connection)``, a write of about ``size`` bytes: at once on the loop if it
        need not wait (``write_now``), else on the state's thread (``run``)."""
        done = self.write_now(fn, size)
        return await self.run(fn, on_abandon) if isinstance(done, Later) else done

    def write_now(self, fn: Callable[[sqlite3.Connection], T], size: int) -> T | Later:
        """``fn(connection)``, a write, at once on the calling thread (``LoopWrites``), and
        what it returned; ``LATER``, with nothing written, if it would have to wait."""
        if self._closed or not self.healthy:
            return LATER
        if not self._using.acquire(blocking=False):  # the state's thread has it
            return LATER
        try:  # no connection yet: _open (on the thread) makes the file, owner-only
            done = LATER if self._conn is None else self._now.attempt(self._conn, fn, size)
        finally:
            self._using.release()
        if self._now.checkpoint_due:
            self._checkpoints.request()
        return done

    def submit(self, fn: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``fn`` on the state's thread without waiting (a release); errors are dropped:
        what it would have freed expires with its lease."""
        if not self._closed:
            self._executor.submit(self._call, fn)

    async def aclose(self, last: Callable[[sqlite3.Connection], object] | None = None) -> None:
        """Run ``last`` (give back this process's leases), close the file, end the thread."""
        if self._closed:
            return
        with contextlib.suppress(StoreDown):
            if last is not None and self._conn is not None:
                await self.run(last)
        self._closed = True
        await asyncio.wrap_future(self._executor.submit(self._close))
        self._executor.shutdown(wait=False)
        await asyncio.wrap_future(self._checkpoints.close())

    def _undo(self, done: Future[T], on_abandon: Callable[[T], Callable[[sqlite3.Connection],
                                                                          object]]) -> None:
        if not done.cancelled() and done.exception() is None:
            self.submit(on_abandon(done.result()))

    def _failed(self, exc: BaseException) -> None:
        self.fallbacks += 1
        self._retry_at = time.monotonic() + RETRY_EVERY
        if self.healthy:
            self._set_health(False)
            reason = problem(exc, self.busy_timeout) if isinstance(exc, sqlite3.Error) \
                else str(exc)
            LOGGER.warning("shared state %s failed (%s): this process uses its own state "
                           "until it works again (its own pace; stored responses and cached "
                           "replies of its own)", self.shown, reason)

    def _set_health(self, healthy: bool) -> None:
        self.healthy = healthy
        if self.on_health is not None:
            self.on_health(healthy)

    # On the state's thread only:

    def _open(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        self._conn = connect(self.path, self.busy_timeout)
        return self._conn

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._using:
            conn = self._open()
            try:
                return fn(conn)
            except sqlite3.Error:
                roll_back(conn)
                self._reopen_if_broken(conn)
                raise

    def _reopen_if_broken(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("SELECT 1 FROM pace LIMIT 1").fetchall()
            if os.path.exists(self.path):
                return
        except sqlite3.Error:
            pass
        with contextlib.suppress(sqlite3.Error):
            conn.close()
        self._conn = None

    def _close(self) -> None:
        with self._using:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __repr__(self) -> str:
        return f"Database({self.shown!r}, healthy={self.healthy})"
