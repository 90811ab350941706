"""Redis going away under a RedisState and coming back (a real redis-server, stopped and
started again on its port): every call keeps answering as the process alone would, one
warning says so, ``healthy`` shows it, and shared state comes back by itself."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis

from tests.support.ports import unused_port
from tests.support.redis_server import (  # noqa: F401 (the fixtures redis_server, redis_url)
    RedisServer,
    redis_server_fixture,
    redis_url_fixture,
)
from voigpt.adapters.redis import RedisState
from voigpt.domain.state_location import parse_state
from voigpt.domain.values import AccessToken


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "voigpt.state" and r.levelno >= logging.WARNING]


async def _every_call(state: RedisState, tag: str) -> list[object]:
    """One call of each kind; what they answered."""
    cache = state.token_cache()

    async def fetch() -> AccessToken:
        return AccessToken(f"token-{tag}")

    token = await cache.acquire(fetch)
    pace = state.pace(rate=50, concurrency=2)
    async with pace.slot():
        pass
    await pace.rate_limited(0.01)
    store = state.response_store(max_records=10, ttl=60)
    await store.put(f"resp-{tag}", tag.encode())
    replies = state.reply_cache()
    await replies.put(f"reply-{tag}", tag.encode(), 60)
    return [token.value, await store.get(f"resp-{tag}"), await replies.get(f"reply-{tag}")]


def test_redis_stopped_mid_use_then_started_again(
        redis_server: RedisServer, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        state = RedisState(parse_state(redis_url))
        await state.open()
        transitions: list[bool] = []
        state.link.on_change = transitions.append
        assert await _every_call(state, "before") == ["token-before", b"before", b"before"]

        await asyncio.to_thread(redis_server.stop)
        # The token it read stays the process's own; the rest is kept in its memory.
        assert await _every_call(state, "away") == ["token-before", b"away", b"away"]
        await asyncio.sleep(1.1)  # tried again meanwhile, and still away: no new warning
        assert await _every_call(state, "still") == ["token-before", b"still", b"still"]
        assert not state.healthy and state.outages == 1 and transitions == [False]
        assert len(_warnings(caplog)) == 1
        assert redis_server.url.removeprefix("redis://") in _warnings(caplog)[0]

        await asyncio.to_thread(redis_server.start)  # on its port, empty
        await asyncio.sleep(1.1)  # Redis is tried again once a second
        await state.token_cache().invalidate(AccessToken("token-before"))
        assert await _every_call(state, "back") == ["token-back", b"back", b"back"]
        assert state.healthy and transitions == [False, True]
        assert len(_warnings(caplog)) == 1
        await state.aclose()

    with caplog.at_level(logging.INFO, logger="voigpt.state"):
        asyncio.run(main())
    client = redis.Redis.from_url(redis_url)
    assert client.get("voigpt:responses:resp-back") == b"back"  # shared again
    assert client.get("voigpt:token") == b"token-back"
    assert client.get("voigpt:responses:resp-away") is None  # what it kept alone stayed


def test_a_slot_taken_while_redis_is_away_is_the_process_own(
        redis_server: RedisServer, redis_url: str) -> None:
    async def main() -> list[int]:
        state = RedisState(parse_state(redis_url))
        pace = state.pace(rate=None, concurrency=1)
        await asyncio.to_thread(redis_server.stop)
        order = []

        async def one(n: int) -> None:
            async with pace.slot():
                order.append(n)
                await asyncio.sleep(0.05)
                order.append(n)

        await asyncio.gather(one(1), one(2))  # the process's own cap of 1 still holds
        await state.aclose()
        return order

    order = asyncio.run(main())
    assert order in ([1, 1, 2, 2], [2, 2, 1, 1])


def test_redis_unreachable_at_start_up_is_a_warning_not_a_failure(
        caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://:secret-pw@127.0.0.1:{unused_port()}/0"

    async def main() -> list[object]:
        state = RedisState(parse_state(url))
        await state.open()
        healthy = state.healthy
        answers = await _every_call(state, "alone")
        await state.aclose()
        return [healthy, *answers]

    with caplog.at_level(logging.DEBUG):
        assert asyncio.run(main()) == [False, "token-alone", b"alone", b"alone"]
    assert len(_warnings(caplog)) == 1
    assert "secret-pw" not in caplog.text
