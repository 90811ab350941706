"""``voigpt serve`` for tests: the app on a real uvicorn server in a thread of this process
(``served``), or the command as a separate process (``ServeProcess``), both on 127.0.0.1
with a port the OS chooses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import httpx
import uvicorn
from fastapi import FastAPI

from voigpt.async_client import AsyncClient
from voigpt.entrypoints.server.app import create_app
from voigpt.entrypoints.server.connections import ServerConfig
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.entrypoints.server.watch import Limits

_LISTENING = re.compile(r"listening on (http://\S+)")


@attrs.frozen
class Served:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    app: FastAPI
    client: AsyncClient
    loop: asyncio.AbstractEventLoop  # the server's, in its thread

    @property
    def v1(self) -> str:
        return self.url + "/v1"

    def in_turns(self, *actions: Callable[[], None], apart: int = 0) -> None:
        """Runs each action here while the server's event loop is held still, and lets it
        run ``apart`` turns of the loop between them (0: all in one hold). What an action
        does to a socket (bytes sent, a close) is found by the loop's next poll, so the
        server sees the effects of successive actions exactly ``apart`` turns apart,
        however fast or loaded the machine is."""
        batches = [list(actions)] if apart == 0 else [[action] for action in actions]
        gates = [(threading.Event(), threading.Event()) for _ in batches]  # (held, go on)

        def hold(index: int, turns_left: int) -> None:
            if turns_left:
                self.loop.call_soon(hold, index, turns_left - 1)
                return
            held, go_on = gates[index]
            held.set()
            go_on.wait(10)
            if index + 1 < len(gates):  # runs in the next turn: apart - 1 more to go
                self.loop.call_soon(hold, index + 1, apart - 1)

        self.loop.call_soon_threadsafe(hold, 0, 0)
        for batch, (held, go_on) in zip(batches, gates, strict=True):
            if not held.wait(10):
                raise RuntimeError("the server's loop did not pause")
            try:
                for action in batch:
                    action()
            finally:
                go_on.set()


@contextlib.contextmanager
def served(
    client: AsyncClient, settings: ServerSettings | None = None, *,
    wrap: Callable[[FastAPI], Any] | None = None, **server: object,
) -> Iterator[Served]:
    """``create_app(client, settings)`` served by uvicorn in a background thread, on the
    connections ``voigpt serve`` runs (``ServerConfig``: the head cap, the head and body
    timeouts, the JSON refusals); inside ``wrap(app)`` (an ASGI app of its own) if given."""
    settings = settings or ServerSettings(**server)  # type: ignore[arg-type]
    app = create_app(client, settings)
    outer = app if wrap is None else wrap(app)
    config = ServerConfig(outer, Limits.of(settings), host="127.0.0.1", port=0,
                          log_config=None, access_log=False, lifespan="on",
                          timeout_graceful_shutdown=5)
    server_ = uvicorn.Server(config)
    server_.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=lambda: asyncio.run(server_.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server_.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    listening = server_.servers[0]
    port = listening.sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{port}", app, client, listening.get_loop())
    finally:
        server_.should_exit = True
        thread.join(15)


ERROR_FIELDS = ("message", "type", "param", "code")


def error_of(response: httpx.Response, status: int) -> dict[str, object]:
    """The ``error`` object of ``response``, checked to be OpenAI's error shape with
    ``status``: a JSON object with exactly ``{"error": {message, type, param, code}}``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and list(body) == ["error"], body
    error = body["error"]
    assert isinstance(error, dict) and sorted(error) == sorted(ERROR_FIELDS), error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    assert error["param"] is None or isinstance(error["param"], str), error
    assert error["code"] is None or isinstance(error["code"], str), error
    return error


def metric(url: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` (e.g. ``voigpt_server_requests_total``) whose
    labels include ``labels``, from ``GET url/metrics``: 0 if none has been counted yet. A
    metric the server does not declare at all is an error, not a 0."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url + "/metrics", timeout=10).text
    declared = False
    total = 0.0
    for family in text_string_to_metric_families(text):
        if name == family.name or name.startswith(family.name + "_"):
            declared = True
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    if not declared:
        raise KeyError(f"/metrics declares no {name}")
    return total


class ServeProcess:
    """``python -m voigpt serve ARGS`` with no ``VOIGPT_*`` variables but ``env``'s; ``url``
    is read from the line it prints once it listens. ``XDG_STATE_HOME`` is a fresh
    directory of its own (removed when it stops), so its default state file is never in
    the real home nor shared with another process; ``env`` may set it, or remove a
    variable with None."""

    def __init__(self, *args: str, env: Mapping[str, str | None] | None = None,
                 timeout: float = 20) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
        self.state_home = tempfile.mkdtemp(prefix="voigpt-state-")
        merged = {**clean, "XDG_STATE_HOME": self.state_home, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voigpt", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={k: v for k, v in merged.items() if v is not None},
        )
        self.url = ""
        self.stdout_lines: list[str] = []
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line)
            match = _LISTENING.search(line)
            if match:
                self.url = match.group(1)
                return
        self.process.kill()
        _, err = self.process.communicate(timeout=10)
        shutil.rmtree(self.state_home, ignore_errors=True)
        raise RuntimeError(f"voigpt serve did not start: {err[-2000:]}")

    @property
    def v1(self) -> str:
        return self.url + "/v1"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, str, str]:
        """Send ``sig``; the exit code and the rest of stdout and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate(timeout=10)
        shutil.rmtree(self.state_home, ignore_errors=True)
        return self.process.returncode, "".join(self.stdout_lines) + out, err

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.stop()
        shutil.rmtree(self.state_home, ignore_errors=True)
