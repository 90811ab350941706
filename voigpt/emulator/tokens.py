"""Django-style CSRF token strings: generation, masking and format checks (pure, stdlib only).

A *secret* is 32 ASCII letters/digits. Django also accepts a 64-character *masked* form
(32-character mask + cipher) anywhere a token is read; ``unmask`` turns it back into the secret.
"""

from __future__ import annotations

import secrets
import string

ALLOWED_CHARS = string.ascii_letters + string.digits
SECRET_LENGTH = 32
MASKED_LENGTH = 2 * SECRET_LENGTH


class InvalidTokenFormat(ValueError):
    """The token has the wrong length or characters; ``reason`` is Django's wording."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_secret() -> str:
    """A fresh 32-character secret, as ``django.middleware.csrf._get_new_csrf_string``."""
    return "".join(secrets.choice(ALLOWED_CHARS) for _ in range(SECRET_LENGTH))


def mask(secret: str) -> str:
    """The 64-character masked form Django renders into pages."""
    salt = new_secret()
    n = len(ALLOWED_CHARS)
    cipher = "".join(
        ALLOWED_CHARS[(ALLOWED_CHARS.index(s) + ALLOWED_CHARS.index(m)) % n]
        for s, m in zip(secret, salt, strict=True)
    )
    return salt + cipher


def unmask(masked: str) -> str:
    """The secret behind a 64-character masked token."""
    salt, cipher = masked[:SECRET_LENGTH], masked[SECRET_LENGTH:]
    return "".join(
        ALLOWED_CHARS[ALLOWED_CHARS.index(c) - ALLOWED_CHARS.index(m)]
        for c, m in zip(cipher, salt, strict=True)
    )


def to_secret(token: str) -> str:
    """The secret a (possibly masked) token stands for, or ``InvalidTokenFormat``."""
    if len(token) not in (SECRET_LENGTH, MASKED_LENGTH):
        raise InvalidTokenFormat("has incorrect length")
    if any(ch not in ALLOWED_CHARS for ch in token):
        raise InvalidTokenFormat("has invalid characters")
    return unmask(token) if len(token) == MASKED_LENGTH else token
