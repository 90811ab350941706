"""The README is a front door: short, its test command the one CI runs, every link into the
handbook leads to a page and a heading that exist. (Its Python examples run with the
handbook's, in test_docs_examples.py.)"""

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
    performance = (README.parent / "docs" / "explanation" / "performance.md").read_text()
    assert re.search(r"Machine: \d+ cores", performance), "the tables name the core count"


def test_the_readme_is_short() -> None:
    assert len(README.read_text().splitlines()) <= 200


def _anchors(page: Path) -> set[str]:
    """The ids MkDocs gives the page's headings (its toc extension's default slugify)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, re.M):
        plain = re.sub(r"[`*_]|\[([^]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading)
        anchors.add(re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", plain).strip().lower()))
    return anchors


def test_every_link_of_the_readme_leads_somewhere() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert len(local) >= 15
    for link in local:
        path, _, anchor = link.partition("#")
        target = (README.parent / path) if path else README
        assert target.exists(), link
        if anchor:
            assert anchor in _anchors(target), link
