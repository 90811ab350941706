"""The results of the shared-state section (``benchmarks/state.py``), the targets they are
held to (on each API route, a shared state's CPU per request against ``--state memory``'s),
what counts as a wrong answer, and the tables."""

from __future__ import annotations

import statistics

import attrs

from benchmarks.server_results import CLIENTS
from benchmarks.server_routes import CHAT, ROUTES, label
from benchmarks.targets import Target, target_rows

CPU_RATIO = 1.15  # shared / memory CPU per request on the same route, at most
THROUGHPUT_RATIO = 0.85  # shared / memory requests/s (informational: the lease rows)
P99_ADDED = 2e-3  # seconds a shared state may add to memory's p99 (informational)
WORST_ADDED = 5e-3  # seconds it may add to memory's worst turn's p99 (informational)
LEASE_CAP = 64  # --site-concurrency of the lease rows (never reached at 32 clients)
FULL_CAP = 8  # --site-concurrency of the full-cap rows (32 clients queue for 8 slots)
MEMORY, SQLITE, REDIS = "memory", "sqlite", "redis"


@attrs.frozen
class Setup:
    """One way to run the server: where its state lives, and the lease cap if any."""

    kind: str  # MEMORY, SQLITE or REDIS
    cap: int | None = None

    @property
    def label(self) -> str:
        return f"--state {self.kind}" + (f" --site-concurrency {self.cap}" if self.cap else "")

    @property
    def baseline(self) -> Setup:
        """What it is compared with: memory, with the same cap."""
        return Setup(MEMORY, self.cap)


SETUPS = (Setup(MEMORY), Setup(SQLITE), Setup(REDIS),
          Setup(MEMORY, LEASE_CAP), Setup(SQLITE, LEASE_CAP), Setup(REDIS, LEASE_CAP),
          Setup(MEMORY, FULL_CAP), Setup(SQLITE, FULL_CAP), Setup(REDIS, FULL_CAP))


# -- results -------------------------------------------------------------------------------------


@attrs.frozen
class Rate:
    setup: Setup
    per_second: float  # median over turns
    cpu: float  # median CPU seconds per request of the server process
    store_cpu: float  # the same of redis-server (0: no store process)
    requests: int  # summed over turns
    errors: int = 0
    first_error: str = ""
    route: str = CHAT
    cpu_turns: tuple[float, ...] = ()  # each round's CPU per request, in round order


@attrs.frozen
class Paced:
    setup: Setup
    rate: float  # requests/s sent
    p50: float  # seconds: each turn's, the median over turns
    p99: float
    requests: int
    errors: int = 0
    first_error: str = ""
    route: str = CHAT
    worst: float = 0.0  # seconds: the worst turn's p99 (a stall every few seconds shows here)


@attrs.frozen
class Health:
    setup: Setup
    token_fetches: int
    state_up: float | None  # voigpt_state_up at the end; None if /metrics has none


@attrs.define
class StateRun:
    sizes: dict[str, object] = attrs.Factory(dict)
    quick: bool = False  # every figure shown, none judged
    skipped: str = ""  # why some rows are missing (no redis-server), else empty
    rates: list[Rate] = attrs.Factory(list)
    paced: list[Paced] = attrs.Factory(list)
    health: list[Health] = attrs.Factory(list)

    def rate(self, setup: Setup, route: str = CHAT) -> Rate | None:
        return next((r for r in self.rates if (r.setup, r.route) == (setup, route)), None)

    def paced_run(self, setup: Setup, route: str = CHAT) -> Paced | None:
        return next((p for p in self.paced if (p.setup, p.route) == (setup, route)), None)

    def ratio(self, setup: Setup, route: str = CHAT) -> float | None:
        """Requests/s against memory's (with the same cap) on the same route."""
        own, base = self.rate(setup, route), self.rate(setup.baseline, route)
        return own.per_second / base.per_second if own and base and base.per_second else None

    def cpu_ratio(self, setup: Setup, route: str = CHAT) -> float | None:
        """CPU per request of the server process against memory's on the same route: the
        median over rounds of each round's ratio (the two turns run one after the other,
        so a slower spell of a shared machine moves both), else the ratio of the medians."""
        own, base = self.rate(setup, route), self.rate(setup.baseline, route)
        if not (own and base and base.cpu):
            return None
        pairs = list(zip(own.cpu_turns, base.cpu_turns, strict=False))
        if pairs and len(own.cpu_turns) == len(base.cpu_turns) and all(b for _, b in pairs):
            return statistics.median(o / b for o, b in pairs)
        return own.cpu / base.cpu

    def targets(self) -> list[Target]:
        """The judged figures: on each route, the CPU per request of each shared state
        without a cap against memory's; and on the chat route, with the lease cap, against
        memory's with the same cap."""
        found = []
        for kind in (SQLITE, REDIS):
            judged = [*((Setup(kind), route) for route in ROUTES), (Setup(kind, LEASE_CAP), CHAT)]
            for setup, route in judged:
                ratio = self.cpu_ratio(setup, route)
                if ratio is not None:
                    found.append(Target(f"{setup.label} / {setup.baseline.label} CPU/request, "
                                        f"{label(route)}, {CLIENTS} clients", ratio,
                                        CPU_RATIO, at_most=True))
        return found

    def informational(self) -> list[Target]:
        """Shown with a verdict, never judged (not in ``--strict``): the capped rows'
        requests/s against memory's with the same cap, and the added p99 at the fixed rate."""
        found = []
        for cap, note in ((LEASE_CAP, ""), (FULL_CAP, " (a full cap: requests queue)")):
            for kind in (SQLITE, REDIS):
                ratio = self.ratio(Setup(kind, cap))
                if ratio is not None:
                    found.append(Target(f"--state {kind} / --state memory requests/s, "
                                        f"{CLIENTS} clients, both --site-concurrency {cap}"
                                        f"{note}", ratio, THROUGHPUT_RATIO, at_most=False,
                                        informational=True))
        for p in self.paced:
            base = self.paced_run(p.setup.baseline, p.route)
            if p.setup.kind == MEMORY or base is None:
                continue
            where = "" if p.route == CHAT else f", {label(p.route)}"
            found.append(Target(f"{p.setup.label}: p99 - memory's p99, {p.rate:g} requests/s"
                                f"{where}", (p.p99 - base.p99) * 1e3, P99_ADDED * 1e3,
                                at_most=True, unit=" ms", informational=True))
            if p.route != CHAT:
                found.append(Target(f"{p.setup.label}: the worst turn's p99 - memory's, "
                                    f"{p.rate:g} requests/s{where}",
                                    (p.worst - base.worst) * 1e3, WORST_ADDED * 1e3,
                                    at_most=True, unit=" ms", informational=True))
        return found

    def failures(self) -> list[str]:
        found = []
        runs: list[Rate | Paced] = [*self.rates, *self.paced]
        for run in runs:
            if run.errors:
                where = f", {label(run.route)}" if run.route != CHAT else ""
                found.append(f"{run.setup.label}{where} ({type(run).__name__.lower()}): "
                             f"{run.errors} wrong answers or errors, the first {run.first_error}")
        for h in self.health:
            if h.token_fetches != 1:
                found.append(f"{h.setup.label}: fetched {h.token_fetches} tokens, not 1")
            if h.setup.kind != MEMORY and h.state_up != 1.0:
                found.append(f"{h.setup.label}: voigpt_state_up {h.state_up} at the end "
                             "(the store fell back to memory)")
        return found

    # -- rendering -------------------------------------------------------------------------------

    def render(self) -> list[str]:
        lines = ["voigpt serve on shared state (one uvicorn process each, the stand-in "
                 "upstream; each shared state a store of its own):", ""]
        if self.skipped:
            lines += [self.skipped, ""]
        if self.rates:
            lines += [f"Requests/s at {CLIENTS} keep-alive clients (median of turns; CPU per "
                      "request of the server process and of redis-server, psutil; each against "
                      "memory's with the same cap on the same route):", "",
                      "| state | route | requests/s | vs memory | CPU/request | vs memory "
                      "| redis-server CPU/request | errors |",
                      "|---|---|---:|---:|---:|---:|---:|---:|"]
            for r in self.rates:
                ratio, cpu = self.ratio(r.setup, r.route), self.cpu_ratio(r.setup, r.route)
                lines.append(f"| {r.setup.label} | {label(r.route)} | {r.per_second:,.0f} | "
                             f"{'' if ratio is None else f'{ratio:.2f}x'} | {_us(r.cpu)} | "
                             f"{'' if cpu is None else f'{cpu:.2f}x'} | {_us(r.store_cpu)} | "
                             f"{r.errors} |")
            lines.append("")
        if self.paced:
            lines += ["Open loop at a fixed rate (each request timed from when it was due; "
                      "each turn's p50 and p99, the median over turns, and the worst turn's "
                      "p99):", "",
                      "| state | route | rate | p50 | p99 | p99 vs memory | worst turn's p99 "
                      "| requests | errors |",
                      "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
            for p in self.paced:
                under = self.paced_run(p.setup.baseline, p.route)
                added = "" if under is None else f"{(p.p99 - under.p99) * 1e3:+.2f} ms"
                lines.append(f"| {p.setup.label} | {label(p.route)} | {p.rate:g}/s "
                             f"| {_ms(p.p50)} | {_ms(p.p99)} | {added} | {_ms(p.worst)} "
                             f"| {p.requests:,} | {p.errors} |")
            lines.append("")
        lines += target_rows([*self.targets(), *self.informational()], judged=not self.quick)
        return [*lines, ""]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds else ""


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"
