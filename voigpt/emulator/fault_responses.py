"""What each response-replacing fault sends back (STALE_TOKEN and SLOW live in the views)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from voigpt.emulator.faults import ActiveFault, Fault, FaultParams
from voigpt.emulator.pages import challenge_page, maintenance_page, server_error_page
from voigpt.emulator.responses import (
    DJANGO_HEADERS,
    JSON,
    Drop,
    Outcome,
    Response,
    html_response,
    json_response,
)

CHUNK_SIZE = 64 * 1024
_PREFIX = b'{"response": "'
_SUFFIX = b'"}'


def _oversized_chunks(size: int) -> Iterator[bytes]:
    """``{"response": "xxx..."}`` of exactly ``size`` bytes, without building it whole."""
    yield _PREFIX
    remaining = size - len(_PREFIX) - len(_SUFFIX)
    block = b"x" * CHUNK_SIZE
    while remaining > 0:
        n = min(CHUNK_SIZE, remaining)
        yield block if n == CHUNK_SIZE else block[:n]
        remaining -= n
    yield _SUFFIX


def _rate_limited(params: FaultParams) -> Response:
    body = {"detail": "Request was throttled.", "retry_after": params.retry_after}
    return json_response(429, body, (("Retry-After", params.retry_after), *DJANGO_HEADERS))


def _anti_bot(params: FaultParams) -> Response:
    headers = (
        ("Server", "cloudflare"),
        ("cf-mitigated", "challenge"),
        ("CF-RAY", f"{secrets.token_hex(8)}-AMS"),
        ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate"),
        ("Expires", "Thu, 01 Jan 1970 00:00:01 GMT"),
        ("X-Frame-Options", "SAMEORIGIN"),
        ("Referrer-Policy", "same-origin"),
    )
    page = challenge_page("voigpt.com").encode("utf-8")
    content_type = ("Content-Type", "text/html; charset=UTF-8")
    return Response(params.status or 403, (content_type, *headers), page)


def fault_response(active: ActiveFault) -> Outcome:
    """The response that replaces the normal one for ``active``."""
    fault, params = active.fault, active.params
    if fault is Fault.RATE_LIMITED:
        return _rate_limited(params)
    if fault is Fault.SERVER_ERROR:
        status = params.status or 500
        return html_response(status, server_error_page(status))
    if fault is Fault.HTML_INSTEAD_OF_JSON:
        return html_response(200, maintenance_page(), DJANGO_HEADERS)
    if fault is Fault.MISSING_RESPONSE:
        return json_response(200, params.body, DJANGO_HEADERS)
    if fault is Fault.OVERSIZED:
        headers = (("Content-Type", JSON), *DJANGO_HEADERS)
        return Response(200, headers, chunks=_oversized_chunks(params.size), length=params.size)
    if fault is Fault.DROP_CONNECTION:
        return Drop()
    if fault is Fault.ANTI_BOT:
        return _anti_bot(params)
    raise ValueError(f"{fault.name} does not replace the response")  # STALE_TOKEN, SLOW

