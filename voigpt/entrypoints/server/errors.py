"""Every error the server answers, in OpenAI's shape::

    {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}

with the status that makes the openai SDK do the right thing: 400 bad input (naming the
parameter), 401 no or wrong key, 404 unknown route or model, 413 body too large, 429 the
site's rate limit (its ``Retry-After`` passed on) or this server's concurrency limit, 502
or 503 the site failed, 504 the deadline passed. ``voigpt serve``'s HTTP layer
(``connections.py``) answers in the same shape: 400 not HTTP, 408 too slow, 431 head too
large, 503 cut short by the drain timeout. Under ``/v1/messages`` the same errors, with
the same statuses, are in Anthropic's shape (``body_for``). voigpt's errors never carry a
token, a cookie or a proxy password, so their messages can be shown as they are.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from voigpt.domain import errors
from voigpt.entrypoints import anthropic_format
from voigpt.entrypoints.server.api_error import INVALID, APIError
from voigpt.entrypoints.server.bad_requests import from_validation, param_of
from voigpt.entrypoints.server.http_refusals import (
    head_too_large,
    no_answer,
    not_http,
    shutting_down,
    too_slow,
)
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.model_ids import UnknownModel

# Where each lives: api_error.py (the exception), bad_requests.py (the 400s' parameter),
# http_refusals.py (the connection layer's); imported from here as they always were.
__all__ = ["ANTHROPIC_PATH", "INVALID", "APIError", "ErrorAnswers", "body_for",
           "from_validation", "from_voigpt", "head_too_large", "no_answer", "not_http",
           "shutting_down", "too_slow"]
logger = logging.getLogger("voigpt.server")


class ErrorAnswers:
    """The response for whatever a request raised, wherever it was raised (the completion
    endpoint, a FastAPI route, the gate's body cap), each counted as a rejection by its
    code. Anything unforeseen is a 500 whose log line names only the exception's class."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self.metrics = metrics

    def __call__(self, exc: Exception, scope: Mapping[str, Any]) -> Response:
        error = self.error_of(exc, scope)
        self.metrics.rejected(error.code)
        return Response(body_for(error, scope), error.status, dict(error.headers or {}),
                        "application/json")

    def error_of(self, exc: Exception, scope: Mapping[str, Any]) -> APIError:
        if isinstance(exc, APIError):
            return exc
        if isinstance(exc, UnknownModel):
            return APIError(404, exc.message, param=exc.param, code="model_not_found")
        if isinstance(exc, errors.VoiGptError):
            return from_voigpt(exc)
        if isinstance(exc, RequestValidationError):
            return from_validation(exc.errors())
        what = f"{scope.get('method')} {scope.get('path')}"
        if isinstance(exc, HTTPException):
            return _from_http(exc, what)
        logger.error("internal error in %s: %s", what, type(exc).__name__)
        return APIError(500, "internal server error", type="server_error",
                        code="internal_error")


# The routes at and under this path speak Anthropic's Messages API (anthropic_messages.py).
ANTHROPIC_PATH = "/v1/messages"


def body_for(error: APIError, scope: Mapping[str, Any]) -> bytes:
    """``error``'s body in the dialect of the path it answers, decided here once for
    whoever raised it (an endpoint, a FastAPI route, the gate, the connection layer):
    Anthropic's ``{"type": "error", "error": {type, message}}`` at and under
    ``/v1/messages``, OpenAI's everywhere else. The status is the same in both."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):  # mounted under a prefix, as the router reads it
        path = path[len(root):]
    if path == ANTHROPIC_PATH or path.startswith(ANTHROPIC_PATH + "/"):
        document = anthropic_format.error(error.status, error.message)
        return json.dumps(document, ensure_ascii=False).encode()
    return error.body()


def _from_http(exc: HTTPException, what: str) -> APIError:
    """Starlette's own refusals: no route, wrong method (its Allow header kept). No FastAPI
    route reads a body (the completion endpoint parses its own), so FastAPI's 400 for an
    undecodable body cannot come."""
    status = exc.status_code
    code = {404: "unknown_url", 405: "method_not_allowed"}.get(status)
    message = (f"no route {what}" if status == 404
               else f"{what} is not allowed" if status == 405
               else "the request failed")
    return APIError(status, message, code=code, headers=dict(exc.headers or {}))


def from_voigpt(exc: errors.VoiGptError) -> APIError:
    """The answer for what the use case raised."""
    message = str(exc)
    if isinstance(exc, errors.InvalidInput):
        return APIError(400, message, param=param_of(message), code="invalid_value")
    if isinstance(exc, errors.RateLimited):
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return APIError(429, f"voigpt.com is rate limiting: {message}", type="requests",
                        code="rate_limit_exceeded", headers=headers)
    if isinstance(exc, errors.TimedOut):
        return APIError(504, message, type="server_error", code="upstream_timeout")
    if isinstance(exc, errors.ServiceUnavailable):
        return APIError(503, message, type="server_error", code="upstream_unavailable")
    if isinstance(exc, errors.InvalidModelReply):  # not the site's fault: the model's
        # Already repaired once: the SDKs' own retries (x-should-retry, which the openai
        # and anthropic SDKs obey) would only pay for two more upstream requests each.
        return APIError(502, message, type="server_error", code="invalid_model_reply",
                        headers={"x-should-retry": "false"})
    return APIError(502, message, type="server_error", code=_upstream_code(exc))


def _upstream_code(exc: errors.VoiGptError) -> str:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    return f"upstream_{name}"
