"""HTTPS end to end: the emulator serves TLS with a certificate made at run time by a private
CA (trustme); voigpt trusts it through ``REQUESTS_CA_BUNDLE``, as a user behind a private CA
would, keeps the TLS connection alive, and reports an untrusted certificate at once. The
same for an ``https://`` proxy (pproxy speaking TLS), whose certificate is checked before
the proxy password is sent, whatever the target's scheme."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.proxies import PASSWORD, ConnectionOwners, RunningProxy, start_pproxy
from voigpt import Client, UntrustedCertificate, VoiGpt
from voigpt.emulator import Emulator
from voigpt.testing import FakeClock


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server-side TLS context with a certificate for 127.0.0.1 signed by ``ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def tls_emulator(ca: trustme.CA, connection_owners: ConnectionOwners) -> Iterator[Emulator]:
    """``voigpt_emulator`` over HTTPS, with ``watched_emulator``'s record of who opened each
    connection."""
    with Emulator(tls=server_context(ca), observer=connection_owners) as emulator:
        connection_owners.watch(emulator)
        yield emulator


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return bundle


def test_emulator_url_says_https(tls_emulator: Emulator) -> None:
    assert tls_emulator.url == f"https://127.0.0.1:{tls_emulator.port}"


def test_client_completes_over_tls_on_one_kept_alive_connection(
    tls_emulator: Emulator, trusted: Path
) -> None:
    with Client(base_url=tls_emulator.url, environ={}) as client:
        replies = [client.complete(HELLO).text for _ in range(3)]
    assert replies == [EMULATOR_REPLY] * 3
    assert [r.method for r in tls_emulator.requests] == ["GET", "POST", "POST", "POST"]
    assert len({r.client for r in tls_emulator.requests}) == 1  # one TLS handshake, reused
    origin = tls_emulator.requests[1].headers["origin"]
    assert origin == tls_emulator.url
    assert tls_emulator.requests[1].headers["referer"] == tls_emulator.url + "/"


def test_facade_completes_over_tls(
    tls_emulator: Emulator, trusted: Path, g4f_provider: type[VoiGpt]
) -> None:
    g4f_provider.url = tls_emulator.url
    first = "".join(g4f_provider.create_completion("", HELLO, False))
    second = "".join(g4f_provider.create_completion("", HELLO, False))
    assert (first, second) == (EMULATOR_REPLY, EMULATOR_REPLY)
    assert len(tls_emulator.tokens_issued) == 1
    assert len({r.client for r in tls_emulator.requests}) == 1


def test_untrusted_certificate_fails_at_once_without_retries(
    tls_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    clock = FakeClock()
    with Client(base_url=tls_emulator.url, environ={}) as client:
        client.container.clock.override(clock)
        with pytest.raises(UntrustedCertificate) as caught:
            client.complete(HELLO)
    message = str(caught.value)
    assert tls_emulator.url in message
    assert "REQUESTS_CA_BUNDLE" in message
    assert clock.sleeps == []  # no backoff: the same certificate would fail again
    assert tls_emulator.requests == []  # nothing got past the handshake


def _proxy_with_certificate_from(
    ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProxy]:
    pem = tmp_path_factory.mktemp("proxy") / "proxy.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    running = start_pproxy("http+ssl", tls_pem=str(pem))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tls_proxy(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    yield from _proxy_with_certificate_from(ca, tmp_path_factory)


@pytest.fixture(scope="module")
def impostor_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    """An https proxy whose certificate comes from a CA nobody trusts."""
    yield from _proxy_with_certificate_from(trustme.CA(), tmp_path_factory)


def test_https_proxy_carries_tls_traffic(
    tls_emulator: Emulator,
    connection_owners: ConnectionOwners,
    tls_proxy: RunningProxy,
    trusted: Path,
) -> None:
    with Client(base_url=tls_emulator.url, proxy=tls_proxy.url("https"), environ={}) as client:
        assert client.complete(HELLO).text == EMULATOR_REPLY
    assert [r.method for r in tls_emulator.requests] == ["GET", "POST"]
    assert connection_owners.pids == [tls_proxy.pid, tls_proxy.pid]


@pytest.mark.parametrize("target_tls", [True, False], ids=["https-target", "http-target"])
def test_an_untrusted_https_proxy_gets_no_request_and_no_password(
    target_tls: bool,
    ca: trustme.CA,
    impostor_proxy: RunningProxy,
    trusted: Path,
) -> None:
    """requests alone checks an https proxy only for https targets; voigpt checks it always."""
    clock = FakeClock()
    with Emulator(tls=server_context(ca) if target_tls else None) as emu, Client(
        base_url=emu.url, proxy=impostor_proxy.url("https"), environ={}
    ) as client:
        client.container.clock.override(clock)
        with pytest.raises(UntrustedCertificate) as caught:
            client.complete(HELLO)
        assert emu.requests == []
    message = str(caught.value)
    assert "proxy https://alice:***@127.0.0.1" in message
    assert PASSWORD not in message
    assert clock.sleeps == []
