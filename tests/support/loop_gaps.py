"""How long the running event loop went without turning, for tests that something never
blocks it: ``LoopGaps.start()`` wakes a task every ``every`` seconds; ``stop()`` says the
longest gap between two wakes (about ``every`` on a loop that never stalled)."""

from __future__ import annotations

import asyncio
import time


class LoopGaps:
    def __init__(self, every: float) -> None:
        self.every = every
        self.gaps: list[float] = []
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def start(cls, every: float = 0.01) -> LoopGaps:
        gaps = cls(every)
        gaps._task = asyncio.get_running_loop().create_task(gaps._tick())
        return gaps

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return max(self.gaps, default=0.0)

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.every)
            now = time.monotonic()
            self.gaps.append(now - last)
            last = now
