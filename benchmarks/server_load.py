"""The load generator of the server benchmark: keep-alive HTTP/1.1 clients on a raw asyncio
protocol (httptools parses the answers), cheap enough per request that the server under
test, not the generator, sets the pace.

Each client is one connection doing one request at a time (no pipelining): write the
request, wait for the whole answer, check it, repeat. ``hammer`` runs ``clients`` of them
until a request count or a deadline; ``burst`` opens ``clients`` connections and sends one
request on each, all at once, and times the last answer (connecting included). An answer
counts as right only with status 200 and the expected reply in it; anything else is an
error, and the first one is kept for the report. What each API route is sent, and how its
answer is checked, is in ``benchmarks/server_routes.py``; a ``Rotation`` sends many
different requests in turn (to fill a cache) instead of one.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Sequence
from typing import cast
from urllib.parse import urlsplit

import attrs
import httptools

Check = Callable[[int, bytes], str | None]  # status, body -> None if right, else what's wrong


@attrs.define
class Rotation:
    """Requests sent in turn instead of one (each with its own check), picking up where the
    last run left off: a cache, say, sees them all in order."""

    items: Sequence[tuple[bytes, Check]]
    sent: int = 0

    def next(self) -> tuple[bytes, Check]:
        item = self.items[self.sent % len(self.items)]
        self.sent += 1
        return item


@attrs.frozen
class Target:
    """Where to send what, and how to tell a right answer."""

    host: str
    port: int
    request: bytes  # the whole request, head and body
    check: Check
    rotation: Rotation | None = None  # if given, its requests instead of ``request``


@attrs.define
class Load:
    requests: int = 0  # answered, right or wrong
    errors: int = 0
    wall: float = 0.0  # seconds from the first request to the last answer
    latencies: list[float] = attrs.Factory(list)  # seconds per request, if kept
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def failed(self, what: str) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = what[:300]


def post(url: str, path: str, body: bytes, headers: dict[str, str], check: Check) -> Target:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return Target(parts.hostname, parts.port, request_bytes(url, path, body, headers), check)


def request_bytes(url: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The whole ``POST path`` request to ``url``: head and JSON ``body``."""
    head = f"POST {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    ) + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


class Connection(asyncio.Protocol):
    """One keep-alive connection; ``send`` one request at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []

    @classmethod
    async def open(cls, target: Target) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, target.host, target.port)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        if self.transport.is_closing():
            raise ConnectionError("the connection is closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.body = []
        self.transport.write(request)
        return await self.waiter

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.body)))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("the server closed the connection"))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def hammer(
    target: Target, clients: int, *, requests: int | None = None,
    duration: float | None = None, keep_latencies: bool = False,
) -> Load:
    """``clients`` connections, each sending requests back to back, until ``requests`` have
    been sent in all or ``duration`` seconds have passed (whichever is given)."""
    assert (requests is None) != (duration is None)
    connections = [await Connection.open(target) for _ in range(clients)]
    load = Load()
    budget = [requests if requests is not None else -1]
    deadline = time.perf_counter() + duration if duration is not None else float("inf")

    async def client(connection: Connection) -> None:
        clock, check, request = time.perf_counter, target.check, target.request
        rotation = target.rotation
        while budget[0] != 0:
            budget[0] -= 1
            if rotation is not None:
                request, check = rotation.next()
            started = clock()
            try:
                status, body = await connection.send(request)
            except (OSError, httptools.HttpParserError) as exc:
                load.requests += 1
                load.failed(repr(exc))
                return
            finished = clock()
            load.requests += 1
            if keep_latencies:
                load.latencies.append(finished - started)
            problem = check(status, body)
            if problem is not None:
                load.failed(problem)
            if finished >= deadline:
                return

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(c) for c in connections))
    finally:
        load.wall = time.perf_counter() - started
        for connection in connections:
            connection.close()
    return load


async def burst(target: Target, clients: int) -> Load:
    """``clients`` new connections, one request each, all at once; ``wall`` runs from just
    before the first connect to the last answer."""
    load = Load()

    async def client() -> None:
        connection = None
        try:
            connection = await Connection.open(target)
            status, body = await connection.send(target.request)
        except (OSError, httptools.HttpParserError) as exc:
            load.requests += 1
            load.failed(repr(exc))
            return
        finally:
            if connection is not None:
                connection.close()
        load.requests += 1
        problem = target.check(status, body)
        if problem is not None:
            load.failed(problem)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    load.wall = time.perf_counter() - started
    return load
