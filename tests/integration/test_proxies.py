"""Both the token GET and the completion POST go through real proxy processes.

Proof: for every request it receives, the emulator's observer looks up which process owns the
client end of that TCP connection, while it is open. It must be the proxy, never this test
process.
"""

from __future__ import annotations

import os

import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.proxies import ConnectionOwners, RunningProxy
from voigpt import Client, VoiGpt
from voigpt.domain.errors import ConnectionFailed
from voigpt.emulator import Emulator


def assert_all_came_through(
    emulator: Emulator, owners: ConnectionOwners, proxy: RunningProxy
) -> None:
    methods = [r.method for r in emulator.requests]
    assert methods == ["GET", "POST"], methods
    pids = owners.pids
    assert pids == [proxy.pid] * 2, f"owners {pids}, proxy {proxy.pid}, us {os.getpid()}"


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
def test_client_sends_token_get_and_post_through_the_proxy(
    scheme: str,
    proxy: RunningProxy,
    watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
) -> None:
    with Client(base_url=watched_emulator.url, proxy=proxy.url(scheme), environ={}) as client:
        assert client.complete(HELLO).text == EMULATOR_REPLY
    assert_all_came_through(watched_emulator, connection_owners, proxy)


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_g4f_per_call_proxy_carries_both_requests(
    scheme: str,
    proxy: RunningProxy,
    watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
    g4f_provider: type[VoiGpt],
) -> None:
    g4f_provider.url = watched_emulator.url
    result = g4f_provider.create_completion(
        model="gpt-3.5-turbo", messages=HELLO, stream=False, proxy=proxy.url(scheme)
    )
    assert next(result) == EMULATOR_REPLY
    assert_all_came_through(watched_emulator, connection_owners, proxy)


def test_the_direct_path_is_not_owned_by_the_proxy(
    proxy: RunningProxy, watched_emulator: Emulator, connection_owners: ConnectionOwners
) -> None:
    """The proof above can tell the difference: without a proxy, we own the connection."""
    with Client(base_url=watched_emulator.url, environ={}) as client:
        client.complete(HELLO)
    assert connection_owners.pids == [os.getpid(), os.getpid()]


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_wrong_proxy_password_is_a_clear_error_that_hides_it(
    scheme: str, proxy: RunningProxy, voigpt_emulator: Emulator
) -> None:
    url = proxy.url(scheme, password="CANARYwrongpw")
    client = Client(base_url=voigpt_emulator.url, proxy=url, environ={}, timeout=5)
    with client, pytest.raises(ConnectionFailed, match="proxy") as info:
        client.complete(HELLO)
    assert "CANARYwrongpw" not in str(info.value)
    assert "alice:***@" in str(info.value)
    assert voigpt_emulator.requests == []


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        for variant in (name, name.lower()):
            monkeypatch.delenv(variant, raising=False)
    return monkeypatch


def test_requests_proxy_variables_apply_when_no_proxy_is_configured(
    proxy: RunningProxy,
    watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http"))
    with Client(base_url=watched_emulator.url, environ={}) as client:
        assert client.complete(HELLO).text == EMULATOR_REPLY
    assert_all_came_through(watched_emulator, connection_owners, proxy)


def test_no_proxy_is_honoured(
    proxy: RunningProxy,
    watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http"))
    clean_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    with Client(base_url=watched_emulator.url, environ={}) as client:
        client.complete(HELLO)
    assert connection_owners.pids == [os.getpid(), os.getpid()]


def test_a_configured_proxy_wins_over_the_proxy_variables(
    proxy: RunningProxy,
    watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # discard port: would fail
    with Client(base_url=watched_emulator.url, proxy=proxy.url("socks5"), environ={}) as client:
        assert client.complete(HELLO).text == EMULATOR_REPLY
    assert_all_came_through(watched_emulator, connection_owners, proxy)


def test_proxy_variables_are_read_when_the_client_is_built(
    proxy: RunningProxy,
    watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    """Like the VOIGPT_* settings, requests' variables are a snapshot taken at build time:
    the per-request re-reading of the environment was a tenth of the CPU per completion."""
    with Client(base_url=watched_emulator.url, environ={}) as before:
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http"))
        before.complete(HELLO)
        assert connection_owners.pids == [os.getpid(), os.getpid()]
    watched_emulator.reset_records()
    with Client(base_url=watched_emulator.url, environ={}) as after:
        after.complete(HELLO)
    assert [r.method for r in watched_emulator.requests] == ["GET", "POST"]
    assert connection_owners.pids[2:] == [proxy.pid, proxy.pid]
