"""Short writes done at once on the event loop's thread, while they cannot wait.

A trip to the state's thread costs the server far more CPU than the write it carries: the
two threads hand the GIL back and forth many times a trip (measured on the Responses route,
2 cores: about 1.45x ``--state memory``'s CPU per request with every put on the thread,
about 1.1x with the puts written here; see docs/performance.md). So the stores' puts try
this first, on the state's one connection, when the state's thread is not using it.

What keeps the loop from waiting on the file, as the state's thread does:

- a busy timeout of zero while the loop writes: if another connection (any process's)
  holds the write lock, the write is not done here and goes to the state's thread;
- no checkpoints on the loop (``wal_autocheckpoint = 0`` while it writes): one runs after
  every ``CHECKPOINT_EVERY`` bytes written here (what was put, plus ``COMMIT_PAGES`` pages
  a transaction: a slot taken and given back puts no bytes but writes pages all the
  same), on a thread and a connection of its own (``checkpoints.py``); the state's
  thread's commits checkpoint as SQLite does, past ``AUTOCHECKPOINT`` pages. Commits in
  WAL mode at ``synchronous = NORMAL`` write without an fsync;
- a write here that took longer than ``SLOW`` (a slow disk, or the fsync of a WAL that
  starts over) sends every write to the state's thread for ``COOL_OFF`` seconds;
- any error: the write goes to the state's thread, whose rules decide (``StoreDown``...).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from voigpt.adapters.sqlite.transaction import roll_back

LOGGER = logging.getLogger("voigpt.state")
T = TypeVar("T")
SLOW = 0.02  # seconds: a write on the loop that took longer sends writes to the thread
COOL_OFF = 60.0  # seconds the writes then stay on the state's thread
# bytes put between checkpoints: under AUTOCHECKPOINT's pages (4 MiB at 4 KiB a page) with
# the b-trees' own pages, so the state's thread's commits rarely find one due
CHECKPOINT_EVERY = 2 * 1024 * 1024
AUTOCHECKPOINT = 1000  # pages: SQLite's default, for the commits on the state's thread
PAGE = 4096  # bytes: SQLite's default page size
COMMIT_PAGES = 3  # pages a transaction writes besides its data (a table's and its indexes')


class Later:
    """What a write on the loop returns when it was not done: it would have had to wait."""


LATER = Later()


class LoopWrites:
    """When the loop may write, and what it wrote: ``attempt(conn, fn, size)`` runs
    ``fn(conn)`` (which takes its own transaction) now and returns what it returned, or
    returns ``LATER`` having written nothing. ``checkpoint_due`` is True once per
    ``CHECKPOINT_EVERY`` bytes written (as estimated above)."""

    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path, self.busy_timeout = path, busy_timeout
        self.done = 0  # writes done on the loop
        self._resume_at = float("-inf")  # monotonic time the loop may write again
        self._since_checkpoint = 0

    def attempt(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T],
                size: int) -> T | Later:
        # written here or, on LATER, by the state's thread
        self._since_checkpoint += size + COMMIT_PAGES * PAGE
        if time.monotonic() < self._resume_at:
            return LATER
        began = time.perf_counter()
        try:
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            result = fn(conn)
        except sqlite3.Error:  # busy, or worse: the state's thread tries, and decides
            roll_back(conn)
            return LATER
        finally:  # the state's thread waits for the lock, and checkpoints when it commits
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT}")
        took = time.perf_counter() - began
        self.done += 1
        if took > SLOW:
            self._resume_at = time.monotonic() + COOL_OFF
            LOGGER.info("a write to sqlite:///%s on the event loop took %.0f ms: writes go "
                        "to the state's thread for %g s", self.path, took * 1000, COOL_OFF)
        return result

    @property
    def checkpoint_due(self) -> bool:
        if self._since_checkpoint < CHECKPOINT_EVERY:
            return False
        self._since_checkpoint = 0
        return True

    def __repr__(self) -> str:
        return f"LoopWrites('sqlite:///{self.path}', done={self.done})"

