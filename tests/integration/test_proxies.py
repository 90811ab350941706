"""Both the token GET and the completion POST go through real proxy processes.

Proof: for every request it receives, the strict server looks up which process owns the
client end of that TCP connection. It must be the proxy, never this test process.
"""

from __future__ import annotations

import os

import pytest

from tests.support.proxies import RunningProxy
from tests.support.strict_server import StrictServer
from voigpt import Client, VoiGpt
from voigpt.domain.errors import ConnectionFailed

HELLO = [{"role": "user", "content": "Hello"}]


def assert_all_came_through(server: StrictServer, proxy: RunningProxy) -> None:
    methods = [seen.method for seen in server.seen]
    assert methods == ["GET", "POST"], methods
    owners = {seen.peer_pid for seen in server.seen}
    assert owners == {proxy.pid}, f"request owners {owners}, proxy {proxy.pid}, us {os.getpid()}"


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
def test_client_sends_token_get_and_post_through_the_proxy(
    scheme: str, proxy: RunningProxy, strict_with_pids: StrictServer
) -> None:
    with Client(base_url=strict_with_pids.url, proxy=proxy.url(scheme), environ={}) as client:
        assert client.complete(HELLO).text == "strict echo: Hello"
    assert_all_came_through(strict_with_pids, proxy)


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_g4f_per_call_proxy_carries_both_requests(
    scheme: str,
    proxy: RunningProxy,
    strict_with_pids: StrictServer,
    g4f_at: type[VoiGpt],
) -> None:
    g4f_at.url = strict_with_pids.url
    result = g4f_at.create_completion(
        model="gpt-3.5-turbo", messages=HELLO, stream=False, proxy=proxy.url(scheme)
    )
    assert next(result) == "strict echo: Hello"
    assert_all_came_through(strict_with_pids, proxy)


def test_the_direct_path_is_not_owned_by_the_proxy(
    proxy: RunningProxy, strict_with_pids: StrictServer
) -> None:
    """The proof above can tell the difference: without a proxy, we own the connection."""
    with Client(base_url=strict_with_pids.url, environ={}) as client:
        client.complete(HELLO)
    assert {seen.peer_pid for seen in strict_with_pids.seen} == {os.getpid()}


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_wrong_proxy_password_is_a_clear_error_that_hides_it(
    scheme: str, proxy: RunningProxy, strict: StrictServer
) -> None:
    url = proxy.url(scheme, password="CANARYwrongpw")
    client = Client(base_url=strict.url, proxy=url, environ={}, timeout=5)
    with client, pytest.raises(ConnectionFailed, match="proxy") as info:
        client.complete(HELLO)
    assert "CANARYwrongpw" not in str(info.value)
    assert "alice:***@" in str(info.value)
    assert strict.seen == []


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        for variant in (name, name.lower()):
            monkeypatch.delenv(variant, raising=False)
    return monkeypatch


def test_requests_proxy_variables_apply_when_no_proxy_is_configured(
    proxy: RunningProxy, strict_with_pids: StrictServer, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http"))
    with Client(base_url=strict_with_pids.url, environ={}) as client:
        assert client.complete(HELLO).text == "strict echo: Hello"
    assert_all_came_through(strict_with_pids, proxy)


def test_no_proxy_is_honoured(
    proxy: RunningProxy, strict_with_pids: StrictServer, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http"))
    clean_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    with Client(base_url=strict_with_pids.url, environ={}) as client:
        client.complete(HELLO)
    assert {seen.peer_pid for seen in strict_with_pids.seen} == {os.getpid()}


def test_a_configured_proxy_wins_over_the_proxy_variables(
    proxy: RunningProxy, strict_with_pids: StrictServer, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # discard port: would fail
    with Client(
        base_url=strict_with_pids.url, proxy=proxy.url("socks5"), environ={}
    ) as client:
        assert client.complete(HELLO).text == "strict echo: Hello"
    assert_all_came_through(strict_with_pids, proxy)


def test_proxy_variables_are_read_when_the_client_is_built(
    proxy: RunningProxy, strict_with_pids: StrictServer, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    """Like the VOIGPT_* settings, requests' variables are a snapshot taken at build time:
    the per-request re-reading of the environment was a tenth of the CPU per completion."""
    with Client(base_url=strict_with_pids.url, environ={}) as before:
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http"))
        before.complete(HELLO)
        assert {seen.peer_pid for seen in strict_with_pids.seen} == {os.getpid()}
    strict_with_pids.seen.clear()
    with Client(base_url=strict_with_pids.url, environ={}) as after:
        after.complete(HELLO)
    assert_all_came_through(strict_with_pids, proxy)
