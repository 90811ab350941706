"""What the emulator saw and did, kept thread-safe for tests to assert on."""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass, field


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
    """A request refused by the CSRF check: its path (without query), Django's reason and the
    status. ``token`` is the cookie's secret, if any; it is left out of ``repr`` and ``==``."""

    path: str
    reason: str
    status: int
    token: str | None = field(default=None, repr=False, compare=False)


class Recorder:
    """Thread-safe log of requests, issued tokens, rejections and completions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._tokens: list[str] = []
        self._rejections: list[Rejection] = []
        self._completions = 0

    def add_request(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def add_token(self, token: str) -> None:
        with self._lock:
            self._tokens.append(token)

    def add_rejection(self, rejection: Rejection) -> None:
        with self._lock:
            self._rejections.append(rejection)

    def add_completion(self) -> None:
        with self._lock:
            self._completions += 1

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [dataclasses.replace(r, headers=dict(r.headers)) for r in self._requests]

    @property
    def tokens(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    @property
    def rejections(self) -> list[Rejection]:
        with self._lock:
            return list(self._rejections)

    @property
    def completions(self) -> int:
        with self._lock:
            return self._completions

    def counts(self) -> dict[str, int]:
        """Counters only (never token values), for the control endpoint."""
        with self._lock:
            return {
                "requests": len(self._requests),
                "tokens_issued": len(self._tokens),
                "rejections": len(self._rejections),
                "completions": self._completions,
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._tokens.clear()
            self._rejections.clear()
            self._completions = 0
