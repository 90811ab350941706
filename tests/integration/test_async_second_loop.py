"""One ``AsyncClient`` used from one event loop after another (``asyncio.run`` twice, as
scripts and notebooks do), against the emulator: each loop gets its own session and its
own single-flight lock, the first loop's connections are closed when it shuts down, and
nothing warns."""

from __future__ import annotations

import asyncio
import gc
import warnings

import psutil

import voigpt
from voigpt.emulator import Emulator

TASKS = 5


async def _ask_all(client: voigpt.AsyncClient, tag: str) -> list[object]:
    """``TASKS`` concurrent asks: their replies, or what each raised."""
    asks = (client.ask(f"{tag} {n}") for n in range(TASKS))
    return list(await asyncio.gather(*asks, return_exceptions=True))


def test_a_second_event_loop_refetches_a_rotated_token_for_all_its_tasks(
    emulator: Emulator,
) -> None:
    client = voigpt.AsyncClient(base_url=emulator.url, environ={})
    gc.collect()  # what earlier tests left behind warns now, not inside the block below
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = asyncio.run(_ask_all(client, "first"))
        emulator.revoke_tokens()  # the site rotates its token between the two runs

        async def second_run() -> list[object]:
            try:
                return await _ask_all(client, "second")
            finally:
                await client.aclose()

        second = asyncio.run(second_run())
        gc.collect()

    expected = [f"[voigpt emulator] You said: second {n}" for n in range(TASKS)]
    assert first == [f"[voigpt emulator] You said: first {n}" for n in range(TASKS)]
    assert second == expected, [f"{type(r).__name__}: {r}" for r in second]
    assert emulator.totals.tokens_issued == 2  # one per loop: each loop's tasks shared one fetch
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def _connections_to(emulator: Emulator) -> int:
    """This process's open client connections to the emulator (which runs in it too)."""
    return sum(
        1 for c in psutil.Process().net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port == emulator.port
    )


def test_a_loop_that_shut_down_left_no_connection_open(emulator: Emulator) -> None:
    client = voigpt.AsyncClient(base_url=emulator.url, environ={})

    async def run() -> int:
        await _ask_all(client, "only")
        return _connections_to(emulator)

    pooled = asyncio.run(run())  # the client is never closed
    assert pooled >= 1  # kept alive while the loop ran
    assert _connections_to(emulator) == 0
