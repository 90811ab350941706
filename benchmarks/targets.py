"""What every benchmark section shares: its command-line options, the ``Target`` a figure is
held to, the verdict a table prints for it (a quick run judges none), and the exit status.
It imports no other benchmark module, so every section can import it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import attrs


def arguments(prog: str, description: str | None, argv: list[str] | None) -> argparse.Namespace:
    """The options every benchmark command has: ``--quick`` and ``--strict``."""
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny N: checks it runs")
    parser.add_argument("--strict", action="store_true",
                        help="exit 2 if a target is missed (a quick run judges none)")
    return parser.parse_args(argv)


def exit_code(failures: Sequence[str], targets: Sequence[Target], *, strict: bool,
              judged: bool = True) -> int:
    """1 if anything answered wrong (each failure printed), 2 if ``strict`` and a judged
    target was missed, else 0. A quick run (``judged`` False) judges nothing, ``strict`` or
    not; informational targets are never judged."""
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    if failures:
        return 1
    missed = any(not t.met for t in targets if not t.informational)
    return 2 if strict and judged and missed else 0


NOT_JUDGED = "not judged (quick run)"


def verdict(target: Target, *, judged: bool) -> str:
    """What a table says of ``target``: "yes" or "MISSED" ("no" if it is informational), or,
    in a quick run (``judged`` False), that it was too short to judge: the measurement and
    the target are still shown beside it."""
    if not judged:
        return NOT_JUDGED
    if target.met:
        return "yes"
    return "no" if target.informational else "MISSED"


def target_rows(targets: Sequence[Target], *, judged: bool) -> list[str]:
    """The Markdown table of ``targets``: figure, value, target, verdict."""
    lines = ["| figure | value | target | met |", "|---|---:|---|---|"]
    for t in targets:
        lines.append(f"| {t.figure} | {t.value:.2f}{t.unit} | {t.wanted} | "
                     f"{verdict(t, judged=judged)} |")
    return lines


MB = 1024 * 1024


@attrs.frozen
class Target:
    figure: str
    value: float
    limit: float
    at_most: bool  # True: value <= limit is wanted; False: value >= limit
    unit: str = "x"
    informational: bool = False  # shown with a verdict, never judged (not in --strict)

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    @property
    def wanted(self) -> str:
        wanted = f"{'<=' if self.at_most else '>='} {self.limit:g}{self.unit}"
        return wanted + (" (informational)" if self.informational else "")
