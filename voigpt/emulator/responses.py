"""HTTP responses as values, and their wire encoding (status line + headers in one buffer)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TypeAlias

Header = tuple[str, str]

HTML = "text/html; charset=utf-8"
JSON = "application/json"
# Headers Django's SecurityMiddleware / XFrameOptionsMiddleware add to every response.
DJANGO_HEADERS: tuple[Header, ...] = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


@dataclass(frozen=True)
class Response:
    """A complete response. When ``chunks`` is set it is streamed instead of ``body``,
    and ``length`` (the exact total of the chunks) becomes the Content-Length."""

    status: int
    headers: tuple[Header, ...] = ()
    body: bytes = b""
    chunks: Iterable[bytes] | None = field(default=None, compare=False)
    length: int | None = None
    close: bool = False

    @property
    def content_length(self) -> int:
        if self.chunks is None:
            return len(self.body)
        if self.length is None:
            raise ValueError("a streamed Response needs its length")
        return self.length


@dataclass(frozen=True)
class Drop:
    """Close the connection without sending anything."""


Outcome: TypeAlias = Response | Drop


def html_response(
    status: int, page: str, headers: Sequence[Header] = (), *, close: bool = False
) -> Response:
    return Response(status, (("Content-Type", HTML), *headers), page.encode("utf-8"), close=close)


def json_response(status: int, data: object, headers: Sequence[Header] = ()) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, (("Content-Type", JSON), *headers), body)


def encode_head(
    status: int,
    headers: Iterable[Header],
    *,
    content_length: int,
    version: str = "HTTP/1.1",
) -> bytes:
    """The status line and headers, ending with the blank line, with Content-Length set."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"{version} {status} {phrase}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if status >= 200 and status not in (204, 304):
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
