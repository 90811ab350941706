"""CSRF verification: which tokens the emulator issued, and Django's checks on a POST.

Django accepts any well-formed cookie/header pair that match; the emulator is stricter and
also requires the secret to be one it issued and has not revoked.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from voigpt.emulator.cookies import CSRF_COOKIE_NAME, parse_cookie
from voigpt.emulator.tokens import InvalidTokenFormat, new_secret, to_secret

CSRF_HEADER = "x-csrftoken"

REASON_NO_COOKIE = "CSRF cookie not set."
REASON_TOKEN_MISSING = "CSRF token missing."
REASON_TOKEN_INCORRECT = "CSRF token incorrect."


class TokenRegistry:
    """Thread-safe set of issued secrets, each active until revoked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, bool] = {}

    def issue(self, *, revoked: bool = False) -> str:
        token = new_secret()
        with self._lock:
            self._active[token] = not revoked
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            if token in self._active:
                self._active[token] = False

    def revoke_all(self) -> None:
        with self._lock:
            for token in self._active:
                self._active[token] = False

    def is_active(self, token: str) -> bool:
        with self._lock:
            return self._active.get(token, False)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a CSRF check: ``reason`` is None when it passed."""

    reason: str | None
    token: str | None  # the secret presented in the cookie, if any


def verify(headers: Mapping[str, str], registry: TokenRegistry) -> Verdict:
    """Django's ``CsrfViewMiddleware`` order: cookie, then header, then comparison."""
    cookie = parse_cookie(headers.get("cookie", "")).get(CSRF_COOKIE_NAME)
    if not cookie:
        return Verdict(REASON_NO_COOKIE, None)
    try:
        secret = to_secret(cookie)
    except InvalidTokenFormat as exc:
        return Verdict(f"CSRF cookie {exc.reason}.", cookie)
    header = headers.get(CSRF_HEADER)
    if not header:
        return Verdict(REASON_TOKEN_MISSING, secret)
    try:
        presented = to_secret(header)
    except InvalidTokenFormat as exc:
        return Verdict(f"CSRF token {exc.reason}.", secret)
    if not secrets.compare_digest(presented, secret) or not registry.is_active(secret):
        return Verdict(REASON_TOKEN_INCORRECT, secret)
    return Verdict(None, secret)
