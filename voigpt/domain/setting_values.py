"""The checks of each connection setting's value (``voigpt.config`` reads where the values
come from; these say whether one can be used). Each takes the value and ``where``, the name
the error gives it (``timeout``, ``--timeout``, ``VOIGPT_TIMEOUT``, ``config['timeout']``),
and returns the value to use or raises ``InvalidConfig`` (``InvalidProxy`` for a proxy)."""

from __future__ import annotations

import math

from voigpt.domain.errors import InvalidConfig, InvalidInput
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.values import AccessToken

MAX_TIMEOUT = 86400.0
MAX_CONNECTIONS = 10_000
# http: the site; fake: in-memory, no network; local: the http backend against the bundled
# emulator, which only the command line starts (in Python, start an Emulator yourself).
BACKENDS = ("http", "local", "fake")


def parse_timeout(value: object, where: str = "timeout") -> float:
    if isinstance(value, bool):
        raise InvalidConfig(f"{where} must be a number of seconds, got a bool")
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise InvalidConfig(f"{where} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidConfig(f"{where} must be a positive number of seconds, got {value!r}")
    if seconds > MAX_TIMEOUT:
        raise InvalidConfig(
            f"{where} must be at most {MAX_TIMEOUT:g} seconds (one day), got {value!r}"
        )
    return seconds


def parse_backend(value: object, where: str = "backend") -> str:
    if value not in BACKENDS:
        raise InvalidConfig(f"{where} must be one of {', '.join(BACKENDS)}, got {value!r}")
    return str(value)


def parse_max_reply_bytes(value: object, where: str = "max_reply_bytes") -> int:
    try:
        number: int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise InvalidConfig(f"{where} must be a whole number of bytes, got {value!r}") from None
    if isinstance(value, bool) or number <= 0:
        raise InvalidConfig(f"{where} must be a positive number of bytes, got {value!r}")
    return number


def parse_retries(value: object, where: str = "retries") -> int:
    return _whole_number(value, where, 0, 10)


def parse_max_connections(value: object, where: str = "max_connections") -> int:
    return _whole_number(value, where, 1, MAX_CONNECTIONS)


def _whole_number(value: object, where: str, low: int, high: int) -> int:
    """``value`` as a whole number from ``low`` to ``high``: ``3`` or ``"3"``, never
    ``True``, ``2.5`` or ``"2.0"``."""
    try:
        number: int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        raise InvalidConfig(f"{where} must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or not low <= number <= high or str(number) != str(value).strip():
        raise InvalidConfig(f"{where} must be a whole number from {low} to {high}, "
                            f"got {value!r}")
    return number


def parse_access_token(value: object, where: str = "access_token") -> AccessToken:
    if isinstance(value, AccessToken):
        return value
    try:
        return AccessToken.parse(value, where=where)
    except InvalidInput as exc:
        raise InvalidConfig(str(exc)) from None


def parse_proxy(value: object, where: str = "proxy") -> ProxyUrl:
    return value if isinstance(value, ProxyUrl) else ProxyUrl.parse(value, where=where)
