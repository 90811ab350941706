"""What shared state costs ``voigpt serve``: the same server on ``--state memory``, on
``--state sqlite:///FILE`` and on ``--state redis://...`` (a real ``redis-server`` this
benchmark starts), each a real uvicorn process (one worker, as ``benchmarks/server.py``
runs it) in front of the same fast stand-in upstream (``benchmarks/server_upstream.py``).

    .venv/bin/python -m benchmarks.state            # this section alone (about three minutes)
    .venv/bin/python -m benchmarks.state --quick    # tiny N: checks it runs

The same three again with ``--site-concurrency 64`` (the lease path: a slot taken and given
back in the store for every completion, never waited for at 32 clients) are extra rows,
compared with ``--state memory --site-concurrency 64``. Every server runs at once, each
shared one on a store of its own (its own file, its own Redis database), so none reads
another's token or slots; they take turns under load.

- Requests/s at 32 keep-alive clients (``benchmarks/server_load.py``, every answer
  checked): a fixed time per turn, the servers in turn (in reverse order every other
  round), the median over turns, with each server's CPU per request (psutil; against
  memory's too, a figure that other load on a shared machine moves far less than
  requests/s) and, on Redis, ``redis-server``'s. Target: a shared state keeps at least
  0.85x the requests/s of ``--state memory`` (it costs at most 15%).
- The added p99 at a fixed rate (``benchmarks/open_loop.py``): 200 requests/s, open loop
  (sent on schedule whatever the answers, each timed from when it was due), in turns; each
  turn's p50 and p99, the median over turns (one turn that another process on the machine
  stalled moves it less than a p99 over all requests would), and the errors of every
  turn. Informational target: p99 at most 2 ms
  above memory's. 200/s is well under what one process serves here (no queueing: the
  figure is the store's own tail, not a backlog), and 2 ms is several loopback Redis round
  trips or SQLite transactions plus this shared machine's scheduling noise, while anything
  that blocks the event loop or polls (sync I/O on the loop, a 25 ms wait for a slot) is
  well past it.

At the end each server's ``/metrics`` must show one token fetched and ``voigpt_state_up``
1 (a store that fell back to memory during the run would have measured memory). Without
``redis-server`` on the machine the Redis rows are skipped, with one line saying so.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import sys
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path

import attrs
import psutil
import requests
import uvloop

from benchmarks import redis_process
from benchmarks.open_loop import paced, percentile
from benchmarks.report import Target, arguments, exit_code
from benchmarks.server_load import Load, hammer
from benchmarks.server_processes import MAX_CONCURRENCY, Spawned, cpu_seconds, token_fetches
from benchmarks.server_results import CLIENTS
from benchmarks.server_routes import chat_completions

THROUGHPUT_RATIO = 0.85  # shared / memory requests/s, at least
P99_ADDED = 2e-3  # seconds a shared state may add to memory's p99 (informational)
LEASE_CAP = 64  # --site-concurrency of the lease rows (never reached at 32 clients)
MEMORY, SQLITE, REDIS = "memory", "sqlite", "redis"


@attrs.frozen
class Sizes:
    rounds: int  # turns of each server in the throughput run
    seconds: float  # length of one throughput turn
    warmup: int  # requests per server before anything is timed
    rate: float  # requests/s of the open-loop run
    paced_seconds: float  # length of one open-loop turn
    paced_rounds: int


FULL = Sizes(rounds=9, seconds=1.0, warmup=1000, rate=200.0, paced_seconds=2.0,
             paced_rounds=5)
QUICK = Sizes(rounds=1, seconds=0.25, warmup=30, rate=100.0, paced_seconds=0.5,
              paced_rounds=1)


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
          Setup(MEMORY, LEASE_CAP), Setup(SQLITE, LEASE_CAP), Setup(REDIS, LEASE_CAP))


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


@attrs.frozen
class Paced:
    setup: Setup
    rate: float  # requests/s sent
    p50: float  # seconds: each turn's, the median over turns
    p99: float
    requests: int
    errors: int = 0
    first_error: str = ""


@attrs.frozen
class Health:
    setup: Setup
    token_fetches: int
    state_up: float | None  # voigpt_state_up at the end; None if /metrics has none


@attrs.define
class StateRun:
    sizes: dict[str, object] = attrs.Factory(dict)
    skipped: str = ""  # why some rows are missing (no redis-server), else empty
    rates: list[Rate] = attrs.Factory(list)
    paced: list[Paced] = attrs.Factory(list)
    health: list[Health] = attrs.Factory(list)

    def rate(self, setup: Setup) -> Rate | None:
        return next((r for r in self.rates if r.setup == setup), None)

    def paced_run(self, setup: Setup) -> Paced | None:
        return next((p for p in self.paced if p.setup == setup), None)

    def ratio(self, setup: Setup) -> float | None:
        own, base = self.rate(setup), self.rate(setup.baseline)
        return own.per_second / base.per_second if own and base and base.per_second else None

    def targets(self) -> list[Target]:
        """The judged figures: requests/s of each shared state without a cap against memory."""
        found = []
        for kind in (SQLITE, REDIS):
            ratio = self.ratio(Setup(kind))
            if ratio is not None:
                found.append(Target(f"--state {kind} / --state memory requests/s, {CLIENTS} "
                                    "clients", ratio, THROUGHPUT_RATIO, at_most=False))
        return found

    def informational(self) -> list[Target]:
        """Shown with a verdict, never judged (not in ``--strict``): the lease rows' ratio and
        the added p99 at the fixed rate."""
        found = []
        for kind in (SQLITE, REDIS):
            ratio = self.ratio(Setup(kind, LEASE_CAP))
            if ratio is not None:
                found.append(Target(f"--state {kind} / --state memory requests/s, {CLIENTS} "
                                    f"clients, both --site-concurrency {LEASE_CAP}", ratio,
                                    THROUGHPUT_RATIO, at_most=False))
        for p in self.paced:
            base = self.paced_run(p.setup.baseline)
            if p.setup.kind != MEMORY and base is not None:
                found.append(Target(f"{p.setup.label}: p99 - memory's p99, "
                                    f"{p.rate:g} requests/s", (p.p99 - base.p99) * 1e3,
                                    P99_ADDED * 1e3, at_most=True, unit=" ms"))
        return found

    def failures(self) -> list[str]:
        found = []
        runs: list[Rate | Paced] = [*self.rates, *self.paced]
        for run in runs:
            if run.errors:
                found.append(f"{run.setup.label} ({type(run).__name__.lower()}): {run.errors} "
                             f"wrong answers or errors, the first {run.first_error}")
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
                      "request of the server process and of redis-server, psutil):", "",
                      "| state | requests/s | vs memory | CPU/request | vs memory "
                      "| redis-server CPU/request | errors |",
                      "|---|---:|---:|---:|---:|---:|---:|"]
            for r in self.rates:
                ratio, base = self.ratio(r.setup), self.rate(r.setup.baseline)
                cpu = f"{r.cpu / base.cpu:.2f}x" if base and base.cpu else ""
                lines.append(f"| {r.setup.label} | {r.per_second:,.0f} | "
                             f"{'' if ratio is None else f'{ratio:.2f}x'} | {_us(r.cpu)} | "
                             f"{cpu} | {_us(r.store_cpu)} | {r.errors} |")
            lines.append("")
        if self.paced:
            lines += ["Open loop at a fixed rate (each request timed from when it was due; "
                      "each turn's p50 and p99, the median over turns):", "",
                      "| state | rate | p50 | p99 | p99 vs memory | requests | errors |",
                      "|---|---:|---:|---:|---:|---:|---:|"]
            for p in self.paced:
                under = self.paced_run(p.setup.baseline)
                added = "" if under is None else f"{(p.p99 - under.p99) * 1e3:+.2f} ms"
                lines.append(f"| {p.setup.label} | {p.rate:g}/s | {_ms(p.p50)} | {_ms(p.p99)} "
                             f"| {added} | {p.requests:,} | {p.errors} |")
            lines.append("")
        lines += ["| figure | value | target | met |", "|---|---:|---|---|"]
        for t in self.targets():
            lines.append(f"| {t.figure} | {t.value:.2f}{t.unit} | {t.wanted} | "
                         f"{'yes' if t.met else 'MISSED'} |")
        for t in self.informational():
            lines.append(f"| {t.figure} | {t.value:.2f}{t.unit} | {t.wanted} (informational) | "
                         f"{'yes' if t.met else 'no'} |")
        return [*lines, ""]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds else ""


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


# -- measurement ---------------------------------------------------------------------------------


@attrs.frozen
class Server:
    setup: Setup
    url: str
    process: psutil.Process
    store: psutil.Process | None  # redis-server, for the Redis rows


def _errors(loads: Sequence[Load]) -> tuple[int, str]:
    return sum(x.errors for x in loads), next((x.first_error for x in loads if x.errors), "")


def _in_turns(servers: Sequence[Server], rounds: int) -> list[list[Server]]:
    """Each round's order: as given, then reversed, and so on, so no server always follows
    the same one."""
    return [list(servers) if n % 2 == 0 else list(reversed(servers)) for n in range(rounds)]


async def _rates(servers: Sequence[Server], sizes: Sizes) -> list[Rate]:
    loads: dict[Setup, list[Load]] = {s.setup: [] for s in servers}
    cpu: dict[Setup, list[float]] = {s.setup: [] for s in servers}
    store_cpu: dict[Setup, list[float]] = {s.setup: [] for s in servers}
    for order in _in_turns(servers, sizes.rounds):
        for s in order:
            before = cpu_seconds(s.process)
            store_before = cpu_seconds(s.store) if s.store else 0.0
            load = await hammer(chat_completions(s.url), CLIENTS, duration=sizes.seconds)
            done = max(1, load.requests)
            cpu[s.setup].append((cpu_seconds(s.process) - before) / done)
            store_cpu[s.setup].append(
                (cpu_seconds(s.store) - store_before) / done if s.store else 0.0)
            loads[s.setup].append(load)
    return [Rate(s.setup, statistics.median(x.per_second for x in loads[s.setup]),
                 statistics.median(cpu[s.setup]), statistics.median(store_cpu[s.setup]),
                 sum(x.requests for x in loads[s.setup]), *_errors(loads[s.setup]))
            for s in servers]


async def _paced(servers: Sequence[Server], sizes: Sizes) -> list[Paced]:
    loads: dict[Setup, list[Load]] = {s.setup: [] for s in servers}
    for order in _in_turns(servers, sizes.paced_rounds):
        for s in order:
            loads[s.setup].append(await paced(chat_completions(s.url), rate=sizes.rate,
                                              seconds=sizes.paced_seconds))
    found = []
    for s in servers:
        turns = [sorted(x.latencies) for x in loads[s.setup]]
        found.append(Paced(s.setup, sizes.rate,
                           statistics.median(percentile(t, 0.50) for t in turns),
                           statistics.median(percentile(t, 0.99) for t in turns),
                           sum(len(t) for t in turns), *_errors(loads[s.setup])))
    return found


async def _measure(run: StateRun, sizes: Sizes, servers: Sequence[Server]) -> None:
    _say("warm-up")
    for s in servers:
        await hammer(chat_completions(s.url), CLIENTS, requests=sizes.warmup)
    _say(f"requests/s, {CLIENTS} clients, {sizes.rounds} turns of {sizes.seconds:g} s each")
    run.rates = await _rates(servers, sizes)
    _say(f"open loop, {sizes.rate:g} requests/s, {sizes.paced_rounds} turns of "
         f"{sizes.paced_seconds:g} s each")
    run.paced = await _paced(servers, sizes)


def state_up(url: str) -> float | None:
    """``voigpt_state_up`` from the server's metrics (the lowest, should there be several)."""
    text = requests.get(url + "/metrics", timeout=10).text
    found = re.findall(r"^voigpt_state_up(?:\{[^}]*\})? (\S+)$", text, re.M)
    return min(float(x) for x in found) if found else None


def measure_state(*, quick: bool) -> StateRun:
    """The whole section: start redis-server, the stand-in and the servers, measure, stop."""
    sizes = QUICK if quick else FULL
    run = StateRun(sizes=attrs.asdict(sizes))
    redis = redis_process.program()
    setups = list(SETUPS)
    if redis is None:
        run.skipped = ("redis-server not found: the Redis rows are skipped "
                       "(apt-get install redis-server to run them).")
        print(f"  - state: {run.skipped}", file=sys.stderr, flush=True)
        setups = [s for s in setups if s.kind != REDIS]
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        folder = Path(scratch)
        store = None
        if redis is not None:
            store = stack.enter_context(redis_process.RedisProcess(redis, folder))
        stand_in = Spawned([python, "-m", "benchmarks.server_upstream"], r"(http://\S+)")
        stack.callback(stand_in.stop)
        upstream = stand_in.wait_url()
        spawned: dict[Setup, Spawned] = {}
        stack.callback(_stop_all, spawned.values())
        for n, setup in enumerate(setups):  # all start at once
            location = {MEMORY: "memory", SQLITE: f"sqlite:///{folder / f'state-{n}.db'}",
                        REDIS: store.url(n) if store else ""}[setup.kind]
            cap = ["--site-concurrency", str(setup.cap)] if setup.cap else []
            spawned[setup] = Spawned(
                [python, "-m", "voigpt", "serve", "--port", "0", "--base-url", upstream,
                 "--max-concurrency", str(MAX_CONCURRENCY), "--drain-timeout", "2",
                 "--state", location, *cap], r"listening on (http://\S+)")
        redis_ps = psutil.Process(store.process.pid) if store and store.process else None
        servers = [Server(setup, child.wait_url(), psutil.Process(child.pid),
                          redis_ps if setup.kind == REDIS else None)
                   for setup, child in spawned.items()]
        uvloop.run(_measure(run, sizes, servers))
        run.health = [Health(s.setup, token_fetches(s.url), state_up(s.url)) for s in servers]
    return run


def _stop_all(children: Collection[Spawned]) -> None:
    """SIGTERM to all at once, then wait for each: they drain in parallel."""
    for child in children:
        child.terminate()
    for child in children:
        child.stop()


def _say(what: str) -> None:
    print(f"  - state: {what} ...", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m benchmarks.state", __doc__, argv)
    run = measure_state(quick=args.quick)
    print(f"Machine: {os.cpu_count()} cores. Sizes: "
          + ", ".join(f"{k}={v}" for k, v in run.sizes.items()) + ".\n")
    print("\n".join(run.render()))
    return exit_code(run.failures(), run.targets(), strict=args.strict)


if __name__ == "__main__":
    sys.exit(main())
