"""How long and how much: timeouts, the deadline and the reply size cap, as plain values."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # an annotation only: retry.py's Deadline
    from voigpt.domain.retry import Deadline

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_DEADLINE = 90.0
DEFAULT_MAX_REPLY_BYTES = 10 * 1024 * 1024


@attrs.frozen
class Timeouts:
    """Seconds to wait for a connection, and for each read from it."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    read: float = DEFAULT_READ_TIMEOUT

    @classmethod
    def total(cls, seconds: float) -> Timeouts:
        """From one user-facing number: nothing waits longer than ``seconds``."""
        return cls(connect=min(DEFAULT_CONNECT_TIMEOUT, seconds), read=seconds)

    def within(self, deadline: Deadline | None, what: str) -> tuple[float, float, float]:
        """The connect and read timeouts and the seconds the whole exchange may take: the
        timeouts' sum, or what is left of ``deadline`` (``TimedOut`` naming ``what`` if
        nothing is), no timeout longer than that."""
        if deadline is None:
            return self.connect, self.read, self.connect + self.read
        left = deadline.check(what)
        return min(self.connect, left), min(self.read, left), left
