"""The pause after a 429, one rule for every pace (the batch runner's, and the fleet's
shared one): the site's ``Retry-After`` (capped at ``RETRY_AFTER_CAP``, 60 s, as the
client caps it); without one, 1 s, doubling while 429s keep coming, at most 30 s. A
start that comes after the pause has passed resets the growth."""

from __future__ import annotations

from voigpt.domain.retry import RETRY_AFTER_CAP

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0


def pause_after(retry_after: float | None, backoff: float) -> tuple[float, float]:
    """``(seconds to pause, the backoff for the next 429)`` given the current backoff."""
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, RETRY_AFTER_CAP), backoff
    return backoff, min(backoff * 2, MAX_BACKOFF)
