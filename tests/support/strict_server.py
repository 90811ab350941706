"""A strict voigpt.com stand-in for adapter tests: 403 unless the cookie and the header carry
the same token that this server issued, and Origin/Referer match.

It records every request, including, when asked, the pid of the process that owns the
client end of the connection: that is how proxy tests prove a request came through the
proxy process and not straight from the test.
"""

from __future__ import annotations

import json
import secrets
import socket
import string
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import psutil

_ALPHABET = string.ascii_letters + string.digits


@attrs.frozen
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]
    peer_pid: int | None


@attrs.frozen
class Scripted:
    status: int
    body: bytes = b""
    headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a timed-out test, a refused proxy) is not news."""


class StrictServer:
    def __init__(self, *, record_pids: bool = False) -> None:
        self.record_pids = record_pids
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.seen: list[Seen] = []
        self.script: deque[Scripted] = deque()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return (str(host), int(port))

    def start(self) -> StrictServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def issue(self) -> str:
        token = "".join(secrets.choice(_ALPHABET) for _ in range(32))
        with self._lock:
            self.issued.append(token)
        return token

    def revoke_all(self) -> None:
        with self._lock:
            self.revoked.update(self.issued)

    def then_answer(self, status: int, body: bytes | str = b"", **kwargs: Any) -> None:
        raw = body.encode() if isinstance(body, str) else body
        self.script.append(Scripted(status, raw, **kwargs))

    def requests(self, method: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if method is None or s.method == method]

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def accepts(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self.issued and token not in self.revoked

    def owner_of(self, peer: tuple[str, int]) -> int | None:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and tuple(conn.laddr)[:2] == peer and conn.raddr and (
                tuple(conn.raddr)[:2] == self.address
            ):
                return conn.pid
        return None


def _handler_for(server: StrictServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._seen(b"")
            if self._scripted():
                return
            if self.path != "/":
                return self._send(404, b"not found", "text/plain")
            token = server.issue()
            cookie = f"csrftoken={token}; Path=/; SameSite=Lax"
            self._send(200, b"<html><body>voigpt</body></html>", "text/html", cookie)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            self._seen(body)
            if self._scripted():
                return
            if self.path != "/generate_response/":
                return self._send(404, b"not found", "text/plain")
            cookie = self.headers.get("Cookie", "")
            jar = dict(p.strip().split("=", 1) for p in cookie.split(";") if "=" in p)
            header = self.headers.get("X-CSRFToken")
            base = server.url
            if not (
                jar.get("csrftoken") == header
                and server.accepts(header)
                and self.headers.get("Origin") == base
                and self.headers.get("Referer") == base + "/"
            ):
                page = b"<h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted."
                return self._send(403, page, "text/html")
            try:
                messages = json.loads(body)["messages"]
                last = [m["content"] for m in messages if m["role"] == "user"][-1]
            except (ValueError, KeyError, IndexError, TypeError):
                return self._send(400, b'{"error": "bad request"}', "application/json")
            reply = json.dumps({"response": f"strict echo: {last}"}).encode()
            self._send(200, reply, "application/json")

        def _seen(self, body: bytes) -> None:
            peer = (str(self.client_address[0]), int(self.client_address[1]))
            pid = server.owner_of(peer) if server.record_pids else None
            headers = {k: v for k, v in self.headers.items()}
            server.record(Seen(self.command, self.path, headers, body, peer, pid))

        def _scripted(self) -> bool:
            try:
                answer = server.script.popleft()
            except IndexError:
                return False
            if answer.delay:
                server.stopping.wait(answer.delay)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            return True

        def _send(self, status: int, body: bytes, kind: str, cookie: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(body)

    return Handler
