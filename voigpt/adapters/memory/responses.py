"""The stored responses of one server process, in its memory: at most ``max_records``
holding at most ``max_bytes`` in all (the oldest forgotten first to make room), for at
most ``ttl`` seconds each. Nothing outlives the process, and ``--workers`` processes each
keep their own.

The byte budget matters because a record holds the whole conversation so far: a chain of
``previous_response_id``s near the body cap would otherwise hold up to ``max_records``
times that cap."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_BYTES = 64 * 1024 * 1024  # of records in all, per process


class BoundedResponseStore:
    """``ResponseStore`` in a dict: oldest first, so eviction and expiry look at the front
    only. One event loop uses it; no call awaits, so no call interleaves with another."""

    def __init__(self, max_records: int, ttl: float, *, max_bytes: int = MAX_BYTES,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.max_records, self.ttl, self.max_bytes, self._now = max_records, ttl, max_bytes, now
        self._records: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    async def put(self, key: str, record: bytes) -> None:
        if self.max_records <= 0 or len(record) > self.max_bytes:
            return
        self._expire()
        self._forget(key)
        while self._records and (len(self._records) >= self.max_records
                                 or self._bytes + len(record) > self.max_bytes):
            self._forget(next(iter(self._records)))
        self._records[key] = (self._now() + self.ttl, record)
        self._bytes += len(record)

    async def get(self, key: str) -> bytes | None:
        self._expire()
        entry = self._records.get(key)
        return None if entry is None else entry[1]

    async def delete(self, key: str) -> bool:
        self._expire()
        return self._forget(key)

    def _forget(self, key: str) -> bool:
        entry = self._records.pop(key, None)
        if entry is None:
            return False
        self._bytes -= len(entry[1])
        return True

    def __len__(self) -> int:
        self._expire()
        return len(self._records)

    def _expire(self) -> None:
        now = self._now()
        while self._records:
            key, (expires, _) = next(iter(self._records.items()))
            if expires > now:
                return
            self._forget(key)

    def __repr__(self) -> str:
        return (f"BoundedResponseStore(max_records={self.max_records}, ttl={self.ttl:g}, "
                f"max_bytes={self.max_bytes}, holding={len(self._records)}, "
                f"bytes={self._bytes})")
