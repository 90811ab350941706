"""Redaction for logs: a filter that scrubs tokens, cookies and proxy passwords from every
record a handler emits, whichever library logged it (voigpt, urllib3, requests)."""

from __future__ import annotations

import logging
import re
import threading

_PATTERNS = [
    (re.compile(r"(csrftoken=)[^;\s'\"]+", re.IGNORECASE), r"\1***"),
    (re.compile(r"(x-csrftoken['\"]?\s*[:=]\s*['\"]?)[^\s,'\"}]+", re.IGNORECASE), r"\1***"),
    (re.compile(r"(cookie['\"]?\s*[:=]\s*['\"]?)[^\n'\"}]+", re.IGNORECASE), r"\1***"),
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), r"\1***@"),
]


class SecretsFilter(logging.Filter):
    """Rewrites each record's message with known secret values and secret-shaped text masked.
    Known values (a configured token, a proxy password) are added with ``remember``."""

    def __init__(self) -> None:
        super().__init__()
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, *secrets: str | None) -> None:
        with self._lock:
            self._known.update(s for s in secrets if s and len(s) >= 4)

    def scrub(self, text: str) -> str:
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)
        for secret in known:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
        return True
