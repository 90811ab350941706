"""Resident memory growth over many completions in one process."""

from __future__ import annotations

import gc
from collections.abc import Callable

import attrs
import psutil

from benchmarks.clients import EXPECTED, BenchClient


@attrs.frozen
class Growth:
    label: str
    completions: int
    before: int  # bytes, after warm-up
    after: int

    @property
    def growth(self) -> int:
        return self.after - self.before


def rss_growth(
    factory: Callable[[str], BenchClient], url: str, *, completions: int, warmup: int
) -> Growth:
    """RSS after ``warmup`` completions, then after ``completions`` more (with a full
    collection before each reading, so only memory something still holds is counted)."""
    process = psutil.Process()
    client = factory(url)
    try:
        for _ in range(warmup):
            _check(client)
        gc.collect()
        before = process.memory_info().rss
        for _ in range(completions):
            _check(client)
        gc.collect()
        after = process.memory_info().rss
    finally:
        client.close()
    return Growth(client.label, completions, before, after)


def _check(client: BenchClient) -> None:
    if client() != EXPECTED:
        raise RuntimeError(f"{client.label}: unexpected reply")
