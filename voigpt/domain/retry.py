"""When to try again, how long to wait, and the deadline every attempt counts against.

Retried: connection failures (including a connection dropped before the reply), 429 and
502/503/504. Never retried: 400 and other statuses, a malformed 200, an anti-bot page, a
timeout, a rejected proxy password (407), an untrusted TLS certificate, bad input, and a
request that is not idempotent (the completion's POST) whose connection broke once the
answer had begun: the service may already have done the work. Backoff
is exponential from ``base`` (0.5 s), capped at ``cap`` (8 s), with "equal" jitter (between
half and all of the step).
A ``Retry-After`` hint replaces the backoff, capped at ``RETRY_AFTER_CAP`` (60 s): the
adapters report the server's hint as given, and this is the one place it is bounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from voigpt.domain.errors import (
    ConnectionFailed,
    RateLimited,
    ServiceUnavailable,
    TimedOut,
    UntrustedCertificate,
    VoiGptError,
)

if TYPE_CHECKING:
    from voigpt.ports.clock import AsyncClock, Clock

RETRYABLE_5XX = frozenset({502, 503, 504})
RETRY_AFTER_CAP = 60.0


@attrs.frozen
class RetryPolicy:
    retries: int = 2
    base: float = 0.5
    cap: float = 8.0
    retry_after_cap: float = RETRY_AFTER_CAP

    def should_retry(self, error: VoiGptError, attempt: int, *, idempotent: bool = True) -> bool:
        """``attempt`` counts from 0: the first retry is decided after attempt 0.
        ``idempotent``: whether the request that failed may be done twice harmlessly (the
        token's GET); one that is not is sent again only if it is known not to have been
        processed: refused, or dropped before any byte of its answer."""
        if attempt >= self.retries:
            return False
        if isinstance(error, RateLimited):
            return True
        if isinstance(error, ServiceUnavailable):
            return error.status in RETRYABLE_5XX
        if isinstance(error, UntrustedCertificate) or not isinstance(error, ConnectionFailed):
            return False
        return error.status != 407 and (idempotent or not error.answer_began)

    def pause(self, error: VoiGptError, attempt: int, jitter: float) -> float:
        """Seconds to wait before retry number ``attempt + 1``; ``jitter`` is in [0, 1)."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return min(error.retry_after, self.retry_after_cap)
        step = min(self.cap, self.base * 2.0**attempt)
        return step * (0.5 + jitter / 2)


@attrs.frozen
class Deadline:
    """The latest moment (on ``clock``) a completion may still be working."""

    clock: Clock | AsyncClock
    expires_at: float
    seconds: float

    @classmethod
    def after(cls, clock: Clock | AsyncClock, seconds: float) -> Deadline:
        return cls(clock, clock.now() + seconds, seconds)

    def remaining(self) -> float:
        return self.expires_at - self.clock.now()

    def check(self, what: str) -> float:
        """The seconds left, or ``TimedOut`` if none are."""
        left = self.remaining()
        if left <= 0:
            raise TimedOut(f"{what}: the {self.seconds:g}s deadline passed (timeout)")
        return left
