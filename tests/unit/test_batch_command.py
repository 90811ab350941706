"""``voigpt batch`` in-process with ``--backend fake`` (no sockets): its flags, its exit
codes, what it prints, and the progress display it picks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from voigpt.entrypoints.batch.progress import (
    Bar,
    BatchProgress,
    PeriodicLines,
    progress_line,
    reporter_for,
)
from voigpt.entrypoints.cli.main import main


def write_input(path: Path, count: int, *, bad: dict[int, str] | None = None) -> Path:
    rows = [json.dumps({"custom_id": f"id-{n}", "method": "POST", "url": "/v1/chat/completions",
                        "body": {"messages": [{"role": "user", "content": f"q{n}"}]}})
            for n in range(count)]
    for number, text in (bad or {}).items():
        rows[number - 1] = text
    path.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def batch(*args: str) -> tuple[int, str]:
    stderr = io.StringIO()
    code = main(["batch", "--backend", "fake", *args], stdout=io.StringIO(), stderr=stderr)
    return code, stderr.getvalue()


def test_a_run_writes_every_id_and_ends_with_one_summary_line(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", 25)
    code, stderr = batch(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 0
    assert stderr.startswith("voigpt batch: 25/25 done, 0 failed, ") and stderr.count("\n") == 1
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 25
    code, stderr = batch(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 0 and stderr.startswith("voigpt batch: 25/25 done (0 this run), 0 failed")


def test_bad_input_lists_the_lines_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    source = write_input(tmp_path / "in.jsonl", 30, bad={3: "{", 7: "[]", 8: "null"})
    code, stderr = batch(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 2
    assert stderr.splitlines() == [
        f"voigpt: error: {source}: 3 bad lines; nothing was sent",
        "  line 3: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        "  line 7: must be a JSON object, got an array",
        "  line 8: must be a JSON object, got null",
    ]
    assert not (tmp_path / "out.jsonl").exists()


def test_a_torn_output_is_repaired_with_a_note(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 5), tmp_path / "out.jsonl"
    assert batch(str(source), "-o", str(output))[0] == 0
    whole = output.read_bytes()
    output.write_bytes(whole[: -30])
    code, stderr = batch(str(source), "-o", str(output))
    assert code == 0
    assert "ended with a torn line (line 5" in stderr and "removed" in stderr
    assert sorted(json.loads(x)["custom_id"] for x in output.read_text().splitlines()) == [
        f"id-{n}" for n in range(5)]


def test_an_output_that_is_not_results_exits_2_untouched(tmp_path: Path) -> None:
    source, output = write_input(tmp_path / "in.jsonl", 2), tmp_path / "out.jsonl"
    output.write_text('{"custom_id": "id-0", "error": {"code": "x"}}\n')
    code, stderr = batch(str(source), "-o", str(output))
    assert code == 2 and "line 1 is not a batch result line" in stderr
    assert output.read_text() == '{"custom_id": "id-0", "error": {"code": "x"}}\n'


@pytest.mark.parametrize("flags", [
    ["--concurrency", "0"], ["--concurrency", "x"], ["--rate", "0"], ["--rate", "nan"],
    ["--rate", "-2"], ["--timeout", "soon"],
])
def test_bad_flags_exit_2_before_anything(tmp_path: Path, flags: list[str]) -> None:
    source = write_input(tmp_path / "in.jsonl", 1)
    try:
        code, _ = batch(str(source), "-o", str(tmp_path / "out.jsonl"), *flags)
    except SystemExit as exit:  # argparse's own refusal
        code = int(exit.code or 0)
    assert code == 2 and not (tmp_path / "out.jsonl").exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_unless_quiet_and_a_pipe_gets_lines() -> None:
    assert isinstance(reporter_for(Terminal(), quiet=False), Bar)
    assert isinstance(reporter_for(Terminal(), quiet=True), PeriodicLines)
    assert isinstance(reporter_for(io.StringIO(), quiet=False), PeriodicLines)


def test_the_bar_shows_done_total_and_failures() -> None:
    screen = Terminal()
    bar = reporter_for(screen, quiet=False)
    bar(BatchProgress(total=50, skipped=10, succeeded=5, failed=2, elapsed=1.0))
    bar.close()
    assert "17/50" in screen.getvalue() and "2 failed" in screen.getvalue()


def test_periodic_lines_say_done_failed_rate_and_eta() -> None:
    stream = io.StringIO()
    lines = PeriodicLines(stream, every=0.0)
    lines(BatchProgress(total=5000, skipped=0, succeeded=1200, failed=3, elapsed=12.0))
    assert stream.getvalue() == "voigpt batch: 1200/5000 done, 3 failed, 100.2/s, ETA 38s\n"
    assert progress_line(BatchProgress(10, 0, 0, 0, 0.0)).endswith("0.0/s, ETA --")
