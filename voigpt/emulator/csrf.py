"""Django's CSRF protection as voigpt.com applies it: the ``csrftoken`` cookie, masked tokens,
the registry of issued tokens, and ``CsrfViewMiddleware``'s Origin, Referer and token checks.

A *secret* is 32 ASCII letters/digits; Django also accepts its 64-character *masked* form
(mask + cipher) wherever a token is read. Django accepts any well-formed matching pair; the
emulator also requires the secret to be one it issued and has not revoked.
"""

from __future__ import annotations

import email.utils
import secrets
import string
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.cookies import _unquote
from urllib.parse import urlsplit

CHARS = string.ascii_letters + string.digits
SECRET_LENGTH = 32
COOKIE_NAME = "csrftoken"
COOKIE_AGE = 31449600  # Django's CSRF_COOKIE_AGE: one year (52 weeks)
REASON_TOKEN_INCORRECT = "CSRF token incorrect."
REASON_MALFORMED_REFERER = "Referer checking failed - Referer is malformed."


def parse_cookie(header: str) -> dict[str, str]:
    """A ``Cookie`` header parsed as ``django.http.cookie.parse_cookie`` does (leniently)."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep:
            key, value = "", chunk
        key, value = key.strip(), value.strip()
        if key or value:
            cookies[key] = str(_unquote(value))
    return cookies


def set_cookie(token: str, now: float) -> str:
    """The ``Set-Cookie`` value Django sends with a fresh CSRF cookie."""
    expires = email.utils.formatdate(now + COOKIE_AGE, usegmt=True)
    return f"{COOKIE_NAME}={token}; expires={expires}; Max-Age={COOKIE_AGE}; Path=/; SameSite=Lax"


def new_secret() -> str:
    return "".join(secrets.choice(CHARS) for _ in range(SECRET_LENGTH))


def mask(secret: str) -> str:
    """The 64-character masked form Django renders into pages."""
    salt = new_secret()
    pairs = zip(secret, salt, strict=True)
    return salt + "".join(CHARS[(CHARS.index(s) + CHARS.index(m)) % len(CHARS)] for s, m in pairs)


def to_secret(token: str) -> str:
    """The secret a (possibly masked) token stands for; ``ValueError`` says what is wrong."""
    if len(token) not in (SECRET_LENGTH, 2 * SECRET_LENGTH):
        raise ValueError("has incorrect length")
    if any(ch not in CHARS for ch in token):
        raise ValueError("has invalid characters")
    if len(token) == SECRET_LENGTH:
        return token
    salt, cipher = token[:SECRET_LENGTH], token[SECRET_LENGTH:]
    pairs = zip(cipher, salt, strict=True)
    return "".join(CHARS[CHARS.index(c) - CHARS.index(m)] for c, m in pairs)


@dataclass(frozen=True)
class Verdict:
    """A CSRF check's outcome: ``reason`` is None when it passed; ``token`` is the secret of
    the cookie presented (as sent when malformed), if any."""

    reason: str | None
    token: str | None


class CsrfGuard:
    """Django's CSRF protection for one site: the issued secrets still valid (the newest
    ``limit``; an older one is forgotten, so counts as revoked), and the checks of a POST.
    ``secure``: served over HTTPS; ``trusted``: origins accepted besides the site's own."""

    limit = 100_000

    def __init__(self, *, secure: bool, trusted: Iterable[str]) -> None:
        self.secure, self.trusted = secure, frozenset(trusted)
        for origin in self.trusted:
            if not urlsplit(origin).scheme or not urlsplit(origin).netloc:
                raise ValueError(f"a trusted origin is scheme://host[:port], not {origin!r}")
        self._lock = threading.Lock()
        self._active: dict[str, None] = {}  # insertion-ordered: oldest first

    def issue(self, *, revoked: bool = False) -> str:
        token = new_secret()
        if not revoked:
            with self._lock:
                self._active[token] = None
                if len(self._active) > self.limit:
                    del self._active[next(iter(self._active))]
        return token

    def revoke(self, token: str | None = None) -> None:
        """Revoke ``token``, or every token when None."""
        with self._lock:
            if token is None:
                self._active.clear()
            else:
                self._active.pop(token, None)

    def check(self, headers: Mapping[str, str], host: str) -> Verdict:
        """``CsrfViewMiddleware``'s order: Origin/Referer, then cookie, header, comparison.
        ``host`` is the request's Host."""
        cookie = parse_cookie(headers.get("cookie", "")).get(COOKIE_NAME) or None
        secret, bad_cookie = cookie, None
        try:
            secret = to_secret(cookie) if cookie else None
        except ValueError as exc:
            bad_cookie = f"CSRF cookie {exc}."
        reason = self._origin_failure(headers, host)
        if reason is not None:
            return Verdict(reason, secret)
        if secret is None:
            return Verdict("CSRF cookie not set.", None)
        if bad_cookie is not None:
            return Verdict(bad_cookie, secret)
        header = headers.get("x-csrftoken")
        if not header:
            return Verdict("CSRF token missing.", secret)
        try:
            presented = to_secret(header)
        except ValueError as exc:
            return Verdict(f"CSRF token {exc}.", secret)
        with self._lock:
            active = secret in self._active
        if not secrets.compare_digest(presented, secret) or not active:
            return Verdict(REASON_TOKEN_INCORRECT, secret)
        return Verdict(None, secret)

    def _origin_failure(self, headers: Mapping[str, str], host: str) -> str | None:
        """Why the Origin check (or over HTTPS without an Origin, the Referer check) fails."""
        origin = headers.get("origin")
        if origin is not None:
            if origin == f"{'https' if self.secure else 'http'}://{host}" or origin in self.trusted:
                return None
            return f"Origin checking failed - {origin} does not match any trusted origins."
        if not self.secure:
            return None
        referer = headers.get("referer")
        if referer is None:
            return "Referer checking failed - no Referer."
        try:
            parts = urlsplit(referer)
        except ValueError:
            return REASON_MALFORMED_REFERER
        if not parts.scheme or not parts.netloc:
            return REASON_MALFORMED_REFERER
        if parts.scheme != "https":
            return "Referer checking failed - Referer is insecure while host is secure."
        good = {host, *(urlsplit(origin).netloc for origin in self.trusted)}
        if parts.netloc.lower() in {netloc.lower() for netloc in good}:
            return None
        return f"Referer checking failed - {parts.geturl()!r} does not match any trusted origins."
