"""A pause already in force holds back every start of a process that has not read it yet,
not only the first: the starts that arrive while the first read is under way wait for what
it read (a batch's first requests all start at once). On a real SQLite file and a real
redis-server."""

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


async def starts_after_a_pause(url: str) -> list[float]:
    pausing, starting = build_state(parse_state(url)), build_state(parse_state(url))
    await pausing.open()
    await starting.open()
    try:
        await pausing.pace(rate=None, concurrency=None).rate_limited(1.5)
        pace = starting.pace(rate=None, concurrency=None)
        began = time.monotonic()

        async def start() -> float:
            async with pace.slot():
                return time.monotonic() - began

        return list(await asyncio.gather(*(start() for _ in range(10))))
    finally:
        await pausing.aclose()
        await starting.aclose()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_every_first_start_waits_out_a_pause_already_in_force(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path}/state.db" if kind == "sqlite"
           else request.getfixturevalue("redis_url"))
    waited = asyncio.run(starts_after_a_pause(url))
    assert min(waited) >= 1.2, waited  # the pause, less the time it took to store it
