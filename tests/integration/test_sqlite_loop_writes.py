"""Puts written at once on the event loop's thread (``Database.write_now``), on real files:
they do not wait for the state's thread, never wait on another process's lock, leave the
checkpoints to the state's thread, and go back to that thread after a slow write."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.support.loop_gaps import LoopGaps
from tests.support.sqlite_locks import (  # noqa: F401 (the fixture holders)
    hold_write_lock,
    holders_fixture,
    let_go,
)
from tests.support.sqlite_locks import sqlite_state as state
from voigpt.adapters.sqlite import checkpoints, loop_writes


def test_a_put_does_not_wait_for_the_states_thread(tmp_path: Path) -> None:
    """The state's thread is held busy: a put still returns at once, its record readable
    from another state on the file (it went to the file, not to a queue)."""
    async def use() -> None:
        shared, other = state(tmp_path / "s.db"), state(tmp_path / "s.db")
        await shared.open()
        store = shared.response_store(max_records=10, ttl=60)
        release = threading.Event()
        shared._db._executor.submit(release.wait, 10)  # the thread, busy (not on the file)
        try:
            await asyncio.wait_for(store.put("now", b"written on the loop"), 2)
        finally:
            release.set()
        reader = other.response_store(max_records=10, ttl=60)
        assert await reader.get("now") == b"written on the loop"
        for closing in (shared, other):
            await closing.aclose()
    asyncio.run(use())


def test_a_put_while_another_process_holds_the_lock_leaves_the_loop_free(
        tmp_path: Path, holders: list[subprocess.Popen[str]]) -> None:
    """Another process holds the write lock for 1.5 s: the loop keeps turning (a ticker
    every 10 ms is never late by much), and the put is written once the lock is free."""
    path = tmp_path / "s.db"

    async def use() -> None:
        shared = state(path)
        await shared.open()
        store = shared.response_store(max_records=10, ttl=60)
        holder = hold_write_lock(path, holders)

        gaps = LoopGaps.start()
        put = asyncio.get_running_loop().create_task(store.put("later", b"after the lock"))
        await asyncio.sleep(1.5)
        assert not put.done()  # waiting on the state's thread, not written, not failed
        let_go(holder)
        await asyncio.wait_for(put, 5)
        longest = gaps.stop()
        assert longest < 0.5, f"the loop stalled {longest:.2f} s"
        assert shared.healthy
        row = sqlite3.connect(path).execute("SELECT record FROM responses WHERE key = 'later'")
        assert row.fetchone()[0] == b"after the lock"
        await shared.aclose()
    asyncio.run(use())


def test_the_wal_stays_bounded_by_checkpoints_on_a_thread_of_their_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop's commits never checkpoint; the checkpoint thread does, every
    CHECKPOINT_EVERY bytes put, and the WAL starts over although the puts go on while a
    checkpoint runs: 24 MiB put in 64 KiB records leave a WAL of a few MiB (the puts made
    during a checkpoint's first pass add to it)."""
    monkeypatch.setattr(loop_writes, "CHECKPOINT_EVERY", 1024 * 1024)
    path = tmp_path / "s.db"

    async def use() -> tuple[int, int]:
        shared = state(path)
        await shared.open()
        store = shared.response_store(max_records=1000, ttl=60)
        record = os.urandom(64 * 1024)
        for n in range(384):
            await store.put(f"r{n}", record)
        await asyncio.sleep(0.2)  # the last checkpoint asked for, done
        wal = os.path.getsize(str(path) + "-wal")  # before closing, which removes it
        written_here = shared._db._now.done
        await shared.aclose()
        return written_here, wal

    on_loop, wal = asyncio.run(use())
    assert on_loop >= 300  # nearly all on the loop (a few meet a checkpoint's second pass)
    assert wal < 12 * 1024 * 1024, f"WAL {wal} bytes"


def test_after_a_slow_write_puts_go_to_the_states_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write on the loop slower than SLOW sends the next puts to the state's thread (with
    the thread held busy, the next put waits for it) until COOL_OFF has passed."""
    monkeypatch.setattr(loop_writes, "SLOW", 0.0)  # every write is slow

    async def use() -> None:
        shared = state(tmp_path / "s.db")
        await shared.open()
        store = shared.response_store(max_records=10, ttl=60)
        await store.put("first", b"on the loop, slowly")
        assert shared._db._now.done == 1
        release = threading.Event()
        shared._db._executor.submit(release.wait, 10)  # the thread, busy (not on the file)
        second = asyncio.get_running_loop().create_task(store.put("second", b"thread"))
        await asyncio.sleep(0.3)
        assert not second.done()  # queued behind the busy thread
        release.set()
        await asyncio.wait_for(second, 5)
        assert shared._db._now.done == 1
        assert await store.get("second") == b"thread"
        await shared.aclose()
    asyncio.run(use())


def test_a_slow_checkpoint_holds_up_no_write_on_the_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint that takes 1.5 s (a slow disk's fsyncs) runs while the next puts are
    written on the loop at once, not queued behind it on the state's thread."""
    monkeypatch.setattr(loop_writes, "CHECKPOINT_EVERY", 64 * 1024)
    began: list[float] = []

    def slow(conn: sqlite3.Connection) -> bool:
        began.append(time.monotonic())
        if len(began) == 1:  # the first pass, without the state's connection
            time.sleep(1.5)
        ((busy, frames, copied),) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return bool(not busy and frames == copied)

    monkeypatch.setattr(checkpoints, "checkpoint", slow)

    async def use() -> tuple[float, int, int]:
        shared = state(tmp_path / "s.db")
        await shared.open()
        store = shared.response_store(max_records=100, ttl=60)
        await store.put("big", os.urandom(64 * 1024))  # asks for a checkpoint
        while not began:
            await asyncio.sleep(0.01)
        on_loop = shared._db._now.done
        started = time.monotonic()
        for n in range(10):
            await store.put(f"r{n}", b"small")
        took = time.monotonic() - started
        written_here = shared._db._now.done - on_loop
        await shared.aclose()
        return took, written_here, shared._db._checkpoints.done

    took, written_here, done = asyncio.run(use())
    assert took < 0.5, f"10 puts took {took:.2f} s during the checkpoint"
    assert written_here == 10
    assert done >= 1  # the slow one finished (the puts after it may have asked for more)
