"""Fault injection: the ``Fault`` kinds, their validated parameters, and the FIFO queue."""

from __future__ import annotations

import enum
import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_OVERSIZED = 11 * 1024 * 1024
MIN_OVERSIZED = len('{"response": ""}')
DEFAULT_MISSING_BODY: dict[str, object] = {"detail": "Something went wrong. Please try again."}


class Fault(enum.Enum):
    """A misbehaviour of voigpt.com (or of what stands in front of it) to simulate.

    A fault replaces the response before any CSRF or body check, except SLOW (waits, then
    serves normally) and STALE_TOKEN (revokes the presented token and rejects it with 403;
    on ``GET /`` it hands out an already revoked token).
    """

    STALE_TOKEN = "STALE_TOKEN"  # 403 "CSRF token incorrect."; the token stays revoked
    RATE_LIMITED = "RATE_LIMITED"  # 429 + Retry-After (retry_after: int seconds | HTTP-date)
    SERVER_ERROR = "SERVER_ERROR"  # status: 500 (default), 502 or 503, with an HTML page
    HTML_INSTEAD_OF_JSON = "HTML_INSTEAD_OF_JSON"  # 200 text/html
    MISSING_RESPONSE = "MISSING_RESPONSE"  # 200 JSON without "response" (body: any JSON)
    SLOW = "SLOW"  # wait delay seconds (default 2.0), then answer normally
    OVERSIZED = "OVERSIZED"  # 200 {"response": "xxx..."} of exactly size bytes (11 MiB)
    DROP_CONNECTION = "DROP_CONNECTION"  # close the connection without a response
    ANTI_BOT = "ANTI_BOT"  # Cloudflare "Just a moment..." challenge, status 403 or 503


class Endpoint(enum.Enum):
    """The two routes of the site that faults can target."""

    TOKEN = "token"  # GET /
    GENERATE = "generate"  # POST /generate_response/


ENDPOINT_CHOICES = ("generate", "token", "any")


@dataclass(frozen=True)
class FaultParams:
    """Validated parameters; only those meaningful for the fault are ever set by a caller."""

    retry_after: str = "1"
    status: int | None = None
    delay: float = 2.0
    size: int = DEFAULT_OVERSIZED
    body: object = field(default_factory=lambda: dict(DEFAULT_MISSING_BODY))


def _status(value: object, allowed: tuple[int, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ValueError(f"status must be one of {allowed}, got {value!r}")
    return value


def _retry_after(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip() and not any(c in value for c in "\r\n"):
        return value
    raise ValueError(f"retry_after must be seconds (int >= 0) or an HTTP-date, got {value!r}")


def _delay(value: object) -> float:
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    ):
        return float(value)
    raise ValueError(f"delay must be a finite number of seconds >= 0, got {value!r}")


def _size(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= MIN_OVERSIZED:
        return value
    raise ValueError(f"size must be an int >= {MIN_OVERSIZED} bytes, got {value!r}")


def _body(value: object) -> object:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"body must be JSON-serialisable: {exc}") from None
    return value


_CONVERTERS: dict[Fault, dict[str, Callable[[object], object]]] = {
    Fault.RATE_LIMITED: {"retry_after": _retry_after},
    Fault.SERVER_ERROR: {"status": lambda v: _status(v, (500, 502, 503))},
    Fault.ANTI_BOT: {"status": lambda v: _status(v, (403, 503))},
    Fault.SLOW: {"delay": _delay},
    Fault.OVERSIZED: {"size": _size},
    Fault.MISSING_RESPONSE: {"body": _body},
}


def make_params(fault: Fault, params: Mapping[str, object]) -> FaultParams:
    """Validate ``params`` for ``fault``: ``TypeError`` if unknown, ``ValueError`` if bad."""
    converters = _CONVERTERS.get(fault, {})
    unknown = sorted(set(params) - set(converters))
    if unknown:
        accepted = ", ".join(sorted(converters)) or "none"
        raise TypeError(f"{fault.name} does not take {unknown}; it accepts: {accepted}")
    values = {name: converters[name](value) for name, value in params.items()}
    return FaultParams(**values)  # type: ignore[arg-type]


def parse_fault(fault: Fault | str) -> Fault:
    """A ``Fault`` from itself or its name (case-insensitive)."""
    if isinstance(fault, Fault):
        return fault
    try:
        return Fault[str(fault).upper()]
    except KeyError:
        names = ", ".join(f.name for f in Fault)
        raise ValueError(f"unknown fault {fault!r}; expected one of {names}") from None


@dataclass
class _Queued:
    fault: Fault
    params: FaultParams
    endpoint: str
    remaining: int | None

    def matches(self, endpoint: Endpoint) -> bool:
        return self.endpoint in ("any", endpoint.value)


@dataclass(frozen=True)
class ActiveFault:
    """A fault to apply to the current request."""

    fault: Fault
    params: FaultParams


class FaultQueue:
    """Thread-safe FIFO of injected faults; each matching request consumes one use of one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []

    def push(
        self,
        fault: Fault | str,
        *,
        times: int | None = 1,
        endpoint: str = "generate",
        params: Mapping[str, object] | None = None,
    ) -> None:
        kind = parse_fault(fault)
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise TypeError(f"times must be an int or None, got {times!r}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None (until cleared), got {times!r}")
        if endpoint not in ENDPOINT_CHOICES:
            raise ValueError(f"endpoint must be one of {ENDPOINT_CHOICES}, got {endpoint!r}")
        entry = _Queued(kind, make_params(kind, params or {}), endpoint, times)
        with self._lock:
            self._queue.append(entry)

    def take(self, endpoint: Endpoint) -> ActiveFault | None:
        """The first queued fault for ``endpoint``, using up one of its ``times``."""
        with self._lock:
            for index, entry in enumerate(self._queue):
                if entry.matches(endpoint):
                    if entry.remaining is not None:
                        entry.remaining -= 1
                        if entry.remaining == 0:
                            del self._queue[index]
                    return ActiveFault(entry.fault, entry.params)
        return None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)
