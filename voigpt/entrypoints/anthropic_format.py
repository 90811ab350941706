"""Anthropic's Messages API shapes, as plain dicts and event text: what ``voigpt serve``'s
``POST /v1/messages`` and ``POST /v1/messages/count_tokens`` answer, and the error body of
every route under ``/v1/messages``.

Stdlib only, as ``openai_format`` is: the pydantic models in
``entrypoints.server.anthropic_protocol`` *describe* these shapes for the OpenAPI
document; they are built here, cheaply. Usage is ``openai_format``'s estimate, so the two
dialects count a conversation alike: ``input_tokens`` is the chat route's
``prompt_tokens``, ``output_tokens`` its ``completion_tokens``. With tools or a format, the
input counts the instructions the model is given for them, and the output the calls'
text (as the history writes them).

Tool calls are ``tool_use`` blocks (``toolu_`` ids) with ``stop_reason: "tool_use"``;
streamed, each block's whole input is one ``input_json_delta``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from voigpt.domain.tools import OutputSpec, ToolCall
from voigpt.domain.tools.flow import with_instructions
from voigpt.domain.tools.history import calls_text
from voigpt.domain.values import Completion, Conversation
from voigpt.entrypoints.openai_format import usage

STOP_REASON = "end_turn"  # voigpt.com's reply is always a whole turn
TOOL_USE = "tool_use"
# Anthropic's error types by status; any other 4xx is invalid_request_error, as at
# Anthropic, and any other 5xx api_error (the status itself is kept: it is one rule for
# every dialect, and the SDKs retry by status).
ERROR_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def message_id() -> str:
    """``msg_`` and 24 random hex digits."""
    return f"msg_{os.urandom(12).hex()}"


def input_tokens(conversation: Conversation, spec: OutputSpec | None = None) -> int:
    """What ``count_tokens`` answers, and each message's ``usage.input_tokens``."""
    if spec is not None:
        conversation = with_instructions(conversation, spec)
    return usage(conversation, "")["prompt_tokens"]


def tool_use_id(call: ToolCall) -> str:
    """``toolu_`` and the call id's random part (``call_...``), so the same call keeps
    one id."""
    return "toolu_" + call.id.partition("_")[2] if "_" in call.id else "toolu_" + call.id


def message(conversation: Conversation, completion: Completion, *, id: str,
            spec: OutputSpec | None = None) -> dict[str, Any]:
    """The ``message`` object for one reply: a text block, or its tool calls'
    ``tool_use`` blocks."""
    if spec is not None:
        conversation = with_instructions(conversation, spec)
    calls = completion.tool_calls
    content: list[dict[str, Any]]
    if calls:
        written = calls_text((call.id, call.name, call.arguments) for call in calls)
        counts = usage(conversation, written)
        content = [{"type": "tool_use", "id": tool_use_id(call), "name": call.name,
                    "input": call.args} for call in calls]
    else:
        counts = usage(conversation, completion.text)
        content = [{"type": "text", "text": completion.text}]
    return {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": completion.model,
        "content": content,
        "stop_reason": TOOL_USE if calls else STOP_REASON,
        "stop_sequence": None,
        "usage": {"input_tokens": counts["prompt_tokens"],
                  "output_tokens": counts["completion_tokens"]},
    }


def message_events(conversation: Conversation, completion: Completion, *, id: str,
                   spec: OutputSpec | None = None) -> str:
    """A streamed reply as Server-Sent Events, in Anthropic's order: ``message_start`` (the
    message with no content yet), a ``ping``, each content block (``content_block_start``,
    one ``content_block_delta`` with the whole text, or a tool call's whole input as an
    ``input_json_delta``, since the site does not stream, ``content_block_stop``),
    ``message_delta`` (the stop reason and the output tokens), ``message_stop``."""
    whole = message(conversation, completion, id=id, spec=spec)
    output_tokens: int = whole["usage"]["output_tokens"]
    start = {**whole, "content": [], "stop_reason": None,
             "usage": {**whole["usage"], "output_tokens": 0}}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    if completion.tool_calls:
        events.append({"type": "ping"})
        for index, (block, call) in enumerate(zip(whole["content"], completion.tool_calls,
                                                  strict=True)):
            events += [
                {"type": "content_block_start", "index": index,
                 "content_block": {**block, "input": {}}},
                {"type": "content_block_delta", "index": index,
                 "delta": {"type": "input_json_delta", "partial_json": call.arguments}},
                {"type": "content_block_stop", "index": index},
            ]
    else:
        events += [
            {"type": "content_block_start", "index": 0,
             "content_block": {"type": "text", "text": ""}},
            {"type": "ping"},
            {"type": "content_block_delta", "index": 0,
             "delta": {"type": "text_delta", "text": completion.text}},
            {"type": "content_block_stop", "index": 0},
        ]
    events += [
        {"type": "message_delta", "delta": {"stop_reason": whole["stop_reason"],
                                            "stop_sequence": None},
         "usage": {"output_tokens": output_tokens}},
        {"type": "message_stop"},
    ]
    return "".join(f"event: {event['type']}\ndata: {_encode(event)}\n\n" for event in events)


def error(status: int, message: str) -> dict[str, Any]:
    """Anthropic's error body: ``{"type": "error", "error": {"type", "message"}}``."""
    kind = ERROR_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
