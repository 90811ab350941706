"""The 400s for a body that is not what a route reads: which parameter it got wrong
(``param``, as OpenAI names it: ``messages[2].role``, ``tools[0].function.name``) and the
code the SDKs know (missing, unsupported, invalid). Read off pydantic's problems, or off
the message of the domain's ``InvalidInput``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from voigpt.entrypoints.server.api_error import APIError

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
    return APIError(400, message, param=param_of(message) or "messages", code="invalid_value")


def param_of(message: str) -> str | None:
    """The parameter a domain error's message names first, if it names one."""
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
