"""``--site-concurrency`` on shared state, on a real file and a real redis-server: the slots
of tasks that start together are taken in one trip to the store and given back in one;
on SQLite both run on the event loop when the file lets them at once, and a take that
meets another process's write lock waits on the state's thread, not on the loop."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.support.loop_gaps import LoopGaps
from tests.support.redis_server import (  # noqa: F401 (the fixtures redis_server, redis_url)
    redis_server_fixture,
    redis_url_fixture,
)
from tests.support.sqlite_locks import (  # noqa: F401 (the fixture holders)
    hold_write_lock,
    holders_fixture,
    let_go,
)
from tests.support.sqlite_locks import sqlite_state as state
from voigpt.adapters.redis import RedisState
from voigpt.adapters.redis import pace as redis_pace
from voigpt.adapters.sqlite import pace_sql
from voigpt.domain.state_location import parse_state
from voigpt.ports.shared_state import SharedState, SitePace

TASKS = 20


class Inside:
    """Tasks that each take a slot of ``pace`` and hold it until ``all_out``."""

    def __init__(self, pace: SitePace) -> None:
        self.pace = pace
        self._in, self._leave = asyncio.Event(), asyncio.Event()
        self._count, self._tasks = 0, list[asyncio.Task[None]]()

    async def all_in(self, count: int, *, within: float) -> None:
        async def task() -> None:
            async with self.pace.slot():
                self._count += 1
                if self._count == count:
                    self._in.set()
                await self._leave.wait()

        self._tasks = [asyncio.create_task(task()) for _ in range(count)]
        await asyncio.wait_for(self._in.wait(), within)

    async def all_out(self) -> None:
        self._leave.set()
        await asyncio.gather(*self._tasks)


def slots_in(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM slots").fetchone()[0])


def test_sqlite_slots_taken_together_are_one_transaction_on_the_loop(tmp_path: Path) -> None:
    """With the state's thread held busy, 20 tasks still start (their slots taken on the
    loop, in one transaction: the file shows all 20 held) and give them back (0 held)."""
    path = tmp_path / "s.db"

    async def use() -> tuple[int, int, int]:
        shared = state(path)
        await shared.open()
        inside = Inside(shared.pace(rate=None, concurrency=64))
        writes = shared._db._now.done
        release = threading.Event()
        shared._db._executor.submit(release.wait, 10)  # the thread, busy (not on the file)
        try:
            await inside.all_in(TASKS, within=2)
            held = slots_in(path)
            took = shared._db._now.done - writes
            await inside.all_out()
            for _ in range(3):
                await asyncio.sleep(0)  # the turn in which they are given back
            left = slots_in(path)
        finally:
            release.set()
        await shared.aclose()
        return held, took, left

    held, took, left = asyncio.run(use())
    assert held == TASKS
    assert took == 1, f"{took} transactions for {TASKS} slots"
    assert left == 0


def test_sqlite_a_take_while_another_process_holds_the_lock_leaves_the_loop_free(
        tmp_path: Path, holders: list[subprocess.Popen[str]]) -> None:
    """Another process holds the write lock for 1.5 s: the loop keeps turning, the task
    waits (on the state's thread) and starts once the lock is free."""
    path = tmp_path / "s.db"

    async def use() -> None:
        shared = state(path)
        await shared.open()
        pace = shared.pace(rate=None, concurrency=4)
        holder = hold_write_lock(path, holders)

        async def task() -> None:
            async with pace.slot():
                pass

        loop = asyncio.get_running_loop()
        gaps, started = LoopGaps.start(), loop.create_task(task())
        await asyncio.sleep(1.5)
        assert not started.done()  # waiting for the lock, not started, not failed
        let_go(holder)
        await asyncio.wait_for(started, 5)
        longest = gaps.stop()
        assert longest < 0.5, f"the loop stalled {longest:.2f} s"
        assert shared.healthy
        await shared.aclose()
    asyncio.run(use())


def _calls(client: redis.Redis, command: str) -> int:
    """Calls of ``command`` that did something (not the first EVALSHA's NOSCRIPT, after
    which the client loads the script and calls again)."""
    stats = client.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0)) - int(stats.get("failed_calls", 0))


def test_redis_slots_taken_together_are_one_script_call_and_one_zrem(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)

    async def use() -> tuple[int, int, int]:
        shared = RedisState(parse_state(redis_url))
        await shared.open()
        inside = Inside(shared.pace(rate=None, concurrency=64))
        before = _calls(client, "evalsha"), _calls(client, "zrem")
        await inside.all_in(TASKS, within=5)
        held = int(client.zcard("voigpt:pace:slots"))
        await inside.all_out()
        await asyncio.sleep(0.1)  # given back in the next turn, not waited for
        held_after = int(client.zcard("voigpt:pace:slots"))
        takes = _calls(client, "evalsha") - before[0]
        gives = _calls(client, "zrem") - before[1]
        await shared.aclose()
        assert held == TASKS and held_after == 0
        return takes, gives, held

    takes, gives, _ = asyncio.run(use())
    assert takes == 1, f"{takes} script calls for {TASKS} slots"
    assert gives == 1, f"{gives} ZREMs for {TASKS} slots"


async def _handed_on_within(make: Callable[[], SharedState]) -> float:
    """On a state with one slot, one task holds it while another waits (and has asked
    once); the seconds from the holder leaving to the waiter starting."""
    shared = make()
    await shared.open()
    try:
        return await _handed_on(shared.pace(rate=None, concurrency=1))
    finally:
        await shared.aclose()


async def _handed_on(pace: SitePace) -> float:
    leave = asyncio.Event()
    left_at = 0.0

    async def holder() -> None:
        nonlocal left_at
        async with pace.slot():
            await leave.wait()
            left_at = time.monotonic()

    async def waiter() -> float:
        async with pace.slot():
            return time.monotonic()

    held = asyncio.create_task(holder())
    await asyncio.sleep(0.1)
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.3)  # it asked, found the slot taken, and naps till its next poll
    leave.set()
    await held
    return await asyncio.wait_for(waiting, 10) - left_at


def test_sqlite_a_slot_freed_here_goes_to_a_waiter_here_before_the_next_poll(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace_sql, "POLL", 3.0)

    assert asyncio.run(_handed_on_within(lambda: state(tmp_path / "s.db"))) < 1.5


def test_redis_a_slot_freed_here_goes_to_a_waiter_here_before_the_next_poll(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_pace, "POLL", (3.0, 3.0))

    assert asyncio.run(_handed_on_within(lambda: RedisState(parse_state(redis_url)))) < 1.5


def test_sqlite_slots_taken_and_given_back_alone_keep_the_wal_bounded(tmp_path: Path) -> None:
    """The pace's transactions put no bytes but write pages: 20,000 slots taken and given
    back (about 3,000 transactions on the loop, tens of MB of pages) leave a WAL of a few
    MiB, checkpointed as any writes on the loop are."""
    path = tmp_path / "s.db"

    async def use() -> int:
        shared = state(path)
        await shared.open()
        pace = shared.pace(rate=None, concurrency=8)
        left = [20_000]

        async def client() -> None:
            while left[0] > 0:
                left[0] -= 1
                async with pace.slot():
                    await asyncio.sleep(0)

        await asyncio.gather(*(client() for _ in range(32)))
        await asyncio.sleep(0.2)  # the last checkpoint asked for, done
        wal = os.path.getsize(f"{path}-wal")
        await shared.aclose()
        return wal

    wal = asyncio.run(use())
    assert wal < 8 * 1024 * 1024, f"WAL {wal} bytes"


def test_sqlite_a_slot_given_back_to_waiting_tasks_is_one_transaction_with_their_take(
        tmp_path: Path) -> None:
    """Cap 2, 10 tasks holding their slot 5 ms: the first two start on one transaction,
    each pair given back takes the next pair in the same one, and the last pair goes back
    in one more (6 in all; a give-back and a take apart would be 10), in arrival order."""
    async def use() -> tuple[int, list[int]]:
        shared = state(tmp_path / "s.db")
        await shared.open()
        pace = shared.pace(rate=None, concurrency=2)
        order: list[int] = []

        async def task(i: int) -> None:
            async with pace.slot():
                order.append(i)
                await asyncio.sleep(0.005)

        before = shared._db._now.done
        await asyncio.gather(*(task(i) for i in range(10)))
        await asyncio.sleep(0.05)  # the last give-back
        transactions = shared._db._now.done - before
        await shared.aclose()
        return transactions, order

    transactions, order = asyncio.run(use())
    assert order == list(range(10))
    assert transactions <= 6
