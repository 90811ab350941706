"""Django's CSRF protection as voigpt.com applies it: the ``csrftoken`` cookie, masked tokens,
and ``CsrfViewMiddleware``'s Origin, Referer and token checks. A *secret* is 32 letters/digits;
its 64-character *masked* form (mask + cipher) is accepted wherever a token is read. Unlike
Django, the emulator also requires the secret to be one it issued and has not revoked."""

from __future__ import annotations

import email.utils
import secrets
import string
import threading
import time
from collections.abc import Iterable, Mapping
from http.cookies import _unquote
from urllib.parse import urlsplit

SITE_ORIGIN = "https://voigpt.com"  # the real site's: the emulator stands in for it
CHARS = string.ascii_letters + string.digits
SECRET_LENGTH = 32
COOKIE_AGE = 31449600  # Django's CSRF_COOKIE_AGE: one year (52 weeks)
TOKEN_INCORRECT = "CSRF token incorrect."


def cookie_token(header: str) -> str | None:
    """The ``csrftoken`` in a ``Cookie`` header, read leniently as Django's ``parse_cookie``
    does (the last one wins)."""
    token = None
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if sep and name.strip() == "csrftoken":
            token = str(_unquote(value.strip()))
    return token or None


def set_cookie(token: str) -> str:
    """The ``Set-Cookie`` value Django sends with a fresh CSRF cookie."""
    expires = email.utils.formatdate(time.time() + COOKIE_AGE, usegmt=True)
    return f"csrftoken={token}; expires={expires}; Max-Age={COOKIE_AGE}; Path=/; SameSite=Lax"


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


class CsrfGuard:
    """Django's CSRF protection for one site: the issued secrets still valid (the newest
    ``limit``; an older one is forgotten, so counts as revoked), and the checks of a POST.
    ``secure``: served over HTTPS; ``trusted``: origins accepted besides the site's own,
    which are the emulator's URL and voigpt.com's (``SITE_ORIGIN``: clients written for the
    real site, such as g4f's old provider, send it whatever URL they post to)."""

    limit = 100_000

    def __init__(self, *, secure: bool, trusted: Iterable[str]) -> None:
        self.secure, self.trusted = secure, frozenset((SITE_ORIGIN, *trusted))
        for origin in self.trusted:
            if not urlsplit(origin).scheme or not urlsplit(origin).netloc:
                raise ValueError(f"a trusted origin is scheme://host[:port], not {origin!r}")
        self._trusted_hosts = {urlsplit(origin).netloc.lower() for origin in self.trusted}
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

    def check(self, headers: Mapping[str, str]) -> tuple[str | None, str | None]:
        """``CsrfViewMiddleware``'s checks in its order (Origin or Referer, cookie, header, match):
        why the request fails (None if it passes), and the cookie's secret (as sent if bad)."""
        reason = self._origin_failure(headers)
        cookie = cookie_token(headers.get("cookie", ""))
        try:
            secret = to_secret(cookie) if cookie else None
        except ValueError as exc:
            return reason or f"CSRF cookie {exc}.", cookie
        if reason is not None or secret is None:
            return reason or "CSRF cookie not set.", secret
        header = headers.get("x-csrftoken")
        if not header:
            return "CSRF token missing.", secret
        try:
            presented = to_secret(header)
        except ValueError as exc:
            return f"CSRF token {exc}.", secret
        with self._lock:
            active = secret in self._active
        if not active or not secrets.compare_digest(presented, secret):
            return TOKEN_INCORRECT, secret
        return None, secret

    def _origin_failure(self, headers: Mapping[str, str]) -> str | None:
        """Why the Origin check (or over HTTPS without an Origin, the Referer check) fails."""
        host, origin = headers.get("host", ""), headers.get("origin")
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
        except ValueError:  # such as a bad IPv6 literal
            parts = urlsplit("")
        if not parts.scheme or not parts.netloc:
            return "Referer checking failed - Referer is malformed."
        if parts.scheme != "https":
            return "Referer checking failed - Referer is insecure while host is secure."
        if parts.netloc.lower() in {host.lower(), *self._trusted_hosts}:
            return None
        return f"Referer checking failed - {parts.geturl()!r} does not match any trusted origins."
