"""The results of one run, the targets they are held to, and the Markdown table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from benchmarks.asyncio_runs import Burst
from benchmarks.memory import Growth
from benchmarks.server_tables import render as render_server
from benchmarks.targets import MB, NOT_JUDGED, Target, arguments, exit_code, target_rows, verdict
from benchmarks.threads import Throughput
from benchmarks.turns import PerCompletion

if TYPE_CHECKING:
    from benchmarks.server_results import ServerRun

__all__ = ["MB", "NOT_JUDGED", "Report", "Target", "arguments", "exit_code", "target_rows",
           "verdict"]  # the shared pieces, re-exported for the sections that import them here


BURST_WALL = 1.3  # a timed burst must finish within this many service times
ASYNC_CPU = 1.3  # (e)/(g) CPU per completion, sequential


@attrs.define
class Report:
    machine: str
    sizes: dict[str, Any]
    per_completion: dict[str, dict[str, PerCompletion]] = attrs.Factory(dict)
    # (client key, client label, emulator service seconds) -> thread count -> result
    threads: dict[tuple[str, str, float], dict[int, Throughput]] = attrs.Factory(dict)
    memory: list[Growth] = attrs.Factory(list)
    # asyncio: concurrent bursts, and per completion (sequential, over HTTP) by client key
    bursts: list[Burst] = attrs.Factory(list)
    async_per_completion: dict[str, PerCompletion] = attrs.Factory(dict)
    async_not_installed: dict[str, str] = attrs.Factory(dict)  # key -> label
    server: ServerRun | None = None  # voigpt serve against its floor
    quick: bool = False  # a quick run: every figure shown, none judged

    # -- figures -----------------------------------------------------------------------------

    def ratio(self, transport: str, top: str, bottom: str, what: str) -> float:
        row = self.per_completion[transport]
        return float(getattr(row[top], what) / getattr(row[bottom], what))

    def async_ratio(self, top: str, bottom: str, what: str) -> float:
        row = self.async_per_completion
        return float(getattr(row[top], what) / getattr(row[bottom], what))

    def targets(self) -> list[Target]:
        found: list[Target] = []
        for transport in self.per_completion:
            for client in ("a", "b"):
                found.append(Target(f"({client})/(c) wall, {transport}",
                                    self.ratio(transport, client, "c", "wall"),
                                    1.10, at_most=True))
                found.append(Target(f"({client})/(c) CPU, {transport}",
                                    self.ratio(transport, client, "c", "cpu"),
                                    1.25, at_most=True))
        if "TLS" in self.per_completion:
            found.append(Target("(d)/(b) wall, TLS", self.ratio("TLS", "d", "b", "wall"),
                                2.5, at_most=False))
        for (key, _, latency), rows in self.threads.items():
            if key == "a" and latency > 0:
                found.append(Target(f"(a) 16 vs 1 thread, {latency * 1e3:g} ms service",
                                    rows[16].per_second / rows[1].per_second,
                                    1.5, at_most=False))
        for growth in self.memory:
            found.append(Target(f"RSS growth, {growth.label}, {growth.completions} completions",
                                growth.growth / MB, 5.0, at_most=True, unit=" MB"))
        for burst in self.bursts:
            if burst.timed:
                found.append(Target(f"{burst.label}, {burst.tasks} at once, "
                                    f"{burst.latency:g} s service: wall",
                                    burst.wall, BURST_WALL * burst.latency, at_most=True,
                                    unit=" s"))
        if {"e", "g"} <= set(self.async_per_completion):
            found.append(Target("(e)/(g) CPU, asyncio, sequential",
                                self.async_ratio("e", "g", "cpu"), ASYNC_CPU, at_most=True))
        if self.server is not None:
            found += self.server.targets()
        return found

    def missed_targets(self) -> list[Target]:
        return [t for t in self.targets() if not t.met and not t.informational]

    def correctness_failures(self) -> list[str]:
        failures = []
        for (_, label, latency), rows in self.threads.items():
            for row in rows.values():
                where = f"{label}, {row.threads} threads, {latency * 1e3:g} ms service"
                if row.errors:
                    failures.append(f"{where}: {row.errors} errors")
                if any(fetches != 1 for fetches in row.token_fetches):
                    failures.append(f"{where}: token fetches per container {row.token_fetches}")
        for burst in self.bursts:
            where = f"{burst.label}, {burst.tasks} at once, {burst.latency:g} s service"
            if burst.errors:
                failures.append(f"{where}: {burst.errors} errors, the first {burst.first_error}"
                                if burst.first_error else f"{where}: {burst.errors} errors")
            if burst.one_fetch and any(fetches != 1 for fetches in burst.token_fetches):
                failures.append(f"{where}: token fetches per client {burst.token_fetches}")
        if self.server is not None:
            failures += self.server.failures()
        return failures

    # -- rendering ---------------------------------------------------------------------------

    def render(self) -> str:
        lines = [f"Machine: {self.machine}. Sizes: "
                 + ", ".join(f"{k}={v}" for k, v in self.sizes.items()) + ".", ""]
        lines += self._per_completion_table()
        lines += self._targets_table()
        lines += self._threads_table()
        lines += self._memory_table()
        lines += self._bursts_table()
        lines += self._async_per_completion_table()
        lines += render_server(self.server) if self.server is not None else []
        return "\n".join(lines)

    def _per_completion_table(self) -> list[str]:
        transports = list(self.per_completion)
        if not transports:
            return []
        first = self.per_completion[transports[0]]
        header = "| client | " + " | ".join(
            f"{t} wall | {t} CPU" for t in transports) + " |"
        lines = ["Per completion (median of turns; clients take turns a b c d):", "",
                 header, "|---|" + "---:|" * (2 * len(transports))]
        for key, row in first.items():
            cells = []
            for transport in transports:
                result = self.per_completion[transport][key]
                cells += [_us(result.wall), _us(result.cpu)]
            lines.append(f"| {row.label} | " + " | ".join(cells) + " |")
        return [*lines, ""]

    def _targets_table(self) -> list[str]:
        lines = ["Ratios against the targets:", "",
                 *target_rows(self.targets(), judged=not self.quick)]
        if "HTTP" in self.per_completion:  # shown for comparison, held to no target
            lines.append(f"| (d)/(b) wall, HTTP | {self.ratio('HTTP', 'd', 'b', 'wall'):.2f}x "
                         "| (no target) | |")
        if {"e", "g"} <= set(self.async_per_completion):
            lines.append(f"| (e)/(g) wall, asyncio, sequential | "
                         f"{self.async_ratio('e', 'g', 'wall'):.2f}x | (no target) | |")
        if {"h", "g"} <= set(self.async_per_completion):
            lines.append(f"| (h)/(g) CPU, asyncio, sequential | "
                         f"{self.async_ratio('h', 'g', 'cpu'):.2f}x | (no target) | |")
        return [*lines, ""]

    def _bursts_table(self) -> list[str]:
        if not self.bursts:
            return []
        lines = ["asyncio, tasks started at once on one client (wall time for the whole burst, "
                 "median of turns):", "",
                 "| client | emulator service time | tasks | wall | errors "
                 "| tokens fetched per turn |",
                 "|---|---:|---:|---:|---:|---|"]
        for b in self.bursts:
            lines.append(f"| {b.label} | {b.latency:g} s | {b.tasks:,} | {b.wall:.2f} s | "
                         f"{b.errors} | {', '.join(map(str, b.token_fetches))} |")
        return [*lines, ""]

    def _async_per_completion_table(self) -> list[str]:
        rows = self.async_per_completion
        if not rows and not self.async_not_installed:
            return []
        floor = rows.get("g")
        lines = ["asyncio per completion, sequential, HTTP, instant emulator (median of turns; "
                 "clients take turns e g h):", "",
                 "| client | wall | CPU | CPU vs (g) |", "|---|---:|---:|---:|"]
        for key in sorted({*rows, *self.async_not_installed}):
            if key in rows:
                row = rows[key]
                ratio = f"{row.cpu / floor.cpu:.2f}x" if floor else ""
                lines.append(f"| {row.label} | {_us(row.wall)} | {_us(row.cpu)} | {ratio} |")
            else:
                lines.append(f"| {self.async_not_installed[key]} | not installed "
                             "| not installed | |")
        return [*lines, ""]

    def _threads_table(self) -> list[str]:
        if not self.threads:
            return []
        counts = sorted(next(iter(self.threads.values())))
        lines = ["Threads sharing one container (completions/s, median of turns):", "",
                 "| client | emulator service time | "
                 + " | ".join(f"{n} thread{'s' if n > 1 else ''}" for n in counts)
                 + f" | {counts[-1]} vs {counts[0]} | errors | tokens fetched per client |",
                 "|---|---:|" + "---:|" * (len(counts) + 1) + "---:|---|"]
        for (_, label, latency), rows in self.threads.items():
            fetches = sorted({f for row in rows.values() for f in row.token_fetches})
            lines.append(
                f"| {label} | {latency * 1e3:g} ms | "
                + " | ".join(f"{rows[n].per_second:,.0f}" for n in counts)
                + f" | {rows[counts[-1]].per_second / rows[counts[0]].per_second:.2f}x"
                + f" | {sum(r.errors for r in rows.values())}"
                + f" | {', '.join(map(str, fetches))} |"
            )
        return [*lines, ""]

    def _memory_table(self) -> list[str]:
        if not self.memory:
            return []
        lines = ["Resident memory, one process:", "",
                 "| client | completions | RSS before | RSS after | growth |",
                 "|---|---:|---:|---:|---:|"]
        for g in self.memory:
            lines.append(f"| {g.label} | {g.completions:,} | {g.before / MB:.1f} MB | "
                         f"{g.after / MB:.1f} MB | {g.growth / 1024:+,.0f} KiB |")
        return [*lines, ""]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"
