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
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from voigpt.domain import errors
from voigpt.entrypoints import anthropic_format
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.model_ids import UnknownModel

logger = logging.getLogger("voigpt.server")

INVALID = "invalid_request_error"
_CHAT_ROUTES = "send tools and formats to /v1/chat/completions, /v1/responses or /v1/messages"
_NOT_SUPPORTED = {
    "n": "n must be 1: voigpt.com gives one answer",
    # Only where a route has none (legacy completions): the chat routes emulate them.
    "tools": f"tools are not supported on this route: {_CHAT_ROUTES}",
    "tool_choice": f"tool_choice is not supported on this route: {_CHAT_ROUTES}",
    "response_format": f"response_format is not supported on this route: {_CHAT_ROUTES}",
    "functions": "functions (deprecated by OpenAI) are not supported: send tools instead",
    "function_call": "function_call (deprecated by OpenAI) is not supported: send "
                     "tool_choice instead",
    "logprobs": "logprobs are not available from voigpt.com",
    "top_logprobs": "top_logprobs are not available from voigpt.com",
    "echo": "echo is not supported: voigpt.com answers with its reply alone",
    "suffix": "suffix is not supported: voigpt.com does not insert text",
}
# "messages[2]: 'role' must be ..." and "messages[2] is missing 'role'" -> messages[2].role;
# "messages[0].content[1]: ..." as is. The same for the chat route's tools and format, as
# the domain's reader names them: "tools[0].function.parameters is not ..." as is,
# "tools[0].function is missing 'name'" -> tools[0].function.name.
_WHERE = re.compile(
    r"^(messages(?:\[\d+\](?:\.content\[\d+\])?)?"
    r"|(?:tools|tool_choice|response_format|parallel_tool_calls)(?:\[\d+\])?(?:\.\w+)*)"
    r"(?::\s*'(\w+)'| is missing '(\w+)')?"
)


class APIError(HTTPException):
    """An answer other than success: raised anywhere in a request, turned into the
    response by the app's handler. An ``HTTPException``, so that FastAPI passes it on
    unchanged even when it is raised while the body is being read (the size cap)."""

    def __init__(
        self, status: int, message: str, *, type: str = INVALID, param: str | None = None,
        code: str | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers or {})
        self.status, self.message, self.type = status, message, type
        self.param, self.code = param, code

    def body(self) -> bytes:
        error = {"message": self.message, "type": self.type, "param": self.param,
                 "code": self.code}
        return json.dumps({"error": error}, ensure_ascii=False).encode()


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
        return APIError(400, message, param=_param_of(message), code="invalid_value")
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


def from_validation(problems: Sequence[Any]) -> APIError:
    """The answer for the first problem pydantic found in the request body."""
    problem = problems[0] if problems else {}
    location = [part for part in problem.get("loc", ()) if part != "body"]
    kind = problem.get("type", "")
    if kind == "json_invalid":
        return APIError(400, "the body is not valid JSON", code="invalid_json")
    if not location:
        hint = " sent as Content-Type: application/json" if isinstance(
            problem.get("input"), (bytes, str)) else ""
        return APIError(400, f"the body must be a JSON object{hint}",
                        code="invalid_value")
    head = str(location[0])
    if head == "messages":
        return _messages_problem(problem, location)
    param = _dotted(location)
    if head in _NOT_SUPPORTED and kind != "missing":
        return APIError(400, _NOT_SUPPORTED[head], param=head, code="unsupported_parameter")
    message = str(problem.get("msg", "is not valid")).removeprefix("Value error, ")
    if kind == "missing":
        return APIError(400, f"{param} is required", param=param, code="missing_required_parameter")
    return APIError(400, f"{param}: {message}", param=param, code="invalid_value")


def _messages_problem(problem: Any, location: list[Any]) -> APIError:
    if problem.get("type") == "missing":
        return APIError(400, "messages is required", param="messages",
                        code="missing_required_parameter")
    message = str(problem.get("msg", ""))
    message = message.removeprefix("Value error, ")
    return APIError(400, message, param=_param_of(message) or "messages", code="invalid_value")


def _param_of(message: str) -> str | None:
    match = _WHERE.match(message)
    if match is None:
        return None
    where, key, missing = match.groups()
    key = key or missing
    return f"{where}.{key}" if key and where != "messages" else where


def _dotted(location: Sequence[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _upstream_code(exc: errors.VoiGptError) -> str:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    return f"upstream_{name}"


# The refusals of ``voigpt serve``'s HTTP layer (connections.py, outermost.py): decided
# before a request reaches the app, or after the app can no longer answer. Each closes
# the connection.
_CLOSE = {"Connection": "close"}


def not_http(*, method: bool = False) -> APIError:
    """A head (or a chunked body) the HTTP parser cannot read."""
    message = ("the request method is not one this server knows" if method
               else "the request is not valid HTTP/1.1")
    return APIError(400, message, code="invalid_http_request", headers=_CLOSE)


def head_too_large(cap: int) -> APIError:
    return APIError(431, f"the request line and headers are larger than {cap} bytes",
                    code="request_headers_too_large", headers=_CLOSE)


def too_slow(part: str, seconds: float) -> APIError:
    """``part`` ("head" or "body") did not arrive whole within ``seconds``."""
    return APIError(408, f"the request {part} did not arrive within {seconds:g} seconds",
                    code="request_timeout", headers=_CLOSE)


def shutting_down() -> APIError:
    """The server stopped (its drain timeout passed) before this request had its answer."""
    return APIError(503, "the server is shutting down and could not finish this request",
                    type="server_error", code="server_shutting_down", headers=_CLOSE)


def no_answer() -> APIError:
    """The app ended without answering (a bug): what uvicorn would send as a plain 500."""
    return APIError(500, "internal server error", type="server_error", code="internal_error",
                    headers=_CLOSE)
