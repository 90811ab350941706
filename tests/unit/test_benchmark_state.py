"""The shared-state section of the benchmark harness, on made-up figures: which ratios are
judged and which are only shown, what counts as a correctness failure, the table's rows,
and the open loop's percentile."""

from __future__ import annotations

from benchmarks.open_loop import percentile
from benchmarks.report import Target
from benchmarks.state import (
    LEASE_CAP,
    MEMORY,
    REDIS,
    SQLITE,
    Health,
    Paced,
    Rate,
    Setup,
    StateRun,
)


def rate(kind: str, per_second: float, cap: int | None = None, errors: int = 0,
         cpu: float = 5e-4) -> Rate:
    return Rate(Setup(kind, cap), per_second, cpu=cpu, store_cpu=6e-5 if kind == REDIS else 0.0,
                requests=1000, errors=errors, first_error="HTTP 500" if errors else "")


def paced(kind: str, p99: float, cap: int | None = None) -> Paced:
    return Paced(Setup(kind, cap), 200.0, p50=1e-3, p99=p99, requests=600)


def run(*, sqlite: float = 1400.0, redis: float = 1300.0, sqlite_p99: float = 3.0e-3,
        redis_p99: float = 4.5e-3) -> StateRun:
    return StateRun(
        rates=[rate(MEMORY, 1500.0), rate(SQLITE, sqlite), rate(REDIS, redis),
               rate(MEMORY, 1400.0, LEASE_CAP), rate(SQLITE, 700.0, LEASE_CAP, cpu=1.2e-3),
               rate(REDIS, 1260.0, LEASE_CAP)],
        paced=[paced(MEMORY, 2.5e-3), paced(SQLITE, sqlite_p99), paced(REDIS, redis_p99),
               paced(MEMORY, 2.0e-3, LEASE_CAP)],
        health=[Health(Setup(MEMORY), 1, 1.0), Health(Setup(SQLITE), 1, 1.0),
                Health(Setup(REDIS), 1, 1.0)],
    )


def verdicts(targets: list[Target]) -> dict[str, tuple[float, bool]]:
    return {t.figure: (round(t.value, 3), t.met) for t in targets}


def test_only_the_shared_states_without_a_cap_are_judged_against_memory() -> None:
    assert verdicts(run().targets()) == {
        "--state sqlite / --state memory requests/s, 32 clients": (0.933, True),  # 1400/1500
        "--state redis / --state memory requests/s, 32 clients": (0.867, True),  # 1300/1500
    }


def test_a_shared_state_costing_more_than_15_percent_misses() -> None:
    assert [met for _, met in verdicts(run(sqlite=1270.0, redis=1000.0).targets()).values()] \
        == [False, False]


def test_the_lease_rows_and_the_added_p99_are_shown_against_memory_with_the_same_cap() -> None:
    assert verdicts(run().informational()) == {
        # 700 / 1400 and 1260 / 1400: memory with --site-concurrency 64 is the baseline
        "--state sqlite / --state memory requests/s, 32 clients, both --site-concurrency 64":
            (0.5, False),
        "--state redis / --state memory requests/s, 32 clients, both --site-concurrency 64":
            (0.9, True),
        "--state sqlite: p99 - memory's p99, 200 requests/s": (0.5, True),  # 3.0 - 2.5 ms
        "--state redis: p99 - memory's p99, 200 requests/s": (2.0, True),  # at the limit
    }
    late = run(redis_p99=4.6e-3).informational()[-1]
    assert (late.figure, late.met) == ("--state redis: p99 - memory's p99, 200 requests/s",
                                       False)


def test_the_table_shows_each_state_its_ratio_and_the_verdicts() -> None:
    lines = run(sqlite=1270.0).render()
    assert "| --state redis | 1,300 | 0.87x | 500 µs | 1.00x | 60 µs | 0 |" in lines
    assert "| --state sqlite --site-concurrency 64 | 700 | 0.50x | 1,200 µs | 2.40x |  | 0 |" \
        in lines
    assert "| --state sqlite | 200/s | 1.00 ms | 3.00 ms | +0.50 ms | 600 | 0 |" in lines
    assert ("| --state sqlite / --state memory requests/s, 32 clients | 0.85x | >= 0.85x "
            "| MISSED |") in lines
    assert ("| --state sqlite --site-concurrency 64: p99 - memory's p99, 200 requests/s"
            not in "\n".join(lines))  # no paced row for it: nothing to show
    assert ("| --state redis: p99 - memory's p99, 200 requests/s | 2.00 ms "
            "| <= 2 ms (informational) | yes |") in lines


def test_without_redis_the_section_says_so_once_and_judges_sqlite_alone() -> None:
    missing = run()
    missing.rates = [r for r in missing.rates if r.setup.kind != REDIS]
    missing.paced = [p for p in missing.paced if p.setup.kind != REDIS]
    missing.skipped = "redis-server not found: the Redis rows are skipped."
    assert [t.figure for t in missing.targets()] == [
        "--state sqlite / --state memory requests/s, 32 clients"]
    assert missing.render().count("redis-server not found: the Redis rows are skipped.") == 1
    assert missing.failures() == []


def test_wrong_answers_extra_token_fetches_and_a_fallen_back_store_are_failures() -> None:
    broken = run()
    broken.rates[1] = rate(SQLITE, 1400.0, errors=2)
    broken.health = [Health(Setup(MEMORY), 1, None), Health(Setup(REDIS), 2, 1.0),
                     Health(Setup(SQLITE, LEASE_CAP), 1, 0.0)]
    assert broken.failures() == [
        "--state sqlite (rate): 2 wrong answers or errors, the first HTTP 500",
        "--state redis: fetched 2 tokens, not 1",
        "--state sqlite --site-concurrency 64: voigpt_state_up 0.0 at the end "
        "(the store fell back to memory)",
    ]


def test_the_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.50) == 50.0
    assert percentile([float(n) for n in range(1, 11)], 0.99) == 10.0  # of 10: the slowest
    assert percentile([1.0, 2.0, 3.0], 0.50) == 2.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.99) == 0.0
