"""voigpt's benchmark harness: one command, one table.

    .venv/bin/python -m benchmarks            # the full run (about thirteen minutes)
    .venv/bin/python -m benchmarks --quick    # a smoke run with tiny N (CI runs this)

Everything runs against the bundled emulator in a separate process on 127.0.0.1, over
plain HTTP and over TLS with a certificate made at run time. Comparisons are made side by
side in one run, the clients taking turns, and reported as medians and ratios: absolute
times on a shared machine are noise, ratios from one run are not.

asyncio (``benchmarks/asyncio_runs.py``): 100 and 1,000 concurrent ``AsyncClient``
completions and 60 concurrent ``VoiGpt.create_async`` at a 1 s service time, and the CPU per
completion of ``AsyncClient`` against a bare aiohttp session (and httpx), taking turns.

voigpt serve (``benchmarks/server.py``, alone: ``python -m benchmarks.server``), against a
bare Starlette + aiohttp floor, both uvicorn processes, on each API route (chat completions,
Responses stored, Anthropic Messages, legacy completions): requests/s and CPU per request
at 32 clients; one client's median and p99 latency added; p50, p99 and errors of an open
loop at 200 and 500 requests/s; 256 clients at once at a 1 s service time; and the RSS
over 100,000 requests of a server with stored responses and one with the reply cache,
their caps full and evicting.

Shared state (``benchmarks/state.py``, alone: ``python -m benchmarks.state``): CPU per
request and requests/s at 32 clients on each API route, and the p99 at 200 requests/s,
open loop, of ``voigpt serve`` on ``--state memory``, ``sqlite:///FILE`` and ``redis://``
(a ``redis-server`` it starts; those rows are skipped without one), with and without
``--site-concurrency 64``.

voigpt batch (``benchmarks/batch.py``, alone: ``python -m benchmarks.batch``): the command's
wall time for 2,000 requests at a 0.2 s service time and ``--concurrency 64`` against the
ideal, and its peak RSS over a 50,000-line input.

Instructions per request (``benchmarks/instructions.py``, alone: ``python -m
benchmarks.instructions``): voigpt serve against the same floor on each API route, counted
by ``valgrind --tool=callgrind``, which repeats where CPU seconds do not; full run only (a
quick run says so in one line), and skipped, saying what to install, without valgrind.

Every figure is printed with its target and the verdict; a quick run is too short to judge,
so it prints each figure and target with "not judged (quick run)" instead.

Exit status: 0 when every completion was right (whatever the timings), 1 when a reply was
wrong, a thread or task saw an error or a client fetched more than one token where one is
promised; with ``--strict``, 2 when a speed target was missed (never in a quick run).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import aiohttp
import attrs
import requests

from benchmarks.asyncio_runs import BURSTS, async_take_turns, measure_bursts
from benchmarks.batch import measure_batch
from benchmarks.certs import make_certificates
from benchmarks.clients import BenchClient, Facade, Floor, SeedStyle, VoigptUseCase
from benchmarks.emulator_process import EmulatorProcess
from benchmarks.instructions import QUICK as QUICK_COUNT
from benchmarks.instructions import InstructionsRun, measure_instructions
from benchmarks.memory import in_fresh_process
from benchmarks.report import Report
from benchmarks.server import measure_server
from benchmarks.startup import measure_startup
from benchmarks.state import measure_state
from benchmarks.targets import arguments, exit_code
from benchmarks.threads import measure_threads, set_latency
from benchmarks.turns import take_turns


@attrs.frozen
class Sizes:
    rounds: int  # turns per client
    batch: int  # completions per turn
    warmup: int
    thread_total: int  # completions per thread-count turn
    thread_rounds: int
    rss_completions: int
    burst_rounds: int  # turns of each asyncio burst
    burst_service: float  # the emulator's service time during the bursts, seconds


FULL = Sizes(rounds=40, batch=25, warmup=50, thread_total=800, thread_rounds=5,
             rss_completions=10_000, burst_rounds=3, burst_service=1.0)
QUICK = Sizes(rounds=2, batch=3, warmup=2, thread_total=32, thread_rounds=1,
              rss_completions=50, burst_rounds=1, burst_service=0.05)
THREAD_COUNTS = (1, 4, 16)
# Seconds the emulator "thinks" per completion in the run the thread target is held to.
# The real service takes seconds; 5 ms is still small enough that client CPU shows.
SERVICE_LATENCY = 0.005
THREAD_RUNS = ((VoigptUseCase, 0.0), (Floor, 0.0), (VoigptUseCase, SERVICE_LATENCY))
QUICK_SKIPS = ("Instructions per request (callgrind): measured only in a full run, or alone: "
               "python -m benchmarks.instructions.")


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m benchmarks", __doc__, argv)
    sizes = QUICK if args.quick else FULL
    report = Report(
        machine=f"{os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, requests {requests.__version__}, "
        f"aiohttp {aiohttp.__version__}, httpx {_version('httpx')}, {platform.system()}",
        sizes=attrs.asdict(sizes), quick=args.quick,
    )
    clients: tuple[Callable[[str], BenchClient], ...] = (VoigptUseCase, Facade, Floor, SeedStyle)

    print(f"voigpt benchmarks ({'quick' if args.quick else 'full'} run) on {report.machine}",
          file=sys.stderr)
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    with tempfile.TemporaryDirectory() as scratch:
        server_pem = make_certificates(Path(scratch))
        for transport, cert in (("HTTP", None), ("TLS", server_pem)):
            with EmulatorProcess(cert) as emulator:
                print(f"- per completion over {transport} ...", file=sys.stderr)
                report.per_completion[transport] = take_turns(
                    clients, emulator.url,
                    rounds=sizes.rounds, batch=sizes.batch, warmup=sizes.warmup,
                )

        with EmulatorProcess() as emulator:
            for factory, latency in THREAD_RUNS:
                print(f"- threads: {factory.label}, service {latency * 1e3:g} ms ...",
                      file=sys.stderr)
                set_latency(emulator.url, latency)
                report.threads[factory.key, factory.label, latency] = measure_threads(
                    factory, emulator.url, counts=THREAD_COUNTS,
                    total=sizes.thread_total, rounds=sizes.thread_rounds,
                )
            set_latency(emulator.url, 0.0)
            print("- memory ...", file=sys.stderr)
            report.memory = [
                in_fresh_process(key, emulator.url, completions=sizes.rss_completions,
                                 warmup=min(500, sizes.rss_completions))
                for key in ("a", "b")
            ]

        with EmulatorProcess() as emulator:
            print(f"- asyncio: concurrent bursts, service {sizes.burst_service:g} s ...",
                  file=sys.stderr)
            set_latency(emulator.url, sizes.burst_service)
            report.bursts = measure_bursts(BURSTS, emulator.url, latency=sizes.burst_service,
                                           rounds=sizes.burst_rounds)
            set_latency(emulator.url, 0.0)
            print("- asyncio: per completion, sequential ...", file=sys.stderr)
            report.async_per_completion, report.async_not_installed = async_take_turns(
                emulator.url, rounds=sizes.rounds, batch=sizes.batch, warmup=sizes.warmup,
            )

    # make_certificates pointed REQUESTS_CA_BUNDLE at the scratch directory, now deleted:
    # voigpt refuses a bundle it cannot load, so the start-up commands must not inherit it.
    _restore("REQUESTS_CA_BUNDLE", ca_bundle)
    print("- voigpt serve against its floor ...", file=sys.stderr)
    report.server = measure_server(quick=args.quick)
    print("- voigpt serve on shared state: memory, SQLite, Redis ...", file=sys.stderr)
    state = measure_state(quick=args.quick)
    print("- voigpt batch: throughput and peak RSS ...", file=sys.stderr)
    batch = measure_batch(quick=args.quick)
    print("- start-up, with and without the server extra ...", file=sys.stderr)
    startup = measure_startup(quick=args.quick)
    counted = InstructionsRun(QUICK_COUNT, quick=True, skipped=QUICK_SKIPS)
    if not args.quick:  # valgrind starts servers slowly: a quick run stays quick
        print("- instructions per request, under callgrind ...", file=sys.stderr)
        counted = measure_instructions(quick=False)

    print(report.render())
    print("\n".join(state.render()))
    print("\n".join(batch.render()))
    print("\n".join(startup.render()))
    print("\n".join(counted.render()))
    return exit_code([*report.correctness_failures(), *state.failures(), *batch.failures(),
                      *counted.failures()],
                     [*report.targets(), *state.targets(), *batch.targets(),
                      *startup.targets(), *counted.targets()],
                     strict=args.strict, judged=not args.quick)


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    sys.exit(main())
