"""The processes of the server benchmarks (``benchmarks/server.py``, ``benchmarks/state.py``):
each a child that prints its URL once it listens, what it has loaded, its CPU time, and
what ``voigpt serve``'s ``/metrics`` says."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import IO

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
MAX_CONCURRENCY = 512  # voigpt serve's --max-concurrency: never the limit at 32 clients
LISTENING = r"listening on (http://\S+)"  # what voigpt serve and the floor print


def serve_command(upstream: str, state: str, *flags: str) -> list[str]:
    """``python -m voigpt serve`` on a free port in front of ``upstream``, on ``state``."""
    return [sys.executable, "-m", "voigpt", "serve", "--port", "0", "--base-url", upstream,
            "--max-concurrency", str(MAX_CONCURRENCY), "--drain-timeout", "2",
            "--state", state, *flags]


def floor_command(upstream: str) -> list[str]:
    """The floor (``benchmarks/server_floor.py``) in front of ``upstream``."""
    return [sys.executable, "-m", "benchmarks.server_floor", "--upstream", upstream]


class Spawned:
    """A child process that prints its URL on a line of stdout once it listens; stderr goes to
    a temporary file, shown if it fails to start. Stopped with SIGTERM."""

    def __init__(self, command: Sequence[str], pattern: str = LISTENING) -> None:
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


def stop_all(children: Collection[Spawned]) -> None:
    """SIGTERM to all at once, then wait for each: they drain in parallel."""
    for child in children:
        child.terminate()
    for child in children:
        child.stop()


def loaded_libraries(pid: int) -> str:
    """Whether uvloop and httptools are among the libraries process ``pid`` has loaded."""
    try:
        paths = " ".join(m.path for m in psutil.Process(pid).memory_maps())
    except (psutil.Error, AttributeError, NotImplementedError):
        return "uvloop ?, httptools ?"
    return ", ".join(f"{name} {'yes' if f'/{name}/' in paths else 'NO'}"
                     for name in ("uvloop", "httptools"))


def metric(url: str, name: str, labels: str = "") -> float | None:
    """One sample of ``voigpt serve``'s Prometheus metrics at ``url``: ``name`` with exactly
    ``labels`` (as written, e.g. ``outcome="ok"``), or None if it has none."""
    text = requests.get(url + "/metrics", timeout=10).text
    selector = re.escape(name + (f"{{{labels}}}" if labels else ""))
    found = re.search(rf"^{selector} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def token_fetches(url: str) -> int:
    """Tokens ``voigpt serve`` at ``url`` fetched, from its Prometheus metrics."""
    return int(metric(url, "voigpt_token_fetches_total", 'outcome="ok"') or 0)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def csrf_token(url: str) -> str:
    response = requests.get(url + "/", timeout=10)
    response.raise_for_status()
    return str(response.cookies["csrftoken"])
