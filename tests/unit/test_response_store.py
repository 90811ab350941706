"""The stored responses of ``voigpt serve``: the in-memory adapter behind the
``ResponseStore`` port (a size cap, the oldest forgotten first; a time to live), built by
the container, and the settings that bound it (``--responses-max``, ``--responses-ttl``,
their variables, their bounds, and what a ``--workers`` process reads back)."""

from __future__ import annotations

import asyncio

import pytest

from voigpt.adapters.memory import BoundedResponseStore
from voigpt.config import Settings
from voigpt.container import build_container
from voigpt.domain.errors import InvalidConfig
from voigpt.entrypoints.server.process_environment import environment_for
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.ports.response_store import ResponseStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_oldest_is_forgotten_first_past_the_cap() -> None:
    store = BoundedResponseStore(2, 60)

    async def run() -> None:
        for key in ("a", "b", "c"):
            await store.put(key, key.encode())
        assert [await store.get(key) for key in "abc"] == [None, b"b", b"c"]
        assert await store.delete("b") and not await store.delete("b")
        assert len(store) == 1

    asyncio.run(run())


def test_a_record_expires_after_its_time_to_live() -> None:
    clock = Clock()
    store = BoundedResponseStore(10, 5, now=clock)

    async def run() -> None:
        await store.put("a", b"1")
        clock.now = 4.9
        assert await store.get("a") == b"1"
        clock.now = 5.0
        assert await store.get("a") is None and len(store) == 0

    asyncio.run(run())


def test_a_cap_of_zero_stores_nothing() -> None:
    store = BoundedResponseStore(0, 60)
    asyncio.run(store.put("a", b"1"))
    assert asyncio.run(store.get("a")) is None


def test_the_container_builds_it_with_the_apps_settings() -> None:
    store: ResponseStore = build_container(environ={}).response_store(max_records=3, ttl=9)
    assert isinstance(store, BoundedResponseStore)
    assert (store.max_records, store.ttl) == (3, 9)


def test_the_settings_default_flags_variables_and_bounds() -> None:
    default = ServerSettings.load(environ={})
    assert (default.responses_max, default.responses_ttl) == (1000, 3600.0)
    environ = {"VOIGPT_RESPONSES_MAX": "0", "VOIGPT_RESPONSES_TTL": "60"}
    assert ServerSettings.load(environ=environ).responses_max == 0
    flagged = ServerSettings.load(environ=environ, responses_max="5")
    assert (flagged.responses_max, flagged.responses_ttl) == (5, 60.0)
    with pytest.raises(InvalidConfig, match="--responses-max"):
        ServerSettings.load(environ={}, responses_max="-1")
    with pytest.raises(InvalidConfig, match="VOIGPT_RESPONSES_TTL"):
        ServerSettings.load(environ={"VOIGPT_RESPONSES_TTL": "0"})


def test_a_workers_process_reads_them_back() -> None:
    server = ServerSettings(responses_max=7, responses_ttl=12.5)
    back = ServerSettings.load(environ=dict(environment_for(Settings.load(environ={}), server)))
    assert (back.responses_max, back.responses_ttl) == (7, 12.5)


def test_the_oldest_are_forgotten_to_keep_the_bytes_within_the_budget() -> None:
    store = BoundedResponseStore(100, 60, max_bytes=10)

    async def run() -> None:
        await store.put("a", b"1234")
        await store.put("b", b"5678")
        await store.put("c", b"90ab")  # 12 bytes would pass the budget: "a" goes
        assert [await store.get(key) for key in "abc"] == [None, b"5678", b"90ab"]
        await store.put("b", b"123456")  # replacing counts the new size only
        assert await store.get("c") == b"90ab" and await store.get("b") == b"123456"
        await store.put("huge", b"x" * 11)  # over the whole budget: never stored
        assert await store.get("huge") is None and len(store) == 2
        assert await store.delete("c")
        await store.put("d", b"1234")
        assert await store.get("b") == b"123456" and await store.get("d") == b"1234"

    asyncio.run(run())
