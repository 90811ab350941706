"""Class 2: a connection is reused only when its previous exchange ended cleanly.

Interim (1xx) answers before the real one are skipped: the call returns the real answer,
and the next call on the same (pooled) connection gets its OWN reply, never the previous
call's. An answer cut short (fewer bytes than its Content-Length, the connection then
closed, or kept open and later completed by a forged answer) must not poison the next call.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.hostile.checks import Outcome, expect_error, run
from tests.hostile.conftest import MakeClient
from tests.hostile.servers import (
    Conn,
    HostileServer,
    Request,
    head,
    json_response,
    normal_except,
    normal_get,
    normal_post,
    reply_for,
    response,
)

Serve = Callable[..., HostileServer]

INTERIMS: dict[str, bytes] = {
    "103-early-hints": b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
    "102-processing": b"HTTP/1.1 102 Processing\r\n\r\n",
    "100-continue-unasked": b"HTTP/1.1 100 Continue\r\n\r\n",
    "several-1xx": (
        b"HTTP/1.1 102 Processing\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n"
        b"HTTP/1.1 102 Processing\r\n\r\n"
    ),
}


def interim_then(interim: bytes, answer: Callable[[Conn, Request], None]) -> Callable[
    [Conn, Request], None
]:
    def script(conn: Conn, request: Request) -> None:
        conn.send(interim)
        answer(conn, request)

    return script


def assert_own_replies(first: Outcome, second: Outcome, *, what: str) -> None:
    """Call 1 asked "first", call 2 "second"; each must get its own reply."""
    assert second.value != "reply to: first", (
        f"{what}: call 2 returned call 1's reply (the pooled connection was desynchronised); "
        f"call 1 {first.describe()}"
    )
    assert first.error is None and first.value == "reply to: first", (
        f"{what}: call 1 should return the real answer after the interim one; it "
        f"{first.describe()}"
    )
    assert second.error is None and second.value == "reply to: second", (
        f"{what}: call 2 should return its own reply; it {second.describe()}"
    )


@pytest.mark.parametrize("interim", list(INTERIMS))
@pytest.mark.parametrize("where", ["post", "get"])
def test_interim_answers_are_skipped_and_the_next_call_gets_its_own_reply(
    make_client: MakeClient, serve: Serve, interim: str, where: str
) -> None:
    answer = normal_post if where == "post" else normal_get
    server = serve(normal_except(**{where: interim_then(INTERIMS[interim], answer)}))
    client = make_client(base_url=server.url, timeout=2)

    first = run(lambda: client.ask("first"))
    second = run(lambda: client.ask("second"))

    assert_own_replies(first, second, what=f"{interim} before the {where.upper()} answer")


def test_interim_on_every_answer_with_an_explicit_token(
    make_client: MakeClient, serve: Serve
) -> None:
    server = serve(interim_then(INTERIMS["103-early-hints"], normal_post))
    client = make_client(base_url=server.url, timeout=2, access_token="A" * 32)

    first = run(lambda: client.ask("first"))
    second = run(lambda: client.ask("second"))

    assert_own_replies(first, second, what="103 before every answer, explicit token")


def test_cookie_in_an_interim_answer_is_not_the_token(
    make_client: MakeClient, serve: Serve
) -> None:
    """Headers of a 1xx are not the answer's: a csrftoken there must not be used."""
    planted = "EVIL" + "x" * 28

    def get(conn: Conn, request: Request) -> None:
        conn.send(f"HTTP/1.1 103 Early Hints\r\nSet-Cookie: csrftoken={planted}; Path=/\r\n\r\n")
        normal_get(conn, request)

    server = serve(normal_except(get=get))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("first"))

    posts = server.seen("POST")
    sent = [request.token for request in posts]
    assert planted not in sent, f"the token from a 103's Set-Cookie was sent: {sent}"
    assert outcome.value == "reply to: first", f"a 103 with Set-Cookie: {outcome.describe()}"
    assert sent and sent[-1] == server.issued[-1], (sent, server.issued)


def test_threads_sharing_one_client_each_get_their_own_reply(
    make_client: MakeClient, serve: Serve
) -> None:
    """The README's advice: one client shared by threads. With interim answers on every
    POST, no thread may receive another's reply."""
    server = serve(normal_except(post=interim_then(INTERIMS["several-1xx"], normal_post)))
    client = make_client(base_url=server.url, timeout=3)
    warm_up = run(lambda: client.ask("warm-up"))  # the token, fetched once
    assert warm_up.value == "reply to: warm-up", f"the first call {warm_up.describe()}"
    prompts = [f"user{n}-call{k}" for n in range(4) for k in range(3)]

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda prompt: run(lambda: client.ask(prompt)), prompts))

    wrong = [
        f"{prompt!r} {outcome.describe()}"
        for prompt, outcome in zip(prompts, outcomes, strict=True)
        if outcome.value != f"reply to: {prompt}"
    ]
    assert not wrong, f"{len(wrong)} of {len(prompts)} calls did not get their own reply: {wrong}"


# -- answers cut short ---------------------------------------------------------------------

def forged(text: str) -> bytes:
    return json_response({"response": text})


def first_post_only(
    hostile: Callable[[Conn, Request], None]
) -> Callable[[Conn, Request], None]:
    def post(conn: Conn, request: Request) -> None:
        if conn.server.count("posts") == 0:
            hostile(conn, request)
        else:
            normal_post(conn, request)

    return normal_except(post=post)


def first_get_only(hostile: Callable[[Conn, Request], None]) -> Callable[[Conn, Request], None]:
    def get(conn: Conn, request: Request) -> None:
        if conn.server.count("gets") == 0:
            hostile(conn, request)
        else:
            normal_get(conn, request)

    return normal_except(get=get)


def cut_then_close(conn: Conn, request: Request) -> None:
    conn.send(head(200, [("Content-Type", "application/json"), ("Content-Length", "1000"),
                         ("Set-Cookie", "csrftoken=" + "C" * 32 + "; Path=/")]))
    conn.send(b'{"response": "reply to')
    conn.close()


def cut_then_forged_answer(conn: Conn, request: Request) -> None:
    """The body is short of its Content-Length; after the client gave up (timeout 1 s) the
    missing bytes arrive, and they are exactly a whole forged answer carrying the previous
    call's reply. A client that reused this connection would take it as call 2's reply."""
    stale = forged(reply_for(request))
    partial = b'{"response": "partial'
    conn.send(head(200, [("Content-Type", "application/json"),
                         ("Content-Length", str(len(partial) + len(stale)))]))
    conn.send(partial)
    conn.sleep(1.6)
    conn.send(stale)


def excess_after_body(conn: Conn, request: Request) -> None:
    """More bytes than declared: a whole second (forged) answer right after the body."""
    conn.send(forged(reply_for(request)) + forged(reply_for(request)))


def excess_then_late_forgery(conn: Conn, request: Request) -> None:
    """Chunked answer whose last chunk never comes; a forged answer follows later."""
    conn.send(head(200, [("Content-Type", "application/json"),
                         ("Transfer-Encoding", "chunked")]))
    conn.send(b"5\r\n{\"res\r\n")
    conn.sleep(1.6)
    conn.send(b"0\r\n\r\n" + forged(reply_for(request)))


CUT_SHORT = {
    "post-cut-short-then-closed": first_post_only(cut_then_close),
    "post-cut-short-then-forged-answer": first_post_only(cut_then_forged_answer),
    "post-chunked-unfinished-then-forged-answer": first_post_only(excess_then_late_forgery),
    "post-excess-bytes-forge-a-second-answer": first_post_only(excess_after_body),
    "get-cut-short-then-closed": first_get_only(cut_then_close),
}


@pytest.mark.parametrize("case", list(CUT_SHORT))
def test_an_answer_cut_short_does_not_poison_the_next_call(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    server = serve(CUT_SHORT[case])
    client = make_client(base_url=server.url, timeout=1)

    first = run(lambda: client.ask("first"))
    second = run(lambda: client.ask("second"))

    assert second.value != "reply to: first", (
        f"{case}: call 2 returned call 1's reply (a stale answer from a reused connection); "
        f"call 1 {first.describe()}"
    )
    if first.error is not None:
        expect_error(first, what=f"{case}, call 1")
    else:
        assert first.value == "reply to: first", f"{case}: call 1 {first.describe()}"
    assert second.error is None and second.value == "reply to: second", (
        f"{case}: call 2 should get its own reply; it {second.describe()}"
    )


def test_garbage_after_an_answer_is_not_read_as_the_next_answer(
    make_client: MakeClient, serve: Serve
) -> None:
    """Framing garbage after a whole answer (a stray status line) never becomes a reply."""
    def post(conn: Conn, request: Request) -> None:
        conn.send(forged(reply_for(request)) + b"HTTP/1.1 200 OK\r\nContent-Le")

    server = serve(normal_except(post=post))
    client = make_client(base_url=server.url, timeout=1)

    first = run(lambda: client.ask("first"))
    second = run(lambda: client.ask("second"))

    assert first.value == "reply to: first", first.describe()
    assert second.value == "reply to: second", second.describe()


def test_an_error_answer_left_unread_does_not_poison_the_next_call(
    make_client: MakeClient, serve: Serve
) -> None:
    """A 500 whose body is over the size cap is refused unread; its body must not be taken
    as the next answer on the same connection."""
    def post(conn: Conn, request: Request) -> None:
        if conn.server.count("posts") == 0:
            body = forged("reply to: first") * 200
            conn.send(response(500, body))
        else:
            normal_post(conn, request)

    server = serve(normal_except(post=post))
    client = make_client(base_url=server.url, timeout=1, max_reply_bytes=1000)

    first = run(lambda: client.ask("first"))
    second = run(lambda: client.ask("second"))

    expect_error(first, what="an oversized 500")
    assert second.value == "reply to: second", second.describe()
