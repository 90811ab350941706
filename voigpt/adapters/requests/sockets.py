"""Sockets that keep one deadline over a whole exchange.

urllib3 bounds each socket operation by the read timeout, so a server that trickles its
headers or body, byte by byte, keeps a call busy for as long as it likes. These sockets
(plain, TLS, SOCKS) bound each operation by the time left until the deadline of the
exchange in progress on this thread (``exchange.py``), so the exchange as a whole ends on
time, handshakes and every redirect hop included.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import socks

from voigpt.adapters.requests.exchange import current_deadline

_SLACK = 0.05


class DeadlinePassed(TimeoutError):
    """A socket operation was cut short by the exchange's deadline, not its own timeout."""


class _Bounded:
    """Mixed into a socket class: each operation waits at most the per-operation timeout
    that urllib3 set, and never past the thread's deadline."""

    _op_timeout: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._op_timeout = value
        super().settimeout(value)  # type: ignore[misc]

    def _bounded(self, operation: Callable[..., Any], *args: Any) -> Any:
        expires_at = current_deadline()
        if expires_at is None:
            return operation(*args)
        left = expires_at - time.monotonic()
        if left <= 0:
            raise DeadlinePassed("the deadline passed")
        op = self._op_timeout
        cut = op is None or left < op - _SLACK  # else the operation's own timeout binds
        super().settimeout(min(left, op) if op is not None else left)  # type: ignore[misc]
        try:
            return operation(*args)
        except TimeoutError:
            if cut:
                raise DeadlinePassed("the deadline passed") from None
            raise

    def send(self, *args: Any) -> Any:
        return self._bounded(super().send, *args)  # type: ignore[misc]

    def sendall(self, *args: Any) -> Any:
        return self._bounded(super().sendall, *args)  # type: ignore[misc]

    def recv(self, *args: Any) -> Any:
        return self._bounded(super().recv, *args)  # type: ignore[misc]

    def recv_into(self, *args: Any) -> Any:
        return self._bounded(super().recv_into, *args)  # type: ignore[misc]


class BoundedSocket(_Bounded, socket.socket):
    pass


class BoundedSSLSocket(_Bounded, ssl.SSLSocket):
    """``recv``/``recv_into`` go through ``read``; the handshake is an operation too."""

    def read(self, *args: Any) -> Any:
        return self._bounded(super().read, *args)

    def do_handshake(self, *args: Any) -> None:
        self._bounded(super().do_handshake, *args)


class BoundedSocksSocket(_Bounded, socks.socksocket):
    pass


def keeping_deadline(context: ssl.SSLContext) -> ssl.SSLContext:
    """``context``, whose TLS sockets keep the deadline."""
    context.sslsocket_class = BoundedSSLSocket
    return context


def adopt(sock: socket.socket) -> socket.socket:
    """``sock`` (just connected) as a socket that keeps the deadline."""
    timeout = sock.gettimeout()
    bounded = BoundedSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    bounded.settimeout(timeout)
    return bounded


