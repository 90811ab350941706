"""The fleet's settings on one process (``--state memory``): the reply cache
(``--cache-ttl``), the site's concurrency cap and start rate, and the pause after a 429,
through the real app on a real uvicorn over the real emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import Served, metric, served
from voigpt.async_client import AsyncClient
from voigpt.domain.state_location import parse_state
from voigpt.emulator import Emulator, Fault
from voigpt.entrypoints.server.settings import ServerSettings

ASK = [{"role": "user", "content": "Hello"}]


def chat(server: Served, **body: Any) -> httpx.Response:
    return httpx.post(server.v1 + "/chat/completions", json={"messages": ASK, **body},
                      timeout=30)


def posts(emulator: Emulator) -> list[Any]:
    return [request for request in emulator.requests if request.method == "POST"]


@pytest.fixture
def cached(emulator: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=emulator.url, retries=0, timeout=10, environ={})
    settings = ServerSettings(state=parse_state("memory"), cache_ttl=60)
    with served(client, settings) as running:
        yield running


def test_identical_requests_are_answered_from_the_cache(cached: Served,
                                                        emulator: Emulator) -> None:
    first, second = chat(cached), chat(cached)
    assert first.status_code == second.status_code == 200
    assert first.json()["choices"] == second.json()["choices"]
    assert first.json()["id"] != second.json()["id"]
    assert len(posts(emulator)) == 1
    assert metric(cached.url, "voigpt_reply_cache_lookups_total", outcome="hit") == 1
    assert metric(cached.url, "voigpt_reply_cache_lookups_total", outcome="miss") == 1
    # What shapes the answer is in the key: another model, another format, another message.
    chat(cached, response_format={"type": "json_object"}, messages=[
        {"role": "user", "content": '{"a": 1}'}])
    chat(cached, messages=[{"role": "user", "content": "Hello!"}])
    assert len(posts(emulator)) == 3


def test_a_cached_tool_call_gets_fresh_ids(cached: Served, emulator: Emulator) -> None:
    tools = [{"type": "function", "function": {"name": "now", "parameters": {
        "type": "object", "properties": {}}}}]
    emulator.queue_replies('{"name": "now", "arguments": {}}')
    calls = [chat(cached, tools=tools).json()["choices"][0]["message"]["tool_calls"][0]
             for _ in range(3)]  # a miss, then two hits
    assert [call["function"] for call in calls] == [{"name": "now", "arguments": "{}"}] * 3
    assert len({call["id"] for call in calls}) == 3
    assert len(posts(emulator)) == 1


def test_no_cache_without_cache_ttl(served_plain: Served, emulator: Emulator) -> None:
    chat(served_plain), chat(served_plain)
    assert len(posts(emulator)) == 2


@pytest.fixture
def served_plain(emulator: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=emulator.url, retries=0, timeout=10, environ={})
    with served(client, ServerSettings()) as running:
        yield running


def test_the_site_concurrency_cap_holds(site: Emulator) -> None:
    lock, now, most = threading.Lock(), [0], [0]

    def slow(messages: list[dict[str, Any]]) -> str:
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.2)
        with lock:
            now[0] -= 1
        return "ok"

    with Emulator(reply=slow) as emulator:
        client = AsyncClient(base_url=emulator.url, retries=0, timeout=10, environ={})
        settings = ServerSettings(site_concurrency=2, max_concurrency=64, queue_timeout=30)
        with served(client, settings) as server:
            threads = [threading.Thread(target=chat, args=(server,)) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert most[0] == 2


def test_a_429_pauses_the_next_starts(site: Emulator) -> None:
    with Emulator() as emulator:
        client = AsyncClient(base_url=emulator.url, retries=0, timeout=10, environ={})
        with served(client, ServerSettings(site_rate=100.0)) as server:
            emulator.inject(Fault.RATE_LIMITED, retry_after="1")
            assert chat(server).status_code == 429
            started = time.monotonic()
            assert chat(server).status_code == 200
            assert time.monotonic() - started >= 0.8  # its Retry-After, less some slack


class SlowToPause:
    """A shared state whose pace takes its time to store a 429's pause, as a remote store
    does: the 429 must not be answered before the pause is stored."""

    healthy = True

    def __init__(self) -> None:
        from voigpt.adapters.memory import MemoryState

        self.inner = MemoryState()
        self.stored_at: list[float] = []

    def token_cache(self) -> Any:
        return self.inner.token_cache()

    def pace(self, *, rate: float | None, concurrency: int | None) -> Any:
        inner, stored_at = self.inner.pace(rate=rate, concurrency=concurrency), self.stored_at

        class Pace:
            def started(self) -> bool:
                return inner.started()

            def slot(self) -> Any:
                return inner.slot()

            async def rate_limited(self, retry_after: float | None) -> None:
                import asyncio

                await asyncio.sleep(0.5)
                stored_at.append(time.monotonic())
                await inner.rate_limited(retry_after)

        return Pace()

    def response_store(self, **kwargs: Any) -> Any:
        return self.inner.response_store(**kwargs)

    def reply_cache(self) -> Any:
        return self.inner.reply_cache()

    async def open(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def test_a_429_is_answered_only_once_the_fleet_is_paused(site: Emulator) -> None:
    from dependency_injector import providers

    state = SlowToPause()
    with Emulator() as emulator:
        client = AsyncClient(base_url=emulator.url, retries=0, timeout=10, environ={})
        client.container.shared_state.override(providers.Callable(lambda location: state))
        with served(client, ServerSettings(site_rate=100.0)) as server:
            emulator.inject(Fault.RATE_LIMITED, retry_after="1")
            assert chat(server).status_code == 429
            answered = time.monotonic()
    assert state.stored_at and state.stored_at[0] <= answered
