"""``Emulator``: the site served over HTTP(S) on a local port, started and stopped at will."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterable

from voigpt.emulator.chat import reply_for
from voigpt.emulator.httpd import HttpServer
from voigpt.emulator.records import RecordedRequest
from voigpt.emulator.script import ReplyFunction
from voigpt.emulator.site import LOGGER, Site


class Emulator(Site):
    """A faithful local voigpt.com, threaded HTTP/1.1 with keep-alive, quiet by default:
    ``GET /`` issues a CSRF cookie, ``POST /generate_response/`` answers ``reply_for(messages)``.
    ``with Emulator() as emu:`` starts it on a free port of ``host`` and stops it afterwards.

    Scripting what the "model" answers (a JSON tool call, say): ``reply=fn`` replaces the echo
    with ``fn(messages) -> str`` (the request's messages, dicts with "role" and "content"), and
    ``queue_replies(*texts_or_fns)`` queues answers that come first, in order, each used once:

        with Emulator(reply=lambda messages: "OK") as emu:
            emu.queue_replies('{"tool": "search", "arguments": {"q": "weather"}}')
            Client(base_url=emu.url).ask("hi")  # the JSON above; then "OK", "OK"...

    ``clear_replies()`` empties the queue, ``replies_pending`` counts it. A reply function
    that raises or returns a non-str is logged, and the request answered Django's 500.

    ``control=True`` adds ``/__emulator__/faults``, ``/__emulator__/replies`` (POST
    ``{"replies": [...]}`` queues texts, DELETE clears) and ``/__emulator__/state``; ``tls`` (a
    server-side ``ssl.SSLContext``) makes it speak HTTPS; ``trusted_origins`` pass Django's
    Origin and Referer checks besides the site's own (its URL, and https://voigpt.com, the
    site it stands in for); ``observer(request)`` sees each recorded request before it is
    answered (if it raises, that is logged and the request served).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, control: bool = False,
        tls: ssl.SSLContext | None = None, trusted_origins: Iterable[str] = (),
        observer: Callable[[RecordedRequest], object] | None = None,
        reply: ReplyFunction = reply_for,
    ) -> None:
        super().__init__(
            control=control, secure=tls is not None, trusted_origins=trusted_origins,
            observer=observer, reply=reply,
        )
        self.host, self._port, self._tls = host, port, tls
        self._lifecycle = threading.RLock()  # re-entrant: stop() may run in a signal handler
        self._server: HttpServer | None = None

    def start(self) -> Emulator:
        """Bind and serve in daemon threads; returns at once. An Emulator starts only once."""
        with self._lifecycle:
            if self._server is not None or self._stopping.is_set():
                raise RuntimeError("an Emulator starts only once; create a new one")
            address = (self.host, self._port)
            self._server = HttpServer(address, self._tls, self._handle, self._record)
            LOGGER.debug("voigpt emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and every connection, join the threads. Idempotent;
        safe from another thread or a signal handler."""
        with self._lifecycle:
            if self._stopping.is_set():  # stopped, or being stopped by this very thread
                return
            self._stopping.set()
            if self._server is not None:
                self._server.close()
                LOGGER.debug("voigpt emulator stopped")

    def __enter__(self) -> Emulator:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the OS-chosen one when created with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("the Emulator has not been started")
        return self._server.port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with TLS), without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self._tls is not None else 'http'}://{host}:{self.port}"
