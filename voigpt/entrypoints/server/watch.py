"""One connection's limits and refusals (``Watch``), driven by its protocol
(``connections.py``), for what uvicorn leaves unbounded or answers in plain text:

- The request head (request line and headers) is capped at ``max_header_bytes``, counted
  as it arrives: once it passes the cap the request is refused with 431, without reading
  the rest (``outermost.py`` makes the cap exact for a head that came in one read).
- A head must arrive whole within ``head_timeout`` seconds of the connection opening, or
  of the previous answer on it: else a 408, or a plain close if not one byte came.
- A body must arrive whole within ``body_timeout`` seconds of its head: else a 408, and
  the app sees the client go. While the app has not taken what arrived (uvicorn stops
  reading), the wait is the server's, and the clock starts again.
- A head or chunked body the parser cannot read is a 400 (uvicorn's was plain text).

Each refusal is in OpenAI's shape (``errors.py``), is counted in
``voigpt_server_rejections_total``, and ends the connection: the answer, then the server's
end of it, then ``LINGER`` seconds in which what the client still sends is read and dropped
(closed with its bytes unread, the connection would be reset, and a client still sending an
8 MiB head would see the reset, not the answer).
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Callable
from typing import Any, Protocol

import attrs
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.server import ServerState

from voigpt.entrypoints.server import errors
from voigpt.entrypoints.server.errors import APIError, ErrorAnswers
from voigpt.entrypoints.server.settings import ServerSettings

LINGER = 2.0


@attrs.frozen
class Limits:
    max_header_bytes: int
    head_timeout: float
    body_timeout: float

    @classmethod
    def of(cls, settings: ServerSettings) -> Limits:
        return cls(settings.max_header_bytes, settings.head_timeout, settings.body_timeout)


class _Connection(Protocol):  # what Watch reads of uvicorn's protocols (both have it)
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    flow: FlowControl
    server_state: ServerState
    cycle: Any  # the request being served (each implementation has its own cycle class)


class Watch:
    """One connection's limits and refusals, driven by its protocol."""

    def __init__(self, connection: _Connection, limits: Limits, answers: ErrorAnswers) -> None:
        self.connection, self.limits, self.answers = connection, limits, answers
        self.head_bytes, self.waited_bytes = 0, 0  # of the head arriving; since it is awaited
        # The loop time a head awaited must be in by, else None; one alarm checks it, re-armed
        # if it goes off early (not a timer to start and cancel on every request).
        self.head_due: float | None = None
        self.head_alarm: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.timed_cycle: Any = None  # the request whose body the body timer waits for
        self.linger: asyncio.TimerHandle | None = None  # once refused: until the close

    def opened(self) -> None:  # the first head is awaited from now
        self._await_head()

    def closed(self) -> None:
        self._stop_timers()
        if self.linger is not None:
            self.linger.cancel()

    def received(self, data: bytes, feed: Callable[[bytes], None],
                 head_pending: Callable[[], bool]) -> None:
        """``data`` came: ``feed`` it to the parser, then check what it left."""
        if self.linger is not None:  # refused: the answer is out, the rest is dropped
            return
        if self.head_due is not None:
            self.waited_bytes += len(data)
        feed(data)
        connection = self.connection
        if connection.transport.is_closing() or self.linger is not None:
            return
        if head_pending():  # all of ``data`` went to a head that is not over yet
            self.head_bytes += len(data)
            if self.head_bytes > self.limits.max_header_bytes:
                self.refuse(errors.head_too_large(self.limits.max_header_bytes))
                return
        else:
            self.head_bytes = 0
        self._track()

    def answered(self) -> None:
        """A response is complete: the connection waits for the next head, unless one is
        already in (pipelined)."""
        if (not self.connection.transport.is_closing() and self.linger is None
                and not self._track()):
            self._await_head()

    def _track(self) -> bool:
        """Whether a request is in and unanswered; if so, its body (if one is still to
        come) is timed, and no longer the head."""
        cycle = self.connection.cycle
        if cycle is None or cycle.response_complete:
            return False
        self.head_due = None  # the alarm, if armed, finds nothing due when it goes off
        if cycle.more_body and not cycle.response_started:
            if self.timed_cycle is not cycle:
                self.timed_cycle = cycle
                self._start_body_timer()
        elif self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        return True

    def refuse(self, error: APIError) -> None:
        """Answer ``error`` and close. A request already in hears that its client is gone;
        if its answer has begun, or an earlier one is being sent, the connection closes
        without a word (two answers would interleave)."""
        connection = self.connection
        cycle = connection.cycle
        self._stop_timers()
        if self.linger is not None:
            return
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started or getattr(connection, "pipeline", None):
                connection.transport.close()
                return
        self.answers.metrics.rejected(error.code)
        transport = connection.transport
        transport.write(_framed(error, connection.server_state.default_headers))
        if transport.can_write_eof():
            transport.write_eof()
        self.linger = connection.loop.call_later(LINGER, transport.close)

    def _await_head(self) -> None:
        if self.body_timer is not None:
            self.body_timer.cancel()
        self.body_timer, self.waited_bytes, loop = None, 0, self.connection.loop
        self.head_due = loop.time() + self.limits.head_timeout
        if self.head_alarm is None:
            self.head_alarm = loop.call_at(self.head_due, self._head_check)

    def _head_check(self) -> None:
        self.head_alarm, loop, due = None, self.connection.loop, self.head_due
        if due is None or self.connection.transport.is_closing():
            return  # no head awaited: the next wait for one arms the alarm again
        if loop.time() < due:  # the wait began again since it was armed
            self.head_alarm = loop.call_at(due, self._head_check)
            return
        self.head_due, cycle = None, self.connection.cycle
        if cycle is not None and not cycle.response_complete:
            return
        if self.waited_bytes:
            self.refuse(errors.too_slow("head", self.limits.head_timeout))
        else:  # nothing came: an idle connection, closed as keep-alive closes them
            self.connection.transport.close()

    def _start_body_timer(self) -> None:
        self.body_timer = self.connection.loop.call_later(self.limits.body_timeout,
                                                          self._body_late)

    def _body_late(self) -> None:
        self.body_timer = None
        cycle = self.connection.cycle
        if (cycle is not self.timed_cycle or self.connection.transport.is_closing()
                or not cycle.more_body or cycle.response_started):
            return
        if self.connection.flow.read_paused:  # the app has not taken what came
            self._start_body_timer()
            return
        self.refuse(errors.too_slow("body", self.limits.body_timeout))

    def _stop_timers(self) -> None:
        for timer in (self.head_alarm, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.head_alarm = self.body_timer = None
        self.head_due = None


def _framed(error: APIError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    body = error.body()
    phrase = http.HTTPStatus(error.status).phrase
    lines = [f"HTTP/1.1 {error.status} {phrase}\r\n".encode()]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines.append(b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body))
    lines += [f"{name.lower()}: {value}\r\n".encode("latin-1")
              for name, value in (error.headers or {}).items()]
    return b"".join(lines) + b"\r\n" + body
