"""How long and how much: timeouts, the deadline and the reply size cap, as plain values."""

from __future__ import annotations

import attrs

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

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)
