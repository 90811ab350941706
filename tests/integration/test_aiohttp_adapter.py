"""The aiohttp adapters against the emulator (and a few raw servers) on loopback: real
sockets, no mocks, each scenario one ``asyncio.run``. The same protocol, keep-alive, error
mapping, size cap, deadline and TLS promises as the requests adapter."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trustme

from tests.hostile.servers import (
    Conn,
    Request,
    chunked,
    head,
    json_response,
    normal_except,
    normal_post,
    reply_for,
    serving,
)
from tests.support.faults import FAULTS
from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.site import token_issued_by
from voigpt.adapters.aiohttp import AiohttpChatTransport, AiohttpEndpoint, AiohttpTokenSource
from voigpt.adapters.environment import Environment
from voigpt.adapters.monotonic import SystemClock
from voigpt.adapters.requests import HttpEndpoint, RequestsChatTransport, build_session
from voigpt.domain import AccessToken, Conversation
from voigpt.domain.errors import (
    AccessRejected,
    Blocked,
    ConnectionFailed,
    RateLimited,
    ReplyTooLarge,
    TimedOut,
    TokenUnavailable,
    UntrustedCertificate,
    VoiGptError,
)
from voigpt.domain.limits import Timeouts
from voigpt.domain.retry import Deadline
from voigpt.emulator import Emulator, Fault

T = TypeVar("T")
NO_ENVIRONMENT = Environment(proxies={}, ca_bundle=None)
CONVERSATION = Conversation.from_dicts(HELLO)


def endpoint(url: str, **kwargs: Any) -> AiohttpEndpoint:
    kwargs.setdefault("environment", NO_ENVIRONMENT)
    return AiohttpEndpoint(url, **kwargs)


def deadline(seconds: float) -> Deadline:
    return Deadline.after(SystemClock(), seconds)


def run(point: AiohttpEndpoint, scenario: Callable[[], Awaitable[T]]) -> T:
    """``scenario()`` in a fresh event loop, the endpoint's session closed after."""

    async def main() -> T:
        try:
            return await scenario()
        finally:
            await point.aclose()

    return asyncio.run(main())


def ask(point: AiohttpEndpoint, prompt: str, token: str) -> Awaitable[str]:
    conversation = Conversation.from_dicts([{"role": "user", "content": prompt}])
    return AiohttpChatTransport(point).send(conversation, AccessToken(token), deadline=deadline(2))


class TestProtocol:
    def test_token_source_reads_the_csrftoken_cookie_from_get_root(
        self, voigpt_emulator: Emulator
    ) -> None:
        point = endpoint(voigpt_emulator.url)
        token = run(point, lambda: AiohttpTokenSource(point).fetch())
        assert token.value == voigpt_emulator.tokens_issued[0]
        [get] = voigpt_emulator.requests
        assert (get.method, get.path) == ("GET", "/")
        assert "Mozilla/5.0" in get.headers["user-agent"]
        assert "text/html" in get.headers["accept"]

    def test_transport_sends_the_csrf_pair_origin_referer_and_json(
        self, voigpt_emulator: Emulator
    ) -> None:
        token = AccessToken(token_issued_by(voigpt_emulator))
        point = endpoint(voigpt_emulator.url)
        text = run(point, lambda: AiohttpChatTransport(point).send(CONVERSATION, token))
        assert text == EMULATOR_REPLY
        [post] = voigpt_emulator.requests
        assert (post.method, post.path) == ("POST", "/generate_response/")
        assert post.headers["cookie"] == f"csrftoken={token.value}"
        assert post.headers["x-csrftoken"] == token.value
        assert post.headers["origin"] == voigpt_emulator.url
        assert post.headers["referer"] == voigpt_emulator.url + "/"
        assert post.headers["content-type"] == "application/json"
        assert "Mozilla/5.0" in post.headers["user-agent"]
        assert post.json() == {"messages": HELLO}

    def test_one_kept_alive_connection_carries_the_token_get_and_every_post(
        self, voigpt_emulator: Emulator
    ) -> None:
        point = endpoint(voigpt_emulator.url)

        async def scenario() -> list[str]:
            token = await AiohttpTokenSource(point).fetch(deadline=deadline(2))
            transport = AiohttpChatTransport(point)
            return [await transport.send(CONVERSATION, token, deadline=deadline(2))
                    for _ in range(4)]

        assert run(point, scenario) == [EMULATOR_REPLY] * 4
        assert [r.method for r in voigpt_emulator.requests] == ["GET"] + ["POST"] * 4
        assert len({r.client for r in voigpt_emulator.requests}) == 1

    def test_built_outside_a_loop_and_used_from_one_loop_after_another(
        self, voigpt_emulator: Emulator
    ) -> None:
        """The container builds endpoints outside any loop; each loop gets its own session."""
        point = endpoint(voigpt_emulator.url)
        token = AccessToken(token_issued_by(voigpt_emulator))

        async def send() -> str:
            return await AiohttpChatTransport(point).send(CONVERSATION, token)

        assert asyncio.run(send()) == EMULATOR_REPLY  # the first loop closes; not its session
        assert run(point, send) == EMULATOR_REPLY
        assert run(point, send) == EMULATOR_REPLY  # after aclose(), a new session
        assert len({r.client for r in voigpt_emulator.requests}) == 3

    def test_a_missing_cookie_is_a_clear_token_unavailable(
        self, voigpt_emulator: Emulator
    ) -> None:
        voigpt_emulator.inject(Fault.HTML_INSTEAD_OF_JSON, endpoint="token")  # 200, no cookie
        point = endpoint(voigpt_emulator.url)
        with pytest.raises(TokenUnavailable, match=r"set no 'csrftoken' cookie"):
            run(point, lambda: AiohttpTokenSource(point).fetch())

    def test_a_rejected_token_is_access_rejected(self, voigpt_emulator: Emulator) -> None:
        point = endpoint(voigpt_emulator.url)
        with pytest.raises(AccessRejected, match="HTTP 403") as info:
            run(point, lambda: AiohttpChatTransport(point).send(
                CONVERSATION, AccessToken("neverissued")))
        assert "CSRF verification failed" in info.value.excerpt


# -- every emulator fault: the same error as the requests adapter ---------------------------



def sync_outcome(emulator: Emulator, token: AccessToken) -> VoiGptError:
    point = HttpEndpoint(
        build_session(), emulator.url, Timeouts.total(2), environment=NO_ENVIRONMENT
    )
    try:
        RequestsChatTransport(point).send(CONVERSATION, token, deadline=deadline(2))
    except VoiGptError as exc:
        return exc
    finally:
        point.session.close()
    raise AssertionError("the requests adapter did not fail")


@pytest.mark.parametrize(("fault", "params", "expected", "words"), FAULTS,
                         ids=lambda v: getattr(v, "name", None) if isinstance(v, Fault) else None)
def test_each_fault_is_the_same_error_as_with_the_requests_adapter_and_then_recovers(
    voigpt_emulator: Emulator, fault: Fault, params: dict[str, Any],
    expected: type[VoiGptError], words: str,
) -> None:
    token = AccessToken(token_issued_by(voigpt_emulator))
    point = endpoint(voigpt_emulator.url, timeouts=Timeouts.total(2))
    transport = AiohttpChatTransport(point)

    async def scenario() -> tuple[VoiGptError, float, str]:
        await transport.send(CONVERSATION, token, deadline=deadline(2))  # warm: one connection
        voigpt_emulator.inject(fault, **params)
        started = time.monotonic()
        with pytest.raises(VoiGptError) as info:
            await transport.send(CONVERSATION, token, deadline=deadline(2))
        seconds = time.monotonic() - started
        return info.value, seconds, await transport.send(CONVERSATION, token, deadline=deadline(2))

    error, seconds, after = run(point, scenario)
    assert type(error) is expected, repr(error)
    assert words in str(error)
    assert seconds < 3
    assert after == EMULATOR_REPLY  # one-shot fault; a clean connection serves the next call
    voigpt_emulator.inject(fault, **params)
    same = sync_outcome(voigpt_emulator, token)
    assert type(same) is type(error), (same, error)
    if isinstance(error, RateLimited):
        assert isinstance(same, RateLimited) and error.retry_after == same.retry_after == 4.0


def test_a_fault_on_the_token_page_is_reported_as_such(voigpt_emulator: Emulator) -> None:
    voigpt_emulator.inject(Fault.ANTI_BOT, endpoint="token")
    point = endpoint(voigpt_emulator.url)
    with pytest.raises(Blocked, match="fetching a token"):
        run(point, lambda: AiohttpTokenSource(point).fetch())


def test_a_closed_port_is_connection_failed_naming_the_url() -> None:
    with Emulator() as gone:
        url = gone.url
    point = endpoint(url)
    with pytest.raises(ConnectionFailed, match=f"could not connect to {url}/"):
        run(point, lambda: AiohttpTokenSource(point).fetch(deadline=deadline(2)))


# -- the size cap ---------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "fits"), [(1024, True), (1025, False)])
def test_the_size_cap_holds_at_the_exact_boundary(
    voigpt_emulator: Emulator, size: int, fits: bool
) -> None:
    token = token_issued_by(voigpt_emulator)
    voigpt_emulator.inject(Fault.OVERSIZED, size=size)
    point = endpoint(voigpt_emulator.url, max_reply_bytes=1024)
    if fits:
        assert run(point, lambda: ask(point, "Hello", token)).startswith("xxx")
    else:
        with pytest.raises(ReplyTooLarge, match="1024 byte cap"):
            run(point, lambda: ask(point, "Hello", token))


def test_the_size_cap_holds_while_streaming_an_undeclared_length() -> None:
    def post(conn: Conn, request: Request) -> None:
        conn.send(head(200, [("Content-Type", "application/json"),
                             ("Transfer-Encoding", "chunked")]))
        conn.send(chunked([b'{"response": "', b"x" * 600, b"x" * 600, b'"}']))

    with serving(normal_except(post=post)) as server:
        point = endpoint(server.url, max_reply_bytes=1000)
        with pytest.raises(ReplyTooLarge, match="1000 byte cap"):
            run(point, lambda: ask(point, "Hello", "A" * 32))


# -- one deadline, cancellation, clean reuse --------------------------------------------------

def test_a_trickling_server_is_cut_off_by_the_deadline() -> None:
    """Each byte comes well inside the read timeout: only the deadline can end the call."""
    def post(conn: Conn, request: Request) -> None:
        conn.send(head(200, [("Content-Type", "application/json"), ("Content-Length", "999")]))
        conn.trickle(b"x" * 999, delay=0.05)

    with serving(normal_except(post=post)) as server:
        point = endpoint(server.url)
        started = time.monotonic()
        with pytest.raises(TimedOut, match=r"the 0\.8s deadline passed"):
            run(point, lambda: AiohttpChatTransport(point).send(
                CONVERSATION, AccessToken("A" * 32), deadline=deadline(0.8)))
        assert time.monotonic() - started < 1.5


def test_cancellation_propagates_and_the_next_call_gets_its_own_reply() -> None:
    def post(conn: Conn, request: Request) -> None:
        if request.prompt == "first":
            conn.sleep(1.0)  # the caller is cancelled meanwhile; this answer comes late
        normal_post(conn, request)

    with serving(normal_except(post=post)) as server:
        point = endpoint(server.url)

        async def scenario() -> str:
            task = asyncio.ensure_future(ask(point, "first", "A" * 32))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(1.0)  # the late answer arrives, if the connection is still open
            return await ask(point, "second", "A" * 32)

        assert run(point, scenario) == "reply to: second"


def test_an_answer_arriving_on_an_idle_pooled_connection_is_not_the_next_reply() -> None:
    """aiohttp reuses any pooled connection that is still open; bytes sent on it while idle
    would be read as the next request's answer. The adapter's connector refuses those."""
    def post(conn: Conn, request: Request) -> None:
        normal_post(conn, request)
        conn.sleep(0.2)
        conn.send(json_response({"response": "FORGED " + reply_for(request)}))

    with serving(normal_except(post=post)) as server:
        point = endpoint(server.url)

        async def scenario() -> list[str]:
            replies = [await ask(point, "first", "A" * 32)]
            await asyncio.sleep(0.5)
            replies.append(await ask(point, "second", "A" * 32))
            return replies

        assert run(point, scenario) == ["reply to: first", "reply to: second"]


def test_debug_logs_never_show_the_token(
    voigpt_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = token_issued_by(voigpt_emulator)
    point = endpoint(voigpt_emulator.url)
    run(point, lambda: ask(point, "Hello", token))
    assert any("generate_response" in r.getMessage() for r in caplog.records)
    assert all(token not in r.getMessage() for r in caplog.records)


# -- TLS ------------------------------------------------------------------------------------

def test_completes_over_tls_trusted_through_requests_ca_bundle(
    ca: trustme.CA, tls_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    point = AiohttpEndpoint(tls_emulator.url, environment=Environment.read(tls_emulator.url))

    async def scenario() -> list[str]:
        token = await AiohttpTokenSource(point).fetch()
        transport = AiohttpChatTransport(point)
        return [await transport.send(CONVERSATION, token) for _ in range(2)]

    assert run(point, scenario) == [EMULATOR_REPLY] * 2
    assert [r.method for r in tls_emulator.requests] == ["GET", "POST", "POST"]
    assert len({r.client for r in tls_emulator.requests}) == 1  # one handshake, reused
    assert tls_emulator.requests[1].headers["origin"] == tls_emulator.url


def test_an_untrusted_certificate_is_untrusted_certificate_naming_the_url(
    tls_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    point = AiohttpEndpoint(tls_emulator.url, environment=Environment.read(tls_emulator.url))
    with pytest.raises(UntrustedCertificate) as caught:
        run(point, lambda: AiohttpTokenSource(point).fetch(deadline=deadline(2)))
    message = str(caught.value)
    assert tls_emulator.url in message and "REQUESTS_CA_BUNDLE" in message
    assert "".join(traceback.format_exception(caught.value)).count("SSLCertVerificationError")
    assert tls_emulator.requests == []  # nothing got past the handshake

