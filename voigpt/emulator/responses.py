"""Responses as values, the pages of Django, nginx and Cloudflare that the site serves (short,
with the parts clients recognise), and the response each response-replacing fault sends."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from typing import Any

from voigpt.emulator.faults import MIN_OVERSIZED, Fault

Header = tuple[str, str]
# What the server, and Django's SecurityMiddleware and XFrameOptionsMiddleware, add.
SITE_HEADERS: tuple[Header, ...] = (
    ("Server", "voigpt-emulator/1.0"), ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
)


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[Header, ...] = ()
    body: bytes = b""


def html(status: int, page: str, *headers: Header) -> Response:
    """A Django response with an HTML page."""
    content = ("Content-Type", "text/html; charset=utf-8")
    return Response(status, (content, *headers, *SITE_HEADERS), page.encode())


def json_response(status: int, data: object, *headers: Header) -> Response:
    """A Django response with a JSON body."""
    body = json.dumps(data, ensure_ascii=False).encode()
    return Response(status, (("Content-Type", "application/json"), *headers, *SITE_HEADERS), body)


def page(title: str, body: str) -> str:
    """A small HTML page."""
    head = f'<head><meta charset="utf-8"><title>{title}</title></head>'
    return f'<!DOCTYPE html>\n<html lang="en">\n{head}\n<body>\n{body}\n</body>\n</html>\n'


def index_page(masked_token: str) -> str:
    """The chat page at ``GET /``, with Django's hidden CSRF form field."""
    field = f'<input type="hidden" name="csrfmiddlewaretoken" value="{masked_token}">'
    return page("VoiGPT", f'<form method="post" action="/generate_response/">\n{field}\n</form>')


def csrf_failure_page(reason: str) -> str:
    """Django's CSRF failure page (``django.views.csrf.csrf_failure``) with its reason."""
    return page(
        "403 Forbidden",
        "<h1>Forbidden <span>(403)</span></h1>\n<p>CSRF verification failed. Request aborted.</p>\n"
        f"<p>Reason given for failure:</p>\n<pre>\n    {escape(reason)}\n</pre>",
    )


def error(status: int, message: str) -> Response:
    """A plain error page: Django's 404, or the refusal of a malformed request."""
    title = f"{status} {HTTPStatus(status).phrase}"
    return html(status, page(title, f"<h1>{title}</h1>\n<p>{escape(message)}</p>"))


NGINX_PAGE = (
    "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
SERVER_ERROR_PAGES = {  # Django's own 500; nginx's 502 and 503 when the upstream fails
    500: page("Server Error (500)", "<h1>Server Error (500)</h1>"),
    502: NGINX_PAGE.format("502 Bad Gateway"),
    503: NGINX_PAGE.format("503 Service Temporarily Unavailable"),
}
CHALLENGE_PAGE = page(  # Cloudflare's "Just a moment..." browser challenge
    "Just a moment...",
    '<h2 id="challenge-running">Checking your browser before accessing voigpt.com.</h2>\n'
    '<div id="cf-challenge-running" class="cf-challenge">This process is automatic.</div>\n'
    '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>',
).encode()


def fault_response(fault: Fault, value: Any) -> Response | None:
    """What replaces the normal response under ``fault`` (not STALE_TOKEN or SLOW), given the
    value of its parameter; None drops the connection unanswered."""
    if fault is Fault.RATE_LIMITED:
        body = {"detail": "Request was throttled.", "retry_after": str(value)}
        return json_response(429, body, ("Retry-After", str(value)))
    if fault is Fault.SERVER_ERROR:
        return html(value, SERVER_ERROR_PAGES[value])
    if fault is Fault.HTML_INSTEAD_OF_JSON:
        return html(200, page("VoiGPT", "<h1>Down for maintenance</h1>"))
    if fault is Fault.MISSING_RESPONSE:
        return json_response(200, value)
    if fault is Fault.OVERSIZED:  # {"response": "xxx..."}, exactly ``value`` bytes
        return json_response(200, {"response": "x" * (value - MIN_OVERSIZED)})
    if fault is Fault.ANTI_BOT:
        headers = (
            ("Content-Type", "text/html; charset=UTF-8"), ("Server", "cloudflare"),
            ("cf-mitigated", "challenge"), ("CF-RAY", f"{secrets.token_hex(8)}-AMS"),
        )
        return Response(value, headers, CHALLENGE_PAGE)
    return None  # DROP_CONNECTION
