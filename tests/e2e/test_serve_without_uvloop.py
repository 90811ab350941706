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
def hidden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose ``uvloop`` refuses to be imported: first on a server's path, it
    leaves uvicorn on asyncio's loop (its workers too: they inherit the path)."""
    folder = tmp_path_factory.mktemp("hidden")
    (folder / "uvloop").mkdir()
    (folder / "uvloop" / "__init__.py").write_text(
        'raise ImportError("uvloop is hidden from this test\'s server")\n')
    return folder


@pytest.fixture(scope="module")
def no_uvloop(hidden: Path) -> Iterator[ServeProcess]:
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


def kept_alive_times(server: ServeProcess) -> list[float]:
    """Seconds each of 12 requests on one kept-alive connection took."""
    took = []
    with httpx.Client(timeout=10) as client:
        for _ in range(12):
            started = time.perf_counter()
            answer = client.post(server.v1 + "/chat/completions", json={"messages": HELLO})
            took.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    return took


def test_kept_alive_requests_are_answered_without_waiting_for_a_delayed_ack(
    no_uvloop: ServeProcess,
) -> None:
    took = kept_alive_times(no_uvloop)
    # the first may open the connection; a stall delays every one after it by >= 40 ms
    assert statistics.median(took[1:]) < STALL / 2, [round(t * 1000, 1) for t in took]


def test_workers_accept_on_the_same_socket_without_the_stall(hidden: Path) -> None:
    """``--workers`` processes get the listening socket from the supervisor: it stays a
    TCP socket for them."""
    with ServeProcess("--backend", "fake", "--workers", "2",
                      env={"PYTHONPATH": str(hidden)}) as workers:
        took = kept_alive_times(workers)
    assert statistics.median(took[1:]) < STALL / 2, [round(t * 1000, 1) for t in took]
