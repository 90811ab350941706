"""Anthropic's Messages API shapes, as plain dicts and event text: what ``voigpt serve``'s
``POST /v1/messages`` and ``POST /v1/messages/count_tokens`` answer, and the error body of
every route under ``/v1/messages``.

Stdlib only, as ``openai_format`` is: the pydantic models in
``entrypoints.server.anthropic_protocol`` *describe* these shapes for the OpenAPI
document; they are built here, cheaply. Usage is ``openai_format``'s estimate, so the two
dialects count a conversation alike: ``input_tokens`` is the chat route's
``prompt_tokens``, ``output_tokens`` its ``completion_tokens``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from voigpt.domain.values import Completion, Conversation
from voigpt.entrypoints.openai_format import usage

STOP_REASON = "end_turn"  # voigpt.com's reply is always a whole turn
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


def input_tokens(conversation: Conversation) -> int:
    """What ``count_tokens`` answers, and each message's ``usage.input_tokens``."""
    return usage(conversation, "")["prompt_tokens"]


def message(conversation: Conversation, completion: Completion, *, id: str) -> dict[str, Any]:
    """The ``message`` object for one reply."""
    counts = usage(conversation, completion.text)
    return {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": completion.model,
        "content": [{"type": "text", "text": completion.text}],
        "stop_reason": STOP_REASON,
        "stop_sequence": None,
        "usage": {"input_tokens": counts["prompt_tokens"],
                  "output_tokens": counts["completion_tokens"]},
    }


def message_events(conversation: Conversation, completion: Completion, *, id: str) -> str:
    """A streamed reply as Server-Sent Events, in Anthropic's order: ``message_start`` (the
    message with no content yet), one text block (``content_block_start``, a ``ping``, one
    ``content_block_delta`` with the whole text, since the site does not stream,
    ``content_block_stop``), ``message_delta`` (the stop reason and the output tokens),
    ``message_stop``."""
    whole = message(conversation, completion, id=id)
    output_tokens: int = whole["usage"]["output_tokens"]
    start = {**whole, "content": [], "stop_reason": None,
             "usage": {**whole["usage"], "output_tokens": 0}}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "text_delta", "text": completion.text}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": STOP_REASON, "stop_sequence": None},
         "usage": {"output_tokens": output_tokens}},
        {"type": "message_stop"},
    ]
    return "".join(f"event: {event['type']}\ndata: {_encode(event)}\n\n" for event in events)


def error(status: int, message: str) -> dict[str, Any]:
    """Anthropic's error body: ``{"type": "error", "error": {"type", "message"}}``."""
    kind = ERROR_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
