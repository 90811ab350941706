"""SqliteState in one process, on real files: how the file is made, the files it refuses
at start-up (with a clear InvalidConfig, within a bound), the stores' caps and expiry, the
token's compare-and-delete, the pause's growth, and the fallback to the process's memory
when the file fails at request time. Across processes: test_sqlite_state_processes.py."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.sqlite_locks import (  # noqa: F401 (the fixture holders)
    hold_exclusive,
    holders_fixture,
)
from tests.support.sqlite_locks import sqlite_state as state
from voigpt.adapters.sqlite import SqliteState
from voigpt.adapters.sqlite.database import Database
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import StateLocation
from voigpt.domain.values import AccessToken

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def refusal(path: Path, busy_timeout: float = 0.5) -> tuple[InvalidConfig, float]:
    async def opening() -> None:
        shared = state(path, busy_timeout=busy_timeout)
        try:
            await shared.open()
        finally:
            await shared.aclose()
    began = time.monotonic()
    with pytest.raises(InvalidConfig) as caught:
        asyncio.run(opening())
    error = caught.value
    assert str(path) in str(error)
    assert error.__cause__ is None and (error.__suppress_context__ or error.__context__ is None)
    return error, time.monotonic() - began


# The file

def test_the_file_and_the_directories_it_makes_are_the_owners_only(tmp_path: Path) -> None:
    (tmp_path / "there").mkdir(mode=0o755)
    path = tmp_path / "there" / "new" / "deeper" / "state.db"
    previous = os.umask(0o277)  # owner-only must not depend on the umask
    try:
        async def use() -> None:
            shared = state(path)
            await shared.open()
            await shared.reply_cache().put("k", b"v", 60)
            assert mode(Path(f"{path}-wal")) == 0o600 and mode(Path(f"{path}-shm")) == 0o600
            await shared.aclose()
        asyncio.run(use())
    finally:
        os.umask(previous)
    assert mode(path) == 0o600
    made = tmp_path / "there" / "new"
    assert mode(made) == 0o700 and mode(made / "deeper") == 0o700
    assert mode(tmp_path / "there") == 0o755  # a directory voigpt did not make is left alone
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_directory_is_refused_at_open(tmp_path: Path) -> None:
    (tmp_path / "state.db").mkdir()
    error, _ = refusal(tmp_path / "state.db")
    assert "is a directory" in str(error)


def test_a_corrupt_file_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is no database at all\n" * 200)
    error, _ = refusal(path)
    assert "not a SQLite database" in str(error)


def test_a_read_only_file_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    asyncio.run(_made(path))
    path.chmod(0o444)
    code = ("import asyncio, sys\n"
            "from voigpt.adapters.sqlite import SqliteState\n"
            "from voigpt.domain.errors import InvalidConfig\n"
            "from voigpt.domain.state_location import StateLocation\n"
            "s = SqliteState(StateLocation('sqlite', path=sys.argv[1]), busy_timeout=0.5)\n"
            "try:\n    asyncio.run(s.open())\n"
            "except InvalidConfig as e:\n    print('InvalidConfig:', e)\n")
    command = [sys.executable, "-c", code, str(path)]
    if os.geteuid() == 0:  # root writes any file: run it without the capabilities that allow
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and no setpriv to drop root's capabilities")
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *command]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=30)
    assert done.stderr == ""
    assert done.stdout.startswith(f"InvalidConfig: state sqlite:///{path}: is read-only")


async def _made(path: Path) -> None:
    shared = state(path)
    await shared.open()
    await shared.aclose()


@pytest.mark.parametrize("made_first", [False, True], ids=["new file", "voigpt's wal file"])
def test_a_file_another_process_holds_locked_is_refused_within_the_busy_timeout(
        tmp_path: Path, holders: list[subprocess.Popen[str]], made_first: bool) -> None:
    path = tmp_path / "state.db"
    if made_first:
        asyncio.run(_made(path))
    hold_exclusive(path, holders)
    error, took = refusal(path, busy_timeout=0.5)
    assert "locked by another process" in str(error)
    assert 0.4 < took < 5


def test_open_twice_and_a_second_state_on_the_same_file_are_fine(tmp_path: Path) -> None:
    async def use() -> None:
        first, second = state(tmp_path / "s.db"), state(tmp_path / "s.db")
        await first.open()
        await first.open()
        await second.open()
        await first.reply_cache().put("k", b"v", 60)
        assert await second.reply_cache().get("k") == b"v"
        await first.aclose()
        await second.aclose()
    asyncio.run(use())


# What is stored

def test_responses_keep_the_newest_max_records_and_expire(tmp_path: Path) -> None:
    async def use() -> None:
        shared = state(tmp_path / "s.db")
        store = shared.response_store(max_records=3, ttl=60)
        for number in range(5):
            await store.put(f"resp_{number}", b"x%d" % number)
        assert [await store.get(f"resp_{n}") for n in range(5)] == [None, None, b"x2", b"x3",
                                                                    b"x4"]
        await store.put("resp_2", b"again")  # replacing makes it the newest
        await store.put("resp_5", b"x5")
        assert await store.get("resp_3") is None and await store.get("resp_2") == b"again"
        assert await store.delete("resp_2") is True and await store.delete("resp_2") is False
        assert await store.get("resp_2") is None
        short = shared.response_store(max_records=3, ttl=0.3)
        await short.put("brief", b"b")
        assert await short.get("brief") == b"b"
        await asyncio.sleep(0.45)
        assert await short.get("brief") is None and await short.delete("brief") is False
        none = shared.response_store(max_records=0, ttl=60)
        await none.put("never", b"n")
        assert await none.get("never") is None
        await shared.aclose()
    asyncio.run(use())


def test_responses_keep_to_the_byte_budget_oldest_first(tmp_path: Path) -> None:
    async def use() -> None:
        shared = SqliteState(StateLocation("sqlite", path=str(tmp_path / "s.db")),
                             max_bytes=100)
        store = shared.response_store(max_records=10, ttl=60)
        await store.put("a", b"a" * 40)
        await store.put("b", b"b" * 40)
        await store.put("c", b"c" * 40)  # 120 > 100: "a" goes
        assert await store.get("a") is None
        assert await store.get("b") == b"b" * 40 and await store.get("c") == b"c" * 40
        await store.put("d", b"d" * 90)  # both others go
        assert [await store.get(k) for k in "bcd"] == [None, None, b"d" * 90]
        await store.put("e", b"e" * 101)  # larger than the whole budget: not kept
        assert await store.get("e") is None and await store.get("d") == b"d" * 90
        await shared.aclose()
    asyncio.run(use())


def test_puts_at_once_are_written_together_as_if_one_after_the_other(tmp_path: Path) -> None:
    """Puts that arrive while a transaction is being written share the next one; each put
    returns once its record is in the file (a second state on the file reads it)."""
    async def use() -> None:
        shared, other = state(tmp_path / "s.db"), state(tmp_path / "s.db")
        store = shared.response_store(max_records=5, ttl=60)
        reader = other.response_store(max_records=5, ttl=60)
        transactions = 0
        real = type(store)._put_all

        def counted(self: object, records: list[tuple[str, bytes]], conn: object) -> None:
            nonlocal transactions
            transactions += 1
            real(self, records, conn)  # type: ignore[arg-type]

        type(store)._put_all = counted  # type: ignore[method-assign]
        try:
            await asyncio.gather(*(store.put(f"r{n}", b"%d" % n) for n in range(40)),
                                 store.put("r39", b"last"))  # a key put twice: the last wins
        finally:
            type(store)._put_all = real  # type: ignore[method-assign]
        assert transactions < 40 / 2  # grouped, not one transaction a put
        assert [await reader.get(f"r{n}") for n in range(34, 40)] == [
            None, b"35", b"36", b"37", b"38", b"last"]  # the newest five, read elsewhere
        budget = SqliteState(StateLocation("sqlite", path=str(tmp_path / "b.db")), max_bytes=100)
        small = budget.response_store(max_records=10, ttl=60)
        await asyncio.gather(*(small.put(k, k.encode() * 40) for k in "abc"))
        assert [await small.get(k) for k in "abc"] == [None, b"b" * 40, b"c" * 40]
        for closing in (shared, other, budget):
            await closing.aclose()
    asyncio.run(use())


def test_a_group_larger_than_a_statement_takes_is_written_whole_in_order(
        tmp_path: Path) -> None:
    """A group is written a hundred records a statement (PART): 250 puts at once, with keys
    put twice across those runs, are as if put one after the other: every last record
    readable from another state, and the count cap keeps the newest, whatever run they
    were in."""
    async def use() -> None:
        shared, other = state(tmp_path / "s.db"), state(tmp_path / "s.db")
        store = shared.response_store(max_records=1000, ttl=60)
        keys = [f"r{n % 180}" for n in range(250)]  # r0..r69 twice: in run 1 and in run 3
        await asyncio.gather(*(store.put(k, b"%d" % n) for n, k in enumerate(keys)))
        reader = other.response_store(max_records=1000, ttl=60)
        expected = {k: b"%d" % n for n, k in enumerate(keys)}
        assert {k: await reader.get(k) for k in expected} == expected
        small = state(tmp_path / "c.db")
        capped = small.response_store(max_records=120, ttl=60)
        await asyncio.gather(*(capped.put(f"k{n}", b"%d" % n) for n in range(250)))
        kept = [n for n in range(250) if await capped.get(f"k{n}") is not None]
        assert kept == list(range(130, 250))
        for closing in (shared, other, small):
            await closing.aclose()
    asyncio.run(use())


def test_a_puts_statement_journal_stays_in_memory(tmp_path: Path) -> None:
    """SQLite keeps a statement's undo pages in a temporary file (in /var/tmp, holding
    records) once they pass 64 KiB: the state's connection keeps them in memory."""
    async def use() -> None:
        db = Database(str(tmp_path / "s.db"))
        assert await db.run(
            lambda conn: conn.execute("PRAGMA temp_store").fetchone()[0]) == 2  # MEMORY
        await db.aclose()
    asyncio.run(use())


def test_the_default_byte_budget_is_64_mib(tmp_path: Path) -> None:
    async def use() -> None:
        shared = state(tmp_path / "s.db")
        store = shared.response_store(max_records=100, ttl=60)
        assert store.max_bytes == 64 * 1024 * 1024
        chunk = b"z" * (20 * 1024 * 1024)
        for key in "abcd":  # 80 MiB written: the oldest goes
            await store.put(key, chunk)
        assert await store.get("a") is None and await store.get("b") == chunk
        await shared.aclose()
    asyncio.run(use())


def test_cached_replies_expire_and_are_shared_by_states_on_one_file(tmp_path: Path) -> None:
    async def use() -> None:
        one, two = state(tmp_path / "s.db"), state(tmp_path / "s.db")
        await one.reply_cache().put("h1", b"answer", 0.3)
        await one.reply_cache().put("h2", b"longer", 60)
        assert await two.reply_cache().get("h1") == b"answer"
        await asyncio.sleep(0.45)
        assert await two.reply_cache().get("h1") is None
        assert await two.reply_cache().get("h2") == b"longer"
        await one.aclose()
        await two.aclose()
    asyncio.run(use())


def test_invalidate_drops_the_token_only_if_it_is_still_the_stored_one(tmp_path: Path) -> None:
    fetched: list[str] = []

    def fetcher(value: str):  # type: ignore[no-untyped-def]
        async def fetch() -> AccessToken:
            fetched.append(value)
            return AccessToken(value)
        return fetch

    async def use() -> None:
        one, two = state(tmp_path / "s.db"), state(tmp_path / "s.db")
        old = await one.token_cache().acquire(fetcher("a" * 32))
        await two.token_cache().invalidate(AccessToken("b" * 32))  # not the stored one
        assert await two.token_cache().acquire(fetcher("c" * 32)) == old
        await two.token_cache().invalidate(old)
        new = await one.token_cache().acquire(fetcher("d" * 32))
        assert new.value == "d" * 32 and await two.token_cache().acquire(fetcher("e")) == new
        await one.aclose()
        await two.aclose()
    asyncio.run(use())
    assert fetched == ["a" * 32, "d" * 32]


def test_429s_in_a_row_pause_longer_from_any_state_on_the_file(tmp_path: Path) -> None:
    async def use() -> list[float]:
        one, two = state(tmp_path / "s.db"), state(tmp_path / "s.db")
        pauses = []
        for shared in (one, two, one):
            before = time.time()
            await shared.pace(rate=None, concurrency=None).rate_limited(None)
            row = sqlite3.connect(tmp_path / "s.db").execute(
                "SELECT paused_until FROM pace").fetchone()
            pauses.append(row[0] - before)
        await one.pace(rate=None, concurrency=None).rate_limited(500)  # capped at 60 s
        row = sqlite3.connect(tmp_path / "s.db").execute("SELECT paused_until FROM pace")
        pauses.append(row.fetchone()[0] - time.time())
        await one.aclose()
        await two.aclose()
        return pauses
    pauses = asyncio.run(use())
    assert [round(p) for p in pauses] == [1, 2, 4, 60]


# When the file fails at request time

def test_a_file_locked_at_request_time_falls_back_to_memory_with_one_warning_then_returns(
        tmp_path: Path, holders: list[subprocess.Popen[str]],
        caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.db"
    caplog.set_level(logging.WARNING, logger="voigpt.state")
    shared = state(path, busy_timeout=0.2)
    changes: list[bool] = []
    shared.on_health = changes.append

    async def while_locked() -> None:
        await shared.open()
        store = shared.response_store(max_records=10, ttl=60)
        hold_exclusive(path, holders)
        began = time.monotonic()
        await store.put("kept", b"in memory")
        async with shared.pace(rate=5, concurrency=2).slot():
            pass
        assert await store.get("kept") == b"in memory"
        assert time.monotonic() - began < 3
        assert shared.healthy is False and shared.fallbacks >= 3
        await asyncio.sleep(1.1)  # tried again, failing again: no second warning
        await store.put("kept", b"in memory")
        assert shared.healthy is False

    async def after() -> None:
        holders[0].kill()
        holders[0].wait()
        await asyncio.sleep(1.1)  # the file is tried again at most every second
        store = shared.response_store(max_records=10, ttl=60)
        await store.put("shared", b"in the file")
        assert shared.healthy is True
        await shared.aclose()

    asyncio.run(while_locked())
    asyncio.run(after())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "failed" in warnings[0] and "works again" in warnings[1]
    assert str(path) in warnings[0] and "locked" in warnings[0]
    assert changes == [False, True]
    row = sqlite3.connect(path).execute("SELECT record FROM responses WHERE key = 'shared'")
    assert row.fetchone()[0] == b"in the file"
