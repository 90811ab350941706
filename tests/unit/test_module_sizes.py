"""No module of the package is over 200 lines: past that, a module holds more than one idea
(issue 24). Split along a seam, rather than cram."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "voigpt"
LIMIT = 200


def test_no_module_is_over_200_lines() -> None:
    sizes = {path.relative_to(PACKAGE.parent): len(path.read_text().splitlines())
             for path in PACKAGE.rglob("*.py")}
    assert len(sizes) > 100
    assert {str(path): size for path, size in sizes.items() if size > LIMIT} == {}
