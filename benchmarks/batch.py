"""``voigpt batch`` as a user runs it: the command in its own process, against the bundled
emulator in another (``benchmarks/emulator_process.py``).

    .venv/bin/python -m benchmarks.batch            # this section alone (about a minute)
    .venv/bin/python -m benchmarks.batch --quick    # tiny N: checks it runs, judges nothing

- Throughput: 2,000 requests at a 0.2 s service time (the emulator's SLOW fault) with
  ``--concurrency 64``. The ideal is 2,000 x 0.2 / 64 = 6.25 s; the figure is the whole
  command's wall time (interpreter start-up, the input check, the run, the final fsync)
  over the ideal, from one run. The run's own time, from its summary line, is shown beside.
- Memory: a 50,000-line input against the instant emulator; the peak resident memory of the
  ``voigpt batch`` process (``ru_maxrss`` from ``wait4``, so exactly that process, whole).

Every run is checked: exit 0, and every ``custom_id`` exactly once in OUTPUT. A quick run
prints both figures and their targets, judged by neither.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs

from benchmarks.emulator_process import ROOT, EmulatorProcess
from benchmarks.targets import MB, Target, arguments, exit_code, target_rows
from benchmarks.threads import set_latency

SPEED_RATIO = 1.2  # at most this many times the ideal
PEAK_RSS = 150 * MB


@attrs.frozen
class Sizes:
    requests: int
    service: float  # seconds per completion at the emulator
    concurrency: int
    rss_lines: int


FULL = Sizes(requests=2000, service=0.2, concurrency=64, rss_lines=50_000)
QUICK = Sizes(requests=200, service=0.05, concurrency=16, rss_lines=2000)


@attrs.frozen
class Command:
    """One ``voigpt batch`` process, run to the end."""

    lines: int
    wall: float  # seconds, start to exit
    run: float  # seconds, as its summary line says
    peak_rss: int  # bytes
    error: str  # empty when the exit code and OUTPUT were right


@attrs.define
class BatchRun:
    sizes: Sizes
    quick: bool = False  # every figure shown, none judged
    speed: Command | None = None
    memory: Command | None = None

    @property
    def ideal(self) -> float:
        return self.sizes.requests * self.sizes.service / self.sizes.concurrency

    def targets(self) -> list[Target]:
        found = []
        if self.speed is not None:
            found.append(Target(
                f"voigpt batch, {self.sizes.requests:,} requests, {self.sizes.service:g} s "
                f"service, --concurrency {self.sizes.concurrency}: wall / ideal",
                self.speed.wall / self.ideal, SPEED_RATIO, at_most=True))
        if self.memory is not None:
            found.append(Target(f"voigpt batch, {self.memory.lines:,} lines: peak RSS",
                                self.memory.peak_rss / MB, PEAK_RSS / MB, at_most=True,
                                unit=" MB"))
        return found

    def failures(self) -> list[str]:
        return [f"voigpt batch, {c.lines:,} lines: {c.error}"
                for c in (self.speed, self.memory) if c is not None and c.error]

    def render(self) -> list[str]:
        lines = ["voigpt batch (the command in its own process, the emulator in another):", "",
                 "| run | lines | emulator service | concurrency | wall | run (its summary) "
                 "| ideal | wall / ideal | peak RSS |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        if self.speed is not None:
            s = self.speed
            lines.append(f"| throughput | {s.lines:,} | {self.sizes.service:g} s | "
                         f"{self.sizes.concurrency} | {s.wall:.2f} s | {s.run:.2f} s | "
                         f"{self.ideal:.2f} s | {s.wall / self.ideal:.2f}x | "
                         f"{s.peak_rss / MB:.1f} MB |")
        if self.memory is not None:
            m = self.memory
            lines.append(f"| memory | {m.lines:,} | 0 s | {self.sizes.concurrency} | "
                         f"{m.wall:.2f} s | {m.run:.2f} s | | | {m.peak_rss / MB:.1f} MB |")
        lines += ["", *target_rows(self.targets(), judged=not self.quick)]
        return [*lines, ""]


def write_input(path: Path, lines: int) -> None:
    """Requests shaped like an evaluation set: a system prompt and a question each."""
    with path.open("w", encoding="utf-8") as file:
        for n in range(lines):
            file.write(json.dumps({
                "custom_id": f"request-{n:06d}", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "temperature": 0, "messages": [
                    {"role": "system", "content": "You are a careful assistant. Be brief."},
                    {"role": "user", "content": f"Question {n}: what is {n} + {n}?"}]},
            }) + "\n")


def run_command(url: str, source: Path, output: Path, lines: int, concurrency: int) -> Command:
    """``python -m voigpt batch`` to the end; its peak RSS from ``wait4``."""
    command = [sys.executable, "-m", "voigpt", "batch", str(source), "-o", str(output),
               "--base-url", url, "--concurrency", str(concurrency), "--quiet"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=clean, stdout=subprocess.DEVNULL,
                                   stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        said = stderr.read()
    found = re.search(r", ([\d.]+) s\n\Z", said)
    return Command(lines, wall, float(found.group(1)) if found else 0.0,
                   usage.ru_maxrss * 1024, _check(process.returncode, said, output, lines))


def _check(code: int, said: str, output: Path, lines: int) -> str:
    if code != 0:
        return f"exit {code}: {said.strip()[-300:]}"
    ids = [json.loads(line)["custom_id"] for line in output.open(encoding="utf-8")]
    if len(ids) != lines or len(set(ids)) != lines:
        return f"OUTPUT has {len(ids)} lines, {len(set(ids))} ids; {lines} expected"
    return ""


def measure_batch(*, quick: bool) -> BatchRun:
    sizes = QUICK if quick else FULL
    run = BatchRun(sizes, quick=quick)
    with tempfile.TemporaryDirectory() as scratch, EmulatorProcess() as emulator:
        folder = Path(scratch)
        _say(f"{sizes.requests:,} requests at {sizes.service:g} s, "
             f"--concurrency {sizes.concurrency}")
        write_input(folder / "speed.jsonl", sizes.requests)
        set_latency(emulator.url, sizes.service)
        run.speed = run_command(emulator.url, folder / "speed.jsonl", folder / "speed.out.jsonl",
                                sizes.requests, sizes.concurrency)
        set_latency(emulator.url, 0.0)
        _say(f"peak RSS, {sizes.rss_lines:,} lines, instant emulator")
        write_input(folder / "memory.jsonl", sizes.rss_lines)
        run.memory = run_command(emulator.url, folder / "memory.jsonl",
                                 folder / "memory.out.jsonl", sizes.rss_lines,
                                 sizes.concurrency)
    return run


def _say(what: str) -> None:
    print(f"  - batch: {what} ...", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m benchmarks.batch", __doc__, argv)
    run = measure_batch(quick=args.quick)
    print(f"Machine: {os.cpu_count()} cores. Sizes: "
          + ", ".join(f"{k}={v}" for k, v in attrs.asdict(run.sizes).items()) + ".\n")
    print("\n".join(run.render()))
    return exit_code(run.failures(), run.targets(), strict=args.strict, judged=not args.quick)


if __name__ == "__main__":
    sys.exit(main())
