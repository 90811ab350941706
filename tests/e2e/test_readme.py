"""The README's test command is the one CI runs, and it names the benchmark command. (Its
Python examples run with the handbook's, in test_docs_examples.py.)"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


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
