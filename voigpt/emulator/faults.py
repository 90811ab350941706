"""Fault injection: the ``Fault`` kinds, their validated parameters, and a FIFO queue."""

from __future__ import annotations

import enum
import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

MIN_OVERSIZED = len('{"response": ""}')
ENDPOINTS = ("generate", "token", "any")  # POST /generate_response/, GET /, either
MISSING_BODY = {"detail": "Something went wrong. Please try again."}


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


@dataclass(frozen=True)
class FaultParams:
    """Validated parameters; a caller sets only those its fault takes."""

    retry_after: str = "1"
    status: int | None = None
    delay: float = 2.0
    size: int = 11 * 1024 * 1024
    body: object = field(default_factory=lambda: dict(MISSING_BODY))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_json(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_seconds_or_date(value: object) -> bool:
    if _is_int(value):
        return value >= 0
    text = value if isinstance(value, str) else ""
    return text.isascii() and text.isprintable() and text.strip() != ""


def _is_delay(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value >= 0


# The one parameter a fault takes: its name, its check, and what the check demands.
_PARAMS: dict[Fault, tuple[str, Callable[[Any], bool], str]] = {
    Fault.RATE_LIMITED: ("retry_after", _is_seconds_or_date, "seconds (int >= 0) or an HTTP-date"),
    Fault.SERVER_ERROR: ("status", lambda v: _is_int(v) and v in (500, 502, 503), "500/502/503"),
    Fault.ANTI_BOT: ("status", lambda v: _is_int(v) and v in (403, 503), "403 or 503"),
    Fault.SLOW: ("delay", _is_delay, "a finite number of seconds >= 0"),
    Fault.OVERSIZED: ("size", lambda v: _is_int(v) and v >= MIN_OVERSIZED, f">= {MIN_OVERSIZED}"),
    Fault.MISSING_RESPONSE: ("body", _is_json, "JSON-serialisable"),
}


def make_params(fault: Fault, params: Mapping[str, object]) -> FaultParams:
    """Validate ``params`` for ``fault``: ``TypeError`` if unknown, ``ValueError`` if bad."""
    name, valid, demand = _PARAMS.get(fault, ("", bool, ""))
    unknown = sorted(set(params) - {name})
    if unknown:
        raise TypeError(f"{fault.name} does not take {unknown}; it accepts: {name or 'none'}")
    if name in params and not valid(params[name]):
        raise ValueError(f"{name} must be {demand}, got {params[name]!r}")
    values: dict[str, Any] = dict(params)
    if "retry_after" in values:
        values["retry_after"] = str(values["retry_after"])
    if "delay" in values:
        values["delay"] = float(values["delay"])
    return FaultParams(**values)


@dataclass
class _Queued:
    fault: Fault
    params: FaultParams
    endpoint: str
    remaining: int | None


class FaultQueue:
    """Thread-safe FIFO of injected faults; each matching request uses up one use of one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []

    def push(
        self, fault: Fault | str, *, times: int | None, endpoint: str, params: Mapping[str, object]
    ) -> None:
        """Validate everything, then queue: a refused injection leaves the queue as it was.
        ``fault`` may be a name, in any case."""
        if not isinstance(fault, Fault):
            kind = Fault.__members__.get(str(fault).upper())
            if kind is None:
                names = ", ".join(Fault.__members__)
                raise ValueError(f"unknown fault {fault!r}; expected one of {names}")
            fault = kind
        if times is not None and not _is_int(times):
            raise TypeError(f"times must be an int or None, got {times!r}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None (until cleared), got {times!r}")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}, got {endpoint!r}")
        entry = _Queued(fault, make_params(fault, params), endpoint, times)
        with self._lock:
            self._queue.append(entry)

    def push_json(self, body: bytes) -> None:
        """Queue the fault a control request's body describes, ``{"fault": NAME, "times": N,
        "endpoint": E, "params": {...}}``; ``ValueError`` or ``TypeError`` says what is wrong."""
        try:
            data = json.loads(body)
        except ValueError:
            raise ValueError("body is not valid JSON") from None
        keys = {"fault", "times", "endpoint", "params"}
        if not isinstance(data, dict) or not set(data) <= keys:
            raise ValueError(f"body must be a JSON object with keys among {sorted(keys)}")
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise ValueError('"params" must be an object')
        times, endpoint = data.get("times", 1), data.get("endpoint", "generate")
        self.push(data.get("fault", ""), times=times, endpoint=endpoint, params=params)

    def take(self, endpoint: str) -> tuple[Fault, FaultParams] | None:
        """The first fault queued for ``endpoint`` ("token" or "generate"), using one use."""
        with self._lock:
            for index, entry in enumerate(self._queue):
                if entry.endpoint in ("any", endpoint):
                    if entry.remaining is not None:
                        entry.remaining -= 1
                        if entry.remaining == 0:
                            del self._queue[index]
                    return entry.fault, entry.params
        return None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)
