"""What is sent again when a connection breaks, counted on the server: the completion's
POST only when it is known not to have been processed (nothing listened, or the
connection ended before any byte of the answer), never once the answer had begun (the site
may already have done the work); the token's GET as before. Both transports, retries on."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

import pytest

import voigpt
from tests.hostile.checks import expect_error, run
from tests.hostile.conftest import MakeClient
from tests.hostile.servers import (
    Conn,
    HostileServer,
    Request,
    head,
    normal_except,
    normal_get,
    normal_post,
)

Serve = Callable[..., HostileServer]
Script = Callable[[Conn, Request], None]


def reset(conn: Conn) -> None:
    """Abort the connection: the client sees a reset (RST), not an orderly close."""
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def close(conn: Conn) -> None:
    conn.close()


def after(data: bytes, end: Callable[[Conn], None] = close) -> Script:
    def answer(conn: Conn, request: Request) -> None:
        if data:
            conn.send(data)
        end(conn)

    return answer


STATUS_LINE = b"HTTP/1.1 200 OK\r\n"
HEAD = head(200, [("Content-Type", "application/json"), ("Content-Length", "100")])

# The answer had begun when the connection broke: the POST is never sent again.
BEGUN: dict[str, Script] = {
    "closed-after-the-status-line": after(STATUS_LINE),
    "closed-mid-headers": after(STATUS_LINE + b"Content-Type: appl"),
    "closed-mid-body": after(HEAD + b'{"respo'),
    "reset-mid-body": after(HEAD + b'{"respo', reset),
    "reset-after-the-status-line": after(STATUS_LINE, reset),
}

# Nothing of the answer had come: the POST is sent again (and then answered).
NOT_BEGUN: dict[str, Script] = {
    "closed-without-a-byte": after(b""),
    "reset-without-a-byte": after(b"", reset),
}


def first_time(script: Script, key: str = "posts") -> Script:
    """``script`` for the first request it sees, then the normal answer."""

    def answer(conn: Conn, request: Request) -> None:
        if conn.server.count(key) == 0:
            script(conn, request)
        elif request.method == "GET":
            normal_get(conn, request)
        else:
            normal_post(conn, request)

    return answer


@pytest.mark.parametrize("case", list(BEGUN))
def test_a_post_whose_answer_had_begun_is_never_sent_again(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    server = serve(normal_except(post=BEGUN[case]))
    client = make_client(base_url=server.url, retries=2, timeout=5)
    outcome = run(lambda: client.ask("only once"))
    error = expect_error(outcome, what=case)
    assert len(server.seen("POST")) == 1, f"{case}: {outcome.describe()}"
    if isinstance(error, voigpt.ConnectionFailed):
        assert error.answer_began, f"{case}: {outcome.describe()}"


@pytest.mark.parametrize("case", list(NOT_BEGUN))
def test_a_post_dropped_before_any_byte_of_its_answer_is_sent_again(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    server = serve(normal_except(post=first_time(NOT_BEGUN[case])))
    client = make_client(base_url=server.url, retries=2, timeout=5)
    outcome = run(lambda: client.ask("again"))
    assert outcome.value == "reply to: again", f"{case}: {outcome.describe()}"
    assert len(server.seen("POST")) == 2


def test_a_post_that_found_nobody_listening_is_tried_again(make_client: MakeClient) -> None:
    with socket.socket() as placeholder:  # a port nothing listens on
        placeholder.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    client = make_client(base_url=url, retries=1, timeout=5, access_token="t" * 32)
    outcome = run(lambda: client.ask("anyone?"))
    error = expect_error(outcome, voigpt.ConnectionFailed)
    assert isinstance(error, voigpt.ConnectionFailed) and not error.answer_began


@pytest.mark.parametrize("case", ["closed-mid-body", "reset-mid-body"])
def test_the_token_get_is_retried_even_once_its_answer_had_begun(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    server = serve(normal_except(get=first_time(BEGUN[case], key="gets")))
    client = make_client(base_url=server.url, retries=2, timeout=5)
    outcome = run(lambda: client.ask("token twice"))
    assert outcome.value == "reply to: token twice", f"{case}: {outcome.describe()}"
    assert len(server.seen("GET")) == 2
    assert len(server.seen("POST")) == 1
