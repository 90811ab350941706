"""One HTTP/1.1 connection to the site: an asyncio protocol whose answers httptools parses
(llhttp, the parser uvicorn serves with), one exchange at a time.

An exchange ends in ``Read`` or in a ``Broken`` reason that ``mapping.py`` turns into the
voigpt error; interim (1xx) answers are skipped. A connection is offered again only if its
exchange ended cleanly: the whole answer read, keep-alive, nothing after it or since.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import attrs
import httptools
from multidict import CIMultiDict

from voigpt.adapters.httptools.body import Body
from voigpt.adapters.site import declares_more_than

# "dropped": the connection ended before the answer's head was whole; "mid-reply": after
# it; "not-http": unparseable; "too-large": past the cap; "silent": a bound ran out.
Reason = Literal["dropped", "mid-reply", "not-http", "too-large", "silent"]


@attrs.frozen
class Read:
    status: int
    headers: CIMultiDict[str]
    body: bytes


@attrs.frozen
class Broken:
    reason: Reason
    began: bool  # some of the answer had arrived
    detail: str = ""  # the parser's error; for "silent", which bound: "read" or "bound"
    status: int = 0


class Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.lost = self.dirty = False  # dirty: bytes nobody asked for came
        self.last_read = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[Read | Broken] | None = None
        self._cap = 0
        self._start()

    def _start(self) -> None:
        self.began = self._head = self._interim = self._done = self._keep = False
        self._framed = False  # by Content-Length or chunks, not by the close
        self._status = 0
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._body: Body | None = None

    @property
    def reusable(self) -> bool:
        return (self._keep and self._done and not self.dirty and not self.lost
                and self.transport is not None and not self.transport.is_closing())

    def exchange(self, request: bytes, cap: int) -> asyncio.Future[Read | Broken]:
        """Send ``request``; the future of its answer."""
        assert self.transport is not None
        self._start()
        self._cap = cap
        self._answer = answer = self.loop.create_future()
        self.last_read = self.loop.time()
        self.transport.write(request)
        return answer

    def close(self) -> None:
        self._keep = False
        if self.transport is not None:
            self.transport.close()

    def end(self, outcome: Read | Broken) -> None:
        """The exchange is over (a bound ran out: ``Broken("silent")``, from ``within``)."""
        self._done = True
        if isinstance(outcome, Broken):
            self.close()
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_result(outcome)

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._done:
            self.dirty = True  # whatever they are, this connection is done
            self.close()
            return
        self.began = True
        self.last_read = self.loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self._done:  # bytes after the answer: it stands, the connection does not
                self.dirty = True
                self.close()
            else:
                self.end(Broken("not-http", True, type(exc).__name__))
        except httptools.HttpParserUpgrade:
            self.end(Broken("not-http", True, "HttpParserUpgrade"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._answer is None or self._done:
            return
        if self._head and not self._framed:  # the close ends the body
            self._finish()
        else:
            self.end(Broken("mid-reply" if self._head else "dropped", self.began,
                            status=self._status))

    # httptools' callbacks

    def on_message_begin(self) -> None:
        if self._done:
            self.dirty = True  # a second answer to one request

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._done:
            self._headers.add(name.decode("latin-1"),
                              value.decode("utf-8", errors="surrogateescape"))

    def on_headers_complete(self) -> None:
        if self._done:
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self._interim = True  # skipped: the real answer follows
            self._headers = CIMultiDict()
            return
        self._head, self._status, headers = True, status, self._headers
        declared = headers.get("Content-Length", "").strip()
        self._framed = bool(declared) or "chunked" in headers.get("Transfer-Encoding", "")
        if declares_more_than(declared, self._cap):
            self.end(Broken("too-large", True, status=status))
        else:
            self._body = Body(self._cap, headers.get("Content-Encoding", ""))

    def on_body(self, data: bytes) -> None:
        if self._done or self._interim or self._body is None:
            return
        self._body.add(data)
        if self._body.problem is not None:
            self.end(Broken(self._body.problem, True, status=self._status))

    def on_message_complete(self) -> None:
        if self._done:
            return
        if self._interim:
            self._interim = False
            return
        self._keep = self._parser.should_keep_alive()
        self._finish()

    def _finish(self) -> None:
        body = self._body or Body(self._cap, "")
        whole = body.finish()
        if whole is None:
            self.end(Broken(body.problem or "mid-reply", True, status=self._status))
        else:
            self.end(Read(self._status, self._headers, whole))


async def within(connection: Connection, answer: asyncio.Future[Read | Broken], read: float,
                 bound: float) -> Read | Broken:
    """The answer, or ``Broken("silent")`` once nothing has come for ``read`` seconds or
    the exchange's ``bound`` (loop time) has passed: one timer, moved on when it fires."""
    loop = connection.loop
    timers: list[asyncio.TimerHandle] = []

    def check() -> None:
        if answer.done():
            return
        now = loop.time()
        if now >= bound or now >= connection.last_read + read:
            connection.end(Broken("silent", connection.began, "bound" if now >= bound
                                  else "read"))
        else:  # something came meanwhile: the silence counts from it
            timers[0] = loop.call_at(min(connection.last_read + read, bound), check)

    timers.append(loop.call_at(min(connection.last_read + read, bound), check))
    try:
        return await answer
    finally:
        timers[0].cancel()
