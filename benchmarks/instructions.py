"""Instructions per request of ``voigpt serve`` against its floor, counted by callgrind.

    .venv/bin/python -m benchmarks.instructions            # all four routes (about a minute)
    .venv/bin/python -m benchmarks.instructions --quick    # tiny N (about 20 s): judges nothing
    .venv/bin/python -m benchmarks.instructions --routes chat --requests 1000

Why: issue 23 holds ``voigpt serve`` to at most its floor's CPU per request on each API
route, but on a shared two-core machine CPU seconds per request move by 10% from run to
run, so a small gain cannot be told from noise. The instructions a process executes do not
depend on what else the machine does: counted by ``valgrind --tool=callgrind``, they repeat
to a fraction of a percent.

How: the stand-in upstream (``benchmarks/server_upstream.py``, not under valgrind) runs
once; the floor (``benchmarks/server_floor.py``) and ``voigpt serve --state memory
--max-concurrency 512`` (``benchmarks.server_processes.serve_command``) each run under
``valgrind --tool=callgrind --dump-instr=no --instr-atstart=no`` with a dump file of their
own. For each route (``benchmarks/server_routes.py``) and server: instrumentation switched
on (``callgrind_control --instr=on PID``), warm-up requests, counters zeroed
(``callgrind_control -z PID``), N requests from C keep-alive clients
(``benchmarks.server_load.hammer``, every answer checked: a wrong one fails the run),
a dump (``callgrind_control -d PID``), and the dump's total over N is the figure. The
target is issue 23's CPU target counted in instructions: (j)/(i) at most 1.0x per route.

``voigpt serve`` runs through ``benchmarks/instructions_serve.py``, which raises its
disconnect watch's delay past valgrind's slowness (see that module: at full speed no
completion here lives the 20 ms after which a watcher starts, under valgrind every one
would). Nothing else is patched. Without ``valgrind`` and ``callgrind_control`` it says
what to install and exits 2; in the full ``python -m benchmarks`` run the section is then
skipped with the same words. Exit 1 for a wrong answer; with ``--strict``, 2 for a missed
target (never in a quick run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import attrs

from benchmarks.instructions_results import (
    FULL,
    QUICK,
    Counted,
    InstructionsRun,
    Sizes,
    dump_total,
    needs,
)
from benchmarks.server_load import hammer
from benchmarks.server_processes import Spawned, floor_command, serve_command, stop_all
from benchmarks.server_routes import ROUTES, label, route_target
from benchmarks.targets import exit_code

__all__ = ["QUICK", "Counted", "InstructionsRun", "Sizes", "dump_total", "main",
           "measure_instructions"]
TOOLS = ("valgrind", "callgrind_control")
# Instrumented only once told (callgrind_control -i on, before the warm-up): valgrind then
# starts Python four times faster, and nothing before the zeroing is counted anyway.
CALLGRIND = ("valgrind", "--tool=callgrind", "--dump-instr=no", "--instr-atstart=no")
FLOOR, SERVE = "(i) floor", "(j) voigpt serve"


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class Counting:
    """One server under callgrind, its dumps ``out.1``, ``out.2``, ... in a folder of its own."""

    def __init__(self, command: Sequence[str], out: Path) -> None:
        self.out = out
        self.child = Spawned([*CALLGRIND, f"--callgrind-out-file={out}", *command])

    def control(self, *flags: str) -> None:
        subprocess.run(["callgrind_control", *flags, str(self.child.pid)], check=True,
                       capture_output=True, timeout=60)

    def dump(self) -> int:
        """Dump the counts since the last zeroing; their total."""
        before = set(self.out.parent.glob(self.out.name + ".*"))
        self.control("-d")
        end = time.monotonic() + 60
        while time.monotonic() < end:
            for path in set(self.out.parent.glob(self.out.name + ".*")) - before:
                text = path.read_text()
                if re.search(r"^totals:", text, re.M):  # written last: the dump is whole
                    return dump_total(text)
            time.sleep(0.05)
        raise RuntimeError(f"callgrind wrote no dump for {self.out.name}")


async def _count(counting: Counting, url: str, route: str, sizes: Sizes,
                 problems: list[str], name: str) -> float:
    target = route_target(url, route)
    counting.control("--instr=on")  # once on, on: a no-op for the routes after the first
    for phase, requests in (("warm-up", sizes.warmup), ("counted", sizes.requests)):
        if phase == "counted":
            counting.control("-z")
        load = await hammer(target, sizes.clients, requests=requests)
        if load.errors:
            problems.append(f"{name}, {label(route)}, {phase}: {load.errors} errors, "
                            f"the first {load.first_error}")
    return counting.dump() / sizes.requests


def measure_instructions(*, quick: bool, sizes: Sizes | None = None,
                         routes: Sequence[str] = ROUTES, state: str = "memory") -> InstructionsRun:
    """The whole section: start the processes, count each route, stop them."""
    run = InstructionsRun(sizes or (QUICK if quick else FULL), quick, state=state)
    missing = missing_tools()
    if missing:
        run.skipped = f"Instructions per request (callgrind): not measured: {needs(missing)}."
        return run
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="callgrind-")))
        upstream = Spawned([sys.executable, "-m", "benchmarks.server_upstream"],
                           r"(http://\S+)")
        stack.callback(upstream.stop)
        url = upstream.wait_url()
        serve = [sys.executable, "-m", "benchmarks.instructions_serve",
                 *serve_command(url, state)[3:]]  # python -m voigpt | serve --port 0 ...
        servers = {FLOOR: Counting(floor_command(url), scratch / "floor.out"),
                   SERVE: Counting(serve, scratch / "serve.out")}  # both start at once
        stack.callback(stop_all, [c.child for c in servers.values()])
        urls = {name: c.child.wait_url(timeout=300) for name, c in servers.items()}
        for route in routes:
            figures = []
            for name, counting in servers.items():
                _say(f"{name}, {label(route)}: {run.sizes.requests} requests")
                figures.append(asyncio.run(_count(counting, urls[name], route, run.sizes,
                                                  run.problems, name)))
            run.counted.append(Counted(route, *figures))
    return run


def _say(what: str) -> None:
    print(f"  - instructions: {what} ...", file=sys.stderr, flush=True)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK.requests} requests a route: checks it runs")
    parser.add_argument("--strict", action="store_true",
                        help="exit 2 if a target is missed (a quick run judges none)")
    parser.add_argument("--routes", nargs="+", choices=ROUTES, metavar="ROUTE",
                        help=f"of {', '.join(ROUTES)} (default: all)")
    parser.add_argument("--requests", type=_positive, help="counted per server and route")
    parser.add_argument("--clients", type=_positive, help="keep-alive clients sending them")
    parser.add_argument("--state", default="memory", help=(
        "voigpt serve's --state; on sqlite or redis a copy of the fleet's pause is read every "
        "0.1 s, which valgrind's slowness makes many times more often per request, so their "
        "counts run high: compare shared state by CPU seconds (python -m benchmarks.state)"))
    return parser.parse_args(argv)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    missing = missing_tools()
    if missing:
        print(needs(missing), file=sys.stderr)
        return 2
    base = QUICK if args.quick else FULL
    sizes = attrs.evolve(base, requests=args.requests or base.requests,
                         clients=args.clients or base.clients)
    routes = args.routes or ROUTES
    run = measure_instructions(quick=args.quick, sizes=sizes, routes=routes, state=args.state)
    print("\n".join(run.render()))
    return exit_code(run.failures(), run.targets(), strict=args.strict, judged=not args.quick)


if __name__ == "__main__":
    sys.exit(main())
