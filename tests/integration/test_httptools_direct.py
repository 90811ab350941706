"""The server's direct POSTs (``voigpt.adapters.httptools``, ``AiohttpEndpoint.post_directly``)
against the emulator on loopback: what goes on the wire is what aiohttp sends, TLS is
verified as aiohttp verifies it, connections are kept alive and held to the pool's limit,
and a proxy (configured or from the environment) keeps aiohttp. The hostile suite
(``tests/hostile``, its ``httptools`` entry) holds the errors, caps and bounds."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import trustme

from tests.support.faults import FAULTS, fault_id
from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.site import token_issued_by
from voigpt import AsyncClient, InvalidInput, UntrustedCertificate
from voigpt.adapters.httptools import endpoint as httptools_endpoint
from voigpt.domain.errors import VoiGptError
from voigpt.emulator import Emulator, Fault, reply_for
from voigpt.entrypoints.server.app import create_app


def _direct(client: AsyncClient) -> AsyncClient:
    assert client.container.async_endpoint().post_directly()
    return client


async def _completions(client: AsyncClient, count: int) -> list[str]:
    try:
        return [(await client.complete(HELLO)).text for _ in range(count)]
    finally:
        await client.aclose()


def test_the_post_on_the_wire_is_what_aiohttp_sends(voigpt_emulator: Emulator) -> None:
    """Every header, its value and the body: the site cannot tell the two apart."""
    url = voigpt_emulator.url
    token = token_issued_by(voigpt_emulator)
    asyncio.run(_completions(AsyncClient(base_url=url, access_token=token, environ={}), 1))
    asyncio.run(_completions(
        _direct(AsyncClient(base_url=url, access_token=token, environ={})), 1))
    by_aiohttp, direct = [r for r in voigpt_emulator.requests if r.method == "POST"]
    assert direct.headers == by_aiohttp.headers
    assert (direct.path, direct.body) == (by_aiohttp.path, by_aiohttp.body)
    assert direct.headers["x-csrftoken"] == token


def test_completions_share_one_kept_alive_connection(voigpt_emulator: Emulator) -> None:
    client = _direct(AsyncClient(base_url=voigpt_emulator.url, environ={}))
    assert asyncio.run(_completions(client, 4)) == [EMULATOR_REPLY] * 4
    posts = [r for r in voigpt_emulator.requests if r.method == "POST"]
    assert len(posts) == 4
    assert len({r.client for r in posts}) == 1


def test_a_connection_idle_past_the_keepalive_is_not_sent_on(
    voigpt_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As aiohttp's keepalive_timeout: a connection idle longer is closed, not reused."""
    monkeypatch.setattr(httptools_endpoint, "KEEPALIVE", 0.2)

    async def apart(client: AsyncClient) -> list[str]:
        try:
            texts = [(await client.complete(HELLO)).text]
            await asyncio.sleep(0.3)
            texts.append((await client.complete(HELLO)).text)
            texts.append((await client.complete(HELLO)).text)  # at once: kept
            return texts
        finally:
            await client.aclose()

    client = _direct(AsyncClient(base_url=voigpt_emulator.url, environ={}))
    assert asyncio.run(apart(client)) == [EMULATOR_REPLY] * 3
    first, second, third = [r.client for r in voigpt_emulator.requests if r.method == "POST"]
    assert first != second and second == third


def test_an_idle_connection_is_closed_after_the_keepalive_with_no_post_to_reuse_it(
    voigpt_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As aiohttp's cleanup: an idle connection does not stay open until the next POST (or
    the site) closes it. Counted in the process's own TCP connections to the site."""
    monkeypatch.setattr(httptools_endpoint, "KEEPALIVE", 0.2)
    port = urlsplit(voigpt_emulator.url).port

    def open_to_site() -> int:
        return sum(1 for c in psutil.Process().net_connections("tcp")
                   if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED)

    async def idle(client: AsyncClient) -> tuple[str, int, int]:
        try:
            text = (await client.complete(HELLO)).text
            kept = open_to_site()
            await asyncio.sleep(0.6)  # the loop runs on, and no POST comes
            return text, kept, open_to_site()
        finally:
            await client.aclose()

    token = token_issued_by(voigpt_emulator)  # no GET: aiohttp keeps none of its own open
    client = _direct(AsyncClient(base_url=voigpt_emulator.url, access_token=token,
                                 environ={}))
    assert asyncio.run(idle(client)) == (EMULATOR_REPLY, 1, 0)


def test_no_more_connections_than_max_connections() -> None:
    """Eight completions at once, the site slow, ``max_connections=2``: two connections."""
    busy = threading.Semaphore(0)

    def slow(messages: object) -> str:
        busy.release()
        time.sleep(0.2)
        return reply_for(messages)  # type: ignore[arg-type]

    async def eight(client: AsyncClient) -> list[str]:
        try:
            done = await asyncio.gather(*(client.complete(HELLO) for _ in range(8)))
            return [completion.text for completion in done]
        finally:
            await client.aclose()

    with Emulator(reply=slow) as emulator:
        client = _direct(AsyncClient(base_url=emulator.url, max_connections=2, environ={}))
        assert asyncio.run(eight(client)) == [EMULATOR_REPLY] * 8
        posts = [r for r in emulator.requests if r.method == "POST"]
    assert len(posts) == 8
    assert len({r.client for r in posts}) == 2


@pytest.mark.parametrize("how", ["configured", "environment"])
def test_a_proxy_keeps_aiohttp(
    voigpt_emulator: Emulator, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = "http://127.0.0.1:9"
    if how == "environment":
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
    client = AsyncClient(base_url=voigpt_emulator.url, environ={},
                         **({"proxy": proxy} if how == "configured" else {}))
    endpoint = client.container.async_endpoint()
    assert endpoint.post_directly() is False
    assert endpoint.posts_directly is False


def test_the_server_posts_directly_unless_a_proxy_is_in_the_way(
    voigpt_emulator: Emulator,
) -> None:
    direct = AsyncClient(base_url=voigpt_emulator.url, environ={})
    create_app(direct)
    assert direct.container.async_endpoint().posts_directly
    proxied = AsyncClient(base_url=voigpt_emulator.url, proxy="http://127.0.0.1:9", environ={})
    create_app(proxied)
    assert not proxied.container.async_endpoint().posts_directly
    fake = AsyncClient(backend="fake", environ={})
    create_app(fake)  # nothing to post to: the fake backend's container is left as it is


def test_tls_is_verified_with_the_ca_bundle_and_kept_alive(
    tls_emulator: Emulator, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    client = _direct(AsyncClient(base_url=tls_emulator.url, environ={}))
    assert asyncio.run(_completions(client, 3)) == [EMULATOR_REPLY] * 3
    posts = [r for r in tls_emulator.requests if r.method == "POST"]
    assert len(posts) == 3
    assert len({r.client for r in posts}) == 1


def test_an_untrusted_certificate_is_refused_before_any_post(tls_emulator: Emulator) -> None:
    client = _direct(AsyncClient(base_url=tls_emulator.url, access_token="T" * 32,
                                 retries=0, environ={}))
    with pytest.raises(UntrustedCertificate) as caught:
        asyncio.run(_completions(client, 1))
    assert tls_emulator.url in str(caught.value)
    assert "REQUESTS_CA_BUNDLE" in str(caught.value)
    assert tls_emulator.requests == []


@pytest.mark.parametrize("bad", ["a\r\nInjected: 1", "a\nb", "a\x00b"])
def test_a_header_with_a_line_of_its_own_is_refused_before_any_io(
    voigpt_emulator: Emulator, bad: str
) -> None:
    endpoint = _direct(AsyncClient(base_url=voigpt_emulator.url, environ={})) \
        .container.async_endpoint()
    with pytest.raises(InvalidInput, match="CR, LF or NUL"):
        asyncio.run(endpoint.post("/generate_response/", what="sending", body=b"{}",
                                  headers={"X-Test": bad}, deadline=None))
    assert voigpt_emulator.requests == []


@pytest.mark.parametrize(("fault", "params", "expected", "words"), FAULTS, ids=fault_id)
def test_every_fault_is_the_error_aiohttp_gives(
    voigpt_emulator: Emulator, fault: Fault, params: dict[str, object],
    expected: type[VoiGptError], words: str,
) -> None:
    """The status of each answer is checked as aiohttp's are: a 429 is RateLimited, an
    anti-bot page Blocked, a 5xx ServiceUnavailable (the hostile suite's checks accept any
    voigpt error there); then the next call is answered."""
    async def faulted(client: AsyncClient) -> tuple[VoiGptError | None, str]:
        try:
            await client.complete(HELLO)  # warm: token cached, connection open
            voigpt_emulator.inject(fault, **params)
            error = None
            try:
                await client.complete(HELLO)
            except VoiGptError as exc:
                error = exc
            return error, (await client.complete(HELLO)).text
        finally:
            await client.aclose()

    client = _direct(AsyncClient(base_url=voigpt_emulator.url, timeout=2, retries=0,
                                 environ={}))
    error, after = asyncio.run(faulted(client))
    assert isinstance(error, expected), error
    assert words in str(error)
    assert after == EMULATOR_REPLY
