"""The rules a string must keep to travel: what the values check their text against.

Text sent to the site must encode to UTF-8 (a lone surrogate cannot), a token must be a
cookie-safe ASCII string, and text that came back is made valid Unicode before anyone
reads it. The values in ``values`` run these on construction, so none can be built
holding a string that would break a request or a reply.
"""

from __future__ import annotations

import re
from typing import Any

from voigpt.domain.errors import InvalidInput, InvalidMessages

# HTTP's token characters (RFC 9110's tchar): safe unquoted in a Cookie header.
_TOKEN_SHAPE = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z|~]{1,4096}")


def check_content(instance: object, attribute: object, content: Any) -> None:
    """A message's text: a string that encodes to UTF-8 (an attrs validator)."""
    if not isinstance(content, str):
        raise InvalidMessages(f"'content' must be a string, got {type(content).__name__}")
    try:
        content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidMessages(
            f"'content' has a character that is not valid UTF-8 at index {exc.start} "
            "(a lone surrogate)"
        ) from None


def check_token(instance: object, attribute: object, value: Any) -> None:
    """A token's value: a cookie-safe string, never shown in the error (an attrs validator)."""
    if not isinstance(value, str):
        raise InvalidInput(f"access_token must be a string, got {type(value).__name__}")
    if not _TOKEN_SHAPE.fullmatch(value):
        raise InvalidInput(
            "access_token is not a usable cookie value (empty, too long, or has spaces, "
            "quotes, ';', non-ASCII or control characters); the value is not shown"
        )


def well_formed(text: Any) -> Any:
    """``text`` as valid Unicode, read as UTF-16 is (as a browser reads a JSON string): each
    lone surrogate, such as a ``"\\ud800"`` escape (half an emoji cut in two), becomes
    U+FFFD and a pair split over two code points is joined. A non-string is left to the
    validator."""
    if not isinstance(text, str) or text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
