"""Responses as values, the pages of Django, nginx and Cloudflare that the site serves (short,
with the parts clients recognise), and the response each response-replacing fault sends."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TypeAlias

from voigpt.emulator.faults import MIN_OVERSIZED, Fault, FaultParams

Header = tuple[str, str]
HTML = "text/html; charset=utf-8"
JSON = "application/json"
# What Django's SecurityMiddleware and XFrameOptionsMiddleware add to every response.
DJANGO_HEADERS: tuple[Header, ...] = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


@dataclass(frozen=True)
class Response:
    """A complete response; with ``chunks`` it is streamed instead of ``body``, and ``length``
    (their exact total) is its Content-Length."""

    status: int
    headers: tuple[Header, ...] = ()
    body: bytes = b""
    chunks: Iterable[bytes] | None = field(default=None, compare=False)
    length: int = 0

    @property
    def content_length(self) -> int:
        return len(self.body) if self.chunks is None else self.length


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering."""


Outcome: TypeAlias = Response | Drop


def html(status: int, page: str, headers: Sequence[Header] = ()) -> Response:
    return Response(status, (("Content-Type", HTML), *headers), page.encode("utf-8"))


def json_response(status: int, data: object, headers: Sequence[Header] = ()) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, (("Content-Type", JSON), *headers), body)


def page(title: str, body: str, lang: str = "en") -> str:
    """A small HTML page."""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def index_page(masked_token: str) -> str:
    """The chat page at ``GET /``, with Django's hidden CSRF form field."""
    return page(
        "VoiGPT (local emulator)",
        '<h1>VoiGPT</h1>\n<form id="chat-form" method="post" action="/generate_response/">\n'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(masked_token)}">\n'
        '<textarea name="prompt"></textarea>\n<button type="submit">Send</button>\n</form>',
    )


def csrf_failure_page(reason: str) -> str:
    """Django's CSRF failure page (``django.views.csrf.csrf_failure``) with its reason."""
    return page(
        "403 Forbidden",
        '<div id="summary">\n<h1>Forbidden <span>(403)</span></h1>\n'
        "<p>CSRF verification failed. Request aborted.</p>\n</div>\n"
        f'<div id="info">\n<p>Reason given for failure:</p>\n<pre>\n    {escape(reason)}\n'
        "</pre>\n</div>",
    )


NGINX_PAGE = (
    "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
SERVER_ERROR_PAGES = {  # Django's own 500; nginx's 502 and 503 when the upstream fails
    500: page("Server Error (500)", "<h1>Server Error (500)</h1><p></p>"),
    502: NGINX_PAGE.format("502 Bad Gateway"),
    503: NGINX_PAGE.format("503 Service Temporarily Unavailable"),
}
CHALLENGE_PAGE = page(  # Cloudflare's "Just a moment..." browser challenge
    "Just a moment...",
    '<h1 class="zone-name-title h1">voigpt.com</h1>\n'
    '<h2 id="challenge-running">Checking your browser before accessing voigpt.com.</h2>\n'
    '<div id="cf-challenge-running" class="cf-challenge">This process is automatic.</div>\n'
    "<noscript>Enable JavaScript and cookies to continue</noscript>\n"
    '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>',
    lang="en-US",
).encode()
MAINTENANCE_PAGE = page("VoiGPT", "<h1>We'll be right back</h1>\n<p>Down for maintenance.</p>")


def _oversized(size: int, block: bytes = b"x" * 65536) -> Iterator[bytes]:
    """``{"response": "xxx..."}`` of exactly ``size`` bytes, never built whole."""
    yield b'{"response": "'
    remaining = size - MIN_OVERSIZED
    while remaining > 0:
        yield block[:remaining]
        remaining -= len(block)
    yield b'"}'


def fault_response(fault: Fault, params: FaultParams) -> Outcome:
    """What replaces the normal response under ``fault`` (not STALE_TOKEN or SLOW)."""
    if fault is Fault.RATE_LIMITED:
        body = {"detail": "Request was throttled.", "retry_after": params.retry_after}
        return json_response(429, body, (("Retry-After", params.retry_after), *DJANGO_HEADERS))
    if fault is Fault.SERVER_ERROR:
        return html(params.status or 500, SERVER_ERROR_PAGES[params.status or 500])
    if fault is Fault.HTML_INSTEAD_OF_JSON:
        return html(200, MAINTENANCE_PAGE, DJANGO_HEADERS)
    if fault is Fault.MISSING_RESPONSE:
        return json_response(200, params.body, DJANGO_HEADERS)
    if fault is Fault.OVERSIZED:
        headers = (("Content-Type", JSON), *DJANGO_HEADERS)
        return Response(200, headers, chunks=_oversized(params.size), length=params.size)
    if fault is Fault.DROP_CONNECTION:
        return Drop()
    if fault is Fault.ANTI_BOT:
        headers = (
            ("Content-Type", "text/html; charset=UTF-8"),
            ("Server", "cloudflare"),
            ("cf-mitigated", "challenge"),
            ("CF-RAY", f"{secrets.token_hex(8)}-AMS"),
            ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate"),
            ("X-Frame-Options", "SAMEORIGIN"),
        )
        return Response(params.status or 403, headers, CHALLENGE_PAGE)
    raise ValueError(f"{fault.name} does not replace the response")
