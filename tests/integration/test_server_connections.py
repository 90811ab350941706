"""``voigpt serve``'s connections (``connections.py``, ``watch.py``, ``outermost.py``) on a
real uvicorn server on 127.0.0.1, with each HTTP implementation it may run (httptools,
and h11 where httptools is not installed), driven byte by byte on raw sockets:

- a head is served up to the cap exactly and refused with 431 one byte past it, and one
  that keeps coming is refused as soon as it passes the cap, not once it ends;
- a head that never ends (or trickles) is cut with a 408 at the head timeout, an idle
  connection is closed, and a body that stalls is cut with a 408 at the body timeout;
  a request being served, however long it takes, is never cut;
- bytes that are not HTTP get a 400, and an app that fails without answering a 500, all
  in OpenAI's error shape rather than uvicorn's plain text.

The tests of the ``voigpt serve`` process are tests/e2e/test_serve_connections.py."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from tests.support.raw_http import (
    exchange,
    head,
    openai_error,
    read_answer,
    read_answers,
    send,
)
from tests.support.server import metric
from voigpt.async_client import AsyncClient
from voigpt.entrypoints.server.app import create_app
from voigpt.entrypoints.server.connections import HTTP, ServerConfig
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.entrypoints.server.watch import Limits

CAP = 4096
HEAD_TIMEOUT = 0.5
BODY_TIMEOUT = 0.5
SLACK = 3.0  # a deadline's allowance for a loaded machine
LIMITS = Limits(CAP, HEAD_TIMEOUT, BODY_TIMEOUT)
IMPLEMENTATIONS: list[HTTP] = ["httptools", "h11"]


@contextlib.contextmanager
def serving(app: Any, http: HTTP) -> Iterator[tuple[str, int]]:
    """``app`` on uvicorn with ``voigpt serve``'s config, in a thread; its address."""
    config = ServerConfig(app, LIMITS, http=http, host="127.0.0.1", port=0, log_config=None,
                          access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    try:
        yield "127.0.0.1", server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def address(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    app = create_app(AsyncClient(backend="fake"), ServerSettings())
    with serving(app, request.param) as address:
        yield address


def url(address: tuple[str, int]) -> str:
    return f"http://{address[0]}:{address[1]}"


def answered_within(sock: socket.socket, seconds: float) -> bool:
    return bool(select.select([sock], [], [], seconds)[0])


# --- the head cap ----------------------------------------------------------------------------

def padded_to(size: int) -> bytes:
    request = head(pad=1)
    return head(pad=1 + size - len(request))


@pytest.mark.parametrize("pieces", [1, 40], ids=["one-write", "in-pieces"])
def test_a_head_of_exactly_the_cap_is_served_and_one_byte_more_is_a_431(
    address: tuple[str, int], pieces: int
) -> None:
    for size, status in ((CAP, 200), (CAP + 1, 431)):
        request = padded_to(size)
        assert len(request) == size
        with socket.create_connection(address, timeout=10) as sock:
            step = -(-size // pieces)
            for start in range(0, size, step):
                send(sock, request[start:start + step])
                if pieces > 1:
                    time.sleep(0.002)
            answer = read_answer(sock)
        assert answer is not None and answer.status == status, (size, answer)
    assert openai_error(answer, 431)["code"] == "request_headers_too_large"


def test_a_head_that_keeps_coming_is_refused_as_soon_as_it_passes_the_cap(
    address: tuple[str, int],
) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        assert send(sock, b"GET /health HTTP/1.1\r\nHost: test\r\nX-Big: ")
        sent = 0
        while sent <= CAP:  # never ends: only the cap can answer it
            assert send(sock, b"a" * 1024)
            sent += 1024
        assert answered_within(sock, SLACK), "no answer once the head passed the cap"
        error = openai_error(read_answer(sock), 431)
    assert error["code"] == "request_headers_too_large"
    assert str(CAP) in error["message"]


def test_a_refused_head_is_counted_and_the_server_goes_on_serving(
    address: tuple[str, int],
) -> None:
    before = metric(url(address), "voigpt_server_rejections_total",
                    cause="request_headers_too_large")
    openai_error(exchange(address, head(pad=CAP * 4)), 431)
    assert metric(url(address), "voigpt_server_rejections_total",
                  cause="request_headers_too_large") == before + 1
    assert httpx.get(url(address) + "/health", timeout=10).status_code == 200


# --- timeouts --------------------------------------------------------------------------------

def test_a_head_that_never_ends_is_cut_with_a_408_at_the_head_timeout(
    address: tuple[str, int],
) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        started = time.monotonic()
        send(sock, b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        error = openai_error(read_answer(sock), 408)
        took = time.monotonic() - started
    assert error["code"] == "request_timeout" and "head" in error["message"]
    assert HEAD_TIMEOUT - 0.05 <= took < HEAD_TIMEOUT + SLACK, took


def test_a_head_that_trickles_is_cut_at_the_head_timeout_though_bytes_keep_coming(
    address: tuple[str, int],
) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        started = time.monotonic()
        send(sock, b"GET /health HTTP/1.1\r\n")
        while not answered_within(sock, 0.05):  # a byte every 50 ms, never the end
            assert time.monotonic() - started < HEAD_TIMEOUT + SLACK, "never cut"
            if not send(sock, b"X"):
                break
        error = openai_error(read_answer(sock), 408)
    assert error["code"] == "request_timeout"


def test_a_connection_that_sends_nothing_is_closed_at_the_head_timeout(
    address: tuple[str, int],
) -> None:
    with socket.create_connection(address, timeout=10) as sock:
        started = time.monotonic()
        assert read_answer(sock) is None  # closed, with nothing to answer
        assert time.monotonic() - started < HEAD_TIMEOUT + SLACK


def test_each_answer_gives_the_next_head_the_whole_head_timeout(
    address: tuple[str, int],
) -> None:
    """The wait for a head starts again at each answer, whenever the connection opened: a
    keep-alive client that pauses a little less than the head timeout after each answer
    is never cut, however long it keeps the connection; idle after that, it is closed."""
    pause = HEAD_TIMEOUT * 0.7
    with socket.create_connection(address, timeout=10) as sock:
        for turn in range(5):  # 2.5 head timeouts since the connection opened, and more
            time.sleep(pause)
            assert send(sock, head(headers={"Connection": "keep-alive"})), turn
            answer = read_answer(sock)
            assert answer is not None and answer.status == 200, (turn, answer)
        answered = time.monotonic()
        assert read_answer(sock) is None  # idle: closed, with nothing to answer
        idle = time.monotonic() - answered
    assert HEAD_TIMEOUT - 0.05 <= idle < HEAD_TIMEOUT + SLACK, idle


def test_a_body_that_stalls_is_cut_with_a_408_at_the_body_timeout(
    address: tuple[str, int],
) -> None:
    body = b'{"messages":[{"role":"user","content":"Hello"}]}'
    request = head("POST", "/v1/chat/completions", headers={
        "Content-Type": "application/json", "Content-Length": str(len(body))})
    with socket.create_connection(address, timeout=10) as sock:
        started = time.monotonic()
        send(sock, request + body[:10])  # and the rest never comes
        error = openai_error(read_answer(sock), 408)
        took = time.monotonic() - started
    assert error["code"] == "request_timeout" and "body" in error["message"]
    assert BODY_TIMEOUT - 0.05 <= took < BODY_TIMEOUT + SLACK, took


def test_a_chunked_body_that_stalls_is_cut_too(address: tuple[str, int]) -> None:
    request = head("POST", "/v1/chat/completions", headers={
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    with socket.create_connection(address, timeout=10) as sock:
        send(sock, request + b"5\r\n{\"mes\r\n")  # no last chunk
        assert openai_error(read_answer(sock), 408)["code"] == "request_timeout"


@pytest.mark.parametrize("http", IMPLEMENTATIONS)
def test_a_request_being_served_is_never_cut_however_long_it_takes(http: HTTP) -> None:
    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await asyncio.sleep(max(HEAD_TIMEOUT, BODY_TIMEOUT) + 0.3)  # past both
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    with serving(slow, http) as address:
        with httpx.Client(base_url=url(address)) as client:
            for _ in range(2):  # and again on the same connection, kept alive
                response = client.post("/", content=b"x" * 100, timeout=10)
                assert (response.status_code, response.text) == (200, "ok")
        # The head timeout, gone by while the request was served, still holds for the next
        # head on the connection: one that never ends is cut.
        with socket.create_connection(address, timeout=10) as sock:
            request = head("POST", headers={"Content-Length": "1", "Connection": "keep-alive"})
            send(sock, request + b"x")
            assert (answer := read_answer(sock)) is not None and answer.status == 200
            send(sock, b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ")
            assert openai_error(read_answer(sock), 408)["code"] == "request_timeout"


def test_a_kept_alive_connection_serves_requests_in_turn(address: tuple[str, int]) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n"
    with socket.create_connection(address, timeout=10) as sock:
        for _ in range(3):
            send(sock, request)
            answer = read_answer(sock)
            assert answer is not None and answer.status == 200, answer
            time.sleep(HEAD_TIMEOUT / 3)  # each wait shorter than the head timeout


def test_requests_pipelined_in_one_write_are_each_answered(address: tuple[str, int]) -> None:
    one = b"GET /health HTTP/1.1\r\nHost: test\r\nX-Pad: " + b"p" * (CAP - 100) + b"\r\n\r\n"
    with socket.create_connection(address, timeout=10) as sock:
        send(sock, one * 3)  # three heads under the cap each, over it together
        answers = read_answers(sock, 3)
    assert [answer.status for answer in answers] == [200, 200, 200], answers


# --- what uvicorn answered in plain text -----------------------------------------------------

NOT_HTTP = {
    "nul-in-value": b"GET /health HTTP/1.1\r\nHost: te\x00st\r\n\r\n",
    "no-colon": b"GET /health HTTP/1.1\r\nHost test\r\n\r\n",
    "bad-chunk-size": head("POST", "/v1/chat/completions", headers={
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"}) + b"zz\r\n",
    "space-in-name": b"GET /health HTTP/1.1\r\nHost: test\r\nBad Name: x\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", list(NOT_HTTP.values()), ids=list(NOT_HTTP))
def test_bytes_that_are_not_http_get_a_400_in_the_error_shape(
    address: tuple[str, int], request_bytes: bytes
) -> None:
    error = openai_error(exchange(address, request_bytes), 400)
    assert error["code"] == "invalid_http_request"


def test_a_method_the_parser_does_not_know_gets_the_error_shape(
    address: tuple[str, int],
) -> None:
    answer = exchange(address, b"FOO /health HTTP/1.1\r\nHost: test\r\n\r\n")
    # httptools knows a fixed set of methods (400); h11 takes any token and the app's
    # router answers that the route does not allow it (405).
    assert answer.status in (400, 405), answer
    openai_error(answer, answer.status)


@pytest.mark.parametrize("http", IMPLEMENTATIONS)
@pytest.mark.parametrize("failure", ["raises", "returns"])
def test_an_app_that_fails_without_answering_gets_a_500_in_the_error_shape(
    http: HTTP, failure: str
) -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and failure == "raises":
            raise RuntimeError("a bug, with a secret: sk-canary")

    with serving(broken, http) as address:
        answer = exchange(address, head())
    error = openai_error(answer, 500)
    assert error["code"] == "internal_error"
    assert b"sk-canary" not in answer.body
