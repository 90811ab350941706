"""A real ``redis-server`` (Debian's) for tests: a process of its own on a 127.0.0.1 port the
OS handed out, with no persistence, that a test may stop (SIGTERM) and start again on the
same port, as a fleet's Redis goes away and comes back. Never a mock or a fake of Redis.
Its fixtures, ``redis_server`` (module scope) and ``redis_url`` (the server running and
emptied for the test), are imported by name: ``redis_server_fixture``, ``redis_url_fixture``."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import unused_port

PROGRAM = "redis-server"
INSTALL = "apt-get install redis-server (or run scripts/test, which installs it)"


class RedisServer:
    """One ``redis-server`` process; ``url`` has no password (give it apart, as
    ``VOIGPT_REDIS_PASSWORD`` does)."""

    def __init__(self, workdir: Path, *, password: str | None = None) -> None:
        program = shutil.which(PROGRAM) or "/usr/bin/redis-server"
        if not Path(program).exists():
            raise RuntimeError(f"the tests need Debian's redis-server: {INSTALL}")
        self.program, self.workdir, self.password = program, workdir, password
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (again): on the port it had, or else on a new one the OS hands out."""
        for _ in range(5):
            port = self.port or unused_port()
            if self._spawn(port):
                self.port = port
                return
            if self.port:  # its old port was taken meanwhile: nothing else to try
                break
        raise RuntimeError(f"redis-server did not start: {self._log()[-2000:]}")

    def _spawn(self, port: int) -> bool:
        args = [self.program, "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                "--logfile", str(self.workdir / "redis.log"), "--daemonize", "no"]
        if self.password is not None:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # it exited: most likely the port was taken
                return False
            if self._pings(port):
                return True
            time.sleep(0.02)
        self.stop()
        return False

    def _pings(self, port: int) -> bool:
        auth = b"" if self.password is None else _command(b"AUTH", self.password.encode())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(auth + _command(b"PING"))
                answer = b""
                while b"PONG" not in answer and b"-" not in answer[:1]:
                    chunk = sock.recv(256)
                    if not chunk:
                        return False
                    answer += chunk
                return b"PONG" in answer
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM, and wait until it has gone (its port free again)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _log(self) -> str:
        log = self.workdir / "redis.log"
        return log.read_text(errors="replace") if log.exists() else "(no log)"

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _command(*parts: bytes) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


@pytest.fixture(scope="module", name="redis_server")
def redis_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running ``redis-server`` for the test module. Fails (never skips) without one."""
    if shutil.which(PROGRAM) is None and not Path("/usr/bin/redis-server").exists():
        pytest.fail(f"the Redis tests need Debian's redis-server: {INSTALL}")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(name="redis_url")
def redis_url_fixture(redis_server: RedisServer) -> Iterator[str]:
    """The module's Redis, running and emptied for the test (restarted if a test stopped
    it)."""
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    _flush(redis_server)
    yield redis_server.url


def _flush(server: RedisServer) -> None:
    auth = b"" if server.password is None else _command(b"AUTH", server.password.encode())
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(auth + _command(b"FLUSHALL"))
        answer = b""
        while answer.count(b"\r\n") < (2 if auth else 1):
            answer += sock.recv(256)
