"""``voigpt serve`` against its floor on every API route, each a real uvicorn process (one
worker, uvloop and httptools, no access log), loaded over real sockets from this process.

    .venv/bin/python -m benchmarks.server            # this section alone (about seven minutes)
    .venv/bin/python -m benchmarks.server --quick    # tiny N: checks it runs, judges nothing

(i) the floor (``benchmarks/server_floor.py``): a bare Starlette app doing each route's least
over the site's protocol, on one keep-alive aiohttp session with a token fetched at
start-up; (j) ``python -m voigpt serve --max-concurrency 512 --state memory`` (tools and
formats off: the requests ask for neither). The routes (``benchmarks/server_routes.py``):
OpenAI's chat completions, Responses (stored, as the openai SDK sends it), Anthropic's
Messages and OpenAI's legacy completions, every answer checked. The load generator
(``benchmarks/server_load.py``) is a raw keep-alive HTTP/1.1 client in this process. Most
figures are taken in front of a fast stand-in upstream (``benchmarks/server_upstream.py``),
since the bundled emulator (a thread per connection) costs more CPU per request than either
server and on a small machine takes that CPU from them; an (i)/(j) pair in front of the
emulator (``benchmarks/emulator_process.py``) is shown beside them, and serves the bursts.

- Requests/s at 32 clients, every route: (i) and (j) take turns on each route (the routes
  and the emulator pair in turn, in reverse order every other round), a fixed time each;
  the figure is the median over turns, with each server's CPU per request (its own
  process, psutil), which contention on a shared machine barely moves. Targets on each
  route: (j) at most (i)'s CPU per request (1.0x) and at least 0.9x its requests/s. Each
  upstream loaded alone is shown too, so whether the upstream capped anything can be read.
- One client, one request at a time, every route, (i) and (j) taking turns: median and p99
  over all requests of all turns; targets: (j) adds at most 1 ms to (i)'s median and at
  most 2 ms to its p99 (a p99 over a few thousand requests is the 30th-slowest: one
  scheduling hiccup of the shared machine, hence the looser bound).
- Open loop (``benchmarks/open_loop.py``) at 200 and 500 requests/s, every route, (i) and
  (j) taking turns: p50, p99 (each turn's, the median over turns) and errors. Targets: no
  errors (an error fails the run, as a wrong answer anywhere does), and (j)'s p99 at most
  5 ms above (i)'s on the same route at the same rate. Why 5 ms: both rates are well under
  what either server serves here (no backlog builds), so the p99 is the path of one request
  plus the machine's noise, which both servers get alike; 5 ms is above that noise on a
  shared two-core machine (a CPU time slice taken by another process, a garbage collection
  of a few-MB heap) but below what a real fault costs: a backlog building at 500/s, a
  blocking call on the event loop, or a 10-25 ms poll or retry on the path.
- 256 clients at once on new connections at a 1 s service time (the emulator's SLOW fault),
  chat route: wall time from the first connect to the last answer, median over turns.
- Resident memory over 100,000 requests of a (j) with stored responses and one with the
  reply cache, caps full and evicting (``benchmarks/server_rss.py``).

Each server process is also checked for uvloop and httptools among its loaded libraries,
and each ``voigpt serve``'s ``/metrics`` for the number of tokens it fetched (one is
promised). A quick run prints every figure and target, judged by none.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
from collections.abc import Sequence

import attrs
import psutil
import uvloop

from benchmarks.emulator_process import EmulatorProcess
from benchmarks.open_loop import in_turns, percentile, tail
from benchmarks.server_load import Load, burst, hammer
from benchmarks.server_processes import (
    Spawned,
    cpu_seconds,
    csrf_token,
    floor_command,
    loaded_libraries,
    serve_command,
    stop_all,
    token_fetches,
)
from benchmarks.server_results import (
    BURST_CLIENTS,
    CLIENTS,
    EMULATOR,
    FLOOR,
    SERVE,
    STAND_IN,
    Burst,
    Latency,
    Paced,
    Rate,
    ServerRun,
)
from benchmarks.server_routes import CHAT, ROUTES, route_target, site_completion
from benchmarks.server_rss import RUNS, checked, resident
from benchmarks.server_tables import render, render_targets
from benchmarks.targets import arguments, exit_code
from benchmarks.threads import set_latency

__all__ = ["EMULATOR", "FLOOR", "SERVE", "STAND_IN", "Burst", "Latency", "Paced", "Rate",
           "ServerRun", "main", "measure_server"]
PACED_RATES = (200.0, 500.0)


@attrs.frozen
class Sizes:
    rounds: int  # turns of each server and route in the throughput run
    seconds: float  # length of one throughput turn
    upstream_rounds: int  # turns of each upstream loaded alone
    warmup: int  # requests per server and route before anything is timed
    latency_rounds: int
    latency_batch: int  # requests per latency turn
    paced_rounds: int  # open-loop turns of each server, route and rate
    paced_seconds: float  # length of one open-loop turn
    rss_requests: int
    rss_warmup: int
    burst_rounds: int
    burst_service: float  # the emulator's service time during the bursts, seconds


FULL = Sizes(rounds=7, seconds=1.0, upstream_rounds=3, warmup=1000, latency_rounds=15,
             latency_batch=200, paced_rounds=5, paced_seconds=2.0, rss_requests=100_000,
             rss_warmup=2_000, burst_rounds=3, burst_service=1.0)
QUICK = Sizes(rounds=1, seconds=0.25, upstream_rounds=1, warmup=30, latency_rounds=1,
              latency_batch=20, paced_rounds=1, paced_seconds=0.5, rss_requests=500,
              rss_warmup=30, burst_rounds=1, burst_service=0.05)


@attrs.frozen
class Server:
    key: str  # FLOOR or SERVE
    upstream: str  # EMULATOR or STAND_IN
    url: str
    process: psutil.Process
    upstream_process: psutil.Process


@attrs.frozen
class Turn:
    """What one turn loads: one server, on one route."""

    server: Server
    route: str


def _errors(loads: Sequence[Load]) -> tuple[int, str]:
    return sum(x.errors for x in loads), next((x.first_error for x in loads if x.errors), "")


def _orders(pairs: Sequence[Turn], rounds: int) -> list[list[int]]:
    """Each round's order: as given, then reversed, and so on."""
    forward = list(range(len(pairs)))
    return [forward if n % 2 == 0 else forward[::-1] for n in range(rounds)]


async def _rates(pairs: Sequence[Turn], *, rounds: int, seconds: float) -> list[Rate]:
    loads: list[list[Load]] = [[] for _ in pairs]
    cpu: list[list[float]] = [[] for _ in pairs]
    upstream_cpu: list[list[float]] = [[] for _ in pairs]
    for order in _orders(pairs, rounds):
        for i in order:
            s = pairs[i].server
            before, up_before = cpu_seconds(s.process), cpu_seconds(s.upstream_process)
            load = await hammer(route_target(s.url, pairs[i].route), CLIENTS, duration=seconds)
            done = max(1, load.requests)
            cpu[i].append((cpu_seconds(s.process) - before) / done)
            upstream_cpu[i].append((cpu_seconds(s.upstream_process) - up_before) / done)
            loads[i].append(load)
    return [Rate(p.server.key, p.route, p.server.upstream,
                 statistics.median(x.per_second for x in loads[i]), statistics.median(cpu[i]),
                 statistics.median(upstream_cpu[i]), sum(x.requests for x in loads[i]),
                 *_errors(loads[i]))
            for i, p in enumerate(pairs)]


async def _upstream_alone(name: str, url: str, process: psutil.Process, *, rounds: int,
                          seconds: float) -> Rate:
    target = site_completion(url, csrf_token(url))
    loads, cpu = [], []
    for _ in range(rounds):
        before = cpu_seconds(process)
        load = await hammer(target, CLIENTS, duration=seconds)
        cpu.append((cpu_seconds(process) - before) / max(1, load.requests))
        loads.append(load)
    return Rate("upstream", "POST /generate_response/", name,
                statistics.median(x.per_second for x in loads), statistics.median(cpu), 0.0,
                sum(x.requests for x in loads), *_errors(loads))


async def _latencies(pairs: Sequence[Turn], *, rounds: int, batch: int) -> list[Latency]:
    loads: list[list[Load]] = [[] for _ in pairs]
    for order in _orders(pairs, rounds):
        for i in order:
            target = route_target(pairs[i].server.url, pairs[i].route)
            loads[i].append(await hammer(target, 1, requests=batch, keep_latencies=True))
    found = []
    for i, p in enumerate(pairs):
        times = sorted(t for x in loads[i] for t in x.latencies)
        found.append(Latency(p.server.key, p.route, statistics.median(times),
                             percentile(times, 0.99), len(times),
                             *_errors(loads[i])))
    return found


async def _paced(pairs: Sequence[Turn], sizes: Sizes) -> list[Paced]:
    found = []
    for rate in PACED_RATES:
        _say(f"open loop, {rate:g} requests/s, {sizes.paced_rounds} turns of "
             f"{sizes.paced_seconds:g} s each")
        loads = await in_turns([route_target(p.server.url, p.route) for p in pairs], rate=rate,
                               seconds=sizes.paced_seconds, rounds=sizes.paced_rounds)
        for p, turns in zip(pairs, loads, strict=True):
            t = tail(turns)
            found.append(Paced(p.server.key, p.route, rate, t.p50, t.p99, t.requests,
                               t.errors, t.first_error))
    return found


async def _bursts(servers: Sequence[Server], *, service: float, rounds: int) -> list[Burst]:
    loads: dict[str, list[Load]] = {s.key: [] for s in servers}
    for _ in range(rounds):
        for s in servers:
            loads[s.key].append(await burst(route_target(s.url, CHAT), BURST_CLIENTS))
    return [Burst(s.key, BURST_CLIENTS, service,
                  statistics.median(x.wall for x in loads[s.key]), *_errors(loads[s.key]))
            for s in servers]


async def _measure(run: ServerRun, sizes: Sizes, emulator_url: str,
                   servers: dict[tuple[str, str], Server], upstreams: dict[str, Server],
                   keeping: Sequence[Server]) -> None:
    routes = [Turn(servers[key, STAND_IN], route) for route in ROUTES
              for key in (FLOOR, SERVE)]
    emulator_pair = [Turn(servers[key, EMULATOR], CHAT) for key in (FLOOR, SERVE)]
    _say("warm-up")
    for pair in (*routes, *emulator_pair):
        await hammer(route_target(pair.server.url, pair.route), CLIENTS, requests=sizes.warmup)
    _say(f"upstreams alone, {CLIENTS} clients")
    for name, u in upstreams.items():
        run.upstreams.append(await _upstream_alone(name, u.url, u.process,
                                                   rounds=sizes.upstream_rounds,
                                                   seconds=sizes.seconds / 2))
    _say(f"requests/s, {CLIENTS} clients, {sizes.rounds} turns of {sizes.seconds:g} s each")
    run.rates = await _rates([*routes, *emulator_pair], rounds=sizes.rounds,
                             seconds=sizes.seconds)
    _say("latency, one client")
    run.latencies = await _latencies(routes, rounds=sizes.latency_rounds,
                                     batch=sizes.latency_batch)
    run.paced = await _paced(routes, sizes)
    for keep, server in zip(RUNS, keeping, strict=True):
        _say(f"RSS over {sizes.rss_requests:,} requests, {keep.name}")
        kept, problems = checked(await resident(keep, server.url, server.process,
                                                requests=sizes.rss_requests,
                                                warmup=sizes.rss_warmup), server.url)
        run.memory.append(kept)
        run.problems += problems
    _say(f"{BURST_CLIENTS} clients at once, {sizes.burst_service:g} s service")
    set_latency(emulator_url, sizes.burst_service)
    try:
        run.bursts = await _bursts([p.server for p in emulator_pair],
                                   service=sizes.burst_service, rounds=sizes.burst_rounds)
    finally:
        set_latency(emulator_url, 0.0)


def measure_server(*, quick: bool) -> ServerRun:
    """The whole section: start the processes, measure, stop them."""
    sizes = QUICK if quick else FULL
    run = ServerRun(sizes=attrs.asdict(sizes), quick=quick)
    with contextlib.ExitStack() as stack:
        stand_in = Spawned([sys.executable, "-m", "benchmarks.server_upstream"], r"(http://\S+)")
        stack.callback(stand_in.stop)
        emulator = stack.enter_context(EmulatorProcess())
        urls = {EMULATOR: emulator.url, STAND_IN: stand_in.wait_url()}
        pids = {EMULATOR: emulator.pid, STAND_IN: stand_in.pid}
        spawned: dict[tuple[str, str], Spawned] = {}
        stack.callback(stop_all, spawned.values())
        for upstream, url in urls.items():  # all start at once
            spawned[FLOOR, upstream] = Spawned(floor_command(url))
            # --state memory: the route against its floor; benchmarks/state.py compares
            # the shared states (and never writes the default state file).
            spawned[SERVE, upstream] = Spawned(serve_command(url, "memory"))
        for keep in RUNS:
            spawned[keep.name, STAND_IN] = Spawned(serve_command(urls[STAND_IN], "memory",
                                                                 *keep.flags))
        servers = {
            (key, upstream): Server(key, upstream, child.wait_url(), psutil.Process(child.pid),
                                    psutil.Process(pids[upstream]))
            for (key, upstream), child in spawned.items()
        }
        upstreams = {name: Server("upstream", name, url, psutil.Process(pids[name]),
                                  psutil.Process(pids[name])) for name, url in urls.items()}
        for key in (FLOOR, SERVE):
            run.loaded[key] = loaded_libraries(servers[key, EMULATOR].process.pid)
        keeping = [servers[keep.name, STAND_IN] for keep in RUNS]
        uvloop.run(_measure(run, sizes, emulator.url, servers, upstreams, keeping))
        for (key, upstream), s in servers.items():
            if key != FLOOR:
                name = upstream if key == SERVE else key
                run.token_fetches[name] = token_fetches(s.url)
    return run


def _say(what: str) -> None:
    print(f"  - serve: {what} ...", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m benchmarks.server", __doc__, argv)
    run = measure_server(quick=args.quick)
    print(f"Machine: {os.cpu_count()} cores. Sizes: "
          + ", ".join(f"{k}={v}" for k, v in run.sizes.items()) + ".\n")
    print("\n".join([*render(run), *render_targets(run)]))
    return exit_code(run.failures(), run.targets(), strict=args.strict, judged=not args.quick)


if __name__ == "__main__":
    sys.exit(main())
