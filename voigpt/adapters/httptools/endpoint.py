"""The site's ``POST`` straight over asyncio, its answers parsed by httptools: for a direct
route (no proxy), what ``voigpt serve`` sends its completions with.

Why not aiohttp, as everywhere else on asyncio: counted by callgrind, one aiohttp request
costs about 414,000 instructions, over half of the bare server floor's whole request; a
POST here costs about 60,000. aiosonic (493,000) and curl_cffi (1.6 million) were
measured too (``docs/explanation/performance.md``).

What it keeps of the aiohttp adapter: the same bounds (the connect timeout, the read
timeout as silence between reads, the deadline over the whole exchange), the same cap on
the answer (declared, received and decompressed), the same headers, a connection reused only
after a clean exchange, and the same voigpt errors and messages, never a token or cookie.
A redirect is reported, never followed. Proxies (configured or from the environment) and
the token's ``GET`` stay on aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Mapping

from yarl import URL

from voigpt.adapters.aiohttp.routes import SESSION_HEADERS
from voigpt.adapters.httptools.connection import Broken, Connection, within
from voigpt.adapters.httptools.mapping import answer_of, broken, unconnected
from voigpt.adapters.site import Answer
from voigpt.domain.errors import InvalidInput
from voigpt.domain.limits import Timeouts
from voigpt.domain.retry import Deadline

logger = logging.getLogger("voigpt.http")
_SLACK = 0.05  # as the aiohttp adapter's: the bound is the deadline plus this
# Seconds an idle connection is kept for reuse, aiohttp's keepalive_timeout: one idle
# longer is closed rather than sent on, where a site closing idle connections may be
# closing it at that moment.
KEEPALIVE = 15.0
_EARLY = 0.01  # a timer may fire this much before its time (uvloop counts in ms)


class _Pool:
    """One event loop's connections: the idle ones (the last used first), and a semaphore
    held by each exchange, so that at most ``max_connections`` are open. One idle for
    ``KEEPALIVE`` seconds is closed whether or not a POST comes to reuse it (as aiohttp's
    cleanup does): one timer for the pool, never one per exchange."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self.idle: list[Connection] = []
        self.exchanges = asyncio.Semaphore(limit)
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None

    def fresh(self, connection: Connection, early: float = 0.0) -> bool:
        """Clean, and idle less than the keep-alive (``early`` less: see ``_EARLY``)."""
        idle = self._loop.time() - connection.last_read
        return connection.reusable and idle < KEEPALIVE - early

    def keep(self, connection: Connection) -> None:
        self.idle.append(connection)
        if self._timer is None:
            self._timer = self._loop.call_at(connection.last_read + KEEPALIVE, self._reap)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle, self.idle = self.idle, []
        for connection in idle:
            connection.close()

    def _reap(self) -> None:
        self._timer = None
        kept = []
        for connection in self.idle:
            if self.fresh(connection, _EARLY):
                kept.append(connection)
            else:
                connection.close()
        self.idle = kept
        if kept:
            due = min(connection.last_read for connection in kept) + KEEPALIVE
            self._timer = self._loop.call_at(due, self._reap)


class HttptoolsEndpoint:
    """POSTs to ``base_url`` (``https://voigpt.com``, no proxy) with the aiohttp endpoint's
    settings and, for https, its sessions' TLS context. The aiohttp endpoint builds it
    (``AiohttpEndpoint.post_directly``) and checks each answer's status as its own."""

    def __init__(self, base_url: str, *, timeouts: Timeouts, max_reply_bytes: int,
                 max_connections: int, tls: ssl.SSLContext | None) -> None:
        self.base_url, self.timeouts = base_url, timeouts
        self.max_reply_bytes, self.max_connections = max_reply_bytes, max_connections
        url = URL(base_url)
        self._host = url.raw_host or ""
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._tls = tls
        head = {"Host": url.host_port_subcomponent or self._host, **SESSION_HEADERS}
        self._head = "".join(f"{name}: {value}\r\n" for name, value in head.items())
        self._targets: dict[str, str] = {}
        self._headers: tuple[Mapping[str, str] | None, str] = (None, "")
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}

    async def exchange(
        self, path: str, *, what: str, headers: Mapping[str, str], body: bytes,
        deadline: Deadline | None,
    ) -> Answer:
        """POST ``path``: the whole answer, whatever its status (a redirect is not
        followed), or the voigpt error of an exchange that failed."""
        url = self.base_url + path
        connect, read, left = self.timeouts.within(deadline, what)
        started = time.perf_counter()
        request = self._request(path, headers, body)
        loop = asyncio.get_running_loop()
        bound = loop.time() + left + _SLACK
        pool = self._pools.get(loop)
        if pool is None:  # this loop's first POST; a closed loop's pool goes with it
            self._pools = {other: kept for other, kept in self._pools.items()
                           if not other.is_closed()}
            pool = self._pools[loop] = _Pool(loop, self.max_connections)
        if pool.exchanges.locked():  # all connections busy: wait, within the bound
            try:
                await asyncio.wait_for(pool.exchanges.acquire(), max(0.0, bound - loop.time()))
            except TimeoutError:
                raise broken(Broken("silent", False, "bound"), what, url, read,
                             self.max_reply_bytes, deadline) from None
        else:
            await pool.exchanges.acquire()
        try:
            connection = await self._connection(loop, pool, url, what, connect, deadline)
            try:
                outcome = await within(
                    connection, connection.exchange(request, self.max_reply_bytes), read, bound
                )
            finally:
                if connection.reusable:
                    pool.keep(connection)
                else:
                    connection.close()
        finally:
            pool.exchanges.release()
        if isinstance(outcome, Broken):
            raise broken(outcome, what, url, read, self.max_reply_bytes, deadline)
        answer = answer_of(outcome)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("POST %s -> %d (%d bytes) in %.1f ms", url, answer.status,
                         len(answer.body), (time.perf_counter() - started) * 1e3)
        return answer

    async def aclose(self) -> None:
        """Close the idle connections, each in its own loop; a later call opens new ones."""
        pools, self._pools = self._pools, {}
        running = asyncio.get_running_loop()
        for loop, pool in pools.items():
            if loop is running:
                pool.close()
            elif loop.is_running():
                with contextlib.suppress(RuntimeError):  # it closed meanwhile
                    loop.call_soon_threadsafe(pool.close)

    def _request(self, path: str, headers: Mapping[str, str], body: bytes) -> bytes:
        target = self._targets.get(path)
        if target is None:
            target = URL(self.base_url + path).raw_path_qs
            if len(self._targets) < 16:
                self._targets[path] = target
        known, lines = self._headers
        if known is not headers:  # the transport keeps one mapping per token
            lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            if lines.count("\r") + lines.count("\n") + lines.count("\0") != 2 * len(headers):
                # as aiohttp refuses them: a header never carries a line of its own
                raise InvalidInput("a header name or value holds CR, LF or NUL")
            self._headers = (headers, lines)
        return b"".join((f"POST {target} HTTP/1.1\r\n{self._head}{lines}Content-Length: "
                         f"{len(body)}\r\n\r\n".encode(), body))

    async def _connection(self, loop: asyncio.AbstractEventLoop, pool: _Pool, url: str,
                          what: str, connect: float, deadline: Deadline | None) -> Connection:
        """An idle connection that ended its last exchange cleanly, and lately, else a new
        one."""
        while pool.idle:
            connection = pool.idle.pop()
            if pool.fresh(connection):
                return connection
            connection.close()
        try:
            _, connection = await asyncio.wait_for(loop.create_connection(
                lambda: Connection(loop), self._host, self._port, ssl=self._tls,
                server_hostname=self._host if self._tls is not None else None,
            ), connect)
        except Exception as exc:
            raise unconnected(exc, what, url, connect, deadline) from None
        return connection

    def __repr__(self) -> str:
        return f"HttptoolsEndpoint({self.base_url!r})"
