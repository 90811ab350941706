"""The benchmark harness's judgement, on made-up figures: which targets hold, and what counts
as a correctness failure (which makes the harness exit 1, timings aside)."""

from __future__ import annotations

import mmap

import attrs
import pytest

from benchmarks.asyncio_runs import Burst
from benchmarks.clients import EXPECTED
from benchmarks.memory import Growth, rss_growth
from benchmarks.report import MB, Report, Target, exit_code
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
    )


def test_each_target_is_judged_against_its_limit() -> None:
    verdicts = {t.figure: t.met for t in report().targets()}
    assert verdicts["(a)/(c) wall, HTTP"] is True  # 1.05 <= 1.10
    assert verdicts["(b)/(c) wall, TLS"] is False  # 1.20 > 1.10
    assert verdicts["(d)/(b) wall, TLS"] is True  # 3.6 / 1.2 = 3.0 >= 2.5
    assert verdicts["(a) 16 vs 1 thread, 5 ms service"] is True  # 4.0 >= 1.5
    assert verdicts["RSS growth, (a), 10000 completions"] is True  # 1 MB < 5 MB
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


def burst(key: str, tasks: int, wall: float, *, timed: bool = True, one_fetch: bool = True,
          fetches: tuple[int, ...] = (1, 1, 1), errors: int = 0) -> Burst:
    return Burst(key=key, label=f"({key})", tasks=tasks, latency=1.0, wall=wall, errors=errors,
                 token_fetches=fetches, timed=timed, one_fetch=one_fetch,
                 first_error="RuntimeError('boom')" if errors else "")


def async_report(*, asyncio_cpu: float = 1.2, client_wall: float = 1.1,
                 facade_wall: float = 1.2) -> Report:
    """The clean report with the asyncio rows: (e) AsyncClient, (f) create_async, (g) the
    aiohttp floor; httpx not installed."""
    full = report()
    full.bursts = [burst("e", 100, client_wall), burst("f", 60, facade_wall, one_fetch=False),
                   burst("e", 1000, 9.8, timed=False)]
    full.async_per_completion = {
        "e": PerCompletion("(e)", wall=500e-6, cpu=asyncio_cpu * 200e-6, completions=10),
        "g": PerCompletion("(g)", wall=400e-6, cpu=200e-6, completions=10),
    }
    full.async_not_installed = {"h": "(h) httpx"}
    return full


def test_the_asyncio_targets_are_judged_against_their_limits() -> None:
    verdicts = {t.figure: t.met for t in async_report().targets()}
    assert verdicts["(e), 100 at once, 1 s service: wall"] is True  # 1.1 s <= 1.3 s
    assert verdicts["(f), 60 at once, 1 s service: wall"] is True  # 1.2 s <= 1.3 s
    assert verdicts["(e)/(g) CPU, asyncio, sequential"] is True  # 1.2x <= 1.3x
    assert not any("1000 at once" in figure for figure in verdicts)  # errors only, no time


def test_a_missed_asyncio_target_is_reported_as_missed() -> None:
    slow = async_report(asyncio_cpu=1.4, facade_wall=10.05)
    assert [t.figure for t in slow.missed_targets()] == [
        "(b)/(c) wall, TLS",
        "(f), 60 at once, 1 s service: wall",
        "(e)/(g) CPU, asyncio, sequential",
    ]
    text = slow.render()
    assert "| (f), 60 at once, 1 s service: wall | 10.05 s | <= 1.3 s | MISSED |" in text
    assert "| (e)/(g) CPU, asyncio, sequential | 1.40x | <= 1.3x | MISSED |" in text
    assert slow.correctness_failures() == []  # slow is not wrong: exit 2 under --strict only


def test_the_burst_target_scales_with_the_service_time() -> None:
    quick = async_report()
    quick.bursts = [attrs.evolve(b, latency=0.05, wall=0.06) for b in quick.bursts]
    target = next(t for t in quick.targets() if t.figure.startswith("(e), 100 at once"))
    assert (target.limit, target.met) == (0.065, True)


def test_an_extra_token_fetch_in_a_burst_is_a_correctness_failure() -> None:
    broken = async_report()
    broken.bursts[0] = burst("e", 100, 1.1, fetches=(1, 2, 1))
    broken.bursts[2] = burst("e", 1000, 9.8, timed=False, errors=3)
    assert broken.correctness_failures() == [
        "(e), 100 at once, 1 s service: token fetches per client (1, 2, 1)",
        "(e), 1000 at once, 1 s service: 3 errors, the first RuntimeError('boom')",
    ]


def test_extra_token_fetches_fail_only_where_one_fetch_is_promised() -> None:
    relaxed = async_report()
    relaxed.bursts[1] = burst("f", 60, 1.2, one_fetch=False, fetches=(2, 1, 3))
    assert relaxed.correctness_failures() == []


def test_the_asyncio_tables_show_every_row() -> None:
    text = async_report().render()
    assert "| (e) | 1 s | 1,000 | 9.80 s | 0 | 1, 1, 1 |" in text
    assert "| (e) | 500 µs | 240 µs | 1.20x |" in text
    assert "| (g) | 400 µs | 200 µs | 1.00x |" in text
    assert "| (h) httpx | not installed | not installed | |" in text
    assert "| (e)/(g) wall, asyncio, sequential | 1.25x | (no target) | |" in text


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


def test_a_benchmark_command_exits_1_on_a_wrong_answer_and_2_on_a_missed_target_if_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    met, missed = Target("fast", 0.5, 1.0, at_most=True), Target("slow", 2.0, 1.0, at_most=True)
    assert exit_code([], [met, missed], strict=False) == 0
    assert exit_code([], [met, missed], strict=True) == 2
    assert exit_code([], [met], strict=True) == 0
    assert exit_code(["3 errors"], [met], strict=False) == 1
    assert "FAILED: 3 errors" in capsys.readouterr().err
