"""urllib3 connections and pools that open deadline-keeping sockets (``sockets.py``) and
read past interim answers.

The response class skips every interim (1xx) answer, not only ``100 Continue``: reading a
``103 Early Hints`` as the answer would leave the real one unread on a pooled connection,
for the next call to take as its own. It also notes when the answer's first byte arrives
(``exchange.answer_began``): whether a broken POST may be sent again depends on it.
"""

from __future__ import annotations

import http.client
import socket
from typing import Any

import socks
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.contrib.socks import SOCKSConnection, SOCKSProxyManager
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.ssl_ import create_urllib3_context

from voigpt.adapters.requests.exchange import answer_began
from voigpt.adapters.requests.sockets import BoundedSocksSocket, adopt, keeping_deadline

_MAX_INTERIM = 32


class _FinalResponse(http.client.HTTPResponse):
    def begin(self) -> None:
        # Wait for the answer's first byte (or the connection's end) and note that it came:
        # a connection that breaks from then on may have had its request processed.
        if self.fp is not None and self.fp.peek(1):
            answer_began()
        super().begin()

    def _read_status(self) -> tuple[str, int, str]:
        for _ in range(_MAX_INTERIM):
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 < status < 200 or status == 101:  # begin() itself skips a 100
                return version, status, reason
            http.client._read_headers(self.fp)  # type: ignore[attr-defined]
        raise http.client.HTTPException(f"more than {_MAX_INTERIM} interim (1xx) responses")


class _Connection(HTTPConnection):
    response_class = _FinalResponse

    def _new_conn(self) -> socket.socket:
        return adopt(super()._new_conn())


class _TLSConnection(HTTPSConnection):
    response_class = _FinalResponse

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.ssl_context is None:
            self.ssl_context = keeping_deadline(create_urllib3_context())

    def _new_conn(self) -> socket.socket:
        return adopt(super()._new_conn())


class _SocksConnection(SOCKSConnection):
    """urllib3's SOCKS connection, with the handshake on a bounded socket."""

    response_class = _FinalResponse

    def _new_conn(self) -> socks.socksocket:
        options = self._socks_options
        proxy = (options["proxy_host"] or "").strip("[]")
        port = int(options["proxy_port"] or 1080)
        try:
            sock = BoundedSocksSocket(*_family_of(proxy, port))
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(self.timeout)
            sock.set_proxy(
                options["socks_version"], proxy, port, options["rdns"],
                options["username"], options["password"],
            )
            try:
                sock.connect((self.host.strip("[]"), self.port))
            except BaseException:
                sock.close()
                raise
            return sock
        except (TimeoutError, socks.ProxyError) as exc:
            cause = getattr(exc, "socket_err", None) or exc
            if isinstance(cause, TimeoutError):
                raise ConnectTimeoutError(self, f"connecting to {self.host} timed out") from exc
            raise NewConnectionError(self, f"failed to establish a connection: {exc}") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"failed to establish a connection: {exc}") from exc


def _family_of(host: str, port: int) -> tuple[socket.AddressFamily, socket.SocketKind, int]:
    family, kind, proto, _, _ = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    return family, kind, proto


class _SocksTLSConnection(_SocksConnection, _TLSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class _SocksPool(HTTPConnectionPool):
    ConnectionCls = _SocksConnection


class _SocksTLSPool(HTTPSConnectionPool):
    ConnectionCls = _SocksTLSConnection


POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _Pool, "https": _TLSPool}
SOCKS_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _SocksPool, "https": _SocksTLSPool}


def use_bounded_pools(manager: Any) -> Any:
    """Make a urllib3 pool manager (direct, proxy or SOCKS) open bounded connections."""
    socks_manager = isinstance(manager, SOCKSProxyManager)
    manager.pool_classes_by_scheme = SOCKS_POOLS if socks_manager else POOLS
    return manager
