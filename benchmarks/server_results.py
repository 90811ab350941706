"""The results of the server section (``benchmarks/server.py``), the targets they are held
to, and what counts as a wrong answer. The tables are drawn by ``benchmarks/server_tables``.

Every figure compares (j) ``voigpt serve`` with (i) its floor on the same API route, the
two measured side by side in one run (taking turns): each target is a ratio or a
difference against the floor, never an absolute time.
"""

from __future__ import annotations

import attrs

from benchmarks.server_routes import CHAT, label
from benchmarks.targets import MB, Target

CLIENTS = 32
BURST_CLIENTS = 256
FLOOR, SERVE = "i", "j"
SERVERS = {FLOOR: "(i) floor: Starlette + one aiohttp session", SERVE: "(j) voigpt serve"}
EMULATOR, STAND_IN = "emulator", "stand-in"

CPU_RATIO = 1.0  # (j)/(i) CPU per request on the same route, at most
THROUGHPUT_RATIO = 0.9  # (j)/(i) requests/s on the same route, at least
BURST_SLACK = 0.5  # seconds a burst may take beyond the service time
LATENCY_ADDED = 1e-3  # seconds (j) may add to (i)'s median latency at one client
P99_ADDED = 2e-3  # seconds (j) may add to (i)'s p99 latency at one client
PACED_SLACK = 5e-3  # seconds (j)'s p99 may exceed (i)'s at a fixed rate (benchmarks/server.py)
RSS_GROWTH = 10 * MB  # from the first sample after the warm-up to the end, less than


@attrs.frozen
class Rate:
    """Requests/s of one server on one route (or an upstream alone) at ``CLIENTS``."""

    server: str  # FLOOR, SERVE, or "upstream"
    route: str
    upstream: str  # EMULATOR or STAND_IN
    per_second: float  # median over turns
    cpu: float  # median CPU seconds per request of the loaded process
    upstream_cpu: float  # median CPU seconds per request of the upstream behind it (0: none)
    requests: int  # summed over turns
    errors: int = 0
    first_error: str = ""

    @property
    def label(self) -> str:
        return SERVERS.get(self.server, "upstream alone (bare protocol)")


@attrs.frozen
class Latency:
    """One client, one request at a time: all requests of all turns."""

    server: str
    route: str
    median: float  # seconds
    p99: float
    requests: int
    errors: int = 0
    first_error: str = ""

    @property
    def label(self) -> str:
        return SERVERS[self.server]


@attrs.frozen
class Paced:
    """Open loop at a fixed rate: each turn's p50 and p99, the median over turns."""

    server: str
    route: str
    rate: float  # requests/s sent
    p50: float  # seconds
    p99: float
    requests: int
    errors: int = 0
    first_error: str = ""

    @property
    def label(self) -> str:
        return SERVERS[self.server]


@attrs.frozen
class Burst:
    server: str
    clients: int
    service: float  # the emulator's service time, seconds
    wall: float  # median over turns, seconds
    errors: int = 0
    first_error: str = ""

    @property
    def label(self) -> str:
        return SERVERS[self.server]

    route = CHAT


@attrs.frozen
class Resident:
    """The RSS of one ``voigpt serve`` process over a long run on one route."""

    name: str  # what the run keeps: "stored responses" or "reply cache"
    route: str
    flags: str  # what the server was started with, beyond the usual
    warmed: int  # RSS bytes after the warm-up
    samples: tuple[tuple[int, int], ...]  # (requests so far, RSS bytes), evenly spaced
    errors: int = 0
    first_error: str = ""
    seen: str = ""  # what the server's metrics said of what it keeps, if anything
    warmup: int = 0  # requests before the first RSS

    @property
    def label(self) -> str:
        return f"(j) voigpt serve, {self.name}"

    @property
    def requests(self) -> int:
        return self.samples[-1][0] if self.samples else 0

    @property
    def growth(self) -> int:
        """From the first sample to the last: the caps are full by then, so this is a leak."""
        return self.samples[-1][1] - self.samples[0][1] if self.samples else 0


@attrs.define
class ServerRun:
    sizes: dict[str, object] = attrs.Factory(dict)
    quick: bool = False  # every figure shown, none judged
    # server key -> "uvloop yes, httptools yes" (what each server process has loaded)
    loaded: dict[str, str] = attrs.Factory(dict)
    upstreams: list[Rate] = attrs.Factory(list)  # each upstream loaded alone
    rates: list[Rate] = attrs.Factory(list)
    latencies: list[Latency] = attrs.Factory(list)
    paced: list[Paced] = attrs.Factory(list)
    bursts: list[Burst] = attrs.Factory(list)
    memory: list[Resident] = attrs.Factory(list)
    token_fetches: dict[str, int] = attrs.Factory(dict)  # each voigpt serve, from /metrics
    problems: list[str] = attrs.Factory(list)  # anything else a server did wrong

    def rate(self, server: str, route: str, upstream: str = STAND_IN) -> Rate | None:
        return next((r for r in self.rates
                     if (r.server, r.route, r.upstream) == (server, route, upstream)), None)

    def latency(self, server: str, route: str) -> Latency | None:
        return next((x for x in self.latencies if (x.server, x.route) == (server, route)), None)

    def paced_run(self, server: str, route: str, rate: float) -> Paced | None:
        return next((p for p in self.paced if (p.server, p.route, p.rate) == (server, route,
                                                                              rate)), None)

    def targets(self) -> list[Target]:
        found: list[Target] = []
        for serve in (r for r in self.rates if r.server == SERVE and r.upstream == STAND_IN):
            floor = self.rate(FLOOR, serve.route)
            if floor is None or not floor.cpu or not floor.per_second:
                continue
            where = f"{label(serve.route)}, {CLIENTS} clients"
            found.append(Target(f"(j)/(i) CPU/request, {where}", serve.cpu / floor.cpu,
                                CPU_RATIO, at_most=True))
            found.append(Target(f"(j)/(i) requests/s, {where}",
                                serve.per_second / floor.per_second, THROUGHPUT_RATIO,
                                at_most=False))
        for serve_latency in (x for x in self.latencies if x.server == SERVE):
            floor_latency = self.latency(FLOOR, serve_latency.route)
            if floor_latency is None:
                continue
            where = f"1 client, {label(serve_latency.route)}"
            found.append(Target(f"(j) - (i) median latency, {where}",
                                (serve_latency.median - floor_latency.median) * 1e3,
                                LATENCY_ADDED * 1e3, at_most=True, unit=" ms"))
            found.append(Target(f"(j) - (i) p99 latency, {where}",
                                (serve_latency.p99 - floor_latency.p99) * 1e3,
                                P99_ADDED * 1e3, at_most=True, unit=" ms"))
        for p in (p for p in self.paced if p.server == SERVE):
            floor_paced = self.paced_run(FLOOR, p.route, p.rate)
            if floor_paced is not None:
                found.append(Target(f"(j) p99 - (i) p99, open loop {p.rate:g} requests/s, "
                                    f"{label(p.route)}", (p.p99 - floor_paced.p99) * 1e3,
                                    PACED_SLACK * 1e3, at_most=True, unit=" ms"))
        for b in (b for b in self.bursts if b.server == SERVE):
            found.append(Target(f"(j) {b.clients} clients at once, {b.service:g} s service: "
                                "wall", b.wall, b.service + BURST_SLACK, at_most=True,
                                unit=" s"))
        for m in self.memory:
            if len(m.samples) > 1:
                found.append(Target(f"{m.label}: RSS growth, {m.samples[0][0]:,} to "
                                    f"{m.requests:,} requests", m.growth / MB,
                                    RSS_GROWTH / MB, at_most=True, unit=" MB"))
        return found

    def failures(self) -> list[str]:
        found = []
        runs: list[Rate | Latency | Paced | Burst | Resident] = [
            *self.upstreams, *self.rates, *self.latencies, *self.paced, *self.bursts,
            *self.memory]
        for run in runs:
            if run.errors:
                where = "" if isinstance(run, Resident) else f", {label(run.route)}"
                found.append(f"{run.label}{where} ({type(run).__name__.lower()}): "
                             f"{run.errors} wrong answers or errors, the first "
                             f"{run.first_error}")
        for name, fetches in self.token_fetches.items():
            if fetches != 1:
                found.append(f"voigpt serve ({name}) fetched {fetches} tokens, not 1")
        return [*found, *self._unjudged(), *self.problems]

    def _unjudged(self) -> list[str]:
        """A route of (j) with no figure of the floor's to hold it to would go unjudged
        without a word: that is a broken run, not a met target."""
        found = []
        for serve in (r for r in self.rates if r.server == SERVE and r.upstream == STAND_IN):
            floor = self.rate(FLOOR, serve.route)
            if floor is None or not floor.cpu or not floor.per_second:
                found.append(f"no floor figure to judge {label(serve.route)} at {CLIENTS} "
                             "clients by")
        for latency in (x for x in self.latencies if x.server == SERVE):
            if self.latency(FLOOR, latency.route) is None:
                found.append(f"no floor latency to judge {label(latency.route)} by")
        for p in (p for p in self.paced if p.server == SERVE):
            if self.paced_run(FLOOR, p.route, p.rate) is None:
                found.append(f"no floor open loop at {p.rate:g}/s to judge "
                             f"{label(p.route)} by")
        return found
