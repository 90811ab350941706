"""``Emulator``: a local voigpt.com with recorded state and fault injection."""

from __future__ import annotations

import logging
import ssl
import threading
from types import TracebackType

from voigpt.emulator.faults import Fault
from voigpt.emulator.httpd import EmulatorHTTPServer
from voigpt.emulator.records import RecordedRequest, Rejection
from voigpt.emulator.website import Site

LOGGER_NAME = "voigpt.emulator"
_POLL_INTERVAL = 0.5  # a safety net: shutdown() wakes the accept loop at once anyway
_JOIN_TIMEOUT = 5.0


class Emulator:
    """A faithful local voigpt.com: ``GET /`` issues a CSRF cookie, ``POST /generate_response/``
    answers ``reply_for(messages)``. Threaded HTTP/1.1 with keep-alive, quiet by default.

    ``with Emulator() as emu:`` starts it on a free port of ``host`` and stops it afterwards.
    With ``control=True`` it also serves ``/__emulator__/faults`` and ``/__emulator__/state``.
    With ``tls=`` (a server-side ``ssl.SSLContext`` holding a certificate) it speaks HTTPS
    and ``url`` starts with ``https://``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        control: bool = False,
        logger: logging.Logger | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._tls = tls
        self._requested_port = port
        self._logger = logger or logging.getLogger(LOGGER_NAME)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._site = Site(control=control, logger=self._logger, stopping=self._stopping)
        self._lifecycle = threading.RLock()  # re-entrant: stop() may run in a signal handler
        self._httpd: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns at once. An Emulator starts only once."""
        with self._lifecycle:
            if self._stopping.is_set():
                raise RuntimeError("this Emulator was stopped; create a new one")
            if self._httpd is not None:
                raise RuntimeError("this Emulator is already running")
            httpd = EmulatorHTTPServer(
                (self._host, self._requested_port), self._site, tls=self._tls
            )
            self._httpd = httpd
            self._port = int(httpd.server_address[1])
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL},
                name=f"voigpt-emulator-{self._port}",
                daemon=True,
            )
            self._thread.start()
            self._logger.debug("voigpt emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and every connection, join the threads. Idempotent;
        safe from another thread or from a signal handler."""
        with self._lifecycle:
            if self._stopped.is_set():
                return
            self._stopping.set()  # also wakes SLOW faults
            httpd, thread = self._httpd, self._thread
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
                httpd.close_connections(_JOIN_TIMEOUT)
            if thread is not None:
                thread.join(_JOIN_TIMEOUT)
            self._stopped.set()
            self._logger.debug("voigpt emulator stopped")

    def serve_forever(self) -> None:
        """Start (unless running) and block until ``stop()`` is called, e.g. from a signal
        handler or another thread. On ``KeyboardInterrupt`` it stops, then re-raises."""
        if self._httpd is None:
            self.start()
        try:
            self._stopped.wait()
        finally:
            self.stop()

    def __enter__(self) -> Emulator:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- address -----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the OS-chosen one when created with ``port=0``)."""
        if self._port is None:
            raise RuntimeError("the Emulator has not been started")
        return self._port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with TLS), without a trailing slash."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        state = "stopped" if self._stopped.is_set() else "running" if self._httpd else "new"
        return f"<Emulator {where} {state}>"

    # -- faults ------------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault | str,
        *,
        times: int | None = 1,
        endpoint: str = "generate",
        **params: object,
    ) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``endpoint`` ("generate" for
        ``POST /generate_response/``, "token" for ``GET /``, or "any"); ``times=None`` keeps it
        until ``clear_faults()``. Faults apply in FIFO order, one per matching request."""
        self._site.faults.push(fault, times=times, endpoint=endpoint, params=params)

    def clear_faults(self) -> None:
        self._site.faults.clear()

    def revoke_tokens(self) -> None:
        """Revoke every token issued so far: POSTs with them get 403 until a new ``GET /``."""
        self._site.tokens.revoke_all()

    # -- records -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received (control-endpoint traffic excluded)."""
        return self._site.recorder.requests

    @property
    def tokens_issued(self) -> list[str]:
        return self._site.recorder.tokens

    @property
    def rejections(self) -> list[Rejection]:
        return self._site.recorder.rejections

    @property
    def completions(self) -> int:
        """How many ``POST /generate_response/`` were answered with a reply."""
        return self._site.recorder.completions

    def reset_records(self) -> None:
        """Forget recorded requests, tokens, rejections and completions. Tokens stay valid and
        queued faults stay queued."""
        self._site.recorder.reset()
