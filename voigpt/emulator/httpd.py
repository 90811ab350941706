"""The socket side: an accept loop that ``shutdown()`` wakes at once, and one daemon thread per
connection (TCP_NODELAY, the TLS handshake, an idle timeout, keep-alive) that writes each
response in one send. Nothing a client sends escapes as an exception from that thread."""

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
from http import HTTPStatus
from io import BufferedReader

from voigpt.emulator.records import RecordedRequest
from voigpt.emulator.responses import SERVER_ERROR_PAGES, Drop, Outcome, html, page
from voigpt.emulator.wire import BadRequest, ClientGone, read_head, send

IDLE_TIMEOUT = 60.0  # seconds a connection may stay silent, between or within requests
HANDSHAKE_TIMEOUT = 10.0
DISCARD_LIMIT = 64 * 1024 * 1024  # at most this much of a refused request is read and dropped


class HttpServer:
    """Listens on ``address``; ``serve()`` accepts until ``shutdown()``, ``close()`` then ends
    every connection. ``handle`` answers a whole request; ``record`` records one refused
    before its body was read."""

    def __init__(
        self, address: tuple[str, int], tls: ssl.SSLContext | None, *, logger: logging.Logger,
        handle: Callable[[RecordedRequest], Outcome], record: Callable[[RecordedRequest], None],
    ) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.create_server(address, family=family, backlog=128)
        self.socket.setblocking(False)
        self.port = int(self.socket.getsockname()[1])
        self.tls, self.handle, self.record, self.logger = tls, handle, record, logger
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._stopping = False
        self._wake_reader, self._wake_writer = socket.socketpair()

    def serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self._stopping:
                        self._accept()

    def _accept(self) -> None:
        try:
            sock, address = self.socket.accept()
        except BlockingIOError:  # the client gave up before it was accepted
            return
        except OSError:  # e.g. out of file descriptors: don't spin
            time.sleep(0.05)
            return
        sock.settimeout(IDLE_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:  # the handshake runs in the connection's thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        thread = threading.Thread(
            target=self._serve_connection,
            args=(sock, (str(address[0]), int(address[1]))),
            name=f"voigpt-emulator-{self.port}-conn-{address[1]}",
            daemon=True,
        )
        with self._lock:
            self._connections[sock] = thread
        thread.start()

    def _serve_connection(self, sock: socket.socket, client: tuple[str, int]) -> None:
        try:
            if isinstance(sock, ssl.SSLSocket):
                sock.settimeout(HANDSHAKE_TIMEOUT)
                sock.do_handshake()
                sock.settimeout(IDLE_TIMEOUT)
            with sock.makefile("rb") as rfile:
                while self._serve_request(sock, rfile, client):
                    pass
        except (OSError, ClientGone) as exc:  # closed, reset, timed out, failed TLS handshake
            self.logger.debug("connection from %s ended: %r", client, exc)
        except Exception:
            self.logger.exception("voigpt emulator: error serving %s", client)
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
            title = f"{exc.status} {HTTPStatus(exc.status).phrase}"
            error = page(title, f"<h1>{title}</h1>\n<p>{exc.message}</p>")
            send(sock, html(exc.status, error), keep_alive=False)
            _linger(sock, rfile)
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
            outcome = self.handle(request)
        except Exception:
            self.logger.exception("voigpt emulator: internal error")
            outcome = html(500, SERVER_ERROR_PAGES[500])
        if isinstance(outcome, Drop):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            return False
        bare = request.method == "HEAD"
        send(sock, outcome, keep_alive=head.keep_alive, http10=head.http10, bare=bare)
        return head.keep_alive

    def sockets(self) -> list[socket.socket]:
        """The open connections' sockets."""
        with self._lock:
            return list(self._connections)

    def shutdown(self) -> None:
        """Make ``serve()`` return at once."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    def close(self, timeout: float) -> None:
        """Close the listening socket, end every connection, join their threads (at most
        ``timeout`` in all). Call once ``serve()`` has returned."""
        for own in (self.socket, self._wake_reader, self._wake_writer):
            own.close()
        with self._lock:
            connections = dict(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))


def _linger(sock: socket.socket, rfile: BufferedReader) -> None:
    """Half-close, then read and drop what the client still sends (until it closes, pauses a
    second, or DISCARD_LIMIT), so that it reads the error rather than a connection reset."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        remaining = DISCARD_LIMIT
        while remaining > 0 and (chunk := rfile.read1(65536)):
            remaining -= len(chunk)
