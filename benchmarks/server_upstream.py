"""A fast stand-in for the emulator: the two endpoints of the site's protocol, nothing else,
on a raw asyncio protocol (uvloop, httptools), so that a throughput figure measures the
server in front of it rather than the upstream.

    python -m benchmarks.server_upstream

Prints its URL on the first line of stdout and serves until it is terminated.

``GET /`` sets a ``csrftoken`` cookie (one token for the life of the process) and counts the
fetch; ``POST /generate_response/`` needs ``Cookie: csrftoken=T`` and ``X-CSRFToken: T`` and
answers ``{"response": reply_for(messages)}``, the emulator's own answer; anything else is 4xx.
``GET /__upstream__/state`` answers ``{"tokens_issued": N, "completions": M}``. The bundled
emulator (``benchmarks/emulator_process.py``) stays the faithful one: no faults, no Origin
check, no latency here.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import sys
from typing import cast

import httptools
import uvloop

from voigpt.emulator.chat import reply_for

TOKEN = secrets.token_hex(16)
COMPLETION_PATH = b"/generate_response/"


class State:
    tokens_issued = 0
    completions = 0


def response(status: int, body: bytes, *, content_type: bytes = b"application/json",
             extra: bytes = b"", keep_alive: bool = True) -> bytes:
    reason = {200: b"OK", 400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found"}[status]
    return (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%s\r\n"
            % (status, reason, content_type, len(body), extra,
               b"" if keep_alive else b"Connection: close\r\n")) + body


def answer(method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes,
           keep_alive: bool) -> bytes:
    if method == b"GET" and path == b"/":
        State.tokens_issued += 1
        set_cookie = b"Set-Cookie: csrftoken=%s; Path=/; SameSite=Lax\r\n" % TOKEN.encode()
        return response(200, b"<!doctype html><title>voigpt</title>",
                        content_type=b"text/html; charset=utf-8", extra=set_cookie,
                        keep_alive=keep_alive)
    if method == b"GET" and path == b"/__upstream__/state":
        state = {"tokens_issued": State.tokens_issued, "completions": State.completions}
        return response(200, json.dumps(state).encode(), keep_alive=keep_alive)
    if method == b"POST" and path == COMPLETION_PATH:
        sent = headers.get(b"x-csrftoken", b"").decode("latin-1")
        cookie = headers.get(b"cookie", b"").decode("latin-1")
        if sent != TOKEN or f"csrftoken={TOKEN}" not in cookie:
            return response(403, b'{"detail": "CSRF token incorrect."}', keep_alive=keep_alive)
        try:
            messages = json.loads(body)["messages"]
            reply = reply_for(messages)
        except (ValueError, KeyError, TypeError, AttributeError):
            return response(400, b'{"detail": "bad request"}', keep_alive=keep_alive)
        State.completions += 1
        return response(200, json.dumps({"response": reply}, ensure_ascii=False).encode(),
                        keep_alive=keep_alive)
    return response(404, b'{"detail": "Not found."}', keep_alive=keep_alive)


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(response(400, b'{"detail": "bad request"}', keep_alive=False))
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        keep_alive = self.parser.should_keep_alive()
        path = self.url.partition(b"?")[0]
        self.transport.write(answer(self.parser.get_method(), path, self.headers,
                                    b"".join(self.body), keep_alive))
        if not keep_alive:
            self.transport.close()


async def serve() -> None:
    server = await asyncio.get_running_loop().create_server(
        Connection, "127.0.0.1", 0, backlog=2048
    )
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    try:
        uvloop.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
