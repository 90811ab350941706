"""``voigpt serve`` against its floor, each a real uvicorn process (one worker, uvloop and
httptools, no access log), loaded over real sockets from this process.

    .venv/bin/python -m benchmarks.server            # this section alone (about two minutes)
    .venv/bin/python -m benchmarks.server --quick    # tiny N: checks it runs

(i) the floor (``benchmarks/server_floor.py``): a bare Starlette route doing the site's
protocol on one keep-alive aiohttp session (no connection limit) with a token fetched at
start-up; (j) ``python -m voigpt serve --max-concurrency 512``. Two of each run at once: one
pair in front of the bundled emulator (``benchmarks/emulator_process.py``, its own process)
and one in front of a fast stand-in (``benchmarks/server_upstream.py``), since the
emulator, a thread per connection, costs more CPU per request than either server and on a
small machine takes that CPU from them. The load generator (``benchmarks/server_load.py``)
is a raw keep-alive HTTP/1.1 client in this process that sends OpenAI's
``POST /v1/chat/completions`` and checks every answer. (j) in front of the stand-in is also
loaded with OpenAI's ``POST /v1/responses`` (a string input, stored: ``store`` left to its
default, as the openai SDK sends it), each answer checked too, taking its turns beside the
chat route's in the same run: the Responses route is held to the chat route's requests/s.

- Requests/s at 32 clients: the four servers take turns (i, j, j on /v1/responses in
  front of the stand-in, then i, j in front of the emulator), a fixed time each; the figure
  is the median over turns, with each server's CPU per request (its own process, psutil),
  which contention on a shared machine barely moves. The targets are held on the stand-in:
  (j)/(i), and (j)'s Responses route against its chat route; the emulator pair and each
  upstream loaded alone are shown beside them, so whether the upstream capped anything can
  be read off the table.
- 256 clients at once at a 1 s service time (the emulator's SLOW fault): wall time from the
  first connect to the last answer, median over turns, (i) and (j) taking turns.
- One client, instant emulator: the median latency of each, (i) and (j) taking turns.
- Resident memory of the (j) process over 20,000 requests (32 clients) after a warm-up,
  with (i)'s beside it.

Each server process is also checked for uvloop and httptools among its loaded libraries,
and ``voigpt serve``'s ``/metrics`` for the number of tokens it fetched (one is promised).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import IO

import attrs
import psutil
import requests
import uvloop

from benchmarks.emulator_process import EmulatorProcess
from benchmarks.report import MB, Target, arguments, exit_code
from benchmarks.server_load import (
    Load,
    burst,
    chat_completions,
    hammer,
    responses_create,
    site_completion,
)
from benchmarks.server_load import Target as LoadTarget
from benchmarks.threads import set_latency

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 32
BURST_CLIENTS = 256
MAX_CONCURRENCY = 512
THROUGHPUT_RATIO = 0.7  # (j)/(i) requests/s, at least
RESPONSES_RATIO = 0.9  # (j) responses / (j) chat requests/s, at least
BURST_SLACK = 0.5  # seconds a burst may take beyond the service time
LATENCY_ADDED = 1e-3  # seconds (j) may add to (i)'s median latency at one client
RSS_GROWTH = 10 * MB  # over the RSS run, less than
FLOOR, SERVE, RESPONSES = "i", "j", "j-responses"
LABELS = {FLOOR: "(i) floor: Starlette + one aiohttp session", SERVE: "(j) voigpt serve",
          RESPONSES: "(j) voigpt serve, POST /v1/responses (stored)"}
EMULATOR, STAND_IN = "emulator", "stand-in"


@attrs.frozen
class Sizes:
    rounds: int  # turns of each server in the throughput run
    seconds: float  # length of one throughput turn
    upstream_rounds: int  # turns of each upstream loaded alone
    warmup: int  # requests per server before anything is timed
    latency_rounds: int
    latency_batch: int  # requests per latency turn
    rss_requests: int
    rss_warmup: int
    burst_rounds: int
    burst_service: float  # the emulator's service time during the bursts, seconds


FULL = Sizes(rounds=5, seconds=2.0, upstream_rounds=3, warmup=1000, latency_rounds=15,
             latency_batch=200, rss_requests=20_000, rss_warmup=2_000, burst_rounds=3,
             burst_service=1.0)
QUICK = Sizes(rounds=1, seconds=0.25, upstream_rounds=1, warmup=30, latency_rounds=1,
              latency_batch=20, rss_requests=200, rss_warmup=30, burst_rounds=1,
              burst_service=0.05)


# -- results -------------------------------------------------------------------------------------


@attrs.frozen
class Rate:
    """Requests/s of one server (or an upstream alone) at ``clients`` keep-alive clients."""

    key: str  # FLOOR, SERVE, RESPONSES, or "upstream"
    label: str
    upstream: str  # EMULATOR or STAND_IN
    per_second: float  # median over turns
    cpu: float  # median CPU seconds per request of the loaded process
    upstream_cpu: float  # median CPU seconds per request of the upstream behind it (0: none)
    requests: int  # summed over turns
    errors: int = 0
    first_error: str = ""


@attrs.frozen
class Latency:
    key: str
    label: str
    median: float  # seconds, over all requests of all turns
    p90: float
    requests: int
    errors: int = 0
    first_error: str = ""


@attrs.frozen
class Burst:
    key: str
    label: str
    clients: int
    service: float  # the emulator's service time, seconds
    wall: float  # median over turns, seconds
    errors: int = 0
    first_error: str = ""


@attrs.frozen
class Growth:
    key: str
    label: str
    requests: int
    before: int  # RSS bytes after the warm-up
    after: int
    errors: int = 0
    first_error: str = ""

    @property
    def growth(self) -> int:
        return self.after - self.before


@attrs.define
class ServerRun:
    sizes: dict[str, object] = attrs.Factory(dict)
    # key -> "uvloop yes, httptools yes" (what each server process has loaded)
    loaded: dict[str, str] = attrs.Factory(dict)
    upstreams: list[Rate] = attrs.Factory(list)  # each upstream loaded alone
    rates: list[Rate] = attrs.Factory(list)
    latencies: dict[str, Latency] = attrs.Factory(dict)
    bursts: list[Burst] = attrs.Factory(list)
    memory: list[Growth] = attrs.Factory(list)
    token_fetches: int | None = None  # by voigpt serve, from its /metrics

    def rate(self, key: str, upstream: str) -> Rate | None:
        return next((r for r in self.rates if r.key == key and r.upstream == upstream), None)

    def targets(self) -> list[Target]:
        found: list[Target] = []
        floor, serve = self.rate(FLOOR, STAND_IN), self.rate(SERVE, STAND_IN)
        if floor and serve and floor.per_second:
            found.append(Target(f"(j)/(i) requests/s, {CLIENTS} clients, {STAND_IN} upstream",
                                serve.per_second / floor.per_second, THROUGHPUT_RATIO,
                                at_most=False))
        responses = self.rate(RESPONSES, STAND_IN)
        if serve and responses and serve.per_second:
            found.append(Target(f"(j) responses / (j) chat requests/s, {CLIENTS} clients, "
                                f"{STAND_IN} upstream", responses.per_second / serve.per_second,
                                RESPONSES_RATIO, at_most=False))
        for b in self.bursts:
            if b.key == SERVE:
                found.append(Target(f"(j) {b.clients} clients at once, {b.service:g} s service, "
                                    f"--max-concurrency {MAX_CONCURRENCY}: wall", b.wall,
                                    b.service + BURST_SLACK, at_most=True, unit=" s"))
        if {FLOOR, SERVE} <= set(self.latencies):
            added = self.latencies[SERVE].median - self.latencies[FLOOR].median
            found.append(Target("(j) - (i) median latency, 1 client", added * 1e3,
                                LATENCY_ADDED * 1e3, at_most=True, unit=" ms"))
        for g in self.memory:
            if g.key == SERVE:
                found.append(Target(f"(j) RSS growth, {g.requests:,} requests", g.growth / MB,
                                    RSS_GROWTH / MB, at_most=True, unit=" MB"))
        return found

    def failures(self) -> list[str]:
        found = []
        runs: list[Rate | Latency | Burst | Growth] = [
            *self.upstreams, *self.rates, *self.latencies.values(), *self.bursts, *self.memory
        ]
        for run in runs:
            if run.errors:
                found.append(f"{run.label} ({type(run).__name__.lower()}): {run.errors} "
                             f"wrong answers or errors, the first {run.first_error}")
        if self.token_fetches is not None and self.token_fetches != 1:
            found.append(f"voigpt serve fetched {self.token_fetches} tokens, not 1")
        return found

    # -- rendering -------------------------------------------------------------------------------

    def render(self) -> list[str]:
        if not self.rates and not self.bursts:
            return []
        lines = ["voigpt serve (j) against its floor (i), each one uvicorn process "
                 f"({'; '.join(f'({k}) {v}' for k, v in self.loaded.items())}); "
                 f"voigpt serve fetched {self.token_fetches} token(s):", ""]
        lines += [f"Requests/s at {CLIENTS} keep-alive clients (median of turns; "
                  "CPU of the loaded process, psutil, per request and in cores):", "",
                  "| server | upstream | requests/s | vs (i) | CPU/request | busy "
                  "| upstream CPU/request | errors |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in self.rates:
            floor = self.rate(FLOOR, r.upstream)
            ratio = f"{r.per_second / floor.per_second:.2f}x" if floor else ""
            lines.append(f"| {r.label} | {r.upstream} | {r.per_second:,.0f} | {ratio} | "
                         f"{_us(r.cpu)} | {r.cpu * r.per_second:.2f} cores | "
                         f"{_us(r.upstream_cpu)} | {r.errors} |")
        for u in self.upstreams:
            lines.append(f"| upstream alone (bare protocol) | {u.upstream} | {u.per_second:,.0f} "
                         f"| | | {u.cpu * u.per_second:.2f} cores | {_us(u.cpu)} | {u.errors} |")
        lines.append("")
        if self.latencies:
            lines += ["One client, instant emulator (all requests of all turns):", "",
                      "| server | median | p90 | requests | errors |", "|---|---:|---:|---:|---:|"]
            for lat in self.latencies.values():
                lines.append(f"| {lat.label} | {_us(lat.median)} | {_us(lat.p90)} | "
                             f"{lat.requests:,} | {lat.errors} |")
            lines.append("")
        if self.bursts:
            lines += ["Clients sending at once on new connections, emulator service time "
                      "(wall to the last answer, median of turns):", "",
                      "| server | clients | service | wall | errors |", "|---|---:|---:|---:|---:|"]
            for b in self.bursts:
                lines.append(f"| {b.label} | {b.clients} | {b.service:g} s | {b.wall:.2f} s "
                             f"| {b.errors} |")
            lines.append("")
        if self.memory:
            lines += [f"Resident memory of the server process ({CLIENTS} clients, after a "
                      f"warm-up of {self.sizes.get('rss_warmup', '?')} requests):", "",
                      "| server | requests | RSS before | RSS after | growth |",
                      "|---|---:|---:|---:|---:|"]
            for g in self.memory:
                lines.append(f"| {g.label} | {g.requests:,} | {g.before / MB:.1f} MB | "
                             f"{g.after / MB:.1f} MB | {g.growth / 1024:+,.0f} KiB |")
            lines.append("")
        return lines


def render_targets(targets: Sequence[Target]) -> list[str]:
    lines = ["| figure | value | target | met |", "|---|---:|---|---|"]
    for t in targets:
        lines.append(f"| {t.figure} | {t.value:.2f}{t.unit} | {t.wanted} | "
                     f"{'yes' if t.met else 'MISSED'} |")
    return lines


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs" if seconds else ""


# -- processes ------------------------------------------------------------------------------------


class Spawned:
    """A child process that prints its URL on a line of stdout once it listens; stderr goes to
    a temporary file, shown if it fails to start. Stopped with SIGTERM."""

    def __init__(self, command: Sequence[str], pattern: str) -> None:
        self._pattern = re.compile(pattern)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
        self.command = list(command)
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._stderr, env=environment,
        )
        self.pid = self.process.pid
        self.url = ""
        self._terminated = False

    def wait_url(self, timeout: float = 60) -> str:
        """The URL it prints, read within ``timeout`` seconds."""
        stdout = self.process.stdout
        assert stdout is not None
        end = time.monotonic() + timeout
        while not self.url:
            remaining = end - time.monotonic()
            ready, _, _ = select.select([stdout], [], [], max(0.0, remaining))
            line = stdout.readline().decode(errors="replace") if ready else ""
            match = self._pattern.search(line)
            if match:
                self.url = match.group(1).rstrip("/")
            elif not line:
                self.terminate()
                self.process.wait()
                self._stderr.seek(0)
                said = self._stderr.read().decode(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"{' '.join(self.command[1:4])} did not start: {said}")
        return self.url

    def terminate(self) -> None:
        """SIGTERM, once (uvicorn drains on the first signal)."""
        if self.process.poll() is None and not self._terminated:
            self._terminated = True
            self.process.terminate()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def loaded_libraries(pid: int) -> str:
    """Whether uvloop and httptools are among the libraries process ``pid`` has loaded."""
    try:
        paths = " ".join(m.path for m in psutil.Process(pid).memory_maps())
    except (psutil.Error, AttributeError, NotImplementedError):
        return "uvloop ?, httptools ?"
    return ", ".join(f"{name} {'yes' if f'/{name}/' in paths else 'NO'}"
                     for name in ("uvloop", "httptools"))


def token_fetches(url: str) -> int:
    """Tokens ``voigpt serve`` at ``url`` fetched, from its Prometheus metrics."""
    text = requests.get(url + "/metrics", timeout=10).text
    found = re.search(r'^voigpt_token_fetches_total\{outcome="ok"\} (\S+)$', text, re.M)
    return int(float(found.group(1))) if found else 0


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def csrf_token(url: str) -> str:
    response = requests.get(url + "/", timeout=10)
    response.raise_for_status()
    return str(response.cookies["csrftoken"])


# -- measurements ---------------------------------------------------------------------------------


@attrs.frozen
class Server:
    key: str  # FLOOR, SERVE, or RESPONSES (SERVE's process, loaded on /v1/responses)
    upstream: str  # EMULATOR or STAND_IN
    url: str
    process: psutil.Process
    upstream_process: psutil.Process

    @property
    def label(self) -> str:
        return LABELS[self.key]

    def target(self) -> LoadTarget:
        return responses_create(self.url) if self.key == RESPONSES else chat_completions(self.url)


def _errors(loads: Sequence[Load]) -> tuple[int, str]:
    return sum(x.errors for x in loads), next((x.first_error for x in loads if x.errors), "")


async def _rates(
    servers: Sequence[Server], clients: int, *, rounds: int, seconds: float
) -> list[Rate]:
    """The servers take turns, ``seconds`` of load each, ``rounds`` times."""
    loads: dict[int, list[Load]] = {i: [] for i in range(len(servers))}
    cpu: dict[int, list[float]] = {i: [] for i in range(len(servers))}
    upstream_cpu: dict[int, list[float]] = {i: [] for i in range(len(servers))}
    for _ in range(rounds):
        for i, s in enumerate(servers):
            before, up_before = cpu_seconds(s.process), cpu_seconds(s.upstream_process)
            load = await hammer(s.target(), clients, duration=seconds)
            cpu[i].append((cpu_seconds(s.process) - before) / max(1, load.requests))
            upstream_cpu[i].append(
                (cpu_seconds(s.upstream_process) - up_before) / max(1, load.requests))
            loads[i].append(load)
    return [
        Rate(s.key, s.label, s.upstream, statistics.median(x.per_second for x in loads[i]),
             statistics.median(cpu[i]), statistics.median(upstream_cpu[i]),
             sum(x.requests for x in loads[i]), *_errors(loads[i]))
        for i, s in enumerate(servers)
    ]


async def _upstream_alone(
    name: str, url: str, process: psutil.Process, *, rounds: int, seconds: float
) -> Rate:
    target = site_completion(url, csrf_token(url))
    loads, cpu = [], []
    for _ in range(rounds):
        before = cpu_seconds(process)
        load = await hammer(target, CLIENTS, duration=seconds)
        cpu.append((cpu_seconds(process) - before) / max(1, load.requests))
        loads.append(load)
    return Rate("upstream", f"upstream alone, {name}", name,
                statistics.median(x.per_second for x in loads), statistics.median(cpu), 0.0,
                sum(x.requests for x in loads), *_errors(loads))


async def _latencies(
    servers: Sequence[Server], *, rounds: int, batch: int
) -> dict[str, Latency]:
    loads: dict[str, list[Load]] = {s.key: [] for s in servers}
    for _ in range(rounds):
        for s in servers:
            loads[s.key].append(await hammer(s.target(), 1, requests=batch, keep_latencies=True))
    found = {}
    for s in servers:
        times = sorted(t for x in loads[s.key] for t in x.latencies)
        found[s.key] = Latency(s.key, s.label, statistics.median(times),
                               times[int(0.9 * (len(times) - 1))], len(times),
                               *_errors(loads[s.key]))
    return found


async def _bursts(
    servers: Sequence[Server], clients: int, *, service: float, rounds: int
) -> list[Burst]:
    loads: dict[str, list[Load]] = {s.key: [] for s in servers}
    for _ in range(rounds):
        for s in servers:
            loads[s.key].append(await burst(s.target(), clients))
    return [Burst(s.key, s.label, clients, service,
                  statistics.median(x.wall for x in loads[s.key]), *_errors(loads[s.key]))
            for s in servers]


async def _growth(server: Server, *, requests: int, warmup: int) -> Growth:
    await hammer(server.target(), CLIENTS, requests=warmup)
    before = server.process.memory_info().rss
    load = await hammer(server.target(), CLIENTS, requests=requests)
    after = server.process.memory_info().rss
    return Growth(server.key, server.label, requests, before, after, *_errors([load]))


async def _measure(run: ServerRun, sizes: Sizes, emulator_url: str,
                   servers: dict[tuple[str, str], Server], upstreams: dict[str, Server]) -> None:
    def pair(upstream: str) -> list[Server]:
        return [servers[FLOOR, upstream], servers[SERVE, upstream]]

    _say("warm-up")
    for s in servers.values():
        await hammer(s.target(), CLIENTS, requests=sizes.warmup)
    _say(f"upstreams alone, {CLIENTS} clients")
    for name, u in upstreams.items():
        run.upstreams.append(await _upstream_alone(name, u.url, u.process,
                                                   rounds=sizes.upstream_rounds,
                                                   seconds=sizes.seconds / 2))
    _say(f"requests/s, {CLIENTS} clients, {sizes.rounds} turns of {sizes.seconds:g} s each")
    responses = attrs.evolve(servers[SERVE, STAND_IN], key=RESPONSES)
    await hammer(responses.target(), CLIENTS, requests=sizes.warmup)
    run.rates = await _rates([*pair(STAND_IN), responses, *pair(EMULATOR)], CLIENTS,
                             rounds=sizes.rounds, seconds=sizes.seconds)
    _say("latency, one client")
    run.latencies = await _latencies(pair(EMULATOR), rounds=sizes.latency_rounds,
                                     batch=sizes.latency_batch)
    _say(f"RSS over {sizes.rss_requests:,} requests")
    run.memory = [await _growth(s, requests=sizes.rss_requests, warmup=sizes.rss_warmup)
                  for s in reversed(pair(EMULATOR))]
    _say(f"{BURST_CLIENTS} clients at once, {sizes.burst_service:g} s service")
    set_latency(emulator_url, sizes.burst_service)
    try:
        run.bursts = await _bursts(pair(EMULATOR), BURST_CLIENTS,
                                   service=sizes.burst_service, rounds=sizes.burst_rounds)
    finally:
        set_latency(emulator_url, 0.0)


def measure_server(*, quick: bool) -> ServerRun:
    """The whole section: start the processes, measure, stop them."""
    sizes = QUICK if quick else FULL
    run = ServerRun(sizes=attrs.asdict(sizes))
    python = sys.executable
    with contextlib.ExitStack() as stack:
        stand_in = Spawned([python, "-m", "benchmarks.server_upstream"], r"(http://\S+)")
        stack.callback(stand_in.stop)
        emulator = stack.enter_context(EmulatorProcess())
        urls = {EMULATOR: emulator.url, STAND_IN: stand_in.wait_url()}
        pids = {EMULATOR: emulator.pid, STAND_IN: stand_in.pid}
        spawned: dict[tuple[str, str], Spawned] = {}
        stack.callback(_stop_all, spawned.values())
        for upstream, url in urls.items():  # all four start at once
            spawned[FLOOR, upstream] = Spawned(
                [python, "-m", "benchmarks.server_floor", "--upstream", url],
                r"listening on (http://\S+)")
            spawned[SERVE, upstream] = Spawned(
                # --state memory: the route against its floor; benchmarks/state.py compares
                # the shared states (and never writes the default state file).
                [python, "-m", "voigpt", "serve", "--port", "0", "--base-url", url,
                 "--max-concurrency", str(MAX_CONCURRENCY), "--drain-timeout", "2",
                 "--state", "memory"],
                r"listening on (http://\S+)")
        servers = {
            (key, upstream): Server(key, upstream, child.wait_url(), psutil.Process(child.pid),
                                    psutil.Process(pids[upstream]))
            for (key, upstream), child in spawned.items()
        }
        upstreams = {name: Server("upstream", name, url, psutil.Process(pids[name]),
                                  psutil.Process(pids[name])) for name, url in urls.items()}
        for key in (FLOOR, SERVE):
            run.loaded[key] = loaded_libraries(servers[key, EMULATOR].process.pid)
        uvloop.run(_measure(run, sizes, emulator.url, servers, upstreams))
        run.token_fetches = max(token_fetches(servers[SERVE, u].url) for u in urls)
    return run


def _stop_all(children: Collection[Spawned]) -> None:
    """SIGTERM to all at once, then wait for each: they drain in parallel."""
    for child in children:
        child.terminate()
    for child in children:
        child.stop()


def _say(what: str) -> None:
    print(f"  - serve: {what} ...", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m benchmarks.server", __doc__, argv)
    run = measure_server(quick=args.quick)
    print(f"Machine: {os.cpu_count()} cores. Sizes: "
          + ", ".join(f"{k}={v}" for k, v in run.sizes.items()) + ".\n")
    print("\n".join([*run.render(), "Ratios against the targets:", "",
                     *render_targets(run.targets())]))
    return exit_code(run.failures(), run.targets(), strict=args.strict)


if __name__ == "__main__":
    sys.exit(main())
