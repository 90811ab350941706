"""The instruction counts (``benchmarks/instructions.py``) for real: the stand-in upstream,
the floor and voigpt serve as processes, the two servers under valgrind, one route at the
quick run's sizes, every answer checked. Needs valgrind: without it this fails saying what
to install, rather than skip (CI would never count again without anyone noticing)."""

from __future__ import annotations

import time

import pytest

from benchmarks.instructions import QUICK, measure_instructions, missing_tools
from benchmarks.server_routes import CHAT
from benchmarks.targets import NOT_JUDGED

SECONDS = 40  # valgrind starts both servers in ~10 s on two cores; counting takes a few


def test_a_real_count_of_one_route_under_valgrind() -> None:
    missing = missing_tools()
    if missing:
        pytest.fail(f"valgrind is needed here ({', '.join(missing)} not found): "
                    "apt-get install valgrind")
    started = time.monotonic()
    run = measure_instructions(quick=True, routes=(CHAT,))
    assert time.monotonic() - started < SECONDS
    assert run.failures() == []
    assert run.sizes == QUICK
    [figure] = run.counted
    assert figure.route == CHAT
    # A Python server's request: hundreds of thousands of instructions, not a dump misread.
    assert 100_000 < figure.floor < 5_000_000
    assert 100_000 < figure.serve < 5_000_000
    rows = [row for row in run.render() if row.startswith("| POST")]
    assert len(rows) == 1 and rows[0].endswith(f"| {NOT_JUDGED} |")
