"""The pace's transactions on the state file (``SqlitePace``), on whichever thread has
the connection: the state's thread, or the loop when the file lets it write at once."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator, Sequence
from functools import partial

import attrs

from voigpt.adapters.sqlite.transaction import immediate
from voigpt.domain.pace import FIRST_BACKOFF, pause_after

POLL = 0.025  # seconds between tries while every slot is taken


@attrs.frozen
class Caps:
    """One process's caps, and the owner and lease of the slots it takes."""

    rate: float | None
    concurrency: int | None
    owner: str
    lease: float
    numbers: Iterator[int] = attrs.field(factory=itertools.count, eq=False)

    def take(self, n: int, conn: sqlite3.Connection, releasing: Sequence[str] = ()
             ) -> tuple[list[str | None], float]:
        """Up to ``n`` starts: their slots' ids (None where no cap needs one), and how long
        to wait before asking again if fewer than ``n`` started; ``releasing``, slots given
        back, go first in the same transaction."""
        now = time.time()
        with immediate(conn):
            if releasing:
                conn.executemany("DELETE FROM slots WHERE id = ?", [(i,) for i in releasing])
            row = conn.execute("SELECT paused_until, next_start FROM pace "
                               "WHERE name = 'site'").fetchone()
            paused_until, next_start = row if row is not None else (0.0, 0.0)
            if paused_until > now:
                return [], paused_until - now
            wait = POLL  # for the ones left, if the cap stops them
            if self.concurrency is not None:
                conn.execute("DELETE FROM slots WHERE expires <= ?", (now,))
                (held,) = conn.execute("SELECT count(*) FROM slots").fetchone()
                n = min(n, self.concurrency - held)
                if n <= 0:
                    return [], POLL
            if self.rate:
                if next_start > now:
                    return [], next_start - now
                n, wait = 1, 1 / self.rate
                conn.execute("INSERT INTO pace (name, next_start) VALUES ('site', ?) ON "
                             "CONFLICT (name) DO UPDATE SET next_start = excluded.next_start",
                             (now + wait,))
            if self.concurrency is None:
                return [None] * n, wait
            # unique across the fleet: this state's owner (random) and a count of its own
            ids: list[str | None] = [f"{self.owner}:{next(self.numbers)}" for _ in range(n)]
            conn.executemany("INSERT INTO slots (id, owner, expires) VALUES (?, ?, ?)",
                             [(slot_id, self.owner, now + self.lease) for slot_id in ids])
            return ids, wait

    def extend(self, conn: sqlite3.Connection) -> None:
        """Renew every slot this process holds for another lease."""
        conn.execute("UPDATE slots SET expires = ? WHERE owner = ?",
                     (time.time() + self.lease, self.owner))


def pause(retry_after: float | None, conn: sqlite3.Connection) -> float:
    """A 429: the fleet's pause (until when, as a ``time.time()``), grown as it must."""
    now = time.time()
    with immediate(conn):
        row = conn.execute("SELECT paused_until, backoff FROM pace "
                           "WHERE name = 'site'").fetchone()
        paused_until, backoff = row if row is not None else (0.0, FIRST_BACKOFF)
        if now >= paused_until + 1.0:  # well past the last pause: growth starts over
            backoff = FIRST_BACKOFF
        wait, backoff = pause_after(retry_after, backoff)
        until = max(paused_until, now + wait)
        conn.execute("INSERT INTO pace (name, paused_until, backoff) VALUES ('site', ?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET paused_until = "
                     "excluded.paused_until, backoff = excluded.backoff", (until, backoff))
        return float(until)


def read_pause(conn: sqlite3.Connection) -> float:
    row = conn.execute("SELECT paused_until FROM pace WHERE name = 'site'").fetchone()
    return 0.0 if row is None else float(row[0])


def release(slot_ids: list[str], conn: sqlite3.Connection) -> None:
    with immediate(conn):
        conn.executemany("DELETE FROM slots WHERE id = ?", [(i,) for i in slot_ids])


def undo(result: tuple[list[str | None], float]) -> partial[None]:
    """Slots taken for a group nobody waits for any more (the state closing): give back."""
    return partial(release, [slot_id for slot_id in result[0] if slot_id is not None])
