"""Fault injection: the ``Fault`` kinds, the parameter each takes, and a FIFO queue."""

from __future__ import annotations

import enum
import json
import math
import threading
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

MIN_OVERSIZED = len('{"response": ""}')
ENDPOINTS = ("generate", "token", "any")  # POST /generate_response/, GET /, either
CONTROL_KEYS = ("endpoint", "fault", "params", "times")
MISSING_BODY = {"detail": "Something went wrong. Please try again."}


class Fault(enum.Enum):
    """A misbehaviour of voigpt.com (or of what stands in front of it) to simulate. It replaces
    the response before any CSRF or body check, except SLOW (waits, then serves normally) and
    STALE_TOKEN (revokes the presented token and rejects it with 403; on ``GET /`` it hands out
    an already revoked token).

    Inject one with ``Emulator.inject(fault, **params)``; a fault takes at most the one
    parameter named below, and a name (in any case) works as well as the member.
    """

    STALE_TOKEN = "STALE_TOKEN"
    """403 "CSRF token incorrect."; the token stays revoked. No parameter."""
    RATE_LIMITED = "RATE_LIMITED"
    """429 with ``Retry-After``: ``retry_after``, int seconds >= 0 or an HTTP-date (default
    ``"1"``)."""
    SERVER_ERROR = "SERVER_ERROR"
    """An HTML error page with ``status`` 500 (the default), 502 or 503."""
    HTML_INSTEAD_OF_JSON = "HTML_INSTEAD_OF_JSON"
    """200 with a ``text/html`` page instead of JSON. No parameter."""
    MISSING_RESPONSE = "MISSING_RESPONSE"
    """200 JSON without ``"response"``: ``body``, any JSON-serialisable value (default
    ``{"detail": "Something went wrong. Please try again."}``)."""
    SLOW = "SLOW"
    """Wait ``delay`` seconds (a finite number >= 0, default 2.0), then answer normally."""
    OVERSIZED = "OVERSIZED"
    """200 ``{"response": "xxx..."}`` of exactly ``size`` bytes (>= 16, default 11 MiB)."""
    DROP_CONNECTION = "DROP_CONNECTION"
    """Close the connection without a response. No parameter."""
    ANTI_BOT = "ANTI_BOT"
    """Cloudflare's "Just a moment..." challenge page, ``status`` 403 (the default) or
    503."""


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_json(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_retry_after(value: object) -> bool:
    if isinstance(value, str):  # an HTTP-date: it must be sendable in a header
        return value.isascii() and value.isprintable() and value.strip() != ""
    return _is_int(value) and value >= 0


def _is_delay(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf


def _int_in(allowed: Container[int]) -> Callable[[object], bool]:
    return lambda value: _is_int(value) and value in allowed


# The one parameter a fault takes: its name, its default, its check, what the check demands.
PARAMS: dict[Fault, tuple[str, object, Callable[[Any], bool], str]] = {
    Fault.RATE_LIMITED: ("retry_after", "1", _is_retry_after, "int seconds >= 0 or an HTTP-date"),
    Fault.SERVER_ERROR: ("status", 500, _int_in((500, 502, 503)), "500, 502 or 503"),
    Fault.ANTI_BOT: ("status", 403, _int_in((403, 503)), "403 or 503"),
    Fault.SLOW: ("delay", 2.0, _is_delay, "a finite number of seconds >= 0"),
    Fault.OVERSIZED: ("size", 11 * 1024 * 1024, _int_in(range(MIN_OVERSIZED, 2**63)), ">= 16"),
    Fault.MISSING_RESPONSE: ("body", MISSING_BODY, _is_json, "JSON-serialisable"),
}


@dataclass
class _Queued:
    fault: Fault
    value: Any  # of its parameter, if it takes one
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
        """Validate everything (``TypeError`` or ``ValueError`` says what is wrong), then queue:
        a refused injection leaves the queue as it was. ``fault`` may be a name, in any case."""
        kind = fault if isinstance(fault, Fault) else Fault.__members__.get(str(fault).upper())
        if kind is None:
            names = ", ".join(Fault.__members__)
            raise ValueError(f"unknown fault {fault!r}; expected one of {names}")
        if times is not None and not (_is_int(times) and times >= 1):
            raise ValueError(f"times must be an int >= 1 or None (until cleared), got {times!r}")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}, got {endpoint!r}")
        name, value, valid, demand = PARAMS.get(kind, ("", None, bool, ""))
        unknown = sorted(set(params) - {name})
        if unknown:
            raise TypeError(f"{kind.name} does not take {unknown}; it accepts: {name or 'none'}")
        value = params.get(name, value)
        if name in params and not valid(value):
            raise ValueError(f"{name} must be {demand}, got {value!r}")
        with self._lock:
            self._queue.append(_Queued(kind, value, endpoint, times))

    def push_json(self, body: bytes) -> None:
        """Queue the fault a control request's body describes: ``{"fault": NAME, "times": N,
        "endpoint": E, "params": {...}}``, all but "fault" optional."""
        try:
            data = json.loads(body)
        except ValueError:
            raise ValueError("body is not valid JSON") from None
        if not isinstance(data, dict) or not set(data) <= set(CONTROL_KEYS):
            raise ValueError(f"body must be a JSON object with keys among {CONTROL_KEYS}")
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise ValueError('"params" must be an object')
        times, endpoint = data.get("times", 1), data.get("endpoint", "generate")
        self.push(data.get("fault", ""), times=times, endpoint=endpoint, params=params)

    def take(self, endpoint: str) -> tuple[Fault, Any] | None:
        """Use one use of the first fault queued for ``endpoint``: it and its parameter."""
        with self._lock:
            for index, entry in enumerate(self._queue):
                if entry.endpoint in ("any", endpoint):
                    if entry.remaining is not None:
                        entry.remaining -= 1
                        if entry.remaining == 0:
                            del self._queue[index]
                    return entry.fault, entry.value
        return None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)
