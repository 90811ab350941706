"""``voigpt serve --workers 3`` reports the whole server on ``/metrics``: the workers keep
their values in a private directory of their own (prometheus-client's multiprocess mode)
and whichever worker answers a scrape sums them all. Real processes: the command, its
spawned workers, and the ``--backend local`` emulator they share. One process makes no
directory; the directory is gone once the server stops; a worker that dies takes its live
gauges with it; the shared state is up only while every live worker has it."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.parser import text_string_to_metric_families

from tests.support.messages import HELLO
from tests.support.server import ServeProcess, metric

VAR = "PROMETHEUS_MULTIPROC_DIR"
CHAT = {"route": "/v1/chat/completions", "method": "POST", "status": "200"}
SCRAPE = {"route": "/metrics", "method": "GET", "status": "200"}
REQUESTS = "voigpt_server_requests_total"
UPSTREAM = "voigpt_upstream_request_seconds"
COMPLETIONS = 60
WORKERS = 3


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def workers_of(process: ServeProcess) -> list[psutil.Process]:
    """The server's worker processes (not multiprocessing's resource tracker)."""
    return [child for child in psutil.Process(process.process.pid).children(recursive=True)
            if "spawn_main" in " ".join(child.cmdline())]


def directories(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("voigpt-metrics-*"))


def per_worker(directory: Path, name: str, **labels: str) -> dict[int, float]:
    """``name``'s samples with ``labels`` as each worker's own files hold them, by pid."""
    counts: dict[int, float] = {}
    for path in directory.glob("*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        for family in MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    counts[pid] = counts.get(pid, 0.0) + sample.value
    return counts


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One scrape, on a connection of its own: every sample by name and labels."""
    text = httpx.get(url + "/metrics", timeout=10).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return sum(v for (n, ls), v in scraped.items()
               if n == name and labels.items() <= dict(ls).items())


def complete(url: str) -> int:
    # httpx.post: a client, so a connection, of its own: the kernel hands each new
    # connection to whichever worker accepts it first.
    return httpx.post(url + "/v1/chat/completions", json={"messages": HELLO},
                      timeout=30).status_code


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's TMPDIR (where its directory goes), and no variable inherited from
    here: whatever the server's processes have, the server set."""
    monkeypatch.delenv(VAR, raising=False)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp


@pytest.fixture
def three(private_tmp: Path) -> Iterator[tuple[ServeProcess, Path]]:
    """``voigpt serve --workers 3 --backend local`` with every worker started, and the
    metrics directory it made."""
    server = ServeProcess("--workers", str(WORKERS), "--backend", "local",
                          env={"TMPDIR": str(private_tmp)}, timeout=60)
    try:
        wait_until(lambda: len(directories(private_tmp)) == 1, "the metrics directory")
        directory = directories(private_tmp)[0]
        # Each worker creates its files when it builds its app, before it serves.
        wait_until(lambda: len({p.name for p in directory.glob("counter_*.db")}) == WORKERS,
                   "every worker's files", 60)
        wait_until(lambda: httpx.get(server.url + "/health", timeout=10).status_code == 200,
                   "a worker answering")
        yield server, directory
    finally:
        if server.process.poll() is None:
            server.stop()


def test_every_scrape_counts_every_workers_requests(
    three: tuple[ServeProcess, Path],
) -> None:
    server, directory = three
    with ThreadPoolExecutor(6) as pool:  # several at once, so that busy workers leave
        statuses = list(pool.map(lambda _: complete(server.url), range(COMPLETIONS)))
    assert statuses == [200] * COMPLETIONS

    # The requests were spread: each worker's own file holds only its share.
    shares = per_worker(directory, REQUESTS, **CHAT)
    assert sum(shares.values()) == COMPLETIONS, shares
    assert len([pid for pid, n in shares.items() if n]) >= 2, \
        f"one worker answered all {COMPLETIONS} requests: {shares}"
    assert set(shares) <= {w.pid for w in workers_of(server)}, shares

    # Scrape until at least two different workers have answered one (each scrape's worker
    # is the one whose own count of /metrics grew); every scrape has the whole server.
    def scrapes() -> float:
        return sum(per_worker(directory, REQUESTS, **SCRAPE).values())

    answering: set[int] = set()
    before = per_worker(directory, REQUESTS, **SCRAPE)
    for _ in range(60):
        scraped = samples(server.url)
        assert value(scraped, REQUESTS, **CHAT) == COMPLETIONS
        assert value(scraped, UPSTREAM + "_count", outcome="ok") == COMPLETIONS
        assert value(scraped, UPSTREAM + "_bucket", outcome="ok", le="+Inf") == COMPLETIONS
        assert value(scraped, "voigpt_completions_in_flight") == 0
        assert value(scraped, "voigpt_state_up") == 1
        # Counted once the answer is sent: a moment after the client has it.
        counted = sum(before.values()) + 1
        wait_until(lambda: scrapes() == counted, "the scrape counted")  # noqa: B023
        after = per_worker(directory, REQUESTS, **SCRAPE)
        grew = [pid for pid, n in after.items() if n > before.get(pid, 0)]
        assert len(grew) == 1, (before, after)
        answering.add(grew[0])
        before = after
        if len(answering) >= 2:
            break
    assert len(answering) >= 2, "every scrape reached the same worker"
    # The histogram's count is what the workers observed, added up.
    assert sum(per_worker(directory, UPSTREAM + "_count", outcome="ok").values()) \
        == COMPLETIONS


def test_the_workers_inherit_a_fresh_private_directory_gone_after_sigterm(
    three: tuple[ServeProcess, Path], private_tmp: Path,
) -> None:
    server, directory = three
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    workers = workers_of(server)
    assert len(workers) == WORKERS
    for worker in workers:
        assert worker.environ().get(VAR) == str(directory)
    # The command set it for its workers: it was not in its own environment at exec.
    assert VAR not in psutil.Process(server.process.pid).environ()
    assert complete(server.url) == 200

    code, _, stderr = server.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert not directory.exists()
    assert list(private_tmp.iterdir()) == []


def test_a_killed_workers_live_gauges_go_and_its_counts_stay(
    three: tuple[ServeProcess, Path],
) -> None:
    server, directory = three
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: complete(server.url), range(30)))
    assert statuses == [200] * 30
    shares = per_worker(directory, REQUESTS, **CHAT)
    victim = max(shares, key=lambda pid: shares[pid])
    assert (directory / f"gauge_livesum_{victim}.db").exists()
    os.kill(victim, signal.SIGKILL)

    wait_until(lambda: not list(directory.glob(f"gauge_live*_{victim}.db")),
               "the dead worker's live gauges dropped")
    assert (directory / f"counter_{victim}.db").exists()  # what it counted still counts
    wait_until(lambda: len(workers_of(server)) == WORKERS, "a replacement worker", 30)
    assert metric(server.url, REQUESTS, **CHAT) == 30


def test_one_process_makes_no_directory_and_keeps_its_own_registry(
    private_tmp: Path,
) -> None:
    with ServeProcess("--backend", "local", env={"TMPDIR": str(private_tmp)}) as server:
        assert complete(server.url) == 200
        assert metric(server.url, REQUESTS, **CHAT) == 1
        # The in-process registry declares a labelled family before anything is counted
        # in it (multiprocess mode shows only what some worker wrote).
        assert metric(server.url, "voigpt_upstream_retries_total") == 0
        assert workers_of(server) == []
        assert VAR not in psutil.Process(server.process.pid).environ()
        assert list(private_tmp.iterdir()) == []


# --- the gauges across real processes, through ServerMetrics itself -----------------------


def metrics_worker(conn: Connection) -> None:
    """A worker's ``ServerMetrics`` in a spawned process (the variable set before it imports
    prometheus-client), driven by commands: its state's health, an answer, a completion
    starting, a scrape it answers."""
    from voigpt.entrypoints.server.metrics import ServerMetrics

    metrics = ServerMetrics()
    healthy = [True]
    metrics.follow_state(lambda: healthy[0])
    conn.send(os.getpid())
    while True:
        command, argument = conn.recv()
        if command == "healthy":
            healthy[0] = argument
        elif command == "answer":
            metrics.answered("/v1/models", "GET", 200)
        elif command == "start":
            metrics.in_flight.inc()
        elif command == "render":
            conn.send(metrics.render().decode())
            continue
        else:
            return
        conn.send(None)


@contextlib.contextmanager
def metrics_workers(count: int, directory: Path) -> Iterator[list[tuple[int, Connection,
                                                                         BaseProcess]]]:
    spawn = multiprocessing.get_context("spawn")
    started: list[tuple[int, Connection, BaseProcess]] = []
    try:
        for _ in range(count):
            here, there = spawn.Pipe()
            process = spawn.Process(target=metrics_worker, args=(there,))
            process.start()
            assert here.poll(60), "the worker did not start"
            started.append((here.recv(), here, process))
        yield started
    finally:
        for _, _, worker in started:
            worker.kill()
            worker.join(10)


def ask(conn: Connection, command: str, argument: object = None) -> object:
    conn.send((command, argument))
    assert conn.poll(30)
    return conn.recv()


def scraped_by(conn: Connection) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = ask(conn, "render")
    assert isinstance(text, str)
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_state_up_is_the_worst_live_worker_and_in_flight_their_sum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(VAR, str(tmp_path))  # inherited by the spawned workers only
    with metrics_workers(3, tmp_path) as workers:
        (_, a, _), (b_pid, b, b_process), (_, scraper, _) = workers
        ask(a, "start")
        ask(a, "start")
        ask(b, "start")
        scraped = scraped_by(scraper)
        assert value(scraped, "voigpt_completions_in_flight") == 3
        assert value(scraped, "voigpt_state_up") == 1

        # b's store fails during a request: its value changes when it answers.
        ask(b, "healthy", False)
        ask(b, "answer")
        assert value(scraped_by(scraper), "voigpt_state_up") == 0
        ask(b, "healthy", True)
        ask(b, "answer")
        assert value(scraped_by(scraper), "voigpt_state_up") == 1

        # Down again, then gone: what the supervisor does for a worker that ended.
        ask(b, "healthy", False)
        ask(b, "answer")
        assert value(scraped_by(scraper), "voigpt_state_up") == 0
        b.send(("exit", None))
        b_process.join(10)
        assert b_process.exitcode == 0
        mark_process_dead(b_pid, str(tmp_path))  # type: ignore[no-untyped-call]
        scraped = scraped_by(scraper)
        assert value(scraped, "voigpt_state_up") == 1
        assert value(scraped, "voigpt_completions_in_flight") == 2
        assert value(scraped, REQUESTS, route="/v1/models") == 3  # its counts stay
