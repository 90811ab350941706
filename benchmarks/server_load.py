"""The load generator of the server benchmark: keep-alive HTTP/1.1 clients on a raw asyncio
protocol (httptools parses the answers), cheap enough per request that the server under
test, not the generator, sets the pace.

Each client is one connection doing one request at a time (no pipelining): write the
request, wait for the whole answer, check it, repeat. ``hammer`` runs ``clients`` of them
until a request count or a deadline; ``burst`` opens ``clients`` connections and sends one
request on each, all at once, and times the last answer (connecting included). An answer
counts as right only with status 200 and the expected reply in it; anything else is an
error, and the first one is kept for the report.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

import attrs
import httptools

from benchmarks.clients import EXPECTED, MESSAGES

Check = Callable[[int, bytes], str | None]  # status, body -> None if right, else what's wrong


@attrs.frozen
class Target:
    """Where to send what, and how to tell a right answer."""

    host: str
    port: int
    request: bytes  # the whole request, head and body
    check: Check


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
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    ) + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return Target(parts.hostname, parts.port, head.encode("latin-1") + body, check)


def chat_completions(url: str) -> Target:
    """OpenAI's ``POST /v1/chat/completions`` with one user message, as the openai SDK
    sends it (minus its telemetry headers)."""
    body = json.dumps({"model": "gpt-3.5-turbo", "messages": MESSAGES}).encode()
    return post(url, "/v1/chat/completions", body, {"Accept": "application/json"},
                check_completion)


def responses_create(url: str) -> Target:
    """OpenAI's ``POST /v1/responses`` with a string input, as the openai SDK's
    ``responses.create`` sends it: no ``store``, so the response is stored (the default)."""
    body = json.dumps({"model": "gpt-3.5-turbo", "input": MESSAGES[0]["content"]}).encode()
    return post(url, "/v1/responses", body, {"Accept": "application/json"}, check_response)


def site_completion(url: str, token: str) -> Target:
    """The site's ``POST /generate_response/``, the bare protocol (to load an upstream)."""
    headers = {"Cookie": f"csrftoken={token}", "X-CSRFToken": token, "Origin": url,
               "Referer": url + "/"}
    return post(url, "/generate_response/", json.dumps({"messages": MESSAGES}).encode(),
                headers, check_site_reply)


def check_completion(status: int, body: bytes) -> str | None:
    try:
        content = json.loads(body)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        content = None
    if status == 200 and content == EXPECTED:
        return None
    return f"HTTP {status}: {body[:200]!r}"


def check_response(status: int, body: bytes) -> str | None:
    try:
        document = json.loads(body)
        content = document["output"][0]["content"][0]["text"]
        stored = document["store"] is True and document["status"] == "completed"
    except (ValueError, KeyError, IndexError, TypeError):
        content, stored = None, False
    if status == 200 and content == EXPECTED and stored:
        return None
    return f"HTTP {status}: {body[:200]!r}"


def check_site_reply(status: int, body: bytes) -> str | None:
    try:
        reply = json.loads(body)["response"]
    except (ValueError, KeyError, TypeError):
        reply = None
    return None if status == 200 and reply == EXPECTED else f"HTTP {status}: {body[:200]!r}"


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
        while budget[0] != 0:
            budget[0] -= 1
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
