"""Port: where a fresh csrftoken comes from."""

from __future__ import annotations

from typing import Protocol

from voigpt.domain.values import AccessToken


class TokenSource(Protocol):
    """Acquires a fresh token (for voigpt.com: ``GET /`` and read the cookie)."""

    def fetch(self) -> AccessToken:
        """Return a new token, or raise ``TokenUnavailable`` / a transport error."""
        ...
