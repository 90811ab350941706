"""Every form a secret takes in text, and text with each of them masked.

A secret rarely shows only as it was set. An echo of a URL or a query string shows it
percent-encoded (by whichever rules the encoder kept: any character escaped or not, hex
digits in either case, ``+`` for a space); a ``repr`` or JSON of it shows it escaped (a
backslash or quote doubled: ``\\\\``, ``\\"``, ``\\'``; ``\\uXXXX`` for what is not ASCII).
``pattern`` matches every mix of these forms, one character at a time, so every place that
masks a secret (the log filter, the excerpts of the site's answers) uses the same rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

MASK = "***"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***``; the longest secret
    first, so that no piece of it is left beside a shorter one."""
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = pattern(secret).sub(MASK, text)
    return text


@functools.lru_cache(maxsize=256)
def pattern(secret: str) -> re.Pattern[str]:
    """What matches ``secret`` in any of its forms, each character as itself, percent-encoded
    (its UTF-8 bytes, or its Latin-1 byte, as Basic credentials carry it) or escaped."""
    return re.compile("".join(_character(char) for char in secret))


def _character(char: str) -> str:
    forms = {re.escape(char), _percent(char.encode("utf-8"))}
    code = ord(char)
    if 0x80 <= code <= 0xFF:
        forms.add(_percent(char.encode("latin-1")))
    if char == " ":
        forms.add(r"\+")
    if code < 0x80:
        if char.isprintable() and not char.isalnum():
            forms.add(r"\\" + re.escape(char))  # repr's \\ and \', JSON's \" and \/
    else:  # at most 3 characters for each UTF-8 byte, as percent-encoding takes
        forms.add(_hex(r"\\u", code, 4) if code <= 0xFFFF else _hex(r"\\U", code, 8))
        if code <= 0xFF:
            forms.add(_hex(r"\\x", code, 2))
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


def _percent(data: bytes) -> str:
    return "".join(_hex("%", byte, 2) for byte in data)


def _hex(prefix: str, value: int, width: int) -> str:
    """``prefix`` and ``value`` in ``width`` hex digits, matching either case."""
    digits = f"{value:0{width}x}"
    return prefix + "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)
