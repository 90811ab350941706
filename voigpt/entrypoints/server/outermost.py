"""The ASGI layer ``voigpt serve``'s connections run each request through, outside the app
(and outside uvicorn's proxy-headers middleware): what uvicorn's request cycle would
otherwise decide in plain text, answered in OpenAI's shape.

- A head over the cap is refused with 431 before the app sees it. ``connections.py``
  refuses a head that passes the cap while it is still arriving; this catches one that
  arrived whole in a single read (up to the read size, 256 KiB), so the cap is exact.
- A request the server cancels (SIGTERM, then ``--drain-timeout`` passed) before it has
  an answer gets a 503, where uvicorn would send a plain 500.
- An app that raises, or returns, without starting an answer gets a 500 (only the
  exception's class is logged, as the app's own handler does).
"""

from __future__ import annotations

import asyncio
import logging

from voigpt.entrypoints.server import errors
from voigpt.entrypoints.server.errors import ErrorAnswers
from voigpt.entrypoints.server.gate import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("voigpt.server")


class Outermost:
    def __init__(self, app: ASGIApp, *, max_header_bytes: int, answers: ErrorAnswers) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if head_size(scope) > self.max_header_bytes:
            await self.answer(errors.head_too_large(self.max_header_bytes), scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not _unanswered(send):
                raise
            # The request's task ends here, with its answer; nothing awaits it.
            logger.warning("%s %s cut short: the server stopped before it had an answer",
                           scope["method"], scope["path"])
            await self.answer(errors.shutting_down(), scope, receive, send)
        except Exception as exc:
            if not _unanswered(send):
                raise
            await self.answer(exc, scope, receive, send)
        else:
            if _unanswered(send):
                logger.error("%s %s: the app returned without an answer",
                             scope["method"], scope["path"])
                await self.answer(errors.no_answer(), scope, receive, send)

    async def answer(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        await self.answers(exc, scope)(scope, receive, send)


def head_size(scope: Scope) -> int:
    """The bytes of the request line and headers, as a client that writes them plainly
    (``Name: value``, one space) sends them."""
    target = len(scope["raw_path"]) + (len(scope["query_string"]) + 1
                                       if scope["query_string"] else 0)
    size = len(scope["method"]) + 1 + target + len(" HTTP/1.1\r\n") + 2
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4
    return size


def _unanswered(send: Send) -> bool:
    """Whether uvicorn's request cycle, whose bound method ``send`` is, has started no
    answer yet and still has a client: what uvicorn itself decides its 500 by. If ``send``
    is anything else, uvicorn decides."""
    cycle = getattr(send, "__self__", None)
    return (cycle is not None and getattr(cycle, "response_started", None) is False
            and getattr(cycle, "disconnected", None) is False)
