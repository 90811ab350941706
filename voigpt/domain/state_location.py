"""Where shared state lives (``--state``, ``VOIGPT_STATE``): a value checked before any I/O.

- ``memory``: the process alone (what a library ``Client`` uses);
- ``sqlite:///PATH``: one machine, any number of processes (``sqlite:////abs/path`` or
  ``sqlite:///relative/path``, as SQLAlchemy writes them);
- ``redis://[:PASSWORD@]HOST[:PORT][/DB]`` and ``rediss://`` (TLS): a fleet; Redis and
  Valkey both speak it. The password may come from ``VOIGPT_REDIS_PASSWORD`` instead.

The password never shows in ``repr``, ``str`` or an error: ``shown`` is the URL with
``***`` in its place.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import attrs

from voigpt.domain.errors import InvalidConfig

KINDS = ("memory", "sqlite", "redis")
_HOST = re.compile(r"[A-Za-z0-9.:-]{1,253}")  # a name, or an IP address (v6 unbracketed)


@attrs.frozen(repr=False)
class StateLocation:
    kind: str
    path: str | None = None  # sqlite
    host: str | None = None  # redis
    port: int = 6379
    db: int = 0
    tls: bool = False
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)

    @property
    def shown(self) -> str:
        """The location as a person may see it: never the password."""
        if self.kind == "memory":
            return "memory"
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        auth = "" if self.password is None and self.username is None else \
            f"{self.username or ''}:***@" if self.password is not None else f"{self.username}@"
        return f"{'rediss' if self.tls else 'redis'}://{auth}{self.host}:{self.port}/{self.db}"

    @property
    def url(self) -> str:
        """The location as ``parse_state`` reads it, without the password (which travels
        apart, in ``VOIGPT_REDIS_PASSWORD``)."""
        if self.kind != "redis":
            return self.shown
        user = f"{self.username}@" if self.username else ""
        return f"{'rediss' if self.tls else 'redis'}://{user}{self.host}:{self.port}/{self.db}"

    def redis_url(self) -> str:
        """The URL for redis-py, password included: for the adapter only, never shown."""
        if self.kind != "redis":
            raise ValueError("not a Redis location")
        return f"{'rediss' if self.tls else 'redis'}://{self.host}:{self.port}/{self.db}"

    def __repr__(self) -> str:
        return f"StateLocation({self.shown!r})"

    __str__ = __repr__


def parse_state(value: object, where: str = "state", *,
                redis_password: str | None = None) -> StateLocation:
    """``value`` as a ``StateLocation``; ``InvalidConfig`` naming ``where`` (and never the
    password) if it is not one. ``redis_password`` (``VOIGPT_REDIS_PASSWORD``) is used when
    the URL has none."""
    if isinstance(value, StateLocation):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidConfig(f"{where} must be 'memory', 'sqlite:///PATH' or "
                            "'redis://HOST:PORT/DB'")
    text = value.strip()
    if text == "memory":
        return StateLocation("memory")
    scheme = text.partition(":")[0].lower()
    if scheme == "sqlite":
        return _sqlite(text, where)
    if scheme in ("redis", "rediss"):
        return _redis(text, where, redis_password)
    raise InvalidConfig(f"{where} must be 'memory', 'sqlite:///PATH' or 'redis://HOST:PORT/DB' "
                        f"(or rediss://), got a {scheme[:20]!r} URL" if ":" in text else
                        f"{where} must be 'memory', 'sqlite:///PATH' or "
                        "'redis://HOST:PORT/DB', got something else")


def _sqlite(text: str, where: str) -> StateLocation:
    if not text.lower().startswith("sqlite:///"):
        raise InvalidConfig(f"{where}: a SQLite location is written sqlite:///PATH "
                            "(three slashes, then the path: sqlite:////var/lib/voigpt.db)")
    path = unquote(text[len("sqlite:///"):])
    if not path or path.endswith("/") or "\x00" in path or any(c < " " for c in path):
        raise InvalidConfig(f"{where}: sqlite:///PATH needs the path of a file")
    return StateLocation("sqlite", path=path)


def _redis(text: str, where: str, fallback_password: str | None) -> StateLocation:
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise InvalidConfig(f"{where}: the Redis URL's port is not a number from 1 to "
                            "65535") from None
    if not host or not _HOST.fullmatch(host):
        raise InvalidConfig(f"{where}: the Redis URL needs a host: redis://HOST:PORT/DB")
    if parts.query or parts.fragment:
        raise InvalidConfig(f"{where}: the Redis URL takes no query or fragment; give the "
                            "password in the URL or in VOIGPT_REDIS_PASSWORD")
    db_text = parts.path.lstrip("/")
    if db_text and not (db_text.isascii() and db_text.isdigit() and int(db_text) < 10_000):
        raise InvalidConfig(f"{where}: the Redis database is a number (redis://HOST:PORT/0), "
                            f"got {db_text[:20]!r}")
    password = unquote(parts.password) if parts.password is not None else fallback_password
    username = unquote(parts.username) if parts.username else None
    return StateLocation("redis", host=host, port=port or 6379, db=int(db_text or 0),
                         tls=parts.scheme.lower() == "rediss", username=username,
                         password=password or None)
