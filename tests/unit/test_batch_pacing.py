"""The pacer bounds requests in flight, caps starts per second, and turns a 429 into a pause
of every start and a lower limit, which grows back as requests succeed."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from voigpt.entrypoints.batch.pacing import FIRST_BACKOFF, Pacer

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def test_no_more_than_concurrency_are_in_flight() -> None:
    async def scenario() -> list[str]:
        pacer, events = Pacer(2), []
        await pacer.acquire()
        await pacer.acquire()
        third = asyncio.ensure_future(pacer.acquire())
        await asyncio.sleep(0.05)
        events.append(f"third started: {third.done()}")
        pacer.release(True)
        await asyncio.wait_for(third, 1)
        events.append(f"third started: {third.done()}, in flight {pacer.in_flight}")
        return events

    assert run(scenario()) == ["third started: False", "third started: True, in flight 2"]


def test_rate_caps_starts_per_second() -> None:
    async def scenario() -> float:
        pacer = Pacer(100, rate=20.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(6):
            await pacer.acquire()
        return loop.time() - started

    assert 0.24 <= run(scenario()) < 0.6  # 5 gaps of 50 ms


def test_a_429_pauses_every_start_for_retry_after_and_halves_the_limit() -> None:
    async def scenario() -> tuple[float, int, int]:
        pacer = Pacer(8)
        loop = asyncio.get_running_loop()
        started = loop.time()
        pacer.rate_limited(0.3)
        pacer.rate_limited(0.1)  # the same burst: neither shorter, nor halved again
        limit, pauses = pacer.limit, pacer.pauses
        await pacer.acquire()
        return loop.time() - started, limit, pauses

    waited, limit, pauses = run(scenario())
    assert waited >= 0.29
    assert (limit, pauses) == (4, 1)


def test_without_retry_after_the_pause_backs_off_and_doubles() -> None:
    async def scenario() -> list[float]:
        pacer, pauses = Pacer(4), []
        for _ in range(3):
            now = asyncio.get_running_loop().time()
            pacer.paused_until = 0.0  # each as a new episode
            pacer.rate_limited(None)
            pauses.append(round(pacer.paused_until - now, 1))
        return pauses

    assert run(scenario()) == [FIRST_BACKOFF, 2 * FIRST_BACKOFF, 4 * FIRST_BACKOFF]


def test_the_limit_grows_back_by_one_per_limit_worth_of_successes() -> None:
    async def scenario() -> list[int]:
        pacer, limits = Pacer(8), []
        pacer.rate_limited(0)  # limit 8 -> 4
        for _ in range(4 + 5 + 6):
            await pacer.acquire()
            pacer.release(True)
            limits.append(pacer.limit)
        return limits

    limits = run(scenario())
    assert limits == [4, 4, 4, 5] + [5] * 4 + [6] + [6] * 5 + [7]


def test_a_failure_does_not_grow_the_limit() -> None:
    async def scenario() -> int:
        pacer = Pacer(8)
        pacer.rate_limited(0)
        for _ in range(20):
            await pacer.acquire()
            pacer.release(False)
        return pacer.limit

    assert run(scenario()) == 4


@pytest.mark.parametrize(("concurrency", "rate"), [(0, None), (1, 0.0), (1, -1.0)])
def test_nonsense_is_refused(concurrency: int, rate: float | None) -> None:
    with pytest.raises(ValueError):
        Pacer(concurrency, rate)
