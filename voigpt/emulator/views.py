"""The site's two pages: ``GET /`` (issues a CSRF cookie) and ``POST /generate_response/``."""

from __future__ import annotations

import logging
import time

from voigpt.emulator.cookies import csrf_set_cookie
from voigpt.emulator.csrf import REASON_TOKEN_INCORRECT, TokenRegistry, verify
from voigpt.emulator.pages import csrf_failure_page, index_page
from voigpt.emulator.protocol import BadRequestBody, parse_request_body, reply_for
from voigpt.emulator.records import RecordedRequest, Recorder, Rejection
from voigpt.emulator.responses import DJANGO_HEADERS, Response, html_response, json_response
from voigpt.emulator.tokens import mask


def index(tokens: TokenRegistry, recorder: Recorder, *, stale: bool = False) -> Response:
    """The chat page with a fresh ``csrftoken`` cookie (already revoked when ``stale``)."""
    token = tokens.issue(revoked=stale)
    recorder.add_token(token)
    headers = (
        ("Set-Cookie", csrf_set_cookie(token, time.time())),
        ("Vary", "Cookie"),
        *DJANGO_HEADERS,
    )
    return html_response(200, index_page(mask(token)), headers)


def generate_response(
    request: RecordedRequest,
    path: str,
    tokens: TokenRegistry,
    recorder: Recorder,
    logger: logging.Logger,
    *,
    stale: bool = False,
) -> Response:
    """CSRF check, then body validation, then the deterministic reply.

    ``stale`` (the STALE_TOKEN fault) revokes a token that would have passed, and rejects it.
    """
    logger.debug(
        "POST %s origin=%r referer=%r",
        path,
        request.headers.get("origin"),
        request.headers.get("referer"),
    )
    verdict = verify(request.headers, tokens)
    reason = verdict.reason
    if reason is None and stale and verdict.token is not None:
        tokens.revoke(verdict.token)
        reason = REASON_TOKEN_INCORRECT
    if reason is not None:
        recorder.add_rejection(Rejection(path, reason, 403, verdict.token))
        logger.debug("CSRF verification failed: %s", reason)
        return html_response(403, csrf_failure_page(reason), DJANGO_HEADERS)
    try:
        messages = parse_request_body(request.body)
    except BadRequestBody as exc:
        return json_response(400, {"error": str(exc)}, DJANGO_HEADERS)
    recorder.add_completion()
    return json_response(200, {"response": reply_for(messages)}, DJANGO_HEADERS)
