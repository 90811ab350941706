"""The aiohttp sessions of an endpoint: how TLS is verified, the connector (which reuses
only clean connections: ``connections.py``), and one keep-alive session per event loop.

A ``ClientSession`` belongs to the loop it was created in. An endpoint is built outside
any loop (the container builds it) and may be used from several (``asyncio.run`` twice,
or a loop per thread), so it opens one session per running loop, lazily, on first use in
that loop, and closes it when that loop shuts down. A session whose loop closed without
shutting down is dropped when the next one is opened: its connections cannot be closed
politely any more, only marked closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import threading
from collections.abc import AsyncGenerator
from typing import Any, NamedTuple

import aiohttp
import certifi

from voigpt.adapters.aiohttp.connections import CleanConnector
from voigpt.adapters.aiohttp.routes import SOCKS_SCHEMES, Route

POOL_LIMIT = 100
DNS_CACHE_SECONDS = 300


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying context for the site and for an https proxy alike: ``ca_bundle``
    (``REQUESTS_CA_BUNDLE``, a file or a directory) or certifi's bundle, as requests uses."""
    bundle = ca_bundle or certifi.where()
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def open_session(
    route: Route, context: ssl.SSLContext | None, limit: int = POOL_LIMIT
) -> aiohttp.ClientSession:
    """A keep-alive session in the running loop: no cookie jar (the token is sent
    explicitly, so nothing accumulates), browser headers, and no reading of the environment
    (the endpoint passes what ``Environment`` read once)."""
    options: dict[str, Any] = {
        "limit": limit, "ttl_dns_cache": DNS_CACHE_SECONDS,
        "ssl": context if context is not None else True,
    }
    connector: aiohttp.TCPConnector
    proxy = route.proxy
    if proxy is not None and proxy.scheme in SOCKS_SCHEMES:
        from voigpt.adapters.aiohttp.socks import socks_connector  # aiohttp-socks: only now

        connector = socks_connector(proxy, options)
    else:
        connector = CleanConnector(**options)
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), headers=route.headers,
        auto_decompress=True, trust_env=False,
    )


class Sessions:
    """One session per event loop, opened on first use in that loop and closed when the loop
    shuts down: ``asyncio.run`` (and ``loop.shutdown_asyncgens()``) finalizes the async
    generator parked here for it (the way the g4f provider's ``LoopRoutes`` closes theirs).
    A loop closed without that leaves its session to be marked closed when another loop
    opens one."""

    def __init__(self, route: Route, ca_bundle: str | None, limit: int = POOL_LIMIT) -> None:
        self._route = route
        self._limit = limit
        self._ca_bundle = ca_bundle
        self._context: ssl.SSLContext | None = None
        self._by_loop: dict[asyncio.AbstractEventLoop, _LoopSession] = {}
        self._lock = threading.Lock()

    async def current(self) -> aiohttp.ClientSession:
        """The running loop's session (call from within the loop)."""
        loop = asyncio.get_running_loop()
        entry = self._by_loop.get(loop)
        if entry is not None and not entry.session.closed:
            return entry.session
        entry = self._open(loop)
        await entry.keeper.__anext__()  # parked until the loop shuts down
        return entry.session

    def _open(self, loop: asyncio.AbstractEventLoop) -> _LoopSession:
        with self._lock:
            for other, old in list(self._by_loop.items()):
                if other.is_closed() or old.session.closed:
                    del self._by_loop[other]
                    _abandon(old.session)
            session = open_session(self._route, self._tls() if self._route.tls else None,
                                   self._limit)
            entry = self._by_loop[loop] = _LoopSession(session, self._keeper(loop, session))
            return entry

    def tls(self) -> ssl.SSLContext:
        """The verifying context of these sessions (made once: a CA bundle takes ~30 ms to
        load), for whatever else reaches the same site (``post_directly``)."""
        with self._lock:
            return self._tls()

    def _tls(self) -> ssl.SSLContext:  # under the lock
        if self._context is None:
            self._context = tls_context(self._ca_bundle)
        return self._context

    async def _keeper(
        self, loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                entry = self._by_loop.get(loop)
                if entry is not None and entry.session is session:
                    del self._by_loop[loop]
            await session.close()

    async def aclose(self) -> None:
        """Close the running loop's session (awaited); one of another loop is closed in that
        loop's own thread if it is running, else marked closed here."""
        running = asyncio.get_running_loop()
        with self._lock:
            entries, self._by_loop = self._by_loop, {}
        for loop, entry in entries.items():
            if loop is running:
                await entry.session.close()
            elif loop.is_running():
                with contextlib.suppress(RuntimeError):  # it closed meanwhile
                    loop.call_soon_threadsafe(_abandon, entry.session)
            else:
                _abandon(entry.session)


class _LoopSession(NamedTuple):
    session: aiohttp.ClientSession
    keeper: AsyncGenerator[None, None]  # held here: the loop keeps only a weak reference


def _abandon(session: aiohttp.ClientSession) -> None:
    """A session whose loop has closed: mark it closed, so nothing uses it or warns about
    it; its sockets go with their transports."""
    connector = session.connector
    if connector is not None:
        with contextlib.suppress(Exception):
            connector._close()
