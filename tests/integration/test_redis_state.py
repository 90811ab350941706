"""RedisState across real processes on a real redis-server: one token fetch for the fleet,
a dead holder blocking nobody past its lease, compare-and-delete, and the site's pace
(concurrency cap, leases a SIGKILLed process cannot leak, the 429 pause, the start rate)."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from multiprocessing.synchronize import Barrier, Event
from typing import Any

import redis
import redis.asyncio

from tests.support.redis_server import (  # noqa: F401 (the fixtures redis_server, redis_url)
    redis_server_fixture,
    redis_url_fixture,
)
from voigpt.adapters.redis import RedisState
from voigpt.domain.state_location import parse_state
from voigpt.domain.values import AccessToken

SPAWN = multiprocessing.get_context("spawn")


def _in_loop(url: str, work: Callable[[RedisState], Awaitable[Any]], **options: Any) -> Any:
    async def main() -> Any:
        state = RedisState(parse_state(url), **options)
        await state.open()
        try:
            return await work(state)
        finally:
            await state.aclose()
    return asyncio.run(main())


def _processes(target: Callable[..., None], *args: Any, count: int = 3
               ) -> list[multiprocessing.process.BaseProcess]:
    procs = [SPAWN.Process(target=target, args=(*args, n)) for n in range(count)]
    for proc in procs:
        proc.start()
    return procs


def _joined(procs: list[multiprocessing.process.BaseProcess]) -> None:
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0, f"a worker failed ({proc.exitcode})"


# --- the token ------------------------------------------------------------------------

def _fetch_token(url: str, barrier: Barrier, n: int) -> None:
    async def work(state: RedisState) -> None:
        client = redis.Redis.from_url(url)

        async def fetch() -> AccessToken:
            client.rpush("test:fetches", n)
            await asyncio.sleep(0.3)
            return AccessToken(f"token-{n}")

        barrier.wait()
        cache = state.token_cache()
        tokens = await asyncio.gather(*(cache.acquire(fetch) for _ in range(5)))
        client.rpush("test:tokens", *{t.value for t in tokens})
    _in_loop(url, work)


def test_three_processes_missing_the_token_make_one_fetch(redis_url: str) -> None:
    barrier = SPAWN.Barrier(3)  # kept: a started Process lets go of its arguments
    _joined(_processes(_fetch_token, redis_url, barrier))
    client = redis.Redis.from_url(redis_url)
    assert client.llen("test:fetches") == 1
    assert len(set(client.lrange("test:tokens", 0, -1))) == 1  # each process got the one


def _hold_the_lock_forever(url: str, fetching: Event, n: int) -> None:
    async def work(state: RedisState) -> None:
        async def fetch() -> AccessToken:
            fetching.set()
            await asyncio.sleep(3600)
            raise AssertionError("never")
        cache = state.token_cache()
        cache.lease = 1.0
        await cache.acquire(fetch)
    _in_loop(url, work)


def test_a_killed_fetcher_blocks_the_others_no_longer_than_its_lease(redis_url: str) -> None:
    fetching = SPAWN.Event()
    [holder] = _processes(_hold_the_lock_forever, redis_url, fetching, count=1)
    try:
        assert fetching.wait(30)
        holder.kill()
        holder.join()

        async def work(state: RedisState) -> AccessToken:
            cache = state.token_cache()

            async def fetch() -> AccessToken:
                return AccessToken("after-the-lease")
            return await asyncio.wait_for(cache.acquire(fetch), 1.0 + 10)

        token = _in_loop(redis_url, work)
    finally:
        holder.kill()
    assert token.value == "after-the-lease"
    # Its lock had a lease: the lock key expires by itself.
    assert redis.Redis.from_url(redis_url).exists("voigpt:token:lock") == 0


def test_invalidate_drops_the_token_only_while_it_is_the_stored_one(redis_url: str) -> None:
    async def work(state: RedisState) -> list[str]:
        cache = state.token_cache()
        seen = []
        tokens = iter([AccessToken("first"), AccessToken("second")])

        async def fetch() -> AccessToken:
            return next(tokens)

        seen.append((await cache.acquire(fetch)).value)
        await cache.invalidate(AccessToken("some-older-token"))  # not the stored one
        seen.append((await cache.acquire(fetch)).value)
        await cache.invalidate(AccessToken("first"))
        seen.append((await cache.acquire(fetch)).value)
        return seen

    assert _in_loop(redis_url, work) == ["first", "first", "second"]


def test_a_holder_past_its_lease_never_deletes_the_next_holders_lock(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)

    async def work(state: RedisState) -> None:
        cache = state.token_cache()
        cache.lease = 0.3

        async def slow_fetch() -> AccessToken:
            await asyncio.sleep(0.8)  # its lease ran out meanwhile: another took the lock
            client.set("voigpt:token:lock", "another-holder", px=30_000)
            return AccessToken("slow")
        await cache.acquire(slow_fetch)

    _in_loop(redis_url, work)
    assert client.get("voigpt:token:lock") == b"another-holder"


# --- the pace ---------------------------------------------------------------------------

def _busy(url: str, barrier: Barrier, n: int) -> None:
    async def work(state: RedisState) -> None:
        client = redis.asyncio.Redis.from_url(url)
        pace = state.pace(rate=None, concurrency=4)

        async def one() -> None:
            async with pace.slot():
                await client.rpush("test:in-flight", await client.incr("test:now"))
                await asyncio.sleep(0.1)
                await client.decr("test:now")

        barrier.wait()
        await asyncio.gather(*(one() for _ in range(8)))
        await client.aclose()
    _in_loop(url, work)


def test_the_concurrency_cap_holds_across_three_processes(redis_url: str) -> None:
    barrier = SPAWN.Barrier(3)
    _joined(_processes(_busy, redis_url, barrier))
    counts = [int(c) for c in redis.Redis.from_url(redis_url).lrange("test:in-flight", 0, -1)]
    assert len(counts) == 24
    assert max(counts) == 4  # never more, and the cap was reached (slots are usable)


def _hold_slots(url: str, holding: Event, release: Event, seconds: float, n: int) -> None:
    """Take all four slots, say so (``holding``), hold them until ``release`` (at most
    ``seconds``): until the test says, not for a time the test must race against."""
    async def work(state: RedisState) -> None:
        pace = state.pace(rate=None, concurrency=4)
        released = asyncio.ensure_future(asyncio.to_thread(release.wait, seconds))

        async def hold() -> None:
            async with pace.slot():
                await asyncio.shield(released)

        tasks = [asyncio.create_task(hold()) for _ in range(4)]
        await asyncio.sleep(0.5)
        holding.set()
        await asyncio.gather(*tasks)
    # 5 s leases renewed every 1.7 s: a renewal 3 s late on a loaded machine still keeps
    # them (a 1 s lease, then a 3 s one, each failed once under a full CI run's load, the
    # instruction benchmark's valgrind beside it); unrenewed, they would lapse at 5 s,
    # inside the 7.5 s the test waits for a slot.
    _in_loop(url, work, lease=5.0)


def _slot_within(url: str, seconds: float) -> bool:
    async def work(state: RedisState) -> bool:
        pace = state.pace(rate=None, concurrency=4)

        async def take() -> None:
            async with pace.slot():
                pass
        try:
            await asyncio.wait_for(take(), seconds)
        except asyncio.TimeoutError:
            return False
        return True
    return bool(_in_loop(url, work, lease=1.0))


def test_slots_held_past_their_lease_are_renewed_while_the_holder_lives(
        redis_url: str) -> None:
    holding, release = SPAWN.Event(), SPAWN.Event()
    [holder] = _processes(_hold_slots, redis_url, holding, release, 60.0, count=1)
    try:
        assert holding.wait(30)
        # 1.5 leases: renewed, still all taken. The holder held them for 9 s from before
        # it said so, and once failed here under CI's load: the taker's 7.5 s began late
        # enough to see them given back.
        assert not _slot_within(redis_url, 7.5)
    finally:
        release.set()
        holder.join(30)
    assert _slot_within(redis_url, 5)


def test_a_sigkilled_process_leaks_no_slot_past_the_lease(redis_url: str) -> None:
    holding, never = SPAWN.Event(), SPAWN.Event()  # kept: the child opens them by name
    [holder] = _processes(_hold_slots, redis_url, holding, never, 3600.0, count=1)
    try:
        assert holding.wait(30)
        holder.kill()
        holder.join()
        assert redis.Redis.from_url(redis_url).zcard("voigpt:pace:slots") == 4
        assert _slot_within(redis_url, 1.0 + 5)  # the lease, and slack
    finally:
        holder.kill()


def _pause(url: str, retry_after: float | None, times: int, n: int) -> None:
    async def work(state: RedisState) -> None:
        pace = state.pace(rate=None, concurrency=None)
        for _ in range(times):
            await pace.rate_limited(retry_after)
    _in_loop(url, work)


def _seconds_to_start(url: str) -> float:
    async def work(state: RedisState) -> float:
        started = time.monotonic()
        async with state.pace(rate=None, concurrency=None).slot():
            return time.monotonic() - started
    return float(_in_loop(url, work))


def test_a_429_in_one_process_pauses_starts_in_another(redis_url: str) -> None:
    _joined(_processes(_pause, redis_url, 3.0, 1, count=1))
    left = (redis.Redis.from_url(redis_url).pttl("voigpt:pace:paused") - 60_000) / 1000
    assert left > 0.5  # what is left of its Retry-After, kept a minute past it
    assert _seconds_to_start(redis_url) >= left - 0.05


def test_429s_without_retry_after_pause_longer_each_time_fleet_wide(redis_url: str) -> None:
    _joined(_processes(_pause, redis_url, None, 2, count=1))  # 1 s, then 2 s

    async def third(state: RedisState) -> None:  # while that pause is in force: 4 s
        await state.pace(rate=None, concurrency=None).rate_limited(None)
    _in_loop(redis_url, third)
    client = redis.Redis.from_url(redis_url)
    assert client.get("voigpt:pace:backoff") == b"8.0"
    assert client.pttl("voigpt:pace:paused") > 60_000 + 3_000  # kept a minute past it


def _start_at_rate(url: str, barrier: Barrier, n: int) -> None:
    async def work(state: RedisState) -> None:
        client = redis.asyncio.Redis.from_url(url)
        pace = state.pace(rate=5, concurrency=None)
        barrier.wait()
        for _ in range(4):
            async with pace.slot():
                await client.rpush("test:starts", repr(time.time()))
        await client.aclose()
    _in_loop(url, work)


def test_the_start_rate_holds_across_three_processes(redis_url: str) -> None:
    barrier = SPAWN.Barrier(3)
    _joined(_processes(_start_at_rate, redis_url, barrier))
    starts = sorted(float(t) for t in redis.Redis.from_url(redis_url).lrange(
        "test:starts", 0, -1))
    assert len(starts) == 12
    # 5 a second fleet-wide: 12 starts span at least 11/5 s (with slack for the clocks).
    assert starts[-1] - starts[0] >= 11 / 5 * 0.9
