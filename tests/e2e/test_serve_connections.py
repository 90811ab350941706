"""What the ``voigpt serve`` process does with clients that do not play by HTTP's rules,
on raw sockets: a head of megabytes is refused with 431 as soon as it passes
``--max-header-bytes`` while everyone else is served; a head or a body that never ends is
cut with a 408 at ``--head-timeout`` / ``--body-timeout``; bytes that are not HTTP get a
400; a trailing-slash path never sends anyone to the host the client named; a request
the drain timeout cuts short gets a 503. Every one of these answers is OpenAI's error
shape, not uvicorn's plain text. The same limits on each HTTP implementation, byte by
byte: tests/integration/test_server_connections.py."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.cli import run_cli
from tests.support.messages import HELLO
from tests.support.raw_http import Answer, exchange, head, openai_error, read_answer, send
from tests.support.server import ServeProcess
from voigpt.emulator import Emulator, Fault

MIB = 1024 * 1024
CAP = 64 * 1024  # the default --max-header-bytes
TIMEOUT = 1.0  # --head-timeout and --body-timeout here
SLACK = 4.0  # a deadline's allowance for a loaded machine


@pytest.fixture(scope="module")
def server() -> Iterator[ServeProcess]:
    with ServeProcess("--backend", "fake", "--head-timeout", str(TIMEOUT),
                      "--body-timeout", str(TIMEOUT)) as process:
        yield process


def address(server: ServeProcess) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def served(server: ServeProcess) -> None:
    response = httpx.post(server.v1 + "/chat/completions", json={"messages": HELLO},
                          timeout=5)
    assert response.status_code == 200, response.text


# --- heads of megabytes ----------------------------------------------------------------------

def test_an_8_mib_head_is_a_431_at_once_and_everyone_else_is_served_meanwhile(
    server: ServeProcess,
) -> None:
    answers: list[Answer | None] = []
    took: list[float] = []

    def giant() -> None:
        with socket.create_connection(address(server), timeout=10) as sock:
            started = time.monotonic()
            send(sock, b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (8 * MIB)
                 + b"\r\nConnection: close\r\n\r\n")
            answers.append(read_answer(sock))
            took.append(time.monotonic() - started)

    sender = threading.Thread(target=giant)
    sender.start()
    for _ in range(5):
        served(server)
    sender.join(SLACK * 2)
    assert not sender.is_alive(), "the 8 MiB head was never answered"
    error = openai_error(answers[0], 431)
    assert error["code"] == "request_headers_too_large"
    assert took[0] < SLACK, took
    served(server)


def test_a_head_still_coming_is_refused_once_past_the_cap_not_once_it_ends(
    server: ServeProcess,
) -> None:
    with socket.create_connection(address(server), timeout=10) as sock:
        assert send(sock, b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (CAP // 2))
        served(server)  # while it is half in, others are served
        assert send(sock, b"a" * CAP)  # past the cap, and no end in sight
        error = openai_error(read_answer(sock), 431)
    assert str(CAP) in error["message"]
    served(server)


# --- heads and bodies that never end ---------------------------------------------------------

def test_a_head_that_never_ends_is_a_408_at_the_head_timeout(server: ServeProcess) -> None:
    with socket.create_connection(address(server), timeout=10) as sock:
        started = time.monotonic()
        send(sock, b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        error = openai_error(read_answer(sock), 408)
        took = time.monotonic() - started
    assert error["code"] == "request_timeout"
    assert TIMEOUT - 0.1 <= took < TIMEOUT + SLACK, took


def test_a_body_that_stalls_is_a_408_at_the_body_timeout(server: ServeProcess) -> None:
    request = head("POST", "/v1/chat/completions", headers={
        "Content-Type": "application/json", "Content-Length": "1000"})
    with socket.create_connection(address(server), timeout=10) as sock:
        started = time.monotonic()
        send(sock, request + b'{"messages": [')
        error = openai_error(read_answer(sock), 408)
        took = time.monotonic() - started
    assert error["code"] == "request_timeout"
    assert TIMEOUT - 0.1 <= took < TIMEOUT + SLACK, took
    served(server)


# --- what uvicorn answered in plain text -----------------------------------------------------

@pytest.mark.parametrize(("request_bytes", "says"), [
    (b"GET /health HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", "not valid HTTP"),
    (head("POST", "/v1/chat/completions", headers={"Transfer-Encoding": "chunked"})
     + b"not-hex\r\n{}\r\n0\r\n\r\n", "not valid HTTP"),
    (b"BREW /health HTTP/1.1\r\nHost: t\r\n\r\n", "method"),
], ids=["malformed-head", "bad-chunk-size", "bad-method"])
def test_bytes_that_are_not_http_get_a_400_in_the_error_shape(
    server: ServeProcess, request_bytes: bytes, says: str
) -> None:
    error = openai_error(exchange(address(server), request_bytes), 400)
    assert error["code"] == "invalid_http_request"
    assert says in error["message"]


def test_an_upgrade_request_is_answered_as_plain_http_in_the_error_shape(
    server: ServeProcess,
) -> None:
    answer = exchange(address(server), head("GET", "/v1/nowhere", headers={
        "Connection": "Upgrade", "Upgrade": "websocket"}))
    assert openai_error(answer, 404)["code"] == "unknown_url"


# --- redirects -------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/models/"), ("GET", "/health/"), ("POST", "/v1/chat/completions/"),
    ("GET", "/v1/models/gpt-3.5-turbo/"), ("GET", "//evil.example/health/"),
])
def test_a_trailing_slash_never_sends_the_client_to_the_host_it_named(
    server: ServeProcess, method: str, path: str
) -> None:
    answer = exchange(address(server), head(method, path, headers={
        "Host": "evil.example", "Content-Length": "0"}))
    assert "location" not in answer.headers, answer
    assert not any("evil.example" in value for value in answer.headers.values()), answer
    assert openai_error(answer, 404)["code"] == "unknown_url"


# --- settings --------------------------------------------------------------------------------

@pytest.mark.parametrize(("flags", "env", "named"), [
    (["--max-header-bytes", "100"], {}, "--max-header-bytes"),
    ([], {"VOIGPT_MAX_HEADER_BYTES": "64k"}, "$VOIGPT_MAX_HEADER_BYTES"),
    (["--head-timeout", "0"], {}, "--head-timeout"),
    ([], {"VOIGPT_BODY_TIMEOUT": "nan"}, "$VOIGPT_BODY_TIMEOUT"),
])
def test_a_bad_limit_exits_2_naming_it(flags: list[str], env: dict[str, str],
                                       named: str) -> None:
    result = run_cli("serve", "--backend", "fake", "--port", "0", *flags, env=env, timeout=20)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("voigpt: error: " + named), result.stderr
    assert "listening" not in result.stdout


def test_the_head_cap_holds_in_workers_processes() -> None:
    with ServeProcess("--backend", "fake", "--workers", "2",
                      "--max-header-bytes", "2048") as process:
        for _ in range(4):  # new connections, taken by either process
            error = openai_error(exchange(address(process), head(pad=4096)), 431)
            assert "2048" in error["message"]
        assert exchange(address(process), head(pad=1000)).status == 200


# --- the drain timeout -----------------------------------------------------------------------

def test_a_request_the_drain_timeout_cuts_short_gets_a_503_in_the_error_shape(
    emulator: Emulator,
) -> None:
    process = ServeProcess("--base-url", emulator.url, "--drain-timeout", "0.5")
    emulator.inject(Fault.SLOW, delay=20.0)
    with socket.create_connection(address(process), timeout=15) as sock:
        body = json.dumps({"messages": HELLO}).encode()
        send(sock, head("POST", "/v1/chat/completions", headers={
            "Content-Type": "application/json", "Content-Length": str(len(body))}) + body)
        deadline = time.monotonic() + 10
        while not any(r.method == "POST" for r in emulator.requests):
            assert time.monotonic() < deadline, "the completion never reached the site"
            time.sleep(0.01)
        process.process.send_signal(signal.SIGTERM)
        answer = read_answer(sock)
    code, _, stderr = process.stop(timeout=15)
    assert code == 0, stderr
    error = openai_error(answer, 503)
    assert error["code"] == "server_shutting_down"
    assert error["type"] == "server_error"
