"""RedisState's stored responses and reply cache on a real redis-server, written by one
process and read by another, with the memory store's caps; and a password-protected Redis,
the password never shown."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.redis_server import (  # noqa: F401 (the fixtures redis_server, redis_url)
    RedisServer,
    redis_server_fixture,
    redis_url_fixture,
)
from voigpt.adapters.redis import RedisState
from voigpt.adapters.redis.stores import RedisResponseStore
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import parse_state

SPAWN = multiprocessing.get_context("spawn")


def _in_loop(url: str, work: Callable[[RedisState], Awaitable[Any]], *,
             password: str | None = None) -> Any:
    async def main() -> Any:
        state = RedisState(parse_state(url, redis_password=password))
        await state.open()
        try:
            return await work(state)
        finally:
            await state.aclose()
    return asyncio.run(main())


def _put(url: str, records: dict[str, bytes], max_records: int, ttl: float) -> None:
    async def work(state: RedisState) -> None:
        store = state.response_store(max_records=max_records, ttl=ttl)
        for key, record in records.items():
            await store.put(key, record)
    _in_loop(url, work)


def _in_another_process(target: Callable[..., None], *args: Any) -> None:
    proc = SPAWN.Process(target=target, args=args)
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0


def test_a_response_stored_by_one_process_is_read_and_deleted_by_another(
        redis_url: str) -> None:
    _in_another_process(_put, redis_url, {"resp_1": b"one", "resp_2": b"two"}, 10, 60.0)

    async def work(state: RedisState) -> list[object]:
        store = state.response_store(max_records=10, ttl=60)
        return [await store.get("resp_1"), await store.get("resp_2"), await store.get("x"),
                await store.delete("resp_1"), await store.delete("resp_1"),
                await store.get("resp_1")]

    assert _in_loop(redis_url, work) == [b"one", b"two", None, True, False, None]
    client = redis.Redis.from_url(redis_url)
    assert client.get("voigpt:responses-bytes") == b"3"  # "two" is left


def test_the_record_cap_forgets_the_oldest_fleet_wide(redis_url: str) -> None:
    _in_another_process(_put, redis_url, {f"r{n}": b"x" for n in range(3)}, 3, 60.0)

    async def work(state: RedisState) -> list[bytes | None]:
        store = state.response_store(max_records=3, ttl=60)
        await store.put("r3", b"y")
        await store.put("r4", b"z")
        return [await store.get(f"r{n}") for n in range(5)]

    assert _in_loop(redis_url, work) == [None, None, b"x", b"y", b"z"]


def test_the_byte_budget_forgets_the_oldest_and_refuses_what_cannot_fit(
        redis_url: str) -> None:
    async def work(state: RedisState) -> list[object]:
        store = RedisResponseStore(state.link, state.prefix, max_records=100, ttl=60,
                                   max_bytes=10)
        await store.put("a", b"1234")
        await store.put("b", b"5678")
        await store.put("a", b"12")  # replaced: its old size leaves the sum
        await store.put("c", b"abcde")  # 6 + 5 > 10: "b", now the oldest, goes
        await store.put("huge", b"x" * 11)  # larger than the budget: never stored
        return [await store.get(k) for k in ("a", "b", "c", "huge")]

    assert _in_loop(redis_url, work) == [b"12", None, b"abcde", None]
    assert redis.Redis.from_url(redis_url).get("voigpt:responses-bytes") == b"7"


def test_responses_live_for_their_ttl_and_leave_no_count_behind(redis_url: str) -> None:
    async def work(state: RedisState) -> list[object]:
        store = state.response_store(max_records=2, ttl=0.3)
        await store.put("old", b"1234")
        await asyncio.sleep(0.5)
        gone = await store.get("old")
        await store.put("new", b"56")
        return [gone, await store.get("new")]

    assert _in_loop(redis_url, work) == [None, b"56"]
    client = redis.Redis.from_url(redis_url)
    assert client.get("voigpt:responses-bytes") == b"2"
    assert client.zrange("voigpt:responses-index", 0, -1) == [b"new"]


def test_max_records_zero_stores_nothing(redis_url: str) -> None:
    async def work(state: RedisState) -> bytes | None:
        store = state.response_store(max_records=0, ttl=60)
        await store.put("a", b"1")
        return await store.get("a")

    assert _in_loop(redis_url, work) is None
    assert redis.Redis.from_url(redis_url).dbsize() == 0


def _cache(url: str, key: str, value: bytes, ttl: float) -> None:
    async def work(state: RedisState) -> None:
        await state.reply_cache().put(key, value, ttl)
    _in_loop(url, work)


def test_a_cached_reply_crosses_processes_until_its_ttl(redis_url: str) -> None:
    _in_another_process(_cache, redis_url, "k1", b"reply", 30.0)
    _in_another_process(_cache, redis_url, "k2", b"brief", 0.01)

    async def work(state: RedisState) -> list[bytes | None]:
        cache = state.reply_cache()
        return [await cache.get("k1"), await cache.get("k2"), await cache.get("k3")]

    assert _in_loop(redis_url, work) == [b"reply", None, None]
    assert 0 < redis.Redis.from_url(redis_url).pttl("voigpt:reply:k1") <= 30_000


# --- a password ---------------------------------------------------------------------------

SECRET = "pw-0f9c-never-shown"


@pytest.fixture(scope="module")
def locked_redis() -> Iterator[RedisServer]:
    with RedisServer(Path(tempfile.mkdtemp()), password=SECRET) as server:
        yield server


def test_the_right_password_works_from_the_url_or_apart(locked_redis: RedisServer) -> None:
    async def work(state: RedisState) -> bytes | None:
        await state.reply_cache().put("k", b"v", 60)
        return await state.reply_cache().get("k")

    port = locked_redis.port
    assert _in_loop(f"redis://:{SECRET}@127.0.0.1:{port}/0", work) == b"v"
    assert _in_loop(locked_redis.url, work, password=SECRET) == b"v"  # VOIGPT_REDIS_PASSWORD


@pytest.mark.parametrize("password", ["not-the-" + SECRET, None])
def test_a_refused_password_is_a_clear_error_that_never_shows_it(
        locked_redis: RedisServer, password: str | None,
        caplog: pytest.LogCaptureFixture) -> None:
    async def work(state: RedisState) -> None:
        raise AssertionError("open() let it through")

    with caplog.at_level(logging.DEBUG), pytest.raises(InvalidConfig) as caught:
        _in_loop(locked_redis.url, work, password=password)
    shown = f"redis://{':***@' if password else ''}127.0.0.1:{locked_redis.port}/0"
    assert shown in str(caught.value)
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert "not-the-" not in text and SECRET not in text
    state = RedisState(parse_state(locked_redis.url, redis_password=password))
    assert SECRET not in repr(state) and SECRET not in str(state.link.client.__repr__())


def test_puts_at_once_share_one_call_as_if_one_after_the_other(redis_url: str) -> None:
    """Puts that come while a group is being written go together into the next call;
    each returns once its record is in Redis (another connection reads it)."""
    async def work(state: RedisState) -> list[bytes | None]:
        store = state.response_store(max_records=5, ttl=60)
        groups: list[int] = []
        real = store._put_group

        async def counted(records: list[tuple[str, bytes]]) -> None:
            groups.append(len(records))
            await real(records)

        store._group._write = counted  # type: ignore[assignment]
        await asyncio.gather(*(store.put(f"g{n}", b"%d" % n) for n in range(40)),
                             store.put("g39", b"last"))  # a key put twice: the last wins
        assert len(groups) < 40 / 2 and sum(groups) == 41
        client = redis.Redis.from_url(redis_url)
        return [client.get(f"voigpt:responses:g{n}") for n in range(34, 40)]

    assert _in_loop(redis_url, work) == [None, b"35", b"36", b"37", b"38", b"last"]


def test_puts_go_on_after_redis_forgets_its_scripts(redis_url: str) -> None:
    """A Redis restarted, or told SCRIPT FLUSH, no longer knows the put's script: the next
    group loads it again and is stored, not refused nor kept in the process alone."""
    async def work(state: RedisState) -> list[bytes | None]:
        store = state.response_store(max_records=5, ttl=60)
        await store.put("before", b"1")
        client = redis.Redis.from_url(redis_url)
        client.script_flush()
        await asyncio.gather(store.put("after", b"2"), store.put("again", b"3"))
        return [client.get(f"voigpt:responses:{key}") for key in ("before", "after", "again")]

    assert _in_loop(redis_url, work) == [b"1", b"2", b"3"]
