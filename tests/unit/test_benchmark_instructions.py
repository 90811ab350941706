"""The instruction counts of the benchmark harness (``benchmarks/instructions.py``): how a
callgrind dump's total is read, each route's (j)/(i) ratio held to at most 1.0x, that a
quick run judges nothing, that a missing valgrind is said plainly (exit 2), that the
launcher raises the disconnect watch's delay. The unit tier opens no socket: the real run
under valgrind is tests/e2e/test_benchmark_instructions.py."""

from __future__ import annotations

from pathlib import Path

import pytest

import benchmarks.instructions_serve as launcher
import voigpt.entrypoints.server.disconnect as disconnect
from benchmarks.instructions import (
    Counted,
    InstructionsRun,
    Sizes,
    dump_total,
    main,
    measure_instructions,
)
from benchmarks.server_routes import CHAT, COMPLETIONS, MESSAGES_ROUTE, RESPONSES
from benchmarks.targets import NOT_JUDGED, exit_code

SIZES = Sizes(requests=400, warmup=100, clients=8)
DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  /usr/bin/python3 -m voigpt serve
part: 2

desc: I1 cache:
positions: line
events: Ir
summary: 383200000

fn=(1) main
16 383200000

totals: 383200000
"""


def counted(*, quick: bool = False) -> InstructionsRun:
    """Two routes under the floor (one exactly at it), two above."""
    return InstructionsRun(SIZES, quick, counted=[
        Counted(CHAT, floor=750_000, serve=950_000),  # 1.267x
        Counted(RESPONSES, floor=800_000, serve=800_000),  # 1.0x: at the limit, met
        Counted(MESSAGES_ROUTE, floor=780_000, serve=702_000),  # 0.9x
        Counted(COMPLETIONS, floor=760_000, serve=798_000),  # 1.05x
    ])


def test_a_dumps_total_is_its_summary_line() -> None:
    assert dump_total(DUMP) == 383_200_000
    assert dump_total(DUMP.replace("totals: 383200000\n", "")) == 383_200_000


def test_a_dump_with_only_totals_is_read_too_and_the_first_event_is_the_instructions() -> None:
    assert dump_total("events: Ir Dr\nfn=(1) f\n3 10 2\ntotals: 1234 99\n") == 1234


def test_a_dump_without_a_total_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="summary"):
        dump_total("events: Ir\nfn=(1) f\n3 10\n")


def test_each_route_is_held_to_at_most_its_floors_instructions() -> None:
    targets = counted().targets()
    assert [(t.figure, round(t.value, 3), t.met) for t in targets] == [
        ("(j)/(i) instructions/request, POST /v1/chat/completions", 1.267, False),
        ("(j)/(i) instructions/request, POST /v1/responses (stored)", 1.0, True),
        ("(j)/(i) instructions/request, POST /v1/messages", 0.9, True),
        ("(j)/(i) instructions/request, POST /v1/completions", 1.05, False),
    ]
    assert {t.wanted for t in targets} == {"<= 1x"}
    assert not any(t.informational for t in targets)


def test_the_table_shows_each_figure_its_ratio_target_and_verdict() -> None:
    table = "\n".join(counted().render())
    assert ("| POST /v1/chat/completions | 750,000 | 950,000 | 1.267x | <= 1x | MISSED |"
            in table)
    assert "| POST /v1/responses (stored) | 800,000 | 800,000 | 1.000x | <= 1x | yes |" in table
    assert "| POST /v1/messages | 780,000 | 702,000 | 0.900x | <= 1x | yes |" in table
    assert "400 requests at 8 keep-alive clients, after 100 warm-up requests" in table
    assert "WATCH_AFTER" in table and "instructions_serve.py" in table
    assert "voigpt serve --state memory (j) against its floor (i)" in table


@pytest.mark.parametrize("flag", ["--requests", "--clients"])
@pytest.mark.parametrize("value", ["0", "-5", "2.5"])
def test_a_count_of_requests_or_clients_below_one_is_refused(flag: str, value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([flag, value])
    assert exited.value.code == 2


def test_a_missed_target_exits_2_only_under_strict() -> None:
    run = counted()
    assert exit_code(run.failures(), run.targets(), strict=True) == 2
    assert exit_code(run.failures(), run.targets(), strict=False) == 0


def test_a_quick_run_shows_every_figure_and_judges_none() -> None:
    run = counted(quick=True)
    rows = [line for line in run.render() if line.startswith("| POST ")]
    assert len(rows) == 4
    assert all(row.endswith(f"| {NOT_JUDGED} |") for row in rows)
    assert "MISSED" not in "\n".join(run.render())
    assert exit_code(run.failures(), run.targets(), strict=True, judged=False) == 0


def test_a_wrong_answer_fails_the_run() -> None:
    run = counted()
    run.problems.append("(j) voigpt serve, POST /v1/messages, counted: 1 errors, the first 500")
    assert exit_code(run.failures(), run.targets(), strict=False) == 1


def test_without_valgrind_it_says_what_to_install_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no valgrind on it
    assert main(["--quick"]) == 2
    said = capsys.readouterr()
    assert "apt-get install valgrind" in said.err and "Traceback" not in said.err
    assert measure_instructions(quick=False).render() == [
        "Instructions per request (callgrind): not measured: the instruction counts need "
        "valgrind's callgrind (valgrind, callgrind_control not found): apt-get install "
        "valgrind.", ""]


def test_the_launcher_raises_the_watch_delay_and_runs_voigpt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(disconnect, "WATCH_AFTER", disconnect.WATCH_AFTER)  # restored after
    monkeypatch.setattr("sys.argv", ["launcher"])
    with pytest.raises(SystemExit) as exited:  # argparse's --version exits
        launcher.run(["--version"])
    assert exited.value.code == 0
    assert disconnect.WATCH_AFTER == launcher.LATE
    assert "voigpt" in capsys.readouterr().out


def test_the_launcher_fails_loudly_if_the_watch_delay_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(disconnect, "WATCH_AFTER")
    with pytest.raises(RuntimeError, match="WATCH_AFTER is gone"):
        launcher.run(["--version"])

