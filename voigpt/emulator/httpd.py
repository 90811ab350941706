"""The socket side: an accept loop, and a daemon thread per connection (TCP_NODELAY, TLS, an
idle timeout, keep-alive) from which nothing a client sends escapes as an exception."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from io import BufferedReader

from voigpt.emulator.records import RecordedRequest
from voigpt.emulator.responses import SERVER_ERROR_PAGES, Response, error, html
from voigpt.emulator.wire import BadRequest, read_head, send

LOGGER = logging.getLogger("voigpt.emulator")
IDLE_TIMEOUT = 60.0  # seconds a connection may stay silent (handshake, requests, in between)
DISCARD_LIMIT = 64 * 1024 * 1024  # at most this much of a refused request is read and dropped


class HttpServer:
    """Listens on ``address`` and serves in daemon threads until ``close()``. ``handle``
    answers a whole request (None: drop the connection); ``record`` records one refused before
    its body was read."""

    def __init__(
        self, address: tuple[str, int], tls: ssl.SSLContext | None,
        handle: Callable[[RecordedRequest], Response | None],
        record: Callable[[RecordedRequest], None],
    ) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.create_server(address, family=family, backlog=1024)
        self.socket.setblocking(False)
        self.port = int(self.socket.getsockname()[1])
        self.tls, self.handle, self.record = tls, handle, record
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._closing = False
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"voigpt-emulator-{self.port}", daemon=True
        )
        self._accepter.start()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while selector.select() and not self._closing:  # the wake socket: closing
                self._accept()

    def _accept(self) -> None:
        try:
            sock, address = self.socket.accept()
        except OSError:  # the client gave up before it was accepted, or out of descriptors
            time.sleep(0.01)  # don't spin
            return
        sock.settimeout(IDLE_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:  # the handshake runs in the connection's thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        client = (str(address[0]), int(address[1]))
        thread = threading.Thread(
            target=self._serve_connection, args=(sock, client),
            name=f"voigpt-emulator-{self.port}-conn-{client[1]}", daemon=True,
        )
        with self._lock:
            self._connections[sock] = thread
        thread.start()

    def _serve_connection(self, sock: socket.socket, client: tuple[str, int]) -> None:
        try:
            if isinstance(sock, ssl.SSLSocket):
                sock.do_handshake()
            with sock.makefile("rb") as rfile:
                while self._serve_request(sock, rfile, client):
                    pass
        except OSError as exc:  # closed (mid-request too), reset, timed out, failed handshake
            LOGGER.debug("connection from %s ended: %r", client, exc)
        except Exception:
            LOGGER.exception("voigpt emulator: error serving %s", client)
        finally:
            sock.close()
            with self._lock:
                self._connections.pop(sock, None)

    def _serve_request(
        self, sock: socket.socket, rfile: BufferedReader, client: tuple[str, int]
    ) -> bool:
        """Read and answer one request; whether the connection stays open for another."""
        try:
            head = read_head(rfile, client)
        except BadRequest as exc:
            if exc.request is not None:
                self.record(exc.request)
            send(sock, error(exc.status, str(exc)))
            # Half-close, then drop what the client still sends (until it closes, pauses a
            # second, or DISCARD_LIMIT), so that it reads the error rather than a reset.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(1.0)
                remaining = DISCARD_LIMIT
                while remaining > 0 and (chunk := rfile.read1(65536)):
                    remaining -= len(chunk)
            return False
        if head is None:
            return False
        if head.length and head.request.headers.get("expect", "").lower() == "100-continue":
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = rfile.read(head.length) if head.length else b""
        if len(body) < head.length:
            return False  # the client went away mid-body: never serve half a request
        request = replace(head.request, body=body) if body else head.request
        try:
            response = self.handle(request)
        except Exception:
            LOGGER.exception("voigpt emulator: internal error")
            response = html(500, SERVER_ERROR_PAGES[500])
        if response is None:
            return False  # closed unanswered
        send(sock, response, head)
        return head.keep_alive

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, close the listening socket, end every connection and join the
        threads, within ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        self._closing = True
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        self._accepter.join(timeout)
        for own in (self.socket, self._wake_reader, self._wake_writer):
            own.close()
        with self._lock:
            connections = dict(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))
