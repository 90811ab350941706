"""The benchmark harness's judgement, on made-up figures: which targets hold, and what counts
as a correctness failure (which makes the harness exit 1, timings aside)."""

from __future__ import annotations

import mmap

from benchmarks.clients import EXPECTED
from benchmarks.memory import Growth, rss_growth
from benchmarks.report import MB, Report
from benchmarks.threads import Throughput
from benchmarks.turns import PerCompletion


def per_completion(a: float, b: float, c: float, d: float) -> dict[str, PerCompletion]:
    return {
        key: PerCompletion(label=f"({key})", wall=wall, cpu=wall * 0.8, completions=10)
        for key, wall in zip("abcd", (a, b, c, d), strict=True)
    }


def threads(one: float, sixteen: float, fetches: int = 1, errors: int = 0) -> dict[
    int, Throughput
]:
    return {
        1: Throughput(1, one, 0, (1,)),
        4: Throughput(4, (one + sixteen) / 2, 0, (1,)),
        16: Throughput(16, sixteen, errors, (fetches,)),
    }


def report() -> Report:
    return Report(
        machine="test",
        sizes={},
        per_completion={"HTTP": per_completion(1.05, 1.08, 1.0, 1.3),
                        "TLS": per_completion(1.05, 1.20, 1.0, 3.6)},
        threads={("a", "(a)", 0.005): threads(100.0, 400.0)},
        memory=[Growth("(a)", 10_000, before=50 * MB, after=51 * MB)],
        imports={"import requests": 0.1, "import voigpt": 0.01},
    )


def test_each_target_is_judged_against_its_limit() -> None:
    verdicts = {t.figure: t.met for t in report().targets()}
    assert verdicts["(a)/(c) wall, HTTP"] is True  # 1.05 <= 1.10
    assert verdicts["(b)/(c) wall, TLS"] is False  # 1.20 > 1.10
    assert verdicts["(d)/(b) wall, TLS"] is True  # 3.6 / 1.2 = 3.0 >= 2.5
    assert verdicts["(a) 16 vs 1 thread, 5 ms service"] is True  # 4.0 >= 1.5
    assert verdicts["RSS growth, (a), 10000 completions"] is True  # 1 MB < 5 MB
    assert verdicts["import voigpt / import requests"] is True
    assert [t.figure for t in report().missed_targets()] == ["(b)/(c) wall, TLS"]


def test_a_clean_run_has_no_correctness_failures() -> None:
    assert report().correctness_failures() == []


def test_errors_and_extra_token_fetches_are_failures_whatever_the_timings() -> None:
    broken = report()
    broken.threads[("c", "(c)", 0.0)] = threads(100.0, 400.0, fetches=2, errors=3)
    assert broken.correctness_failures() == [
        "(c), 16 threads, 0 ms service: 3 errors",
        "(c), 16 threads, 0 ms service: token fetches per container (2,)",
    ]


def test_the_table_shows_every_figure_and_flags_a_miss() -> None:
    text = report().render()
    assert "| (b)/(c) wall, TLS | 1.20x | <= 1.1x | MISSED |" in text
    assert "| (a)/(c) wall, HTTP | 1.05x | <= 1.1x | yes |" in text
    assert "| (a) | 5 ms | 100 | 250 | 400 | 4.00x | 0 | 1 |" in text
    assert "| (a) | 10,000 | 50.0 MB | 51.0 MB | +1,024 KiB |" in text
    assert "`import voigpt` (import only) | 10.0 ms | 0.10x import requests" in text


class LeakyClient:
    """A stand-in client that keeps 64 KiB of touched, freshly mapped memory per completion:
    what a leak looks like. (Mapped, not malloc'd: a heap left roomy by earlier tests could
    otherwise absorb it without RSS moving.)"""

    key, label = "x", "leaky"

    def __init__(self, url: str) -> None:
        self.kept: list[mmap.mmap] = []

    def __call__(self) -> str:
        block = mmap.mmap(-1, 64 * 1024)
        block.write(b"\1" * 64 * 1024)
        self.kept.append(block)
        return EXPECTED

    def close(self) -> None:
        pass


def test_the_rss_measure_sees_a_leak() -> None:
    growth = rss_growth(LeakyClient, "unused", completions=160, warmup=10)
    assert growth.growth >= 8 * MB  # 160 x 64 KiB = 10 MiB kept
