"""Cookie parsing and the ``Set-Cookie`` header, the way Django does them (pure)."""

from __future__ import annotations

import email.utils
from http.cookies import _unquote

CSRF_COOKIE_NAME = "csrftoken"
CSRF_COOKIE_AGE = 31449600  # Django's CSRF_COOKIE_AGE: one year (52 weeks)


def parse_cookie(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header as ``django.http.cookie.parse_cookie`` does (lenient)."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            key, value = "", chunk
        key, value = key.strip(), value.strip()
        if key or value:
            cookies[key] = str(_unquote(value))
    return cookies


def csrf_set_cookie(token: str, now: float) -> str:
    """The ``Set-Cookie`` value Django sends with a fresh CSRF cookie."""
    expires = email.utils.formatdate(now + CSRF_COOKIE_AGE, usegmt=True)
    return (
        f"{CSRF_COOKIE_NAME}={token}; expires={expires}; Max-Age={CSRF_COOKIE_AGE}; "
        "Path=/; SameSite=Lax"
    )
