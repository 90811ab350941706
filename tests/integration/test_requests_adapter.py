"""The requests adapters against a strict server on loopback: real sockets, no mocks."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.strict_server import StrictServer
from voigpt import Client
from voigpt.adapters.requests import (
    HttpEndpoint,
    RequestsChatTransport,
    RequestsTokenSource,
    build_session,
)
from voigpt.domain import AccessToken, Conversation
from voigpt.domain.limits import Timeouts
from voigpt.domain.errors import (
    AccessRejected,
    Blocked,
    ConnectionFailed,
    MalformedReply,
    RateLimited,
    ReplyTooLarge,
    ServiceUnavailable,
    TimedOut,
    TokenUnavailable,
)

HELLO = [{"role": "user", "content": "Hello"}]


def endpoint(server: StrictServer, **kwargs: object) -> HttpEndpoint:
    return HttpEndpoint(build_session(), server.url, **kwargs)  # type: ignore[arg-type]


class TestProtocol:
    def test_token_source_reads_the_csrftoken_cookie_from_get_root(
        self, strict: StrictServer
    ) -> None:
        token = RequestsTokenSource(endpoint(strict)).fetch()
        assert token.value == strict.issued[0]
        [get] = strict.requests("GET")
        assert get.path == "/"
        assert "Mozilla/5.0" in get.headers["User-Agent"]
        assert "text/html" in get.headers["Accept"]

    def test_transport_sends_the_csrf_pair_origin_referer_and_json(
        self, strict: StrictServer
    ) -> None:
        token = AccessToken(strict.issue())
        text = RequestsChatTransport(endpoint(strict)).send(Conversation.from_dicts(HELLO), token)
        assert text == "strict echo: Hello"
        [post] = strict.requests("POST")
        assert post.path == "/generate_response/"
        assert post.headers["Cookie"] == f"csrftoken={token.value}"
        assert post.headers["X-CSRFToken"] == token.value
        assert post.headers["Origin"] == strict.url
        assert post.headers["Referer"] == strict.url + "/"
        assert post.headers["Content-Type"] == "application/json"
        assert "Mozilla/5.0" in post.headers["User-Agent"]
        assert json.loads(post.body) == {"messages": HELLO}

    def test_a_missing_cookie_is_a_clear_token_unavailable(self, strict: StrictServer) -> None:
        strict.then_answer(
            200, "<html>no cookie here</html>", headers={"Content-Type": "text/html"}
        )
        with pytest.raises(TokenUnavailable, match=r"set no 'csrftoken' cookie"):
            RequestsTokenSource(endpoint(strict)).fetch()

    def test_a_rejected_token_is_access_rejected(self, strict: StrictServer) -> None:
        with pytest.raises(AccessRejected, match="HTTP 403") as info:
            RequestsChatTransport(endpoint(strict)).send(
                Conversation.from_dicts(HELLO), AccessToken("neverissued")
            )
        assert "CSRF verification failed" in info.value.excerpt


class TestClientOverHttp:
    def test_keeps_one_connection_and_one_token_across_calls(self, strict: StrictServer) -> None:
        with Client(base_url=strict.url, environ={}) as client:
            replies = [client.complete(HELLO).text for _ in range(5)]
        assert replies == ["strict echo: Hello"] * 5
        assert len(strict.requests("GET")) == 1
        assert len({seen.peer for seen in strict.seen}) == 1

    def test_refreshes_a_revoked_token_once_and_succeeds(self, strict: StrictServer) -> None:
        with Client(base_url=strict.url, environ={}) as client:
            client.complete(HELLO)
            strict.revoke_all()
            assert client.complete(HELLO).text == "strict echo: Hello"
        assert len(strict.issued) == 2
        assert [s.method for s in strict.seen] == ["GET", "POST", "POST", "GET", "POST"]


class TestFailures:
    def complete(self, server: StrictServer, **settings: object) -> str:
        token = server.issue()
        settings.setdefault("retries", 0)
        client = Client(base_url=server.url, access_token=token, environ={}, **settings)
        with client:
            return client.complete(HELLO).text

    def test_a_stalled_server_times_out_within_the_timeout(self, strict: StrictServer) -> None:
        strict.then_answer(200, '{"response": "late"}', delay=5)
        with pytest.raises(TimedOut, match=r"did not answer within 0\.3s"):
            self.complete(strict, timeout=0.3)

    def test_a_closed_port_is_connection_failed_naming_the_url(self) -> None:
        server = StrictServer().start()
        url = server.url
        server.stop()
        client = Client(base_url=url, environ={}, timeout=2)
        with client, pytest.raises(ConnectionFailed, match=f"could not connect to {url}/"):
            client.complete(HELLO)

    def test_html_instead_of_json_is_a_runtime_error_with_an_excerpt(
        self, strict: StrictServer
    ) -> None:
        strict.then_answer(200, "<html>maintenance</html>", headers={"Content-Type": "text/html"})
        with pytest.raises(RuntimeError, match=r"is not JSON.*maintenance") as info:
            self.complete(strict)
        assert isinstance(info.value, MalformedReply)

    def test_429_carries_retry_after(self, strict: StrictServer) -> None:
        strict.then_answer(429, "slow down", headers={"Retry-After": "7"})
        with pytest.raises(RateLimited, match="retry after 7s") as info:
            self.complete(strict)
        assert info.value.retry_after == 7.0

    def test_5xx_is_service_unavailable(self, strict: StrictServer) -> None:
        strict.then_answer(502, "bad gateway")
        with pytest.raises(ServiceUnavailable, match="HTTP 502") as info:
            self.complete(strict)
        assert info.value.status == 502

    def test_an_anti_bot_page_is_blocked_and_suggests_a_way_out(
        self, strict: StrictServer
    ) -> None:
        page = "<html><title>Just a moment...</title>cf-challenge</html>"
        strict.then_answer(403, page, headers={"Content-Type": "text/html"})
        with pytest.raises(Blocked, match=r"--access-token.*--proxy"):
            self.complete(strict)

    def test_an_oversized_reply_is_refused(self, strict: StrictServer) -> None:
        strict.then_answer(200, json.dumps({"response": "x" * 5000}))
        with pytest.raises(ReplyTooLarge, match="1024 byte cap"):
            self.complete(strict, max_reply_bytes=1024)


def test_debug_logs_never_show_the_token(
    strict: StrictServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Client(base_url=strict.url, environ={}) as client:
        client.complete(HELLO)
    token = strict.issued[0]
    assert any("generate_response" in r.getMessage() for r in caplog.records)
    assert all(token not in r.getMessage() for r in caplog.records)


def test_timeouts_from_one_number_bound_connect_and_read() -> None:
    assert Timeouts.total(3) == Timeouts(connect=3, read=3)
    assert Timeouts.total(120) == Timeouts(connect=10, read=120)
