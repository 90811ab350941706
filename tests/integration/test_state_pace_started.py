"""A start on the uncapped path (no ``--site-rate``, no ``--site-concurrency``) begins at
once through ``SitePace.started()``, with no context manager to enter, only while nothing
could hold it: a pause in force, or a copy of the pause too old to trust, sends it
through ``slot()``, which reads the pause and waits it out; a cap always does. On the
process's memory, a real SQLite file and a real redis-server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.support.redis_server import (  # noqa: F401 (the fixtures redis_server, redis_url)
    redis_server_fixture,
    redis_url_fixture,
)
from voigpt.container import build_state
from voigpt.domain.state_location import parse_state

REFRESH = 0.1  # PAUSE_REFRESH of the SQLite and Redis paces: how long a copy is trusted


def location(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "memory":
        return "memory"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    return str(request.getfixturevalue("redis_url"))


async def uncapped_starts(url: str) -> list[tuple[str, bool]]:
    """What ``started()`` says at each step, with a second process pausing the fleet."""
    here, other = build_state(parse_state(url)), build_state(parse_state(url))
    await here.open()
    await other.open()
    seen: list[tuple[str, bool]] = []
    try:
        pace = here.pace(rate=None, concurrency=None)
        async with pace.slot():  # a first start reads the pause (none)
            pass
        seen.append(("fresh, no pause", pace.started()))
        await pace.rate_limited(0.6)  # this process's own 429
        seen.append(("paused here", pace.started()))
        await asyncio.sleep(0.7)
        async with pace.slot():
            pass
        seen.append(("the pause over", pace.started()))
        if url != "memory":  # another process's 429: seen once the copy is too old
            await other.pace(rate=None, concurrency=None).rate_limited(1.0)
            await asyncio.sleep(REFRESH * 1.5)
            seen.append(("the copy too old", pace.started()))
            began = time.monotonic()
            async with pace.slot():  # reads the other's pause and waits it out
                seen.append(("slot waited the pause", time.monotonic() - began >= 0.5))
        for capped in (here.pace(rate=100.0, concurrency=None),
                       here.pace(rate=None, concurrency=4)):
            async with capped.slot():
                pass
            seen.append(("capped", capped.started()))
    finally:
        await here.aclose()
        await other.aclose()
    return seen


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_only_an_uncapped_unpaused_start_with_a_fresh_copy_begins_at_once(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    seen = asyncio.run(uncapped_starts(location(kind, tmp_path, request)))
    expected = [("fresh, no pause", True), ("paused here", False), ("the pause over", True)]
    if kind != "memory":
        expected += [("the copy too old", False), ("slot waited the pause", True)]
    expected += [("capped", False), ("capped", False)]
    assert seen == expected
