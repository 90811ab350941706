"""The aiohttp sessions of an endpoint: how TLS is verified, the connectors (which reuse
only clean connections), and one keep-alive session per event loop.

A ``ClientSession`` belongs to the loop it was created in. An endpoint is built outside
any loop (the container builds it) and may be used from several (``asyncio.run`` twice,
or a loop per thread), so it opens one session per running loop, lazily, on first use in
that loop. A session whose loop has closed is dropped when the next one is opened: its
connections cannot be closed politely any more, only marked closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import threading
from typing import Any

import aiohttp
import certifi
from aiohttp_socks import ProxyConnector, ProxyType

from voigpt.adapters.aiohttp.routes import Route

POOL_LIMIT = 100
DNS_CACHE_SECONDS = 300


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying context for the site and for an https proxy alike: ``ca_bundle``
    (``REQUESTS_CA_BUNDLE``, a file or a directory) or certifi's bundle, as requests uses."""
    bundle = ca_bundle or certifi.where()
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


class _ReuseOnlyClean:
    """Mixed into a connector: a pooled connection is handed out only if nothing arrived on
    it since its last exchange ended (no queued answer, no unread bytes, no error). aiohttp
    checks only that it is still connected; bytes a server sends on an idle connection
    would otherwise be read as the next request's answer."""

    async def _get(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection | None:
        while True:
            connection: aiohttp.connector.Connection | None = await super()._get(  # type: ignore[misc]
                *args, **kwargs
            )
            protocol = connection.protocol if connection is not None else None
            if connection is None or (protocol is not None and not protocol.should_close):
                return connection
            connection.close()


class _Connector(_ReuseOnlyClean, aiohttp.TCPConnector):
    pass


class _SocksConnector(_ReuseOnlyClean, ProxyConnector):
    pass


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
    if proxy is not None and proxy.scheme in ("socks5", "socks5h"):
        connector = _SocksConnector(
            host=proxy.host, port=proxy.port, proxy_type=ProxyType.SOCKS5,
            username=proxy.username, password=proxy.password,
            rdns=proxy.scheme == "socks5h", **options,
        )
    else:
        connector = _Connector(**options)
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), headers=route.headers,
        auto_decompress=True, trust_env=False,
    )


class Sessions:
    """One session per event loop, opened on first use in that loop."""

    def __init__(self, route: Route, ca_bundle: str | None, limit: int = POOL_LIMIT) -> None:
        self._route = route
        self._limit = limit
        self._ca_bundle = ca_bundle
        self._context: ssl.SSLContext | None = None
        self._by_loop: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        self._lock = threading.Lock()

    def current(self) -> aiohttp.ClientSession:
        """The running loop's session (call from within the loop)."""
        loop = asyncio.get_running_loop()
        session = self._by_loop.get(loop)
        if session is None or session.closed:
            session = self._open(loop)
        return session

    def _open(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        with self._lock:
            for other, old in list(self._by_loop.items()):
                if other.is_closed() or old.closed:
                    del self._by_loop[other]
                    _abandon(old)
            if self._context is None and self._route.tls:
                self._context = tls_context(self._ca_bundle)
            session = open_session(self._route, self._context, self._limit)
            self._by_loop[loop] = session
            return session

    async def aclose(self) -> None:
        """Close the running loop's session (awaited); one of another loop is closed in that
        loop's own thread if it is running, else marked closed here."""
        running = asyncio.get_running_loop()
        with self._lock:
            sessions, self._by_loop = self._by_loop, {}
        for loop, session in sessions.items():
            if loop is running:
                await session.close()
            elif loop.is_running():
                with contextlib.suppress(RuntimeError):  # it closed meanwhile
                    loop.call_soon_threadsafe(_abandon, session)
            else:
                _abandon(session)


def _abandon(session: aiohttp.ClientSession) -> None:
    """A session whose loop has closed: mark it closed, so nothing uses it or warns about
    it; its sockets go with their transports."""
    connector = session.connector
    if connector is not None:
        with contextlib.suppress(Exception):
            connector._close()
