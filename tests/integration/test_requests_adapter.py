"""The requests adapters against the emulator on loopback: real sockets, no mocks. The
emulator is strict as Django is: 403 unless the cookie and the header carry a token it issued
and the Origin is the site's own; the rest of what a browser sends is checked here."""

from __future__ import annotations

import logging

import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.site import token_issued_by
from voigpt import Client
from voigpt.adapters.requests import (
    HttpEndpoint,
    RequestsChatTransport,
    RequestsTokenSource,
    build_session,
)
from voigpt.domain import AccessToken, Conversation
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
from voigpt.emulator import Emulator, Fault


def endpoint(server: Emulator, **kwargs: object) -> HttpEndpoint:
    return HttpEndpoint(build_session(), server.url, **kwargs)  # type: ignore[arg-type]


class TestProtocol:
    def test_token_source_reads_the_csrftoken_cookie_from_get_root(
        self, voigpt_emulator: Emulator
    ) -> None:
        token = RequestsTokenSource(endpoint(voigpt_emulator)).fetch()
        assert token.value == voigpt_emulator.tokens_issued[0]
        [get] = voigpt_emulator.requests
        assert (get.method, get.path) == ("GET", "/")
        assert "Mozilla/5.0" in get.headers["user-agent"]
        assert "text/html" in get.headers["accept"]

    def test_transport_sends_the_csrf_pair_origin_referer_and_json(
        self, voigpt_emulator: Emulator
    ) -> None:
        token = AccessToken(token_issued_by(voigpt_emulator))
        transport = RequestsChatTransport(endpoint(voigpt_emulator))
        text = transport.send(Conversation.from_dicts(HELLO), token)
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

    def test_a_missing_cookie_is_a_clear_token_unavailable(
        self, voigpt_emulator: Emulator
    ) -> None:
        voigpt_emulator.inject(Fault.HTML_INSTEAD_OF_JSON, endpoint="token")  # 200, no cookie
        with pytest.raises(TokenUnavailable, match=r"set no 'csrftoken' cookie"):
            RequestsTokenSource(endpoint(voigpt_emulator)).fetch()

    def test_a_rejected_token_is_access_rejected(self, voigpt_emulator: Emulator) -> None:
        with pytest.raises(AccessRejected, match="HTTP 403") as info:
            RequestsChatTransport(endpoint(voigpt_emulator)).send(
                Conversation.from_dicts(HELLO), AccessToken("neverissued")
            )
        assert "CSRF verification failed" in info.value.excerpt
        assert [r.status for r in voigpt_emulator.rejections] == [403]


class TestClientOverHttp:
    def test_keeps_one_connection_and_one_token_across_calls(
        self, voigpt_emulator: Emulator
    ) -> None:
        with Client(base_url=voigpt_emulator.url, environ={}) as client:
            replies = [client.complete(HELLO).text for _ in range(5)]
        assert replies == [EMULATOR_REPLY] * 5
        assert [r.method for r in voigpt_emulator.requests] == ["GET"] + ["POST"] * 5
        assert len({r.client for r in voigpt_emulator.requests}) == 1

    def test_refreshes_a_revoked_token_once_and_succeeds(self, voigpt_emulator: Emulator) -> None:
        with Client(base_url=voigpt_emulator.url, environ={}) as client:
            client.complete(HELLO)
            voigpt_emulator.revoke_tokens()
            assert client.complete(HELLO).text == EMULATOR_REPLY
        assert len(voigpt_emulator.tokens_issued) == 2
        methods = [r.method for r in voigpt_emulator.requests]
        assert methods == ["GET", "POST", "POST", "GET", "POST"]


class TestFailures:
    def complete(self, server: Emulator, **settings: object) -> str:
        token = token_issued_by(server)
        settings.setdefault("retries", 0)
        client = Client(base_url=server.url, access_token=token, environ={}, **settings)
        with client:
            return client.complete(HELLO).text

    def test_a_stalled_server_times_out_within_the_timeout(
        self, voigpt_emulator: Emulator
    ) -> None:
        voigpt_emulator.inject(Fault.SLOW, delay=5)
        with pytest.raises(TimedOut, match=r"did not answer within 0\.3s"):
            self.complete(voigpt_emulator, timeout=0.3)

    def test_a_closed_port_is_connection_failed_naming_the_url(self) -> None:
        with Emulator() as gone:
            url = gone.url
        client = Client(base_url=url, environ={}, timeout=2)
        with client, pytest.raises(ConnectionFailed, match=f"could not connect to {url}/"):
            client.complete(HELLO)

    def test_html_instead_of_json_is_a_runtime_error_with_an_excerpt(
        self, voigpt_emulator: Emulator
    ) -> None:
        voigpt_emulator.inject(Fault.HTML_INSTEAD_OF_JSON)  # the site's maintenance page
        with pytest.raises(RuntimeError, match=r"is not JSON.*maintenance") as info:
            self.complete(voigpt_emulator)
        assert isinstance(info.value, MalformedReply)

    def test_429_carries_retry_after(self, voigpt_emulator: Emulator) -> None:
        voigpt_emulator.inject(Fault.RATE_LIMITED, retry_after="7")
        with pytest.raises(RateLimited, match="retry after 7s") as info:
            self.complete(voigpt_emulator)
        assert info.value.retry_after == 7.0

    def test_5xx_is_service_unavailable(self, voigpt_emulator: Emulator) -> None:
        voigpt_emulator.inject(Fault.SERVER_ERROR, status=502)
        with pytest.raises(ServiceUnavailable, match="HTTP 502") as info:
            self.complete(voigpt_emulator)
        assert info.value.status == 502

    def test_an_anti_bot_page_is_blocked_and_suggests_a_way_out(
        self, voigpt_emulator: Emulator
    ) -> None:
        voigpt_emulator.inject(Fault.ANTI_BOT, status=403)
        with pytest.raises(Blocked, match=r"--access-token.*--proxy"):
            self.complete(voigpt_emulator)

    def test_an_oversized_reply_is_refused(self, voigpt_emulator: Emulator) -> None:
        voigpt_emulator.inject(Fault.OVERSIZED, size=5000)
        with pytest.raises(ReplyTooLarge, match="1024 byte cap"):
            self.complete(voigpt_emulator, max_reply_bytes=1024)


def test_debug_logs_never_show_the_token(
    voigpt_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Client(base_url=voigpt_emulator.url, environ={}) as client:
        client.complete(HELLO)
    token = voigpt_emulator.tokens_issued[0]
    ours = [r for r in caplog.records if not r.name.startswith("voigpt.emulator")]
    assert any("generate_response" in r.getMessage() for r in ours)
    assert all(token not in r.getMessage() for r in caplog.records)
