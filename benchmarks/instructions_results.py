"""The results of the instruction counts (``benchmarks/instructions.py``): the figures per
route, the target each ratio is held to (issue 23's CPU target, counted in instructions),
the table with its notes, and how a callgrind dump's total is read."""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from benchmarks.server_routes import label
from benchmarks.targets import Target, verdict

INSTALL = "apt-get install valgrind"
RATIO = 1.0  # (j)/(i) instructions per request, at most: issue 23's CPU target


@attrs.frozen
class Sizes:
    requests: int  # counted per server and route
    warmup: int  # sent before the counters are zeroed
    clients: int  # keep-alive connections sending them


FULL = Sizes(requests=400, warmup=100, clients=8)
QUICK = Sizes(requests=20, warmup=20, clients=8)


@attrs.frozen
class Counted:
    route: str
    floor: float  # instructions per request
    serve: float

    @property
    def ratio(self) -> float:
        return self.serve / self.floor


@attrs.define
class InstructionsRun:
    sizes: Sizes
    quick: bool  # a quick run: every figure shown, none judged
    state: str = "memory"  # voigpt serve's --state
    counted: list[Counted] = attrs.Factory(list)
    problems: list[str] = attrs.Factory(list)  # wrong answers: the run fails
    skipped: str = ""  # why nothing was measured, if so

    def targets(self) -> list[Target]:
        return [Target(f"(j)/(i) instructions/request, {label(c.route)}", c.ratio, RATIO,
                       at_most=True) for c in self.counted]

    def failures(self) -> list[str]:
        return list(self.problems)

    def render(self) -> list[str]:
        if self.skipped:
            return [self.skipped, ""]
        lines = [f"Instructions per request, counted by callgrind (voigpt serve --state "
                 f"{self.state} (j) against its floor (i), stand-in upstream):", ""]
        s = self.sizes
        lines += ["| route | (i) floor, instructions/request | (j) voigpt serve, "
                  "instructions/request | (j)/(i) | target | met |",
                  "|---|---:|---:|---:|---|---|"]
        for c, t in zip(self.counted, self.targets(), strict=True):
            lines.append(f"| {label(c.route)} | {c.floor:,.0f} | {c.serve:,.0f} | "
                         f"{c.ratio:.3f}x | {t.wanted} | {verdict(t, judged=not self.quick)} |")
        return [*lines, "",
                f"Each figure: the instructions the server process executed (valgrind "
                f"--tool=callgrind) over {s.requests:,} requests at "
                f"{s.clients} keep-alive clients, after {s.warmup:,} warm-up requests, divided "
                "by the requests; the upstream is not counted. The target is issue 23's CPU "
                "target, counted in instructions.",
                "voigpt serve runs through benchmarks/instructions_serve.py, which raises its "
                "disconnect watch's delay (WATCH_AFTER, 20 ms) to an hour: at full speed no "
                "completion here lives 20 ms, under valgrind's 50-fold slowness every one "
                "would, and would start a watcher it never starts in real use. Nothing else "
                "is patched.", ""]


def needs(missing: Sequence[str]) -> str:
    """What to install, said plainly."""
    return (f"the instruction counts need valgrind's callgrind ({', '.join(missing)} not "
            f"found): {INSTALL}")


def dump_total(text: str) -> int:
    """The instructions a callgrind dump counted: its ``summary:`` (or ``totals:``) line."""
    found = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    if found is None:
        raise ValueError("no summary: or totals: line in the callgrind dump")
    return int(found.group(1))


