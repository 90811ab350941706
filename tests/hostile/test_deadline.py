"""Class 1: one deadline over the whole exchange. ``Client(timeout=T)`` ends within about T
(asserted: 2.5 T + 1 s) whatever the server does: trickled bodies, headers, status lines
and chunked streams, endless interim answers, slow proxy handshakes (SOCKS5, HTTP
CONNECT), slow redirect hops, stalls, retries. Each byte arrives well within the read
timeout, so only a deadline over the whole exchange ends the call.

Every case waits about T by design, so the cases of one transport run concurrently, once
(the ``outcomes`` fixture), and each test asserts its own case's outcome: the module takes
a couple of seconds, not one per case. The bound is generous enough for that.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

import voigpt
from tests.hostile.checks import Outcome, bound, expect_error, expect_within, run
from tests.hostile.conftest import TRANSPORTS, clients_of, requests_environment_cleared
from tests.hostile.servers import (
    Conn,
    Handler,
    HostileServer,
    Request,
    TrickleSocks5,
    head,
    normal_except,
    normal_get,
    response,
    stall,
)

BODY = b'{"response": "' + b"a" * 99_984 + b'"}'  # 100 kB


def _cookie() -> tuple[str, str]:
    return ("Set-Cookie", "csrftoken=" + "T0k3n" * 6 + "ab; Path=/")


# -- scripts --------------------------------------------------------------------------------

def trickled_body(conn: Conn, request: Request) -> None:
    conn.send(head(200, [("Content-Type", "application/json"),
                         ("Content-Length", str(len(BODY))), _cookie()]))
    conn.trickle(BODY, delay=0.05)


def trickled_headers(conn: Conn, request: Request) -> None:
    conn.send(b"HTTP/1.1 200 OK\r\n")
    conn.trickle_forever(b"X-Slow: 1\r\n", delay=0.05)


def trickled_status_line(conn: Conn, request: Request) -> None:
    conn.trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", delay=0.3)


def trickled_chunks(conn: Conn, request: Request) -> None:
    conn.send(head(200, [("Content-Type", "application/json"),
                         ("Transfer-Encoding", "chunked"), _cookie()]))
    conn.trickle_forever(b"1\r\na\r\n", delay=0.05)


def slow_bytes_under_read_timeout(conn: Conn, request: Request) -> None:
    conn.send(head(200, [("Content-Type", "application/json"),
                         ("Content-Length", str(len(BODY))), _cookie()]))
    conn.trickle(BODY, delay=0.9)  # each byte 0.9 s apart; the read timeout is 1.5 s


def endless_interim(conn: Conn, request: Request) -> None:
    while True:
        conn.send(b"HTTP/1.1 102 Processing\r\n\r\n")
        conn.sleep(0.2)


def slow_503(conn: Conn, request: Request) -> None:
    conn.sleep(1.2)
    conn.send(response(503, "busy"))


def rate_limited(conn: Conn, request: Request) -> None:
    conn.send(response(429, "slow down", headers=[("Retry-After", "2")]))


def slow_redirect_hops(conn: Conn, request: Request) -> None:
    """Each hop answers after 0.8 s (within the read timeout) and sends to the next."""
    hop = conn.server.count("hops")
    conn.sleep(0.8)
    if hop >= 30:
        normal_get(conn, request)
    else:
        conn.send(response(302, "", headers=[("Location", f"/hop{hop + 1}")]))


def connect_trickled(conn: Conn, request: Request) -> None:
    conn.trickle(b"HTTP/1.1 200 Connection established\r\n", delay=0.05)
    conn.trickle_forever(b"X-Slow: 1\r\n", delay=0.05)


def tls_record_trickle(conn: Conn) -> None:
    """For an https:// base URL: a TLS record header announcing 16 kB, then 1 byte/50 ms."""
    conn.send(b"\x16\x03\x03\x40\x00")
    conn.trickle_forever(b"\x02", delay=0.05)


def silent(conn: Conn) -> None:
    conn.hold()


# -- cases ----------------------------------------------------------------------------------

@dataclass
class Rig:
    """What one case starts; everything is stopped when the case ends."""

    timeout: float
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    servers: list[HostileServer] = field(default_factory=list)

    @property
    def budget(self) -> float:
        return bound(self.timeout) + 2.5

    def serve(self, handler: Handler | None = None, **kwargs: Any) -> HostileServer:
        server = HostileServer(handler, budget=self.budget, **kwargs).start()
        self.stack.callback(server.stop)
        self.servers.append(server)
        return server

    def socks(self, **kwargs: Any) -> TrickleSocks5:
        server = TrickleSocks5(budget=self.budget, **kwargs).start()
        self.stack.callback(server.stop)
        return server

    def never_accepting_port(self) -> int:
        """A listener that never calls accept(): connect succeeds, nothing ever comes."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        self.stack.callback(listener.close)
        return int(listener.getsockname()[1])


Setup = Callable[[Rig], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    timeout: float
    setup: Setup  # starts the servers, returns the client's settings (timeout added)
    kind: type[voigpt.VoiGptError] = voigpt.TimedOut


def on(where: str, script: Callable[[Conn, Request], None]) -> Setup:
    """The site answers ``where`` ("get"/"post") with ``script``, the rest normally."""
    def setup(rig: Rig) -> dict[str, Any]:
        return {"base_url": rig.serve(normal_except(**{where: script})).url}
    return setup


def raw(script: Callable[[Conn], None], scheme: str = "http") -> Setup:
    def setup(rig: Rig) -> dict[str, Any]:
        return {"base_url": f"{scheme}://127.0.0.1:{rig.serve(raw=script).port}"}
    return setup


def slow_socks(scheme: str, user: str | None = None, password: str | None = None) -> Setup:
    """Every handshake byte 0.45 s apart (within the 1 s connect/read timeouts): the whole
    SOCKS handshake takes 5-6 s."""
    def setup(rig: Rig) -> dict[str, Any]:
        site = rig.serve()
        proxy = rig.socks(delay=0.45, username=user, password=password)
        auth = f"{user}:{password}@" if user else ""
        return {"base_url": site.url, "proxy": f"{scheme}://{auth}127.0.0.1:{proxy.port}"}
    return setup


def via_http_proxy(base_url: str, script: Handler) -> Setup:
    def setup(rig: Rig) -> dict[str, Any]:
        return {"base_url": base_url, "proxy": rig.serve(script).url}
    return setup


def never_accepts(rig: Rig) -> dict[str, Any]:
    return {"base_url": f"http://127.0.0.1:{rig.never_accepting_port()}"}


def retried(script: Callable[[Conn, Request], None], retries: int) -> Setup:
    def setup(rig: Rig) -> dict[str, Any]:
        return {"base_url": rig.serve(normal_except(post=script)).url, "retries": retries}
    return setup


CASES: dict[str, Case] = {
    "post-body-1B-per-50ms": Case(1.0, on("post", trickled_body)),
    "get-body-1B-per-50ms": Case(1.0, on("get", trickled_body)),
    "post-headers-trickled": Case(1.0, on("post", trickled_headers)),
    "get-headers-trickled": Case(1.0, on("get", trickled_headers)),
    "post-status-line-1B-per-300ms": Case(1.0, on("post", trickled_status_line)),
    "post-endless-chunked": Case(1.0, on("post", trickled_chunks)),
    "get-endless-chunked": Case(1.0, on("get", trickled_chunks)),
    "post-1B-per-900ms-read-timeout-1.5": Case(1.5, on("post", slow_bytes_under_read_timeout)),
    "post-endless-102-processing": Case(1.0, on("post", endless_interim)),
    "get-endless-102-processing": Case(1.0, on("get", endless_interim)),
    "get-slow-redirect-chain": Case(1.0, on("get", slow_redirect_hops), voigpt.VoiGptError),
    "post-stalls": Case(1.0, on("post", stall)),
    "get-stalls": Case(1.0, on("get", stall)),
    "never-reads-never-answers": Case(1.0, raw(silent)),
    "listener-never-accepts": Case(1.0, never_accepts),
    "tls-record-trickled": Case(1.0, raw(tls_record_trickle, "https"), voigpt.VoiGptError),
    "socks5-slow-handshake": Case(1.0, slow_socks("socks5")),
    "socks5h-slow-handshake": Case(1.0, slow_socks("socks5h")),
    "socks5-slow-user-password-handshake": Case(1.0, slow_socks("socks5", "alice", "s3cret")),
    "http-proxy-CONNECT-trickled": Case(1.0, via_http_proxy("https://voigpt.test",
                                                            connect_trickled)),
    "http-proxy-body-trickled": Case(1.0, via_http_proxy("http://voigpt.test",
                                                         normal_except(post=trickled_body))),
    # Every attempt and every wait counts against the one deadline.
    "retries-of-slow-503s": Case(1.5, retried(slow_503, 2), voigpt.VoiGptError),
    "retry-after-past-the-deadline": Case(1.0, retried(rate_limited, 3), voigpt.VoiGptError),
}


def _run_case(transport: str, case: Case) -> tuple[Outcome, list[BaseException]]:
    rig = Rig(case.timeout)
    with rig.stack, clients_of(transport) as make:
        settings = case.setup(rig)
        outcome = run(lambda: make(timeout=case.timeout, **settings).ask("hi"))
    return outcome, [error for server in rig.servers for error in server.errors]


@pytest.fixture(scope="module", params=sorted(TRANSPORTS), ids=str)
def outcomes(request: pytest.FixtureRequest) -> Iterator[dict[str, tuple[Outcome, list[Any]]]]:
    """Every case of this transport, run at once."""
    with requests_environment_cleared(), ThreadPoolExecutor(len(CASES)) as pool:
        futures = {name: pool.submit(_run_case, request.param, case)
                   for name, case in CASES.items()}
        yield {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_slow_server_ends_within_the_deadline(
    outcomes: dict[str, tuple[Outcome, list[BaseException]]], name: str
) -> None:
    case = CASES[name]
    outcome, script_errors = outcomes[name]
    assert not script_errors, f"a server script failed (a bug in the test): {script_errors!r}"

    expect_within(outcome, case.timeout, what=name)
    expect_error(outcome, case.kind, what=name)
