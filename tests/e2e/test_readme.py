"""The README's Python examples run as written (those marked ``readme-test``), and its test
command is the one CI runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServeProcess
from voigpt import VoiGpt
from voigpt.emulator import Emulator

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"<!-- readme-test -->\n```python\n(.*?)```", README.read_text(), re.S)


@pytest.fixture
def emulator_at_8000_in_the_text(voigpt_emulator: Emulator, g4f_provider: type[VoiGpt]) -> str:
    """The examples' ``http://127.0.0.1:8000`` is this emulator; what an example does to
    ``VoiGpt``'s class state (``VoiGpt.url = ...``) is undone after it."""
    return voigpt_emulator.url


def test_there_are_examples_to_run() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[f"example{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(
    block: str, emulator_at_8000_in_the_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = block.replace("http://127.0.0.1:8000", emulator_at_8000_in_the_text)
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    if "print(" in code:
        assert out.strip(), "an example that prints printed nothing"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (README.parent / ".ci" / "run").read_text()
    command = re.search(r'^TEST_CMD="(.*)"$', ci, re.M)
    assert command is not None
    assert command.group(1) in README.read_text()


def test_the_readme_names_the_benchmark_command_ci_smoke_runs() -> None:
    text = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert ".venv/bin/python -m benchmarks" in text
    assert ".venv/bin/python -m benchmarks --quick" in ci
    assert (README.parent / "benchmarks" / "__main__.py").is_file()
    assert re.search(r"Machine: \d+ cores", text), "the README's table names the core count"


SERVER_BLOCKS = re.findall(r"<!-- readme-server-test -->\n```python\n(.*?)```", README.read_text(),
                           re.S)


@pytest.fixture(scope="module")
def readme_server() -> Iterator[ServeProcess]:
    """``voigpt serve`` as the README's server examples start it: the offline demo, with the
    alias the model-id example names."""
    with ServeProcess("--backend", "local", "--model-alias", "gpt-4o*") as process:
        yield process


def test_there_are_server_examples_to_run() -> None:
    assert len(SERVER_BLOCKS) >= 3


@pytest.mark.parametrize("block", SERVER_BLOCKS,
                         ids=[f"server-example{i}" for i in range(len(SERVER_BLOCKS))])
def test_readme_server_example_runs_against_voigpt_serve(
    block: str, readme_server: ServeProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code = block.replace("http://127.0.0.1:8080", readme_server.url)
    assert code != block, "a server example that names no http://127.0.0.1:8080"
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    if "response_format=Person" in code:  # the structured example: the echo's JSON, parsed
        assert out.splitlines() == ["name='Ada' age=36"]
        return
    assert "[voigpt emulator] You said: Hello" in out
    if "reply.model" in code:
        assert "gpt-3.5-turbo" in out.splitlines()
