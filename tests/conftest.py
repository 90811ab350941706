"""Fixtures shared by every tier. From the shipped plugin: ``voigpt_fakes`` (the real wiring
with fakes in it, no network) and ``voigpt_emulator`` (a local voigpt.com on a port the OS
chooses). Here: real proxy processes, an emulator that sees who opened each connection,
``VoiGpt`` with a clean class state, and ``site``/``emulator``: one emulator per test module
(for the module's own servers), handed to each test with no fault queued and no request
recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.proxies import ConnectionOwners, RunningProxy, start_pproxy
from voigpt import VoiGpt
from voigpt.config import ENVIRONMENT
from voigpt.emulator import Emulator

pytest_plugins = ["voigpt.testing.pytest_plugin"]

VOIGPT_VARIABLES = tuple(ENVIRONMENT.values())


@pytest.fixture(scope="session")
def proxy() -> Iterator[RunningProxy]:
    running = start_pproxy()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def site() -> Iterator[Emulator]:
    """One emulator for the test module, as its module-scoped servers are."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(site: Emulator) -> Emulator:
    """The module's emulator, with no fault queued and no request recorded."""
    site.clear_faults()
    site.clear_replies()
    site.reset_records()
    return site


@pytest.fixture
def connection_owners() -> ConnectionOwners:
    return ConnectionOwners()


@pytest.fixture
def watched_emulator(connection_owners: ConnectionOwners) -> Iterator[Emulator]:
    """``voigpt_emulator`` that also looks up, for each request, which process holds the
    client end of its connection (into ``connection_owners``): a proxy, or this process."""
    with Emulator(observer=connection_owners) as emulator:
        connection_owners.watch(emulator)
        yield emulator


@pytest.fixture
def g4f_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[VoiGpt]]:
    """``VoiGpt`` with no cached token, no pooled connection and no ``VOIGPT_*`` variables;
    its class state (``url``, the token cache, the pools) is restored after the test."""
    for name in VOIGPT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    url = VoiGpt.url
    VoiGpt.close()
    VoiGpt._access_token = VoiGpt._access_token_origin = None
    yield VoiGpt
    VoiGpt.close()
    VoiGpt.url = url
    VoiGpt._access_token = VoiGpt._access_token_origin = None
