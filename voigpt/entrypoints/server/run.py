"""Running the app on uvicorn: one process, or ``--workers N`` processes sharing the
socket (each with its own token cache and limits, unless ``--state`` shares them). With
``--workers`` the metrics are the whole server's: the workers keep them in a fresh private
directory (``PROMETHEUS_MULTIPROC_DIR``, prometheus-client's multiprocess mode) that lives
as long as the command; one process keeps them in memory and makes no directory.

SIGTERM (or Ctrl-C) stops accepting, lets in-flight requests finish for up to
``drain_timeout`` seconds (one still unanswered then gets a 503), then exits 0. Each
connection is uvicorn's, with a head cap and timeouts (``connections.py``). Logs go to
standard error through the secrets filter; the access log and debug logs only with
``-v``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from typing import Any, TextIO

import uvicorn
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.supervisors import Multiprocess

from voigpt.config import Settings
from voigpt.entrypoints.server.connections import ServerConfig
from voigpt.entrypoints.server.metrics import MULTIPROC_DIR
from voigpt.entrypoints.server.process_environment import environment_for, log_config
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.entrypoints.server.watch import Limits

FACTORY = "voigpt.entrypoints.server.app:app_from_environment"


def serve(
    settings: Settings, server: ServerSettings, *, verbose: bool, stdout: TextIO
) -> int:
    """Serve until SIGTERM or SIGINT; 0 after a clean stop."""
    # Every process's settings, and its log filter's secrets (the flags' keys too), come
    # from these variables: set them before the log config below builds the filter.
    os.environ.update(environment_for(settings, server))
    config = ServerConfig(
        _app(settings, server) if server.workers == 1 else FACTORY, Limits.of(server),
        factory=server.workers > 1, host=server.host, port=server.port,
        workers=server.workers, log_config=log_config(verbose), access_log=verbose,
        timeout_graceful_shutdown=server.drain_timeout,
        server_header=False, backlog=2048, lifespan="on",
    )
    sock = _listen(server.host, server.port, config.backlog)
    with _signals_end_quietly():
        if server.workers == 1:
            one = _AnnouncingServer(config, stdout, _state_shown(server))
            # uvicorn's own run: the loop its config picks (uvloop when installed).
            one.run(sockets=[sock])
            return 0 if one.started else 1
        _announce(stdout, server.host, sock.getsockname()[1], server.workers,
                  _state_shown(server))
        with _metrics_directory() as directory:
            _Supervisor(config, sockets=[sock], directory=directory).run()
    return 0


@contextlib.contextmanager
def _metrics_directory() -> Iterator[str]:
    """A fresh directory only this user can read (``mkdtemp``: 0700) in
    ``PROMETHEUS_MULTIPROC_DIR`` while the workers run: they are spawned (a new
    interpreter each), so they import prometheus-client with it set, and count into it.
    Removed when the server stops; a previous value of the variable comes back."""
    directory = tempfile.mkdtemp(prefix="voigpt-metrics-")
    previous = os.environ.get(MULTIPROC_DIR)
    os.environ[MULTIPROC_DIR] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_DIR, None)
        else:
            os.environ[MULTIPROC_DIR] = previous
        shutil.rmtree(directory, ignore_errors=True)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, which also drops the live gauges (in flight, state up) of each
    worker that is gone (stopped, killed, hung and replaced, retired by SIGHUP or SIGTTOU),
    as gunicorn's ``child_exit`` hook does, checked on each of its ticks (every 0.5 s)."""

    def __init__(self, config: uvicorn.Config, *, sockets: list[socket.socket],
                 directory: str) -> None:
        super().__init__(config, sockets)
        self.directory = directory
        self.known: set[int] = set()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        current = {process.pid for process in self.processes if process.pid is not None}
        for pid in self.known - current:
            mark_process_dead(pid, self.directory)  # type: ignore[no-untyped-call]
        self.known = current


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    """The listening socket, bound here so that a port in use or an address this machine
    does not have is one clear error (exit 1), not uvicorn's log lines. Inheritable: the
    ``--workers`` processes accept on it."""
    try:
        made = socket.create_server((host, port), backlog=backlog)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise OSError(f"cannot listen on {host}:{port}: {reason}") from None
    # create_server's socket says protocol 0, and so does every socket it accepts: asyncio's
    # own loop (no uvloop: Windows, or a platform without it) sets TCP_NODELAY only on
    # sockets that say IPPROTO_TCP, and without it an answer written in two parts waited
    # 40 ms for the client's delayed ACK on every kept-alive request after the first.
    sock = socket.socket(made.family, made.type, socket.IPPROTO_TCP, fileno=made.detach())
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.set_inheritable(True)
    return sock


class _AnnouncingServer(uvicorn.Server):
    """Prints the listening line once bound. Run by ``Server.run``, not ``asyncio.run``:
    ``run`` is what picks the config's event loop (uvloop when installed)."""

    def __init__(self, config: uvicorn.Config, stdout: TextIO, state: str) -> None:
        super().__init__(config)
        self.stdout, self.state = stdout, state

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            port = self.servers[0].sockets[0].getsockname()[1]
            _announce(self.stdout, self.config.host, port, 1, self.state)


def _announce(stdout: TextIO, host: str, port: int, workers: int, state: str) -> None:
    shown = f"[{host}]" if ":" in host else host
    plural = "es" if workers > 1 else ""
    print(f"voigpt serve listening on http://{shown}:{port} ({workers} process{plural}, "
          f"state {state})", file=stdout, flush=True)


def _state_shown(server: ServerSettings) -> str:
    """The state as a person may see it (never a Redis password)."""
    return "memory" if server.state is None else server.state.shown


def _app(settings: Settings, server: ServerSettings) -> Any:
    from voigpt.async_client import AsyncClient
    from voigpt.container import container_for
    from voigpt.entrypoints.server.app import create_app

    return create_app(AsyncClient(container=container_for(settings)), server, own_process=True)


@contextlib.contextmanager
def _signals_end_quietly() -> Iterator[None]:
    """uvicorn raises the signal that stopped it again once it has drained; with these
    handlers in place that ends nothing, and the command exits 0."""
    previous = {sig: signal.signal(sig, lambda signum, frame: None)
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
