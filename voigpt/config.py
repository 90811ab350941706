"""Settings: from keyword arguments, a dict, or ``VOIGPT_*`` environment variables.

Precedence: keyword arguments, then the dict, then the environment, then the defaults.
Every value is checked here, before any I/O; a bad one raises ``InvalidConfig`` (or
``InvalidProxy``), both ``ValueError``s, naming the setting and where it came from.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import attrs

from voigpt.domain.errors import InvalidConfig, InvalidInput
from voigpt.domain.limits import DEFAULT_DEADLINE, DEFAULT_MAX_REPLY_BYTES, Timeouts
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.values import AccessToken

DEFAULT_BASE_URL = "https://voigpt.com"
MAX_TIMEOUT = 86400.0
# http: the site; fake: in-memory, no network; local: the http backend against the bundled
# emulator, which only the command line starts (in Python, start an Emulator yourself).
BACKENDS = ("http", "local", "fake")
LOCAL = "local"

ENVIRONMENT = {
    "base_url": "VOIGPT_BASE_URL",
    "access_token": "VOIGPT_ACCESS_TOKEN",
    "proxy": "VOIGPT_PROXY",
    "timeout": "VOIGPT_TIMEOUT",
    "backend": "VOIGPT_BACKEND",
    "max_reply_bytes": "VOIGPT_MAX_REPLY_BYTES",
    "retries": "VOIGPT_RETRIES",
}


@attrs.frozen
class Settings:
    """Validated settings. ``repr`` shows neither the token nor the proxy password."""

    base_url: str = DEFAULT_BASE_URL
    access_token: AccessToken | None = None
    proxy: ProxyUrl | None = None
    timeout: float | None = None
    backend: str = "http"
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    retries: int = 2

    @classmethod
    def load(
        cls,
        mapping: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """``labels`` names the keyword arguments in errors (the CLI passes ``--proxy``...)."""
        env = os.environ if environ is None else environ
        unknown = sorted(set(mapping or {}) - set(ENVIRONMENT)) + sorted(
            set(overrides) - set(ENVIRONMENT)
        )
        if unknown:
            raise InvalidConfig(
                f"unknown setting(s) {unknown}; known: {', '.join(sorted(ENVIRONMENT))}"
            )
        raw: dict[str, tuple[Any, str]] = {}
        for name, variable in ENVIRONMENT.items():
            if env.get(variable):
                raw[name] = (env[variable], f"${variable}")
            if mapping is not None and mapping.get(name) is not None:
                raw[name] = (mapping[name], f"config[{name!r}]")
            if overrides.get(name) is not None:
                raw[name] = (overrides[name], (labels or {}).get(name, f"{name}="))
        return cls(**{name: _PARSERS[name](value, where) for name, (value, where) in raw.items()})

    @property
    def deadline(self) -> float:
        """Seconds one completion may take, retries and waits included."""
        return DEFAULT_DEADLINE if self.timeout is None else self.timeout

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts() if self.timeout is None else Timeouts.total(self.timeout)

    def to_config(self) -> dict[str, Any]:
        """The values the container's ``Configuration`` provider holds."""
        values = attrs.asdict(self, recurse=False)
        return {**values, "timeouts": self.timeouts, "deadline": self.deadline}


def parse_base_url(url: object, where: str = "base_url") -> str:
    """Check a base URL before any I/O: an http(s) URL with a valid host and nothing a header
    cannot carry. Returns it without a trailing slash or a default port, its path
    percent-encoded to ASCII."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidConfig(f"{where} must be a non-empty URL string")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise InvalidConfig(f"{where} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        problem = "an invalid port" if "port" in str(exc).lower() else "an invalid address"
        raise InvalidConfig(f"{where} has {problem}: {url!r}") from None
    if parts.username is not None or parts.password is not None:
        raise InvalidConfig(f"{where} must not carry credentials (user:password@)")
    if port == 0:
        raise InvalidConfig(f"{where} has an invalid port: {url!r}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidConfig(f"{where} must be an http:// or https:// URL with a host, got {url!r}")
    if parts.query or parts.fragment:
        raise InvalidConfig(
            f"{where} must not have a query or fragment, like https://voigpt.com, got {url!r}"
        )
    netloc = parts.netloc
    if ":" not in parts.hostname:  # a name, not an IPv6 literal: each label 1-63 characters
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidConfig(f"{where} has an invalid host name: {url!r}") from None
        netloc = host if port is None else f"{host}:{port}"
        if netloc.lower() == parts.netloc.lower():
            netloc = parts.netloc
    if (parts.scheme, port) in (("http", 80), ("https", 443)):
        netloc = netloc.rpartition(":")[0]  # as browsers write Origin and Referer
    path = quote(parts.path.rstrip("/"), safe="/%:@!$&'()*+,;=-._~")
    return f"{parts.scheme}://{netloc}{path}"


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
    except (TypeError, ValueError):
        raise InvalidConfig(f"{where} must be a whole number of bytes, got {value!r}") from None
    if isinstance(value, bool) or number <= 0:
        raise InvalidConfig(f"{where} must be a positive number of bytes, got {value!r}")
    return number


def parse_retries(value: object, where: str = "retries") -> int:
    try:
        number: int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidConfig(f"{where} must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or not 0 <= number <= 10 or str(number) != str(value).strip():
        raise InvalidConfig(f"{where} must be a whole number from 0 to 10, got {value!r}")
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


_PARSERS: dict[str, Any] = {
    "base_url": parse_base_url,
    "access_token": parse_access_token,
    "proxy": parse_proxy,
    "timeout": parse_timeout,
    "backend": parse_backend,
    "max_reply_bytes": parse_max_reply_bytes,
    "retries": parse_retries,
}
