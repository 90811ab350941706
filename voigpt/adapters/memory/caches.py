"""Token caches held in memory: thread-safe, single-flight (one fetch however many callers
miss at once)."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from voigpt.domain.values import AccessToken


class _SingleFlight:
    """``get``/``put`` under a lock, and ``acquire``: on a miss one caller fetches while the
    others wait for its token."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()

    def get(self) -> AccessToken | None:
        raise NotImplementedError

    def put(self, token: AccessToken) -> None:
        raise NotImplementedError

    def acquire(self, fetch: Callable[[], AccessToken]) -> AccessToken:
        """The token held, or, when none is, ``fetch()``'s, which is then held. Callers
        that miss at once share one fetch."""
        token = self.get()
        if token is not None:
            return token
        with self._fetch_lock:
            token = self.get()
            if token is None:
                token = fetch()
                self.put(token)
            return token


class InMemoryTokenCache(_SingleFlight):
    """Holds one token, in memory; the real cache the HTTP backend uses, thread-safe and
    single-flight (one fetch however many threads miss at once).

    :param token: the token to hold from the start, if any.
    """

    def __init__(self, token: AccessToken | None = None) -> None:
        super().__init__()
        self._token = token

    def get(self) -> AccessToken | None:
        """The token held, or ``None``."""
        with self._lock:
            return self._token

    def put(self, token: AccessToken) -> None:
        """Hold ``token`` instead of the one held."""
        with self._lock:
            self._token = token

    def invalidate(self, stale: AccessToken) -> None:
        """Forget the token held if it is ``stale`` (a newer one is kept)."""
        with self._lock:
            if self._token == stale:
                self._token = None

    def __repr__(self) -> str:
        return f"InMemoryTokenCache(holding={self.get() is not None})"


class LoopLocks:
    """One ``asyncio.Lock`` per event loop. A lock belongs to the first loop that waits on
    it, and one client may be used from several loops (``asyncio.run`` twice, as scripts
    and notebooks do, or a loop per thread); a loop's lock goes when the loop does."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def current(self) -> asyncio.Lock:
        """The running loop's lock."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks.setdefault(loop, asyncio.Lock())
        return lock


class AsyncInMemoryTokenCache:
    """Holds one token for the tasks of every event loop that uses it: concurrent misses in
    a loop await one fetch (each loop waits on a lock of its own).

    :param token: the token to hold from the start, if any.
    """

    def __init__(self, token: AccessToken | None = None) -> None:
        self._token = token
        self._fetching = LoopLocks()

    def get(self) -> AccessToken | None:
        """The token held, or ``None``."""
        return self._token

    async def invalidate(self, stale: AccessToken) -> None:
        """Forget the token held if it is ``stale`` (a newer one is kept)."""
        if self._token == stale:
            self._token = None

    async def acquire(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        """The token held, or, when none is, ``await fetch()``'s, which is then held. Tasks
        of one loop that miss at once share one fetch."""
        if self._token is not None:
            return self._token
        async with self._fetching.current():
            if self._token is None:
                self._token = await fetch()
            return self._token

    def __repr__(self) -> str:
        return f"AsyncInMemoryTokenCache(holding={self._token is not None})"


class AttributeTokenCache(_SingleFlight):
    """The token kept in ``holder._access_token`` (the g4f provider's class attribute, which
    users may set by hand), remembering which site (``origin``) a fetched token came from,
    so a token fetched for one site is never sent to another."""

    _class_lock = threading.Lock()
    _class_fetch_lock = threading.Lock()

    def __init__(self, holder: Any, origin: str) -> None:
        """``holder`` has ``_access_token`` and ``_access_token_origin`` attributes."""
        # One lock pair for every holder: the state is class-level, shared by every call.
        self._lock, self._fetch_lock = self._class_lock, self._class_fetch_lock
        self._holder = holder
        self._origin = origin

    def get(self) -> AccessToken | None:
        with self._lock:
            value = self._holder._access_token
            if not value:
                return None
            fetched = self._holder._access_token_origin
            if fetched is not None and fetched[0] == value and fetched[1] != self._origin:
                return None
        # Users assign this attribute by hand: checked on every use, before it is sent.
        return AccessToken.parse(value, where=f"{_name(self._holder)}._access_token")

    def put(self, token: AccessToken) -> None:
        with self._lock:
            self._holder._access_token = token.value
            self._holder._access_token_origin = (token.value, self._origin)

    def invalidate(self, stale: AccessToken) -> None:
        with self._lock:
            if self._holder._access_token == stale.value:
                self._holder._access_token = None
                self._holder._access_token_origin = None


def _name(holder: Any) -> str:
    return str(getattr(holder, "__name__", type(holder).__name__))


class AsyncAttributeTokenCache:
    """``AttributeTokenCache`` for asyncio: the same class-level token, and one fetch per
    event loop however many tasks miss at once."""

    _fetching: ClassVar[LoopLocks] = LoopLocks()

    def __init__(self, holder: Any, origin: str) -> None:
        self._sync = AttributeTokenCache(holder, origin)

    async def invalidate(self, stale: AccessToken) -> None:
        self._sync.invalidate(stale)

    async def acquire(self, fetch: Callable[[], Awaitable[AccessToken]]) -> AccessToken:
        token = self._sync.get()
        if token is not None:
            return token
        async with self._fetching.current():
            token = self._sync.get()
            if token is None:
                token = await fetch()
                self._sync.put(token)
            return token
