"""The benchmark modules import one another without a circle, type-checking imports
included: ``benchmarks/targets.py`` holds what every section shares and imports none of
them, and each section's tables import its records, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in BENCHMARKS.glob("*.py"):
        deps = found.setdefault(f"benchmarks.{path.stem}", set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "benchmarks":
                deps |= {f"benchmarks.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("benchmarks."):
                deps.add(str(node.module))
    return found


def _circle(graph: dict[str, set[str]]) -> list[str]:
    for start in sorted(graph):
        paths = [[start]]
        while paths:
            path = paths.pop()
            for nxt in sorted(graph.get(path[-1], ())):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in path:
                    paths.append([*path, nxt])
    return []


def test_no_benchmark_module_imports_itself_round_a_circle() -> None:
    assert _circle(_imports()) == []


def test_the_check_sees_a_circle() -> None:
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_shared_pieces_import_no_section() -> None:
    assert _imports()["benchmarks.targets"] == set()
