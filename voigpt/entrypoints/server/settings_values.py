"""How the text of each server setting (a flag's value, or a ``VOIGPT_*`` variable's)
becomes its value: checked against its range or form, with an error that names where it
came from (``--port``, ``$VOIGPT_PORT``) and never shows an API key.

``settings.py`` decides which settings there are and which source wins; this is only the
reading of one value, kept apart so that the list of settings reads on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import parse_state
from voigpt.entrypoints.server.model_ids import parse_aliases


def _host(value: object, where: str) -> str:
    text = str(value).strip()
    if not text or any(c.isspace() for c in text) or "/" in text:
        raise InvalidConfig(f"{where} must be a host name or an IP address, got {value!r}")
    return text


def _whole(low: int, high: int, what: str) -> Callable[[object, str], int]:
    def parse(value: object, where: str) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
            raise InvalidConfig(f"{where} must be {what} from {low} to {high}, got {value!r}")
        number = int(text)
        if not low <= number <= high:
            raise InvalidConfig(f"{where} must be {what} from {low} to {high}, got {value!r}")
        return number

    return parse


def _seconds(low: float, high: float) -> Callable[[object, str], float]:
    def parse(value: object, where: str) -> float:
        try:
            seconds = float(str(value).strip())
        except ValueError:
            raise InvalidConfig(f"{where} must be a number of seconds, got {value!r}") from None
        if not math.isfinite(seconds) or not low <= seconds <= high:
            raise InvalidConfig(
                f"{where} must be a number of seconds from {low:g} to {high:g}, got {value!r}"
            )
        return seconds

    return parse


def _rate(value: object, where: str) -> float:
    try:
        rate = float(str(value).strip())
    except ValueError:
        raise InvalidConfig(f"{where} must be a number of completions per second, "
                            f"got {value!r}") from None
    if not math.isfinite(rate) or not 0 < rate <= 100_000:
        raise InvalidConfig(f"{where} must be a number of completions per second above 0, "
                            f"got {value!r}")
    return rate


def _flag(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidConfig(f"{where} must be true or false, got {value!r}")


def _keys(value: object, where: str) -> tuple[str, ...]:
    """Keys from repeated flags (a list) or a comma-separated variable. A key is printable
    ASCII without spaces or commas, as a Bearer token must be; the error never shows it."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    keys = tuple(str(item).strip() for item in items if str(item).strip())
    for index, key in enumerate(keys):
        if not (key.isascii() and key.isprintable()) or " " in key or "," in key:
            raise InvalidConfig(
                f"{where}: key #{index + 1} must be printable ASCII without spaces or commas"
            )
    if not keys:
        raise InvalidConfig(f"{where} names no key")
    return keys


def _origins(value: object, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    origins = tuple(str(item).strip().rstrip("/") for item in items if str(item).strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise InvalidConfig(f"{where}: {origin!r} is not an origin like https://example.com")
    return origins


PARSERS: dict[str, Callable[[object, str], Any]] = {
    "host": _host,
    "port": _whole(0, 65535, "a port number"),
    "api_keys": _keys,
    "allow_unauthenticated": _flag,
    "max_concurrency": _whole(1, 100_000, "a whole number"),
    "queue_timeout": _seconds(0, 60),
    "max_body_bytes": _whole(1024, 1024**3, "a number of bytes"),
    "workers": _whole(1, 64, "a whole number"),
    "drain_timeout": _seconds(0, 3600),
    "cors_origins": _origins,
    "log_prompts": _flag,
    "max_header_bytes": _whole(1024, 16 * 1024**2, "a number of bytes"),
    "head_timeout": _seconds(0.1, 3600),
    "body_timeout": _seconds(0.1, 3600),
    "model_aliases": parse_aliases,
    "responses_max": _whole(0, 1_000_000, "a whole number"),
    "responses_ttl": _seconds(1, 30 * 24 * 3600),
    "state": parse_state,
    "site_rate": _rate,
    "site_concurrency": _whole(1, 100_000, "a whole number"),
    "cache_ttl": _seconds(1, 30 * 24 * 3600),
}
