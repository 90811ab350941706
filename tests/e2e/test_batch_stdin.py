"""``voigpt batch -``: the requests come from standard input, read whole and checked before
the first is sent; OUTPUT stays a file, because resuming reads it back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_cli
from voigpt.emulator import Emulator


def requests_text(count: int) -> str:
    return "".join(json.dumps({
        "custom_id": f"q{n}", "method": "POST", "url": "/v1/chat/completions",
        "body": {"messages": [{"role": "user", "content": f"Question {n}"}]},
    }) + "\n" for n in range(count))


def done_ids(output: Path) -> list[str]:
    return sorted(json.loads(line)["custom_id"] for line in output.read_text().splitlines())


def test_dash_reads_the_requests_from_stdin_and_a_second_run_resumes(
    tmp_path: Path, voigpt_emulator: Emulator
) -> None:
    output = tmp_path / "out.jsonl"
    args = ("batch", "-", "-o", str(output), "--base-url", voigpt_emulator.url, "--quiet")
    result = run_cli(*args, input=requests_text(3))
    assert result.returncode == 0, result.stderr
    assert done_ids(output) == ["q0", "q1", "q2"]
    assert voigpt_emulator.completions == 3
    result = run_cli(*args, input=requests_text(4))
    assert result.returncode == 0, result.stderr
    assert done_ids(output) == ["q0", "q1", "q2", "q3"]
    assert voigpt_emulator.completions == 4  # only the new one was sent


def test_bad_lines_on_stdin_are_named_as_standard_input_and_nothing_is_sent(
    tmp_path: Path, voigpt_emulator: Emulator
) -> None:
    output = tmp_path / "out.jsonl"
    text = requests_text(2) + "{\n"
    result = run_cli("batch", "-", "-o", str(output), "--base-url", voigpt_emulator.url,
                     input=text)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "voigpt: error: standard input: 1 bad line; nothing was sent"
    )
    assert "line 3: invalid JSON" in result.stderr
    assert voigpt_emulator.completions == 0
    assert not output.exists()


def test_empty_stdin_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("batch", "-", "-o", str(tmp_path / "out.jsonl"), "--backend", "fake")
    assert result.returncode == 2
    assert result.stderr == "voigpt: error: standard input: no requests in the file\n"


def test_output_must_be_a_file_not_dash(tmp_path: Path) -> None:
    result = run_cli("batch", "-", "-o", "-", "--backend", "fake", input=requests_text(1))
    assert result.returncode == 2
    assert result.stderr.startswith("voigpt: error: -o must name a file")
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""


def test_output_is_required_with_stdin_too() -> None:
    result = run_cli("batch", "-", "--backend", "fake", input=requests_text(1))
    assert result.returncode == 2
    assert "the following arguments are required: -o/--output" in result.stderr
