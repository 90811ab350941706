"""The asyncio burst of the benchmark harness, on a stand-in client: the tasks run at once on
one client, which is closed after, and a wrong reply is counted as an error (which makes the
harness exit 1), not hidden."""

from __future__ import annotations

import asyncio

from benchmarks.asyncio_runs import BurstSpec, _one_burst
from benchmarks.clients import EXPECTED


class SleepyClient:
    """Answers after a pause; every third reply is wrong. Records how many calls overlap."""

    key, label = "x", "(x) sleepy"

    def __init__(self) -> None:
        self.calls = self.in_flight = self.most_in_flight = 0
        self.closed = False

    async def __call__(self) -> str:
        self.calls += 1
        wrong = self.calls % 3 == 0
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return "nonsense" if wrong else EXPECTED

    async def aclose(self) -> None:
        self.closed = True


def test_a_burst_runs_its_tasks_at_once_and_counts_wrong_replies() -> None:
    client = SleepyClient()

    async def open_it(url: str) -> SleepyClient:
        return client

    spec = BurstSpec(open_it, "x", "(x) sleepy", tasks=30, timed=True, one_fetch=True)
    _, failures = asyncio.run(_one_burst(spec, "unused"))
    assert (client.calls, client.most_in_flight, client.closed) == (30, 30, True)
    assert len(failures) == 10
    assert all(isinstance(f, RuntimeError) and "nonsense" in str(f) for f in failures)
