"""The stored responses of one server process, in its memory: at most ``max_records``
(the oldest forgotten first to make room) for at most ``ttl`` seconds each. Nothing
outlives the process, and ``--workers`` processes each keep their own."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class BoundedResponseStore:
    """``ResponseStore`` in a dict: oldest first, so eviction and expiry look at the front
    only. One event loop uses it; no call awaits, so no call interleaves with another."""

    def __init__(self, max_records: int, ttl: float,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.max_records, self.ttl, self._now = max_records, ttl, now
        self._records: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def put(self, key: str, record: bytes) -> None:
        if self.max_records <= 0:
            return
        self._expire()
        self._records.pop(key, None)
        while len(self._records) >= self.max_records:
            self._records.popitem(last=False)
        self._records[key] = (self._now() + self.ttl, record)

    async def get(self, key: str) -> bytes | None:
        self._expire()
        entry = self._records.get(key)
        return None if entry is None else entry[1]

    async def delete(self, key: str) -> bool:
        self._expire()
        return self._records.pop(key, None) is not None

    def __len__(self) -> int:
        self._expire()
        return len(self._records)

    def _expire(self) -> None:
        now = self._now()
        while self._records:
            key, (expires, _) = next(iter(self._records.items()))
            if expires > now:
                return
            del self._records[key]

    def __repr__(self) -> str:
        return (f"BoundedResponseStore(max_records={self.max_records}, ttl={self.ttl:g}, "
                f"holding={len(self._records)})")
