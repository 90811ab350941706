"""Hostile clients at the HTTP level against the ``voigpt serve`` process: a 2 MiB body is
refused with 413 as soon as its Content-Length is read (without taking the body); a
Content-Length that lies either way gets no 5xx and costs nothing to others; and clients
that send a request a byte at a time, or half a request and then nothing (slowloris), do
not keep anyone else from being served."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.messages import HELLO
from tests.support.server import ServeProcess, error_of

MIB = 1024 * 1024
BODY = json.dumps({"messages": HELLO}).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    with ServeProcess("--backend", "fake") as process:  # the default cap: 1 MiB
        yield process


def address(server: ServeProcess) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def head(content_length: int | str) -> bytes:
    return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\n"
            f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n").encode()


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of the first answer on ``sock`` (by its Content-Length)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed without an answer: {received!r}"
        received += chunk
    top, _, body = received.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in top.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(top.split(b" ")[1]), body[:length]


def served_promptly(server: ServeProcess) -> None:
    response = httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO},
                          timeout=5)
    assert response.status_code == 200, response.text


def test_a_2_mib_body_is_a_413_before_it_is_sent(server: ServeProcess) -> None:
    with socket.create_connection(address(server), timeout=5) as sock:
        sock.sendall(head(2 * MIB) + BODY[:10])  # announced, not sent: the answer comes now
        status, body = read_answer(sock)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_a_2_mib_body_sent_whole_is_a_413(server: ServeProcess) -> None:
    content = b'{"messages":[{"role":"user","content":"' + b"x" * (2 * MIB) + b'"}]}'
    started = time.monotonic()
    response = httpx.post(server.v1 + "/chat/completions", content=content, timeout=10,
                          headers={"Content-Type": "application/json"})
    assert error_of(response, 413)["code"] == "request_too_large"
    assert time.monotonic() - started < 5


def test_a_content_length_shorter_than_the_body_is_a_400_not_a_5xx(
    server: ServeProcess,
) -> None:
    with socket.create_connection(address(server), timeout=5) as sock:
        sock.sendall(head(len(BODY) - 5) + BODY[:-5])  # the body it declares: cut JSON
        status, body = read_answer(sock)
    assert status == 400, body
    assert json.loads(body)["error"]["code"] == "invalid_json"
    with socket.create_connection(address(server), timeout=5) as sock:
        sock.sendall(head(len(BODY) - 5) + BODY)  # and 5 bytes more: a garbage next request
        status, body = read_answer(sock)
    assert status == 400, body  # the app's, or the HTTP parser's for the garbage
    served_promptly(server)


def test_a_content_length_longer_than_the_body_holds_only_its_own_connection(
    server: ServeProcess,
) -> None:
    with socket.create_connection(address(server), timeout=5) as liar:
        liar.sendall(head(len(BODY) + 1000) + BODY)  # promises 1000 bytes more, never sends
        served_promptly(server)
        liar.shutdown(socket.SHUT_WR)  # then gives up: the server drops it, no 5xx
        liar.settimeout(5)
        leftover = liar.recv(65536)
    assert not leftover.startswith(b"HTTP/1.1 5"), leftover
    served_promptly(server)


def test_slow_and_stalled_clients_do_not_block_others(server: ServeProcess) -> None:
    stalled = []
    try:
        for n in range(50):  # half a request head each, then nothing
            sock = socket.create_connection(address(server), timeout=5)
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nX-Slow-%d: " % n)
            stalled.append(sock)
        with socket.create_connection(address(server), timeout=5) as trickle:
            request = head(len(BODY)) + BODY
            for index, byte in enumerate(request):  # a byte at a time, others served between
                trickle.sendall(bytes([byte]))
                if index % 40 == 0:
                    served_promptly(server)
            status, body = read_answer(trickle)
        assert status == 200, body
    finally:
        for sock in stalled:
            sock.close()
    served_promptly(server)
