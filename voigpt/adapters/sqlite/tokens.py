"""The site token in the state file: one fetch for every process on it.

A miss takes the fetch lock (a lease: ``owner`` until ``lease``) in the same transaction
that found no token; the holder fetches, stores the token and frees the lock. Others poll
every ``POLL`` seconds for the token, or for the lease to run out (a holder that died):
then one of them takes the lock over. Tasks of one process queue on a lock of their own
first, so one process polls once, not once per task.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable

from voigpt.adapters.memory.caches import AsyncInMemoryTokenCache, LoopLocks
from voigpt.adapters.sqlite.database import Database, StoreDown
from voigpt.adapters.sqlite.transaction import immediate
from voigpt.domain.values import AccessToken

LEASE = 10.0  # seconds a fetch may hold the lock before another process takes it over
TOKEN_TTL = 3600.0  # seconds a stored token is kept, however long it seems to work
POLL = 0.025  # seconds between looks while another process fetches


class SqliteTokenCache:
    """``AsyncTokenCache`` in the state file; the process's own cache while it fails."""

    def __init__(self, db: Database, *, lease: float = LEASE, ttl: float = TOKEN_TTL) -> None:
        self._db, self.lease, self.ttl = db, lease, ttl
        self._fallback = AsyncInMemoryTokenCache()
        self._local = LoopLocks()

    async def acquire(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        try:
            value = await self._db.run(self._read)
            if value is not None:
                return AccessToken(value)
            async with self._local.current():
                return await self._acquire(fetch)
        except StoreDown:
            return await self._fallback.acquire(fetch)

    async def _acquire(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        while True:
            value, mine = await self._db.run(self._take_or_read)
            if value is not None:
                return AccessToken(value)
            if mine:
                break
            await asyncio.sleep(POLL)
        try:
            token = await fetch()
        except BaseException:
            self._db.submit(self._release)
            raise
        try:
            await self._db.run(lambda conn: self._store(conn, token.value))
        except StoreDown:  # fetched all the same: kept by this process while the file fails
            self._fallback = AsyncInMemoryTokenCache(token)
        return token

    async def invalidate(self, stale: AccessToken) -> None:
        await self._fallback.invalidate(stale)
        with contextlib.suppress(StoreDown):
            await self._db.run(lambda conn: conn.execute(
                "UPDATE token SET value = NULL, expires = 0 WHERE name = 'site' AND value = ?",
                (stale.value,)))

    # On the state's thread:

    def _read(self, conn: sqlite3.Connection) -> str | None:
        row = conn.execute("SELECT value FROM token WHERE name = 'site' AND value IS NOT NULL "
                           "AND expires > ?", (time.time(),)).fetchone()
        return None if row is None else str(row[0])

    def _take_or_read(self, conn: sqlite3.Connection) -> tuple[str | None, bool]:
        """(the token, False), or (None, whether this process now holds the lock)."""
        now = time.time()
        with immediate(conn):
            row = conn.execute("SELECT value, expires, owner, lease FROM token "
                               "WHERE name = 'site'").fetchone()
            if row is not None and row[0] is not None and row[1] > now:
                return str(row[0]), False
            if row is not None and row[2] is not None and row[3] > now:
                return None, row[2] == self._db.owner
            conn.execute("INSERT INTO token (name, owner, lease) VALUES ('site', ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                         "lease = excluded.lease", (self._db.owner, now + self.lease))
            return None, True

    def _store(self, conn: sqlite3.Connection, value: str) -> None:
        conn.execute("INSERT INTO token (name, value, expires) VALUES ('site', ?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                     "expires = excluded.expires, owner = NULL, lease = 0",
                     (value, time.time() + self.ttl))

    def _release(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE token SET owner = NULL, lease = 0 WHERE name = 'site' "
                     "AND owner = ?", (self._db.owner,))

    def __repr__(self) -> str:
        return f"SqliteTokenCache({self._db.shown!r})"
