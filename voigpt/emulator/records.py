"""What the emulator saw and did, for tests to assert on: the latest requests, tokens and
rejections in bounded rings (so a long run or a flood keeps memory flat), and totals."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import deque
from dataclasses import dataclass, field

MAX_REQUESTS = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024  # of the bodies of the requests kept
MAX_TOKENS = MAX_REJECTIONS = 1000


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as received. ``path`` is the request target as sent (query included);
    ``headers`` has lowercase names (repeated headers joined); ``client`` is (host, port)."""

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
    """A request refused by the CSRF checks: its path (without query), Django's reason and the
    status. ``token`` is the CSRF cookie's secret, if any; ``repr`` and ``==`` leave it out."""

    path: str
    reason: str
    status: int
    token: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Totals:
    """Counts since the start or the last ``reset_records()``: the rings forget, these don't."""

    requests: int = 0
    tokens_issued: int = 0
    rejections: int = 0
    completions: int = 0


class Records:
    """The emulator's records, thread-safe; the ``_add_*`` methods are for the site."""

    def __init__(self) -> None:
        self._records_lock = threading.Lock()
        self.reset_records()

    def reset_records(self) -> None:
        """Forget the records and zero the totals. Tokens stay valid, faults stay queued."""
        with self._records_lock:
            self._requests: deque[RecordedRequest] = deque()
            self._body_bytes = 0
            self._tokens: deque[str] = deque(maxlen=MAX_TOKENS)
            self._rejections: deque[Rejection] = deque(maxlen=MAX_REJECTIONS)
            self._counts = dataclasses.asdict(Totals())

    @property
    def requests(self) -> list[RecordedRequest]:
        """The latest requests received, oldest first (control traffic excluded); a copy."""
        with self._records_lock:
            return [dataclasses.replace(r, headers=dict(r.headers)) for r in self._requests]

    @property
    def tokens_issued(self) -> list[str]:
        with self._records_lock:
            return list(self._tokens)

    @property
    def rejections(self) -> list[Rejection]:
        with self._records_lock:
            return list(self._rejections)

    @property
    def completions(self) -> int:
        """How many ``POST /generate_response/`` were answered with a reply."""
        return self.totals.completions

    @property
    def totals(self) -> Totals:
        with self._records_lock:
            return Totals(**self._counts)

    def _add_request(self, request: RecordedRequest) -> None:
        with self._records_lock:
            self._counts["requests"] += 1
            self._requests.append(request)
            self._body_bytes += len(request.body)
            while len(self._requests) > MAX_REQUESTS or self._body_bytes > MAX_BODY_BYTES:
                self._body_bytes -= len(self._requests.popleft().body)

    def _add_token(self, token: str) -> None:
        with self._records_lock:
            self._counts["tokens_issued"] += 1
            self._tokens.append(token)

    def _add_rejection(self, rejection: Rejection) -> None:
        with self._records_lock:
            self._counts["rejections"] += 1
            self._rejections.append(rejection)

    def _add_completion(self) -> None:
        with self._records_lock:
            self._counts["completions"] += 1
