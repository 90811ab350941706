"""Settings: from keyword arguments, a dict, or ``VOIGPT_*`` environment variables.

Precedence: keyword arguments, then the dict, then the environment, then the defaults.
Every value is checked here, before any I/O; a bad one raises ``InvalidConfig`` (or
``InvalidProxy``), both ``ValueError``s, naming the setting and where it came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from voigpt.domain.errors import InvalidConfig
from voigpt.domain.limits import DEFAULT_DEADLINE, DEFAULT_MAX_REPLY_BYTES, Timeouts
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.setting_values import (
    parse_access_token,
    parse_backend,
    parse_max_connections,
    parse_max_reply_bytes,
    parse_proxy,
    parse_retries,
    parse_timeout,
)
from voigpt.domain.site_url import parse_base_url
from voigpt.domain.values import AccessToken

DEFAULT_BASE_URL = "https://voigpt.com"
DEFAULT_MAX_CONNECTIONS = 100
LOCAL = "local"

ENVIRONMENT = {
    "base_url": "VOIGPT_BASE_URL",
    "access_token": "VOIGPT_ACCESS_TOKEN",
    "proxy": "VOIGPT_PROXY",
    "timeout": "VOIGPT_TIMEOUT",
    "backend": "VOIGPT_BACKEND",
    "max_reply_bytes": "VOIGPT_MAX_REPLY_BYTES",
    "retries": "VOIGPT_RETRIES",
    "max_connections": "VOIGPT_MAX_CONNECTIONS",
}


@attrs.frozen
class Settings:
    """Validated settings. ``repr`` shows neither the token nor the proxy password.

    Build them with ``Settings.load``, which reads keyword arguments, then a dict, then the
    ``VOIGPT_*`` variables, then these defaults, and checks every value; ``Client`` and
    ``build_container`` call it for you.

    :ivar base_url: the site (``VOIGPT_BASE_URL``), ``https://voigpt.com`` by default.
    :ivar access_token: a csrftoken to use as given (``VOIGPT_ACCESS_TOKEN``); ``None``:
        fetched from ``GET /`` and cached.
    :ivar proxy: the proxy for every request (``VOIGPT_PROXY``): ``http``, ``https``,
        ``socks5`` or ``socks5h``, with ``user:pass@`` if it needs them.
    :ivar timeout: seconds (``VOIGPT_TIMEOUT``, at most 86400). ``T`` means a connect timeout
        of ``min(10, T)``, ``T`` per read and ``T`` for the whole call, retries and waits
        included; ``None``: 10 s, 60 s and 90 s.
    :ivar backend: ``http`` (the site), ``fake`` (in memory, no network) or ``local`` (the
        command line's only: ``http`` against an emulator it starts); ``VOIGPT_BACKEND``.
    :ivar max_reply_bytes: the largest reply body read (``VOIGPT_MAX_REPLY_BYTES``), 10 MiB
        by default.
    :ivar retries: retries of transient failures, 0 to 10 (``VOIGPT_RETRIES``), 2 by default.
    :ivar max_connections: connections an ``AsyncClient`` keeps to the site at most, 1 to
        10,000 (``VOIGPT_MAX_CONNECTIONS``), 100 by default.
    """

    base_url: str = DEFAULT_BASE_URL
    access_token: AccessToken | None = None
    proxy: ProxyUrl | None = None
    timeout: float | None = None
    backend: str = "http"
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    retries: int = 2
    # Connections an AsyncClient keeps to the site at most (its aiohttp pool).
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    @classmethod
    def load(
        cls,
        mapping: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Settings from ``overrides`` (keyword arguments), then ``mapping``, then
        ``environ`` (``os.environ`` when ``None``), then the defaults. A ``None`` value is
        skipped, as if not given.

        ``labels`` names the keyword arguments in errors (the CLI passes ``--proxy``...).

        :raises InvalidConfig: an unknown setting, or a value that cannot be used; the
            message says where it came from. A bad proxy raises ``InvalidProxy``.
        """
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
        """The connect and read timeouts each request uses."""
        return Timeouts() if self.timeout is None else Timeouts.total(self.timeout)

    def to_config(self) -> dict[str, Any]:
        """The values the container's ``Configuration`` provider holds."""
        values = attrs.asdict(self, recurse=False)
        return {**values, "timeouts": self.timeouts, "deadline": self.deadline}


_PARSERS: dict[str, Any] = {
    "base_url": parse_base_url,
    "access_token": parse_access_token,
    "proxy": parse_proxy,
    "timeout": parse_timeout,
    "backend": parse_backend,
    "max_reply_bytes": parse_max_reply_bytes,
    "retries": parse_retries,
    "max_connections": parse_max_connections,
}
