"""Hostile servers on 127.0.0.1 (ports chosen by the OS) for the hostile-server suite.

``HostileServer`` is a raw-socket HTTP/1.1 server: one thread per connection, each running
a *handler* ``(conn, request) -> None`` for every request read on that connection (so a
keep-alive connection sees several). The handler scripts the answer with ``Conn``: send
bytes, sleep, trickle bytes one at a time, close. ``normal`` is the well-behaved voigpt.com
(``GET /`` sets ``csrftoken``, ``POST /generate_response/`` answers ``{"response": ...}``)
and ``normal_except(get=..., post=...)`` makes "normal, except ...".

Every connection has a *budget* (seconds): past it, whatever the script says, the server
closes the connection. A client that does not keep its deadline therefore fails its test
with "took N s" instead of hanging the suite.

``TrickleSocks5`` is a SOCKS5 server (RFC 1928, no-auth and RFC 1929 user/password) that
answers each handshake byte after a delay, then relays to the address the client asked for.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import select
import socket
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_BUDGET = 6.0
_ALPHABET = string.ascii_letters + string.digits
_REASONS = {
    100: "Continue", 102: "Processing", 103: "Early Hints", 200: "OK", 204: "No Content",
    301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect",
    308: "Permanent Redirect", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable",
}

Headers = Sequence[tuple[str, str]]


def new_token() -> str:
    """A csrftoken like the site's: 32 letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


class HandlerDone(Exception):
    """Ends a connection's script: the client hung up, the budget ran out, or the server
    is stopping. The server closes the connection quietly."""


@dataclass
class Request:
    """One request as received: request line, headers in order, body."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int  # which connection (0, 1, ...) it came on

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def path(self) -> str:
        """The path, also for a proxy's absolute-form target (``GET http://h/p``)."""
        if self.method == "CONNECT":
            return self.target
        return urlsplit(self.target).path or "/"

    @property
    def cookies(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, value in self.headers:
            if key.lower() == "cookie":
                for part in value.split(";"):
                    name, _, val = part.strip().partition("=")
                    found.setdefault(name, val)
        return found

    @property
    def token(self) -> str:
        """The token it carries: ``X-CSRFToken``, else the ``csrftoken`` cookie, else ""."""
        return self.header("X-CSRFToken") or self.cookies.get("csrftoken", "")

    @property
    def prompt(self) -> str:
        """The last message's content of a completion request ("" if none)."""
        try:
            messages = json.loads(self.body.decode("utf-8"))["messages"]
            return str(messages[-1]["content"])
        except (ValueError, KeyError, IndexError, TypeError):
            return ""

    def wire(self) -> str:
        """Request line and headers as text, to search for what was sent."""
        lines = [f"{self.method} {self.target} {self.version}"]
        lines += [f"{key}: {value}" for key, value in self.headers]
        return "\r\n".join(lines)


def response(
    status: int,
    body: bytes | str = b"",
    *,
    headers: Headers = (),
    content_type: str | None = "application/json",
    reason: str | None = None,
    content_length: bool = True,
) -> bytes:
    """A whole HTTP/1.1 answer. ``Content-Length`` is added unless ``headers`` has one or
    ``content_length`` is False."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status} {reason or _REASONS.get(status, 'Whatever')}"]
    names = {key.lower() for key, _ in headers}
    if content_type is not None and "content-type" not in names:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{key}: {value}" for key, value in headers]
    if content_length and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(data)}")
    return "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n" + data


def head(status: int, headers: Headers = (), *, reason: str | None = None) -> bytes:
    """Only a status line and headers (with the blank line), nothing added."""
    lines = [f"HTTP/1.1 {status} {reason or _REASONS.get(status, 'Whatever')}"]
    lines += [f"{key}: {value}" for key, value in headers]
    return "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n"


def json_response(payload: Any, *, status: int = 200, headers: Headers = ()) -> bytes:
    return response(status, json.dumps(payload), headers=headers)


def reply_for(request: Request) -> str:
    """The normal server's reply text: distinct for distinct prompts."""
    return f"reply to: {request.prompt}"


class Conn:
    """The server's end of one connection, as a script sees it."""

    def __init__(self, sock: socket.socket, server: HostileServer, index: int) -> None:
        self.sock = sock
        self.server = server
        self.index = index
        self.expires_at = time.monotonic() + server.budget
        self.received = bytearray()
        self.closed = False
        self._buffer = b""

    # -- scripting ------------------------------------------------------------------------

    def send(self, data: bytes | str) -> None:
        self._check()
        payload = data.encode("latin-1") if isinstance(data, str) else data
        try:
            self.sock.sendall(payload)
        except OSError as exc:
            raise HandlerDone("the client hung up") from exc

    def trickle(self, data: bytes | str, *, delay: float = 0.05, step: int = 1) -> None:
        """Send ``data`` ``step`` bytes at a time, ``delay`` seconds apart."""
        payload = data.encode("latin-1") if isinstance(data, str) else data
        for start in range(0, len(payload), step):
            self.send(payload[start:start + step])
            self.sleep(delay)

    def trickle_forever(self, piece: bytes, *, delay: float = 0.05) -> None:
        """Repeat ``piece``, byte by byte, until the client hangs up or the budget ends."""
        while True:
            self.trickle(piece, delay=delay)

    def sleep(self, seconds: float) -> None:
        """Sleep, but never past the budget, and wake up when the server stops."""
        end = min(time.monotonic() + seconds, self.expires_at)
        while True:
            self._check()
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.server.stopping.wait(min(left, 0.05)):
                raise HandlerDone("the server is stopping")

    def hold(self) -> None:
        """Keep the connection open, saying nothing, until the client hangs up or the budget
        runs out."""
        while True:
            self._check()
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.05)
                if ready and not self.sock.recv(65536):
                    raise HandlerDone("the client hung up")
            except OSError as exc:
                raise HandlerDone("the connection broke") from exc
            if self.server.stopping.is_set():
                raise HandlerDone("the server is stopping")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()

    # -- reading --------------------------------------------------------------------------

    def read_request(self) -> Request | None:
        """The next request on this connection, or None when the client closed it."""
        while b"\r\n\r\n" not in self._buffer:
            if not self._fill():
                return None
            if len(self._buffer) > 1 << 20:
                raise HandlerDone("request head too large")
        head_bytes, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        method, target, version = [*lines[0].split(" ", 2), "", ""][:3]
        headers = []
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers.append((key.strip(), value.strip()))
        length_text = next((v for k, v in headers if k.lower() == "content-length"), "0")
        length = int(length_text) if length_text.isdigit() else 0
        while len(self._buffer) < length:
            if not self._fill():
                break
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return Request(method, target, version, headers, body, self.index)

    def _fill(self) -> bool:
        while True:
            self._check()
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.05)
                if not ready:
                    continue
                chunk = self.sock.recv(65536)
            except OSError:
                return False
            if not chunk:
                return False
            self.received += chunk
            self._buffer += chunk
            return True

    def _check(self) -> None:
        if self.closed:
            raise HandlerDone("closed by the script")
        if self.server.stopping.is_set():
            raise HandlerDone("the server is stopping")
        if time.monotonic() >= self.expires_at:
            self.server.budget_exhausted += 1
            raise HandlerDone("the connection's budget ran out")


Handler = Callable[[Conn, Request], None]
Answer = Callable[[Conn, Request], None]


class _Listener:
    """Accepts on 127.0.0.1, one daemon thread per connection, stoppable."""

    def __init__(self, name: str) -> None:
        self.stopping = threading.Event()
        self.connections = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self._acceptor = threading.Thread(target=self._accept, name=name, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self) -> _Listener:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() at once (Linux)
        if self._acceptor.is_alive():
            self._acceptor.join(2)
        self._listener.close()
        with self._lock:
            socks, threads = list(self._socks), list(self._threads)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for thread in threads:
            thread.join(2)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                index = self.connections
                self.connections += 1
                self._socks.append(sock)
                thread = threading.Thread(
                    target=self._serve_quietly, args=(sock, index), daemon=True
                )
                self._threads.append(thread)
            thread.start()

    def _serve_quietly(self, sock: socket.socket, index: int) -> None:
        try:
            self._serve(sock, index)
        except (HandlerDone, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _serve(self, sock: socket.socket, index: int) -> None:
        raise NotImplementedError


class HostileServer(_Listener):
    """An HTTP/1.1 server whose answers are scripted by ``handler``.

    Records: ``requests`` (parsed, in arrival order), ``connections`` (accepted),
    ``received`` (raw bytes per connection), ``issued`` (tokens ``normal`` handed out),
    ``budget_exhausted`` (connections cut by the budget), ``errors`` (handler bugs).
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        budget: float = DEFAULT_BUDGET,
        raw: Callable[[Conn], None] | None = None,
    ) -> None:
        """``raw``, when given, runs on each connection instead of reading requests (for
        servers that never read, or speak something other than HTTP)."""
        super().__init__("hostile-server")
        self.handler: Handler = handler or normal
        self.raw = raw
        self.budget = budget
        self.requests: list[Request] = []
        self.received: list[bytearray] = []
        self.issued: list[str] = []
        self.budget_exhausted = 0
        self.errors: list[BaseException] = []
        self.state: dict[str, Any] = {}  # free for scripts: counters, flags

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        super().start()
        return self

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def count(self, key: str) -> int:
        """A per-server counter for scripts: 0, 1, 2... on successive calls."""
        with self._lock:
            value = int(self.state.get(key, 0))
            self.state[key] = value + 1
            return value

    def issue(self) -> str:
        token = new_token()
        with self._lock:
            self.issued.append(token)
        return token

    def seen(self, method: str | None = None, path: str | None = None) -> list[Request]:
        with self._lock:
            found = list(self.requests)
        return [
            r for r in found
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    def everything_received(self) -> str:
        with self._lock:
            return "\n".join(bytes(chunk).decode("latin-1") for chunk in self.received)

    def _serve(self, sock: socket.socket, index: int) -> None:
        conn = Conn(sock, self, index)
        with self._lock:
            self.received.append(conn.received)
        try:
            if self.raw is not None:
                self._script(self.raw, conn)
                return
            while not conn.closed:
                request = conn.read_request()
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                self._script(self.handler, conn, request)
        finally:
            conn.close()

    def _script(self, script: Callable[..., None], *args: Any) -> None:
        try:
            script(*args)
        except (HandlerDone, OSError):
            raise
        except Exception as exc:  # a bug in a script: recorded, never silent
            self.errors.append(exc)
            raise HandlerDone("script error") from exc


# -- the normal site, and "normal, except ..." ---------------------------------------------

def normal_get(conn: Conn, request: Request) -> None:
    token = conn.server.issue()
    conn.send(response(
        200, "<html><body>voigpt</body></html>", content_type="text/html; charset=utf-8",
        headers=[("Set-Cookie", f"csrftoken={token}; Path=/")],
    ))


def normal_post(conn: Conn, request: Request) -> None:
    conn.send(json_response({"response": reply_for(request)}))


def normal(conn: Conn, request: Request) -> None:
    """voigpt.com, well behaved: any GET sets a fresh csrftoken, any POST echoes."""
    if request.method == "POST":
        normal_post(conn, request)
    elif request.method == "GET":
        normal_get(conn, request)
    else:
        conn.send(response(405, "no"))


def normal_except(*, get: Answer | None = None, post: Answer | None = None) -> Handler:
    """A handler that answers GETs with ``get`` and POSTs with ``post``, else normally."""

    def handler(conn: Conn, request: Request) -> None:
        if request.method == "GET" and get is not None:
            get(conn, request)
        elif request.method == "POST" and post is not None:
            post(conn, request)
        else:
            normal(conn, request)

    return handler


def send_then_close(data: bytes) -> Answer:
    def answer(conn: Conn, request: Request) -> None:
        conn.send(data)
        conn.close()

    return answer


def send(data: bytes) -> Answer:
    def answer(conn: Conn, request: Request) -> None:
        conn.send(data)

    return answer


def stall(conn: Conn, request: Request) -> None:
    """Read the request, then say nothing."""
    conn.hold()


# -- SOCKS5 -----------------------------------------------------------------------------------

@dataclass
class SocksRecord:
    methods: list[bytes] = field(default_factory=list)
    credentials: list[tuple[str, str]] = field(default_factory=list)
    targets: list[tuple[str, int]] = field(default_factory=list)


class TrickleSocks5(_Listener):
    """SOCKS5 with a slow handshake: every byte it answers comes ``delay`` seconds apart.
    With ``username``/``password`` it demands RFC 1929 authentication (and refuses other
    credentials, or all when ``accept=False``). After ``CONNECT`` it relays to the target
    the client named. Records what it saw in ``record``."""

    def __init__(
        self,
        *,
        delay: float = 0.2,
        username: str | None = None,
        password: str | None = None,
        accept: bool = True,
        budget: float = DEFAULT_BUDGET,
    ) -> None:
        super().__init__("trickle-socks5")
        self.delay = delay
        self.username = username
        self.password = password
        self.accept = accept
        self.budget = budget
        self.record = SocksRecord()

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    def start(self) -> TrickleSocks5:
        super().start()
        return self

    def __enter__(self) -> TrickleSocks5:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self, sock: socket.socket, index: int) -> None:
        expires_at = time.monotonic() + self.budget

        def recv_exact(n: int) -> bytes:
            data = b""
            while len(data) < n:
                if self.stopping.is_set() or time.monotonic() >= expires_at:
                    raise HandlerDone("socks budget")
                ready, _, _ = select.select([sock], [], [], 0.05)
                if not ready:
                    continue
                chunk = sock.recv(n - len(data))
                if not chunk:
                    raise HandlerDone("socks client hung up")
                data += chunk
            return data

        def trickle(data: bytes) -> None:
            for byte in data:
                if self.stopping.wait(self.delay) or time.monotonic() >= expires_at:
                    raise HandlerDone("socks budget")
                sock.sendall(bytes([byte]))

        version, count = recv_exact(2)
        methods = recv_exact(count)
        self.record.methods.append(methods)
        wanted = 0x02 if self.username is not None else 0x00
        if version != 5 or wanted not in methods:
            trickle(b"\x05\xff")
            return
        trickle(bytes([5, wanted]))
        if wanted == 0x02:
            _, user_len = recv_exact(2)
            user = recv_exact(user_len).decode("latin-1")
            (pass_len,) = recv_exact(1)
            password = recv_exact(pass_len).decode("latin-1")
            self.record.credentials.append((user, password))
            ok = self.accept and (user, password) == (self.username, self.password)
            trickle(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return
        _, command, _, kind = recv_exact(4)
        if kind == 1:
            host = socket.inet_ntoa(recv_exact(4))
        elif kind == 3:
            (length,) = recv_exact(1)
            host = recv_exact(length).decode("latin-1")
        elif kind == 4:
            host = socket.inet_ntop(socket.AF_INET6, recv_exact(16))
        else:
            trickle(b"\x05\x08\x00\x01\x00\x00\x00\x00\x00\x00")
            return
        port = int.from_bytes(recv_exact(2), "big")
        self.record.targets.append((host, port))
        if command != 1:
            trickle(b"\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00")
            return
        try:
            upstream = socket.create_connection((host, port), timeout=2)
        except OSError:
            trickle(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
            return
        with upstream:
            trickle(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + port.to_bytes(2, "big"))
            _relay(sock, upstream, self.stopping, expires_at)


def _relay(a: socket.socket, b: socket.socket, stopping: threading.Event, until: float) -> None:
    peers = {a: b, b: a}
    while not stopping.is_set() and time.monotonic() < until:
        ready, _, _ = select.select(list(peers), [], [], 0.05)
        for source in ready:
            data = source.recv(65536)
            if not data:
                return
            peers[source].sendall(data)


@contextlib.contextmanager
def serving(handler: Handler, **kwargs: Any) -> Iterator[HostileServer]:
    server = HostileServer(handler, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def chunked(pieces: Iterable[bytes], *, end: bool = True) -> bytes:
    """``pieces`` in chunked framing (with the final zero chunk when ``end``)."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    return out + (b"0\r\n\r\n" if end else b"")
