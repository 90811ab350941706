"""One line of an OpenAI Batch input file, checked and reduced to what is sent.

A line is ``{"custom_id": str, "method": "POST", "url": "/v1/chat/completions", "body":
{"model": ..., "messages": [...], ...}}``. As ``voigpt serve`` does, the body's sampling
parameters (``temperature``, ``max_tokens``...) are accepted and ignored, since voigpt.com
has no use for them.

``tools``, ``tool_choice``, ``parallel_tool_calls`` and ``response_format`` (OpenAI's chat
shapes) are read into an ``OutputSpec`` here, before anything is sent, so a bad one is a
problem of its line naming where it is (``body.tools[0].function.parameters: ...``); the
history may hold assistant ``tool_calls`` and ``tool`` results. Parameters the answer could
not honour are refused, naming the parameter: several choices, hosted tools (web search,
file search...), the legacy ``functions``, log probabilities, audio, streaming.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from voigpt.domain.errors import InvalidInput, InvalidMessages
from voigpt.domain.models import resolve_model
from voigpt.domain.tools.openai import output_spec
from voigpt.domain.tools.values import OutputSpec
from voigpt.domain.values import Conversation

METHOD = "POST"
URL = "/v1/chat/completions"


class LineProblem(ValueError):
    """Why one line cannot be run; the message names the field."""


@attrs.frozen
class BatchRequest:
    custom_id: str
    conversation: Conversation
    model: str
    spec: OutputSpec | None = None  # the tools and format asked for; None: a text answer


def load(raw: bytes) -> dict[str, Any]:
    """The line (without its newline) as a JSON object."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise LineProblem(f"not UTF-8 (byte {exc.start + 1})") from None
    except json.JSONDecodeError as exc:
        raise LineProblem(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise LineProblem(f"must be a JSON object, got {_json_type(data)}")
    return data


def custom_id_of(data: dict[str, Any]) -> str:
    if "custom_id" not in data:
        raise LineProblem("'custom_id' is missing")
    custom_id = data["custom_id"]
    if not isinstance(custom_id, str) or not custom_id:
        raise LineProblem(f"'custom_id' must be a non-empty string, got {_short(custom_id)}")
    return custom_id


def request_from(data: dict[str, Any], custom_id: str) -> BatchRequest:
    """The rest of the line, once its ``custom_id`` is known."""
    if data.get("method") != METHOD:
        raise LineProblem(f"'method' must be {METHOD!r}, got {_short(data.get('method'))}")
    if data.get("url") != URL:
        raise LineProblem(f"'url' must be {URL!r}, got {_short(data.get('url'))}")
    body = data.get("body")
    if not isinstance(body, dict):
        raise LineProblem(f"'body' must be an object, got {_json_type(body)}")
    _refuse_shape_changes(body)
    if "messages" not in body:
        raise LineProblem("'body.messages' is missing")
    try:
        conversation = Conversation.from_dicts(body["messages"])
    except InvalidMessages as exc:
        raise LineProblem(f"body.{exc}") from None
    try:
        model = resolve_model(body.get("model"))
    except InvalidInput as exc:
        raise LineProblem(f"body.{exc}") from None
    return BatchRequest(custom_id, conversation, model, _spec_of(body))


def parse(raw: bytes) -> BatchRequest:
    data = load(raw)
    return request_from(data, custom_id_of(data))


def _spec_of(body: dict[str, Any]) -> OutputSpec | None:
    """What the answer must be besides text; None (no work at all) when nothing is asked."""
    asked = [body.get(key) for key in _SPEC_KEYS]
    if all(value is None for value in asked):
        return None
    try:
        return output_spec(*asked)
    except InvalidInput as exc:
        raise LineProblem(f"body.{exc}") from None


_SPEC_KEYS = ("tools", "tool_choice", "response_format", "parallel_tool_calls")


def _refuse_shape_changes(body: dict[str, Any]) -> None:
    n = body.get("n")
    if n is not None and not (type(n) is int and n == 1):
        raise LineProblem(f"'body.n' must be 1 (one choice per request), got {_short(n)}")
    for key, plain in (("functions", (None, [])), ("function_call", (None, "none", "auto"))):
        if body.get(key) not in plain:
            raise LineProblem(f"'body.{key}' (deprecated by OpenAI) is not supported: "
                              "send 'tools' and 'tool_choice' instead")
    if body.get("logprobs") or body.get("top_logprobs"):
        raise LineProblem("'body.logprobs': voigpt.com gives no log probabilities")
    if body.get("audio") is not None or body.get("modalities") not in (None, ["text"]):
        raise LineProblem("'body.audio'/'body.modalities': voigpt.com answers in text only")
    if body.get("stream"):
        raise LineProblem("'body.stream': a batch does not stream; drop it")


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "nothing"
    return text if len(text) <= 60 else text[:57] + "..."
