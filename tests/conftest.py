"""Fixtures shared by the integration and e2e tiers: real servers and real proxy processes,
on 127.0.0.1 only, on ports the OS chooses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.proxies import RunningProxy, start_pproxy
from tests.support.strict_server import StrictServer
from voigpt import VoiGpt


@pytest.fixture
def strict() -> Iterator[StrictServer]:
    server = StrictServer().start()
    yield server
    server.stop()


@pytest.fixture
def strict_with_pids() -> Iterator[StrictServer]:
    server = StrictServer(record_pids=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def proxy() -> Iterator[RunningProxy]:
    running = start_pproxy()
    yield running
    running.stop()


@pytest.fixture
def g4f_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[VoiGpt]]:
    """VoiGpt with a clean class state, environment variables ignored."""
    for name in ("VOIGPT_PROXY", "VOIGPT_TIMEOUT", "VOIGPT_ACCESS_TOKEN", "VOIGPT_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    original = VoiGpt.url
    VoiGpt._access_token = None
    yield VoiGpt
    VoiGpt.close()
    VoiGpt.url = original
    VoiGpt._access_token = None
