"""Throughput of one container shared by 1, 4 and 16 threads.

For each turn a fresh client (for voigpt: one ``Client``, so one container with one session
and one token cache) serves ``total`` completions split evenly over the threads, which
start together at a barrier.
Every reply is checked; errors and the emulator's count of tokens issued are recorded, so
"no errors, one token fetch" is read off the run, not assumed. Thread counts take turns
(1, 4, 16, 1, 4, 16, ...) and the figure is the median throughput over the turns.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence

import attrs
import requests

from benchmarks.clients import BenchClient, checked


@attrs.frozen
class Throughput:
    threads: int
    per_second: float  # median completions per second
    errors: int  # summed over turns
    token_fetches: tuple[int, ...]  # per turn: tokens the emulator issued to that container


def emulator_state(url: str) -> dict[str, int]:
    response = requests.get(url + "/__emulator__/state", timeout=10)
    response.raise_for_status()
    state: dict[str, int] = response.json()
    return state


def set_latency(url: str, seconds: float) -> None:
    """Make every completion take ``seconds`` longer on the emulator (its SLOW fault, kept)."""
    requests.delete(url + "/__emulator__/faults", timeout=10).raise_for_status()
    if seconds > 0:
        requests.post(
            url + "/__emulator__/faults",
            json={"fault": "SLOW", "times": None, "params": {"delay": seconds}},
            timeout=10,
        ).raise_for_status()


def measure_threads(
    factory: Callable[[str], BenchClient],
    url: str,
    *,
    counts: Sequence[int],
    total: int,
    rounds: int,
) -> dict[int, Throughput]:
    rates: dict[int, list[float]] = {n: [] for n in counts}
    errors: dict[int, int] = dict.fromkeys(counts, 0)
    fetches: dict[int, list[int]] = {n: [] for n in counts}
    for _ in range(rounds):
        for n in counts:
            before = emulator_state(url)["tokens_issued"]
            rate, failed = _one_turn(factory, url, n, total)
            fetches[n].append(emulator_state(url)["tokens_issued"] - before)
            rates[n].append(rate)
            errors[n] += failed
    return {
        n: Throughput(n, statistics.median(rates[n]), errors[n], tuple(fetches[n]))
        for n in counts
    }


def _one_turn(
    factory: Callable[[str], BenchClient], url: str, threads: int, total: int
) -> tuple[float, int]:
    per_thread = max(1, total // threads)
    barrier = threading.Barrier(threads + 1)
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(client: BenchClient) -> None:
        barrier.wait()
        for _ in range(per_thread):
            try:
                checked(client)
            except Exception as exc:  # counted and reported, never hidden
                with lock:
                    failures.append(exc)

    client = factory(url)
    try:
        workers = [threading.Thread(target=work, args=(client,)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        barrier.wait()
        started = time.perf_counter()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
    finally:
        client.close()
    return per_thread * threads / elapsed, len(failures)
