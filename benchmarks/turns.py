"""Per-completion wall and CPU time, the clients taking turns: a b c d, a b c d, ...

Each turn is ``batch`` completions by one client, timed as a whole with ``perf_counter``
(wall) and ``process_time`` (this process's CPU; the emulator runs in another process).
The figure for a client is the median over its turns, so a burst of noise on the shared
machine spoils a few turns, not the result.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import attrs

from benchmarks.clients import BenchClient, checked


@attrs.frozen
class PerCompletion:
    label: str
    wall: float  # median seconds per completion
    cpu: float  # median CPU seconds per completion
    completions: int


def take_turns(
    factories: Sequence[Callable[[str], BenchClient]],
    url: str,
    *,
    rounds: int,
    batch: int,
    warmup: int,
) -> dict[str, PerCompletion]:
    clients = [factory(url) for factory in factories]
    try:
        for client in clients:  # token fetched, connection (if kept) open, code paths warm
            for _ in range(warmup):
                checked(client)
        walls: dict[str, list[float]] = {c.key: [] for c in clients}
        cpus: dict[str, list[float]] = {c.key: [] for c in clients}
        for _ in range(rounds):
            for client in clients:
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                for _ in range(batch):
                    checked(client)
                walls[client.key].append((time.perf_counter() - wall_start) / batch)
                cpus[client.key].append((time.process_time() - cpu_start) / batch)
        return {
            c.key: PerCompletion(
                label=c.label,
                wall=statistics.median(walls[c.key]),
                cpu=statistics.median(cpus[c.key]),
                completions=rounds * batch,
            )
            for c in clients
        }
    finally:
        for client in clients:
            client.close()

