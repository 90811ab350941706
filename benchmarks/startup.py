"""Import time of ``voigpt`` against ``requests``, and the CLI's start-up, each in a fresh
interpreter; the variants take turns and the figure is the median."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

IMPORTS = {
    "import requests": "import requests",
    "import voigpt": "import voigpt",
    "from voigpt import Client": "from voigpt import Client",
    "from voigpt import VoiGpt": "from voigpt import VoiGpt",
}
_TIMED = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def import_times(rounds: int) -> dict[str, float]:
    """Median seconds each import statement takes in a fresh interpreter (timed inside it,
    so interpreter start-up is not counted)."""
    samples: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(rounds):
        for name, stmt in IMPORTS.items():
            out = subprocess.run(
                [sys.executable, "-c", _TIMED.format(stmt=stmt)],
                capture_output=True, text=True, check=True,
            ).stdout
            samples[name].append(float(out))
    return {name: statistics.median(values) for name, values in samples.items()}


def voigpt_command() -> list[str]:
    script = Path(sys.executable).with_name("voigpt")
    if script.exists():
        return [str(script)]
    found = shutil.which("voigpt")
    return [found] if found else [sys.executable, "-m", "voigpt"]


def startup_times(rounds: int) -> dict[str, float]:
    """Median wall seconds of whole commands: the bare interpreter, ``voigpt --help``, and
    a whole offline completion with the in-memory backend (every import a real ``voigpt ask``
    makes, minus the network)."""
    commands: dict[str, Sequence[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "voigpt --help": [*voigpt_command(), "--help"],
        "voigpt ask --backend fake hi": [*voigpt_command(), "ask", "--backend", "fake", "hi"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}
