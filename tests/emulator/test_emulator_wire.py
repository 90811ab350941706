"""HTTP framing over raw sockets: malformed requests get an HTTP error, half requests are
dropped unserved, stalled connections time out, and HTTP/1.0 and 100-continue work."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from tests.emulator.helpers import (
    GENERATE,
    connection_threads,
    csrf_headers,
    eventually,
    fetch_token,
    raw_exchange,
)
from voigpt.emulator import Emulator, httpd

POST = b"POST /generate_response/ HTTP/1.1\r\nHost: x\r\n"

MALFORMED = {
    "superscript two as length": (POST + b"Content-Length: \xb2\r\n\r\n{}", 400),
    "superscript three as length": (POST + b"Content-Length: \xb3\r\n\r\n{}", 400),
    "arabic-indic digit as length": (POST + "Content-Length: ٣\r\n\r\n{}".encode(), 400),
    "two different lengths": (POST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
    "a list of different lengths": (POST + b"Content-Length: 2, 3\r\n\r\n{}", 400),
    "negative length": (POST + b"Content-Length: -1\r\n\r\n", 400),
    "signed length": (POST + b"Content-Length: +2\r\n\r\n{}", 400),
    "empty length": (POST + b"Content-Length: \r\n\r\n", 400),
    "hex length": (POST + b"Content-Length: 0x2\r\n\r\n{}", 400),
    "huge length": (POST + b"Content-Length: 99999999999999999999999\r\n\r\n", 413),
    "length of 5000 digits": (POST + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n", 413),
    "chunked body": (POST + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
    "one word": (b"GET\r\n\r\n", 400),
    "HTTP/0.9 style": (b"GET /\r\n\r\n", 400),
    "four words": (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
    "not http": (b"GET / FTP/1.1\r\n\r\n", 400),
    "bad method": (b"G(T / HTTP/1.1\r\n\r\n", 400),
    "http/2": (b"GET / HTTP/2.0\r\n\r\n", 505),
    "header without colon": (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
    "space in a header name": (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
    "folded header": (b"GET / HTTP/1.1\r\nX-A: a\r\n  b\r\n\r\n", 400),
    "over-long header": (b"GET / HTTP/1.1\r\nX-A: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    "101 headers": (b"GET / HTTP/1.1\r\n" + b"X-A: a\r\n" * 101 + b"\r\n", 431),
    "over-long request line": (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_request_gets_an_http_error_and_serving_goes_on(
    voigpt_emulator: Emulator, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="voigpt.emulator")
    payload, status = MALFORMED[case]

    answer = raw_exchange(voigpt_emulator, payload)

    head = answer.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"\r\nConnection: close" in head
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert raw_exchange(voigpt_emulator, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200 ")


def test_a_refused_body_leaves_its_request_recorded_without_the_body(
    voigpt_emulator: Emulator,
) -> None:
    raw_exchange(voigpt_emulator, POST + b"Content-Length: \xb2\r\n\r\n{}")

    (request,) = voigpt_emulator.requests
    assert (request.method, request.path, request.body) == ("POST", GENERATE, b"")
    assert request.headers["content-length"] == "\xb2"


HALF_REQUESTS = {
    "request line": b"GET /",
    "request line and CR": b"GET / HTTP/1.1\r",
    "headers without the blank line": b"GET / HTTP/1.1\r\nHost: x\r\n",
    "half a header": b"GET / HTTP/1.1\r\nHost: x\r\nAcc",
    "half a body": POST + b"Content-Length: 50\r\n\r\n" + b'{"messages": ',
}


@pytest.mark.parametrize("case", sorted(HALF_REQUESTS))
def test_a_request_cut_short_by_the_client_is_dropped_unserved(
    voigpt_emulator: Emulator, case: str
) -> None:
    with socket.create_connection((voigpt_emulator.host, voigpt_emulator.port), timeout=10) as s:
        s.sendall(HALF_REQUESTS[case])
        s.shutdown(socket.SHUT_WR)  # the client is done sending, and still listens
        answer = s.recv(65536)

    assert answer == b""
    assert voigpt_emulator.requests == []
    assert voigpt_emulator.tokens_issued == []


def test_a_flood_of_half_requests_ending_at_once_serves_none_of_them(
    voigpt_emulator: Emulator,
) -> None:
    address = (voigpt_emulator.host, voigpt_emulator.port)
    sockets = [socket.create_connection(address, timeout=10) for _ in range(30)]
    for sock in sockets:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert eventually(lambda: len(connection_threads(voigpt_emulator)) == 30)

    for sock in sockets:
        sock.close()

    assert eventually(lambda: connection_threads(voigpt_emulator) == [])
    assert voigpt_emulator.totals.requests == 0
    assert voigpt_emulator.tokens_issued == []


def test_a_stalled_client_is_disconnected_after_the_idle_timeout(
    voigpt_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(httpd, "IDLE_TIMEOUT", 0.3)
    with socket.create_connection((voigpt_emulator.host, voigpt_emulator.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        answer = s.recv(65536)
        waited = time.monotonic() - started

    assert answer == b""
    assert 0.2 < waited < 5
    assert voigpt_emulator.requests == []


@pytest.mark.parametrize(
    ("connection", "expected"),
    [(b"", b"Connection: close"), (b"Connection: keep-alive\r\n", b"Connection: keep-alive")],
)
def test_http_1_0_closes_unless_asked_to_keep_alive(
    voigpt_emulator: Emulator, connection: bytes, expected: bytes
) -> None:
    with socket.create_connection((voigpt_emulator.host, voigpt_emulator.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.0\r\n" + connection + b"\r\n")
        head = s.recv(65536).split(b"\r\n\r\n")[0]
        try:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            again = s.recv(65536)
        except OSError:  # the emulator closed the connection
            again = b""

    assert head.startswith(b"HTTP/1.1 200 ")
    assert expected in head.split(b"\r\n")
    assert again.startswith(b"HTTP/1.1 200 ") == (expected == b"Connection: keep-alive")


def test_expect_100_continue_is_answered_before_the_body_is_sent(
    voigpt_emulator: Emulator,
) -> None:
    body = b'{"messages": [{"role": "user", "content": "hi"}]}'
    token = fetch_token(voigpt_emulator)
    cookies = "".join(f"{k}: {v}\r\n" for k, v in csrf_headers(token).items())
    head = f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n{cookies}\r\n".encode()
    with socket.create_connection((voigpt_emulator.host, voigpt_emulator.port), timeout=10) as s:
        s.sendall(POST + head)
        interim = s.recv(65536)
        s.sendall(body)
        final = s.recv(65536)

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert final.startswith(b"HTTP/1.1 200 ")
    assert final.endswith(b'{"response": "[voigpt emulator] You said: hi"}')
