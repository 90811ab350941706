"""Open-loop load: requests sent on a fixed schedule (``rate`` per second) whether or not
the earlier ones have been answered, each one's latency kept. A closed loop (the next
request only after an answer) slows down with the server and hides its stalls; here a
stall shows as the latency of every request scheduled during it.

Each request is timed from the moment it was due, not from when it left, so a late start
(no connection free, the generator's own loop busy) counts against it. Connections are
keep-alive, ``pool`` of them opened before the clock starts; a request takes any free one,
or opens a new one (its connect timed with it) when none is free.

``in_turns`` runs several targets at one rate, taking turns (in reverse order every other
round, so none always follows the same one); ``tail`` sums up one target's turns: each
turn's p50 and p99, the median over turns (one turn another process on a shared machine
stalled moves it less than a p99 over all requests would), and every turn's errors.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence

import attrs
import httptools

from benchmarks.server_load import Connection, Load, Target


async def paced(target: Target, *, rate: float, seconds: float, pool: int = 16) -> Load:
    """``rate * seconds`` requests, the n-th due at ``n / rate`` seconds; ``latencies`` in
    the order they were due."""
    free: asyncio.Queue[Connection] = asyncio.Queue()
    opened = [await Connection.open(target) for _ in range(pool)]
    for connection in opened:
        free.put_nowait(connection)
    count = max(1, round(rate * seconds))
    load = Load(latencies=[0.0] * count)

    async def one(n: int, due: float) -> None:
        try:
            connection = free.get_nowait()
        except asyncio.QueueEmpty:
            connection = await Connection.open(target)
            opened.append(connection)
        try:
            status, body = await connection.send(target.request)
        except (OSError, httptools.HttpParserError) as exc:
            load.requests += 1
            load.latencies[n] = time.perf_counter() - due
            load.failed(repr(exc))
            connection.close()
            return
        load.latencies[n] = time.perf_counter() - due
        load.requests += 1
        problem = target.check(status, body)
        if problem is not None:
            load.failed(problem)
        free.put_nowait(connection)

    tasks = []
    started = time.perf_counter()
    try:
        for n in range(count):
            due = started + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n, due)))
        await asyncio.gather(*tasks)
    finally:
        load.wall = time.perf_counter() - started
        for connection in opened:
            connection.close()
    return load


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of values already sorted (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * fraction // 1))  # ceil(n * fraction), at least 1
    return sorted_values[int(rank) - 1]


@attrs.frozen
class Tail:
    p50: float  # seconds: each turn's, the median over turns
    p99: float
    requests: int  # over all turns
    errors: int
    first_error: str


def tail(loads: Sequence[Load]) -> Tail:
    turns = [sorted(x.latencies) for x in loads]
    return Tail(statistics.median(percentile(t, 0.50) for t in turns),
                statistics.median(percentile(t, 0.99) for t in turns),
                sum(len(t) for t in turns), sum(x.errors for x in loads),
                next((x.first_error for x in loads if x.errors), ""))


async def in_turns(targets: Sequence[Target], *, rate: float, seconds: float,
                   rounds: int) -> list[list[Load]]:
    """Each target's open-loop turns at ``rate``, in the order of ``targets``."""
    loads: list[list[Load]] = [[] for _ in targets]
    for n in range(rounds):
        order = list(range(len(targets)))
        for i in order if n % 2 == 0 else reversed(order):
            loads[i].append(await paced(targets[i], rate=rate, seconds=seconds))
    return loads
