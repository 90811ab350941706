"""What the emulator saw and did, for tests to assert on: the latest requests, tokens and
rejections in bounded rings (so a long run or a flood keeps memory flat), and totals."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_REQUESTS = MAX_TOKENS = MAX_REJECTIONS = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024  # of the bodies of the requests kept


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as received, as ``Emulator.requests`` lists it.

    :ivar method: the method, such as ``"POST"``.
    :ivar path: the request target as sent (query included).
    :ivar headers: lowercase names to values (repeated headers joined).
    :ivar body: the body's bytes (``b""`` for none).
    :ivar client: the client's address, ``(host, port)``.
    """

    method: str
    path: str
    headers: dict[str, str] = field(hash=False)
    body: bytes
    client: tuple[str, int]

    def json(self) -> object:
        """The body decoded as JSON (raises ``ValueError`` if it is not)."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Rejection:
    """A request refused by the CSRF checks, as ``Emulator.rejections`` lists it.

    :ivar path: the path, without the query.
    :ivar reason: Django's reason, such as ``"CSRF token missing."``.
    :ivar status: the status answered (403).
    :ivar token: the CSRF cookie's secret, if any; ``repr`` and ``==`` leave it out.
    """

    path: str
    reason: str
    status: int
    token: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Totals:
    """Counts since the start or the last ``reset_records()``: the rings forget, these don't.

    :ivar requests: requests received (control traffic excluded).
    :ivar tokens_issued: CSRF tokens handed out by ``GET /``.
    :ivar rejections: requests refused by the CSRF checks.
    :ivar completions: ``POST /generate_response/`` answered with a reply.
    """

    requests: int = 0
    tokens_issued: int = 0
    rejections: int = 0
    completions: int = 0


class Records:
    """The emulator's records, thread-safe: ``requests`` holds the latest 1,000 requests and at
    most 8 MiB of their bodies, ``tokens_issued`` and ``rejections`` the latest 1,000 each;
    ``totals`` and ``completions`` count everything. ``_add`` is for the site."""

    def __init__(self) -> None:
        self._records_lock = threading.Lock()
        self.reset_records()

    def reset_records(self) -> None:
        """Forget the records and zero the totals. Tokens stay valid, faults stay queued."""
        with self._records_lock:
            self._counts = dataclasses.asdict(Totals())
            self._body_bytes = 0  # of the requests kept
            self._rings: dict[str, deque[Any]] = {  # "requests" is bounded by _add
                "requests": deque(), "tokens_issued": deque(maxlen=MAX_TOKENS),
                "rejections": deque(maxlen=MAX_REJECTIONS),
            }

    @property
    def requests(self) -> list[RecordedRequest]:
        """The latest requests received, oldest first (control traffic excluded); a copy."""
        with self._records_lock:
            kept = list(self._rings["requests"])
        return [dataclasses.replace(r, headers=dict(r.headers)) for r in kept]

    @property
    def tokens_issued(self) -> list[str]:
        """The latest CSRF tokens handed out by ``GET /``, oldest first; a copy."""
        with self._records_lock:
            return list(self._rings["tokens_issued"])

    @property
    def rejections(self) -> list[Rejection]:
        """The latest requests refused by the CSRF checks, oldest first; a copy."""
        with self._records_lock:
            return list(self._rings["rejections"])

    @property
    def completions(self) -> int:
        """How many ``POST /generate_response/`` were answered with a reply."""
        return self.totals.completions

    @property
    def totals(self) -> Totals:
        """Everything counted since the start or the last ``reset_records()``."""
        with self._records_lock:
            return Totals(**self._counts)

    def _add(self, kind: str, item: Any = None) -> None:
        """Count one ``kind`` (a field of ``Totals``) and keep ``item`` in its ring, if any."""
        with self._records_lock:
            self._counts[kind] += 1
            if kind == "requests":
                self._body_bytes += len(item.body)
                ring = self._rings[kind]
                ring.append(item)
                while len(ring) > MAX_REQUESTS or self._body_bytes > MAX_BODY_BYTES:
                    self._body_bytes -= len(ring.popleft().body)
            elif kind in self._rings:
                self._rings[kind].append(item)
