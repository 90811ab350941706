"""The connections of the aiohttp sessions: which pooled ones may be reused, and whether
the answer to the request in flight has begun.

Both work inside aiohttp's connector and protocol, below the session: a pooled connection is
reused only if nothing arrived on it while it was idle, and each connection notes the first
byte of every answer, so that a broken exchange can tell "never sent" from "maybe
processed" (``watching_answer``, read by the endpoint when it maps the failure).
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler


class AnswerWatch:
    """Whether any byte of the answer to the request in flight has arrived: from then on,
    a broken connection may have had its request processed. Set by ``_Watching``."""

    __slots__ = ("began",)

    def __init__(self) -> None:
        self.began = False


_WATCH: contextvars.ContextVar[AnswerWatch | None] = contextvars.ContextVar(
    "voigpt_answer_watch", default=None
)


class watching_answer:
    """The ``AnswerWatch`` of the requests the current task makes within the block. A plain
    context manager, not a generator's: it is on every completion's path."""

    __slots__ = ("_token", "_watch")

    def __enter__(self) -> AnswerWatch:
        self._watch = watch = AnswerWatch()
        self._token = _WATCH.set(watch)
        return watch

    def __exit__(self, *exc_info: object) -> None:
        _WATCH.reset(self._token)


class _Watching(ResponseHandler):
    """aiohttp's protocol of a connection, noting the first byte of each answer into the
    ``AnswerWatch`` of the task that asked for it: aiohttp calls ``set_response_params``,
    in that task, before each request it sends (and before a CONNECT to a proxy)."""

    _watch: AnswerWatch | None = None

    def set_response_params(self, **kwargs: Any) -> None:
        self._watch = watch = _WATCH.get()
        if watch is not None:
            watch.began = False  # bytes so far were another answer's (a proxy's CONNECT)
        super().set_response_params(**kwargs)

    def data_received(self, data: bytes) -> None:
        if data and self._watch is not None:
            self._watch.began = True
        super().data_received(data)


class ReuseOnlyClean:
    """Mixed into a connector: a pooled connection is handed out only if nothing arrived on
    it since its last exchange ended (no queued answer, no unread bytes, no error). aiohttp
    checks only that it is still connected; bytes a server sends on an idle connection
    would otherwise be read as the next request's answer. Its connections watch their
    answers (``_Watching``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        connector: Any = self  # aiohttp's connector: its protocol factory is ``_factory``
        connector._factory = functools.partial(_Watching, loop=connector._loop)

    async def _get(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection | None:
        while True:
            connection: aiohttp.connector.Connection | None = await super()._get(  # type: ignore[misc]
                *args, **kwargs
            )
            protocol = connection.protocol if connection is not None else None
            if connection is None or (protocol is not None and not protocol.should_close):
                return connection
            connection.close()


class CleanConnector(ReuseOnlyClean, aiohttp.TCPConnector):
    """The sessions' connector (a SOCKS proxy's is ``socks.socks_connector``)."""
