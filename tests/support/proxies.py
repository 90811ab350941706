"""Real proxy server processes (pproxy) on loopback, on ports the OS chooses, and the proof
that a request came through one: which process holds the client end of its connection."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import attrs
import psutil

from voigpt.emulator import RecordedRequest

USER = "alice"
PASSWORD = "s3cret-pw"


@attrs.frozen
class RunningProxy:
    pid: int
    port: int
    process: subprocess.Popen[bytes]

    def url(self, scheme: str, *, password: str = PASSWORD) -> str:
        return f"{scheme}://{USER}:{password}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


_PPROXY_WITHOUT_UVLOOP = (
    "import sys; sys.modules['uvloop'] = None; sys.argv[0] = 'pproxy'; "
    "from pproxy.server import main; main()"
)


def start_pproxy(protocols: str = "http+socks5", *, tls_pem: str | None = None) -> RunningProxy:
    """Start pproxy on 127.0.0.1 port 0, requiring USER:PASSWORD on every request
    (``--auth 0``: pproxy otherwise remembers an authenticated client IP). With ``tls_pem``
    (key and certificate chain in one PEM) clients must speak TLS to it: an https proxy."""
    # pproxy switches to uvloop whenever it is installed (voigpt[server] brings it) and then
    # fails at start ("no current event loop"); it runs on plain asyncio here.
    command = [sys.executable, "-c", _PPROXY_WITHOUT_UVLOOP, "-l",
               f"{protocols}://127.0.0.1:0#{USER}:{PASSWORD}", "--auth", "0"]
    if tls_pem is not None:
        command += ["--ssl", tls_pem]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pproxy exited early with code {process.returncode}")
        listening = [
            c.laddr.port
            for c in psutil.Process(process.pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        ]
        if listening:
            return RunningProxy(process.pid, listening[0], process)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("pproxy did not start listening within 15 s")


def owner_of(client: tuple[str, int], server: tuple[str, int] | None = None) -> int | None:
    """The pid of the process holding the client end of an open loopback TCP connection
    (``None`` once it is closed: look it up while the connection is open) to ``server``,
    if given. Without ``server``, another connection on the same local address (a server
    of another test listening on that port number, with a client of its own) may match."""
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status != psutil.CONN_ESTABLISHED:
            continue  # an old TIME_WAIT entry may hold the same client port
        if not (connection.raddr and connection.laddr and tuple(connection.laddr)[:2] == client):
            continue
        if server is None or tuple(connection.raddr)[:2] == server:
            return connection.pid
    return None


class ConnectionOwners:
    """An ``Emulator(observer=...)``: for each request, in order, the pid of the process that
    holds the client end of its connection. The emulator calls it before it answers, while the
    connection is open (once answered, a proxy may close its connection at any time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pids: list[int | None] = []
        # The emulator's (host, port), once it listens (``watch``): the far end of each
        # connection looked up, so that a like-numbered local port elsewhere never matches.
        self.server: tuple[str, int] | None = None

    def watch(self, emulator: Any) -> None:
        """Look up connections to ``emulator`` (started) only."""
        host, _, port = emulator.url.partition("://")[2].rpartition(":")
        self.server = (host, int(port))

    def __call__(self, request: RecordedRequest) -> None:
        pid = owner_of(request.client, self.server)
        with self._lock:
            self._pids.append(pid)

    @property
    def pids(self) -> list[int | None]:
        with self._lock:
            return list(self._pids)
