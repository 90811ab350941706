"""Redaction for logs: a filter that scrubs tokens, cookies, proxy passwords and API keys
from every record a handler emits, whichever library logged it (voigpt, urllib3, requests,
uvicorn), in every form they take there: as set, percent-encoded (an access log's URL), or
escaped (a ``repr``): the forms ``voigpt.domain.redaction`` matches."""

from __future__ import annotations

import logging
import re
import threading

from voigpt.domain.redaction import MASK, pattern

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
        self._masks: list[re.Pattern[str]] = []  # the known secrets' forms, longest first
        self._lock = threading.Lock()

    def remember(self, *secrets: str | None) -> None:
        with self._lock:
            self._known.update(s for s in secrets if s and len(s) >= 4)
            known = sorted(self._known, key=len, reverse=True)
            self._masks = [pattern(secret) for secret in known]

    def scrub(self, text: str) -> str:
        for shape, replacement in _PATTERNS:
            text = shape.sub(replacement, text)
        for mask in self._masks:  # a list replaced whole by remember: safe to read
            text = mask.sub(MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
        return True
