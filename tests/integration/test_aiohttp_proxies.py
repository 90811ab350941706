"""The aiohttp adapters through real proxy processes (pproxy): http, socks5 and socks5h with
credentials, an https proxy whose certificate is checked before the password is sent, and
the proxy variables. Proof that a request came through the proxy: the emulator's observer
looks up which process owns the client end of each connection, while it is open."""

from __future__ import annotations

import asyncio
import os
import ssl
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.proxies import PASSWORD, ConnectionOwners, RunningProxy, start_pproxy
from voigpt.adapters.aiohttp import AiohttpChatTransport, AiohttpEndpoint, AiohttpTokenSource
from voigpt.adapters.environment import Environment
from voigpt.adapters.monotonic import SystemClock
from voigpt.domain import Conversation
from voigpt.domain.errors import ConnectionFailed, UntrustedCertificate
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.retry import Deadline
from voigpt.emulator import Emulator

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def complete(point: AiohttpEndpoint) -> str:
    """Fetch a token and send one conversation, in one event loop; the session closed."""

    async def scenario() -> str:
        try:
            deadline = Deadline.after(SystemClock(), 5)
            token = await AiohttpTokenSource(point).fetch(deadline=deadline)
            return await AiohttpChatTransport(point).send(
                Conversation.from_dicts(HELLO), token, deadline=deadline
            )
        finally:
            await point.aclose()

    return asyncio.run(scenario())


def through(url: str, proxy: str | None, environment: Environment | None = None) -> AiohttpEndpoint:
    return AiohttpEndpoint(
        url, proxy=ProxyUrl.parse(proxy) if proxy else None,
        environment=environment or Environment(proxies={}, ca_bundle=None),
    )


def assert_all_came_through(
    emulator: Emulator, owners: ConnectionOwners, proxy: RunningProxy
) -> None:
    assert [r.method for r in emulator.requests] == ["GET", "POST"]
    pids = owners.pids
    assert pids == [proxy.pid] * 2, f"owners {pids}, proxy {proxy.pid}, us {os.getpid()}"


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
def test_the_token_get_and_the_post_go_through_the_proxy(
    scheme: str, proxy: RunningProxy, watched_emulator: Emulator,
    connection_owners: ConnectionOwners,
) -> None:
    assert complete(through(watched_emulator.url, proxy.url(scheme))) == EMULATOR_REPLY
    assert_all_came_through(watched_emulator, connection_owners, proxy)


def test_the_direct_path_is_not_owned_by_the_proxy(
    proxy: RunningProxy, watched_emulator: Emulator, connection_owners: ConnectionOwners
) -> None:
    """The proof above can tell the difference: without a proxy, we own the connection."""
    complete(through(watched_emulator.url, None))
    assert connection_owners.pids == [os.getpid(), os.getpid()]


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
def test_a_wrong_proxy_password_is_a_clear_error_that_hides_it(
    scheme: str, proxy: RunningProxy, voigpt_emulator: Emulator
) -> None:
    point = through(voigpt_emulator.url, proxy.url(scheme, password="CANARYwrongpw"))
    with pytest.raises(ConnectionFailed, match="proxy") as info:
        complete(point)
    shown = "".join(traceback.format_exception(info.value)) + repr(info.value)
    assert "alice:***@" in str(info.value)
    assert "CANARYwrongpw" not in shown
    assert voigpt_emulator.requests == []


# -- an https proxy --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def proxy_signed_by(ca: trustme.CA, folder: Path) -> RunningProxy:
    pem = folder / "proxy.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    return start_pproxy("http+ssl", tls_pem=str(pem))


@pytest.fixture(scope="module")
def tls_proxy(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    running = proxy_signed_by(ca, tmp_path_factory.mktemp("proxy"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def impostor_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    """An https proxy whose certificate comes from a CA nobody trusts."""
    running = proxy_signed_by(trustme.CA(), tmp_path_factory.mktemp("impostor"))
    yield running
    running.stop()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return bundle


@pytest.mark.parametrize("target_tls", [True, False], ids=["https-target", "http-target"])
def test_a_trusted_https_proxy_carries_the_traffic(
    target_tls: bool, ca: trustme.CA, tls_proxy: RunningProxy, trusted: Path,
    connection_owners: ConnectionOwners,
) -> None:
    tls = server_context(ca) if target_tls else None
    with Emulator(tls=tls, observer=connection_owners) as emulator:
        connection_owners.watch(emulator)
        environment = Environment.read(emulator.url)
        point = through(emulator.url, tls_proxy.url("https"), environment)
        assert complete(point) == EMULATOR_REPLY
        assert_all_came_through(emulator, connection_owners, tls_proxy)


@pytest.mark.parametrize("target_tls", [True, False], ids=["https-target", "http-target"])
def test_an_untrusted_https_proxy_gets_no_request_and_no_password(
    target_tls: bool, ca: trustme.CA, impostor_proxy: RunningProxy, trusted: Path
) -> None:
    with Emulator(tls=server_context(ca) if target_tls else None) as emulator:
        point = through(emulator.url, impostor_proxy.url("https"), Environment.read(emulator.url))
        with pytest.raises(UntrustedCertificate) as caught:
            complete(point)
        assert emulator.requests == []
    message = str(caught.value)
    assert "proxy https://alice:***@127.0.0.1" in message
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


# -- the proxy variables ---------------------------------------------------------------------

@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        for variant in (name, name.lower()):
            monkeypatch.delenv(variant, raising=False)
    return monkeypatch


@pytest.mark.parametrize("scheme", ["http", "socks5h"])
def test_the_proxy_variables_apply_when_no_proxy_is_configured(
    scheme: str, proxy: RunningProxy, watched_emulator: Emulator,
    connection_owners: ConnectionOwners, clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    variable = "HTTP_PROXY" if scheme == "http" else "ALL_PROXY"
    clean_proxy_env.setenv(variable, proxy.url(scheme))
    environment = Environment.read(watched_emulator.url)
    assert complete(through(watched_emulator.url, None, environment)) == EMULATOR_REPLY
    assert_all_came_through(watched_emulator, connection_owners, proxy)


def test_no_proxy_is_honoured(
    proxy: RunningProxy, watched_emulator: Emulator, connection_owners: ConnectionOwners,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http"))
    clean_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    environment = Environment.read(watched_emulator.url)
    assert complete(through(watched_emulator.url, None, environment)) == EMULATOR_REPLY
    assert connection_owners.pids == [os.getpid(), os.getpid()]


def test_a_configured_proxy_wins_over_the_proxy_variables(
    proxy: RunningProxy, watched_emulator: Emulator, connection_owners: ConnectionOwners,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # discard port: would fail
    environment = Environment.read(watched_emulator.url)
    point = through(watched_emulator.url, proxy.url("socks5"), environment)
    assert complete(point) == EMULATOR_REPLY
    assert_all_came_through(watched_emulator, connection_owners, proxy)


def test_a_wrong_password_in_a_proxy_variable_is_hidden_too(
    proxy: RunningProxy, voigpt_emulator: Emulator, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url("http", password="CANARYenvpw"))
    point = through(voigpt_emulator.url, None, Environment.read(voigpt_emulator.url))
    with pytest.raises(ConnectionFailed, match=r"proxy http://alice:\*\*\*@") as info:
        complete(point)
    assert "CANARYenvpw" not in "".join(traceback.format_exception(info.value))
