"""Resident memory growth over many completions in one process.

The harness runs each measurement in a fresh interpreter (``in_fresh_process``): after a
warm-up its heap holds little free space, so memory a client keeps shows up as RSS instead
of filling holes that earlier work left behind.

    python -m benchmarks.memory --client a --url URL -n 10000 --warmup 500
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from collections.abc import Callable

import attrs
import psutil

from benchmarks.clients import BenchClient, Facade, VoigptUseCase, checked

CLIENTS: dict[str, Callable[[str], BenchClient]] = {"a": VoigptUseCase, "b": Facade}


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
            checked(client)
        gc.collect()
        before = process.memory_info().rss
        for _ in range(completions):
            checked(client)
        gc.collect()
        after = process.memory_info().rss
    finally:
        client.close()
    return Growth(client.label, completions, before, after)


def in_fresh_process(key: str, url: str, *, completions: int, warmup: int) -> Growth:
    """``rss_growth`` of client ``key`` ("a" or "b"), measured in a new interpreter."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--client", key, "--url", url,
         "-n", str(completions), "--warmup", str(warmup)],
        capture_output=True, text=True, check=True,
    ).stdout
    return Growth(**json.loads(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", choices=sorted(CLIENTS), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    args = parser.parse_args()
    growth = rss_growth(CLIENTS[args.client], args.url, completions=args.n, warmup=args.warmup)
    print(json.dumps(attrs.asdict(growth)))


if __name__ == "__main__":
    main()
