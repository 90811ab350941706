"""``SqliteState``: shared state in one SQLite file (``--state sqlite:///PATH``), for any
number of processes on one machine."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from voigpt.adapters.sqlite.database import BUSY_TIMEOUT, Database
from voigpt.adapters.sqlite.pace import SLOT_LEASE, SqlitePace
from voigpt.adapters.sqlite.stores import SqliteReplyCache, SqliteResponseStore
from voigpt.adapters.sqlite.tokens import LEASE, SqliteTokenCache
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import StateLocation


class SqliteState:
    """``SharedState`` in the file ``location.path``. Nothing is opened before ``open`` (at
    start-up: ``InvalidConfig`` if the file cannot be used) or the first call.

    ``healthy`` says whether the file works; ``fallbacks`` counts the calls answered from
    the process's own memory because it did not (for a metric); ``on_health(healthy)``, if
    set, is told each change."""

    def __init__(self, location: StateLocation, *, busy_timeout: float = BUSY_TIMEOUT,
                 token_lease: float = LEASE, slot_lease: float = SLOT_LEASE,
                 max_bytes: int | None = None) -> None:
        if location.kind != "sqlite" or not location.path:
            raise InvalidConfig(f"SqliteState needs a sqlite:///PATH location, got "
                                f"{location.shown}")
        self.location = location
        self._db = Database(location.path, busy_timeout=busy_timeout)
        self._token_cache = SqliteTokenCache(self._db, lease=token_lease)
        self._reply_cache = SqliteReplyCache(self._db)
        self.slot_lease, self._max_bytes = slot_lease, max_bytes

    @property
    def healthy(self) -> bool:
        return self._db.healthy

    @property
    def fallbacks(self) -> int:
        return self._db.fallbacks

    @property
    def on_health(self) -> Callable[[bool], None] | None:
        return self._db.on_health

    @on_health.setter
    def on_health(self, listener: Callable[[bool], None] | None) -> None:
        self._db.on_health = listener

    async def open(self) -> None:
        """Create the file (0600, its directory 0700 if new) or check it; ``InvalidConfig``
        naming the path and the problem if it cannot be used. Waits at most about the busy
        timeout."""
        await self._db.open()

    def token_cache(self) -> SqliteTokenCache:
        return self._token_cache

    def pace(self, *, rate: float | None, concurrency: int | None) -> SqlitePace:
        return SqlitePace(self._db, rate=rate, concurrency=concurrency, lease=self.slot_lease)

    def response_store(self, *, max_records: int, ttl: float) -> SqliteResponseStore:
        if self._max_bytes is None:
            return SqliteResponseStore(self._db, max_records, ttl)
        return SqliteResponseStore(self._db, max_records, ttl, max_bytes=self._max_bytes)

    def reply_cache(self) -> SqliteReplyCache:
        return self._reply_cache

    async def aclose(self) -> None:
        """Give back this process's slots and fetch lock, close the file."""
        await self._db.aclose(self._give_back)

    def _give_back(self, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM slots WHERE owner = ?", (self._db.owner,))
        conn.execute("UPDATE token SET owner = NULL, lease = 0 WHERE owner = ?",
                     (self._db.owner,))

    def __repr__(self) -> str:
        return f"SqliteState({self.location.shown!r}, healthy={self.healthy})"
