"""``voigpt serve`` on asyncio's own event loop, as it runs where uvloop is not installed
(Windows, where the server extra leaves it out, or any platform without a wheel): a real
process with uvloop hidden, and kept-alive requests from a real client.

Each request after the first on a kept-alive connection used to take about 43 ms: the
listening socket said protocol 0, so asyncio never set TCP_NODELAY on the connections it
accepted, and the second part of an answer waited for the client's delayed ACK."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.messages import HELLO
from tests.support.server import ServeProcess

STALL = 0.040  # Linux's shortest delayed ACK: a request stalled by it takes longer


@pytest.fixture(scope="module")
def no_uvloop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    hidden = tmp_path_factory.mktemp("hidden")
    (hidden / "uvloop").mkdir()
    (hidden / "uvloop" / "__init__.py").write_text(
        'raise ImportError("uvloop is hidden from this test\'s server")\n')
    with ServeProcess("--backend", "fake", env={"PYTHONPATH": str(hidden)}) as process:
        yield process


def uvloop_loaded(server: ServeProcess) -> bool:
    """Whether uvloop's extension is mapped into the server process."""
    maps = Path(f"/proc/{server.process.pid}/maps").read_text()
    return any("uvloop" in line and ".so" in line for line in maps.splitlines())


def test_the_server_runs_without_uvloop_here_and_with_it_by_default(
        no_uvloop: ServeProcess) -> None:
    assert not uvloop_loaded(no_uvloop)
    with ServeProcess("--backend", "fake") as usual:  # the check can see uvloop
        assert uvloop_loaded(usual)


def test_kept_alive_requests_are_answered_without_waiting_for_a_delayed_ack(
    no_uvloop: ServeProcess,
) -> None:
    took = []
    with httpx.Client(timeout=10) as client:
        for _ in range(12):  # one connection, kept alive
            started = time.perf_counter()
            answer = client.post(no_uvloop.v1 + "/chat/completions", json={"messages": HELLO})
            took.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    # the first may open the connection; a stall delays every one after it by >= 40 ms
    assert statistics.median(took[1:]) < STALL / 2, [round(t * 1000, 1) for t in took]
