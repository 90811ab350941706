"""The socket server: one daemon thread per connection, TCP_NODELAY, optional TLS, an accept
loop that ``shutdown()`` wakes at once, and ``close_connections()`` to end idle keep-alive
connections."""

from __future__ import annotations

import contextlib
import functools
import selectors
import socket
import socketserver
import ssl
import threading
import time
from http.server import HTTPServer
from typing import Any

from voigpt.emulator.handler import EmulatorHandler
from voigpt.emulator.website import Site

_Request = socket.socket | tuple[bytes, socket.socket]
_HANDSHAKE_TIMEOUT = 10.0


class EmulatorHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
    """``ThreadingHTTPServer`` that tracks its connections so ``close_connections`` can end them."""

    daemon_threads = True
    block_on_close = False  # close_connections() does the joining
    allow_reuse_address = True
    request_queue_size = 128
    timeout = 0.5  # bounds handle_request() should a pending connection vanish before accept

    def __init__(
        self, address: tuple[str, int], site: Site, *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.site = site
        self.tls = tls
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._shutdown_requested = threading.Event()
        self._loop_done = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(address, functools.partial(EmulatorHandler, site=site))

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept connections until ``shutdown()``, which wakes this loop at once."""
        self._loop_done.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._shutdown_requested.is_set():
                    for key, _ in selector.select(poll_interval):
                        if key.fileobj is self.socket and not self._shutdown_requested.is_set():
                            self.handle_request()  # the socket is readable: accepts at once
        finally:
            self._loop_done.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` and wait for it; it must be running or about to run."""
        self._shutdown_requested.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        self._loop_done.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a DNS lookup that can be slow.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            # The handshake runs in the connection's own thread, never in the accept loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request: _Request, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"voigpt-emulator-{self.server_port}-conn-{client_address[1]}",
            daemon=True,
        )
        with self._lock:
            if isinstance(request, socket.socket):
                self._connections.add(request)
            self._handler_threads.add(thread)
        thread.start()

    def _serve_connection(self, request: _Request, client_address: Any) -> None:
        try:
            if isinstance(request, ssl.SSLSocket) and not self._handshake(request):
                self.shutdown_request(request)
                return
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                if isinstance(request, socket.socket):
                    self._connections.discard(request)
                self._handler_threads.discard(threading.current_thread())

    def _handshake(self, connection: ssl.SSLSocket) -> bool:
        """Complete the TLS handshake within a bound; False (logged) when the client fails it,
        e.g. because it does not trust the certificate."""
        connection.settimeout(_HANDSHAKE_TIMEOUT)
        try:
            connection.do_handshake()
        except (OSError, ssl.SSLError):
            self.site.logger.debug("TLS handshake failed", exc_info=True)
            return False
        connection.settimeout(None)
        return True

    def handle_error(self, request: _Request, client_address: Any) -> None:
        self.site.logger.debug(
            "connection from %s ended with an error", client_address, exc_info=True
        )

    def close_connections(self, timeout: float) -> None:
        """Shut down every open connection and join its thread (waiting at most ``timeout``)."""
        with self._lock:
            connections = list(self._connections)
            threads = list(self._handler_threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
