"""``Emulator``: the site served over HTTP(S) on a local port, started and stopped at will."""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from voigpt.emulator.httpd import HttpServer
from voigpt.emulator.records import RecordedRequest
from voigpt.emulator.site import Site

LOGGER_NAME = "voigpt.emulator"
_JOIN_TIMEOUT = 5.0


class Emulator(Site):
    """A faithful local voigpt.com: ``GET /`` issues a CSRF cookie, ``POST /generate_response/``
    answers ``reply_for(messages)``. Threaded HTTP/1.1 with keep-alive, quiet by default.

    ``with Emulator() as emu:`` starts it on a free port of ``host`` and stops it afterwards.
    ``control=True`` also serves ``/__emulator__/faults`` and ``/__emulator__/state``.
    ``tls`` (a server-side ``ssl.SSLContext`` with a certificate) makes it speak HTTPS.
    Like Django, it refuses (403) a POST whose ``Origin`` is neither ``scheme://Host`` nor in
    ``trusted_origins``, and over HTTPS one without an Origin whose ``Referer`` is missing or
    not an https URL of this host or of a trusted origin.
    ``observer(request)`` sees each recorded request in its connection's thread before the
    answer is sent (the connection still open); if it raises, the exception is logged on the
    emulator's logger and the request is served all the same.

    The records are bounded: ``requests`` holds the latest 1,000 requests and at most 8 MiB of
    their bodies, ``tokens_issued`` and ``rejections`` the latest 1,000 each, evicting the
    oldest first; ``totals`` and ``completions`` count everything. Of the tokens issued, the
    newest 100,000 stay valid until revoked; older ones count as revoked.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        control: bool = False,
        logger: logging.Logger | None = None,
        tls: ssl.SSLContext | None = None,
        trusted_origins: Iterable[str] = (),
        observer: Callable[[RecordedRequest], object] | None = None,
    ) -> None:
        super().__init__(
            control=control, logger=logger or logging.getLogger(LOGGER_NAME),
            secure=tls is not None, trusted_origins=trusted_origins, observer=observer,
        )
        self._host, self._requested_port, self._tls = host, port, tls
        self._lifecycle = threading.RLock()  # re-entrant: stop() may run in a signal handler
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns at once. An Emulator starts only once."""
        with self._lifecycle:
            if self._stopping.is_set():
                raise RuntimeError("this Emulator was stopped; create a new one")
            if self._server is not None:
                raise RuntimeError("this Emulator is already running")
            self._server = HttpServer(
                (self._host, self._requested_port), self._tls,
                handle=self._handle, record=self._record, logger=self._logger,
            )
            self._netloc = urlsplit(self.url).netloc
            self._thread = threading.Thread(
                target=self._server.serve, name=f"voigpt-emulator-{self.port}", daemon=True
            )
            self._thread.start()
            self._logger.debug("voigpt emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and every connection, join the threads. Idempotent;
        safe from another thread or a signal handler."""
        with self._lifecycle:
            if self._stopping.is_set():  # stopped, or being stopped by this very thread
                return
            self._stopping.set()
            if self._server is not None and self._thread is not None:
                self._server.shutdown()
                self._thread.join(_JOIN_TIMEOUT)
                self._server.close(_JOIN_TIMEOUT)
                self._logger.debug("voigpt emulator stopped")

    def __enter__(self) -> Emulator:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the OS-chosen one when created with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("the Emulator has not been started")
        return self._server.port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with TLS), without a trailing slash."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{'https' if self._tls is not None else 'http'}://{host}:{self.port}"

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not started"
        state = "stopped" if self._stopping.is_set() else "running" if self._server else "new"
        return f"<Emulator {where} {state}>"
