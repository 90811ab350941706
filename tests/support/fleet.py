"""A fleet for tests: several real ``voigpt serve`` processes on one shared state, in front of
one emulator in this process that notes when each request reached it and how many replies
were being written at once.

``Site`` is that emulator. A user message ``"hold SECONDS: ..."`` makes its reply take that
long (``release()`` cuts every hold short, so a test never leaves threads sleeping), and
``most`` is the largest number of replies in progress together since ``reset()``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.support.server import ServeProcess
from voigpt.emulator import Emulator
from voigpt.emulator.chat import reply_for
from voigpt.emulator.records import RecordedRequest

_HOLD = re.compile(r"^hold ([0-9.]+):")
GENERATE = "/generate_response/"


class Site:
    """One emulator, with the time (``time.monotonic()``) each request reached it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.arrivals: list[tuple[float, str, str]] = []  # (when, method, path)
        self.now = self.most = 0
        self.emulator = Emulator(reply=self._reply, observer=self._arrived)

    def __enter__(self) -> Site:
        self.emulator.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
        self.emulator.stop()

    @property
    def url(self) -> str:
        return self.emulator.url

    def reset(self) -> None:
        """Forget the arrivals, the records and the most seen at once; clear the faults and
        queued replies; let holds run again."""
        with self._lock:
            self.arrivals.clear()
            self.most = self.now
        self.emulator.clear_faults()
        self.emulator.clear_replies()
        self.emulator.reset_records()
        self._released.clear()

    def release(self) -> None:
        """End every hold now, and every later one at once (until ``reset``)."""
        self._released.set()

    def posts(self) -> list[float]:
        """When each ``POST /generate_response/`` arrived, in order."""
        with self._lock:
            return [when for when, method, path in self.arrivals
                    if method == "POST" and path.startswith(GENERATE)]

    def _arrived(self, request: RecordedRequest) -> None:
        with self._lock:
            self.arrivals.append((time.monotonic(), request.method, request.path))

    def _reply(self, messages: list[dict[str, Any]]) -> str:
        text = reply_for(messages)
        last = str(messages[-1].get("content", ""))
        match = _HOLD.match(last)
        if match is None:
            return text
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            self._released.wait(float(match.group(1)))
        finally:
            with self._lock:
                self.now -= 1
        return text


class Fleet:
    """``count`` ``voigpt serve`` processes with the same arguments, started together."""

    def __init__(self, *args: str, count: int = 3, env: Mapping[str, str] | None = None) -> None:
        self.args = args
        self.env = env
        with ThreadPoolExecutor(count) as pool:
            started = [pool.submit(ServeProcess, *args, env=env) for _ in range(count)]
        self.copies: list[ServeProcess] = []
        errors = []
        for future in started:
            try:
                self.copies.append(future.result())
            except Exception as error:  # stop those that did start before raising
                errors.append(error)
        if errors:
            self.stop()
            raise errors[0]

    def __getitem__(self, index: int) -> ServeProcess:
        return self.copies[index]

    def __iter__(self) -> Iterator[ServeProcess]:
        return iter(self.copies)

    def restart(self, index: int) -> None:
        """Start copy ``index`` again if it is no longer running."""
        if self.copies[index].process.poll() is not None:
            self.copies[index].stop()
            self.copies[index] = ServeProcess(*self.args, env=self.env)

    def stop(self) -> list[tuple[int, str, str]]:
        """Stop every copy (SIGTERM); each one's exit code, stdout and stderr."""
        return [copy.stop() for copy in self.copies]

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def serve_exits(*args: str, timeout: float = 30,
                setpriv: Sequence[str] = ()) -> tuple[int, str, str, float]:
    """``python -m voigpt serve --port 0 ARGS`` (no ``VOIGPT_*`` variables) expected to exit
    by itself: its exit code, stdout, stderr and how long it ran. A process still running
    after ``timeout`` is killed, and its exit code is then the signal's (negative).
    ``setpriv``: run it under ``setpriv`` with these options (root without capabilities)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    start = time.monotonic()
    command = [sys.executable, "-m", "voigpt", "serve", "--port", "0", *args]
    if setpriv:
        command = ["setpriv", *setpriv, *command]
    process = subprocess.Popen(command,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=clean)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=10)
    return process.returncode, out, err, time.monotonic() - start


def chat(url: str, text: str, *, timeout: float = 60,
         headers: Mapping[str, str] | None = None) -> httpx.Response:
    """``POST url/v1/chat/completions`` with one user message."""
    body = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": text}]}
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=timeout,
                      headers=dict(headers or {}))


def at_once(calls: Sequence[tuple[str, str]], *, timeout: float = 60) -> list[httpx.Response]:
    """``chat(url, text)`` for each ``(url, text)``, all in flight together (threads)."""
    with ThreadPoolExecutor(max(1, len(calls))) as pool:
        return list(pool.map(lambda call: chat(*call, timeout=timeout), calls))


def spread(fleet: Fleet, texts: Sequence[str]) -> list[tuple[str, str]]:
    """``texts`` dealt round the copies: the first to copy 0, the second to copy 1..."""
    return [(fleet[i % len(fleet.copies)].url, text) for i, text in enumerate(texts)]
