"""``voigpt serve``'s HTTP/1.1 connections: uvicorn's own protocols (httptools, or h11 when
httptools is not installed), each with a ``Watch`` (``watch.py``: the head cap, the head
and body timeouts, refusals in OpenAI's shape), and uvicorn's config that picks them and
puts the app inside ``Outermost`` (``outermost.py``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from typing import Any, Literal

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from voigpt.entrypoints.server import errors
from voigpt.entrypoints.server.errors import ErrorAnswers
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.outermost import Outermost
from voigpt.entrypoints.server.watch import Limits, Watch

HTTP = Literal["httptools", "h11"]


class ServerConfig(uvicorn.Config):
    """uvicorn's config for ``voigpt serve``: these connections (``http``: httptools when
    installed, as uvicorn would pick), no WebSocket (the app has no WebSocket route, so an
    ``Upgrade`` request is answered as plain HTTP), and once loaded, the app inside
    ``Outermost``. Picklable for ``--workers``: each process loads its own app."""

    def __init__(self, app: Any, limits: Limits, *, http: HTTP | None = None,
                 **options: Any) -> None:
        http = http or ("httptools" if importlib.util.find_spec("httptools") else "h11")
        name = "GuardedHttpTools" if http == "httptools" else "GuardedH11"
        super().__init__(app, http=f"{__name__}:{name}", ws="none",
                         h11_max_incomplete_event_size=limits.max_header_bytes, **options)
        self.limits = limits
        self.answers: ErrorAnswers | None = None  # once loaded: with the app's metrics

    def load(self) -> None:
        super().load()
        self.answers = ErrorAnswers(_metrics_of(self.loaded_app))
        self.loaded_app = Outermost(self.loaded_app, answers=self.answers,
                                    max_header_bytes=self.limits.max_header_bytes)


def _metrics_of(app: Any) -> ServerMetrics:
    """The metrics of the voigpt app inside uvicorn's middleware (``app.state.metrics``),
    so that these refusals are counted with the app's; a registry of their own otherwise."""
    while app is not None:
        metrics = getattr(getattr(app, "state", None), "metrics", None)
        if isinstance(metrics, ServerMetrics):
            return metrics
        app = getattr(app, "app", None)
    return ServerMetrics()


def _watch(connection: Any, config: uvicorn.Config) -> Watch:
    if not isinstance(config, ServerConfig) or config.answers is None:
        raise TypeError("voigpt's connections need a loaded ServerConfig")
    return Watch(connection, config.limits, config.answers)


class GuardedH11(H11Protocol):
    def __init__(self, config: uvicorn.Config, server_state: ServerState,
                 app_state: dict[str, Any], _loop: asyncio.AbstractEventLoop | None = None,
                 ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.watch = _watch(self, config)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.watch.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        self.watch.closed()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.watch.received(data, super().data_received, self._head_pending)

    def _head_pending(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.watch.answered()

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this from its ``except h11.RemoteProtocolError`` clause.
        problem = sys.exc_info()[1]
        too_large = getattr(problem, "error_status_hint", 400) == 431
        self.watch.refuse(errors.head_too_large(self.watch.limits.max_header_bytes)
                          if too_large else errors.not_http())

    def _unsupported_upgrade_warning(self) -> None:
        self.logger.debug("an Upgrade request, answered as plain HTTP")


if importlib.util.find_spec("httptools") is not None:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpTools(HttpToolsProtocol):
        def __init__(self, config: uvicorn.Config, server_state: ServerState,
                     app_state: dict[str, Any],
                     _loop: asyncio.AbstractEventLoop | None = None) -> None:
            super().__init__(config, server_state, app_state, _loop)
            self.watch = _watch(self, config)
            self.head_open = False  # between the first byte of a request and its head's end

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.watch.opened()

        def connection_lost(self, exc: Exception | None) -> None:
            self.watch.closed()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self.watch.received(data, super().data_received, self._head_pending)

        def _head_pending(self) -> bool:
            return self.head_open

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.head_open = True
            self.watch.head_bytes = 0

        def on_headers_complete(self) -> None:
            self.head_open = False
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self.watch.answered()

        def send_400_response(self, msg: str) -> None:
            # uvicorn calls this from its ``except httptools.HttpParserError`` clause.
            problem = sys.exc_info()[1]
            method = isinstance(problem, httptools.HttpParserInvalidMethodError)
            self.watch.refuse(errors.not_http(method=method))

        def _unsupported_upgrade_warning(self) -> None:
            self.logger.debug("an Upgrade request, answered as plain HTTP")

