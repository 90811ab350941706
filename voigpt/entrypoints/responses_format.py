"""OpenAI's Responses API shapes, as plain dicts: the ``response`` object of
``POST /v1/responses``, its ``message`` output item, the events of a streamed response
and the input items of ``GET /v1/responses/{id}/input_items``.

Stdlib only, as ``openai_format`` is: ``entrypoints.server.responses_protocol`` describes
these shapes for the OpenAPI document. Usage is ``openai_format``'s estimate:
``input_tokens`` is the chat route's ``prompt_tokens``, ``output_tokens`` its
``completion_tokens``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from typing import Any

from voigpt.domain.values import Conversation
from voigpt.entrypoints.openai_format import usage

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_string = json.encoder.encode_basestring  # what that encoder writes a str with


def response_id() -> str:
    """``resp_``, the time in microseconds (14 hex digits), 96 random bits (24): ids sort
    in the order they were made, as OpenAI's (which begin with the time in seconds) do, so
    a shared store's key index takes each new one at its end instead of at a random page
    (``--state sqlite``: half the pages a put writes)."""
    return f"resp_{time.time_ns() // 1000:014x}{os.urandom(12).hex()}"


def item_id() -> str:
    return f"msg_{os.urandom(16).hex()}"


def input_item(role: str, text: str) -> dict[str, Any]:
    """A message as ``input_items`` lists it: an assistant's text is ``output_text``."""
    kind = "output_text" if role == "assistant" else "input_text"
    part: dict[str, Any] = {"type": kind, "text": text}
    if kind == "output_text":
        part["annotations"] = []
    return {"id": item_id(), "type": "message", "role": role, "content": [part],
            "status": "completed"}


def output_item(id: str, text: str | None) -> dict[str, Any]:
    """The assistant's message; with no text yet, the item as it starts (in progress)."""
    content = [] if text is None else [output_text(text)]
    return {"id": id, "type": "message", "status": "in_progress" if text is None else
            "completed", "role": "assistant", "content": content}


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def response(
    options: Mapping[str, Any], *, id: str, created_at: int, model: str,
    conversation: Conversation | None = None, item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``response`` object: completed with ``item`` (usage counted over
    ``conversation``), else in progress with no output yet. ``options`` are the request's
    parameters that the object echoes."""
    done = item is not None
    counts = None
    if item is not None and conversation is not None:
        counts = response_usage(conversation, item["content"][0]["text"])
    return {
        "id": id, "object": "response", "created_at": created_at,
        "status": "completed" if done else "in_progress",
        "background": False, "error": None, "incomplete_details": None,
        "instructions": options.get("instructions"),
        "max_output_tokens": options.get("max_output_tokens"),
        "model": model, "output": [item] if done else [],
        "parallel_tool_calls": _given(options, "parallel_tool_calls", True),
        "previous_response_id": options.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default", "store": _given(options, "store", True),
        "temperature": _given(options, "temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto", "tools": [], "top_p": _given(options, "top_p", 1.0),
        "truncation": "disabled", "usage": counts, "user": options.get("user"),
        "metadata": _given(options, "metadata", {}),
    }


def response_usage(conversation: Conversation, text: str) -> dict[str, Any]:
    estimate = usage(conversation, text)
    return {
        "input_tokens": estimate["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": estimate["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": estimate["total_tokens"],
    }


def encoded_response(
    options: Mapping[str, Any], *, id: str, created_at: int, model: str,
    conversation: Conversation, item: dict[str, Any],
) -> str:
    """The JSON of the completed ``response(...)``, character for character, written
    without the encoder's walk over the whole object: the answer of every request (and
    the record it is stored in), so the Responses route's hot path. ``item`` is an
    ``output_item`` with its text."""
    text = item["content"][0]["text"]
    counts = response_usage(conversation, text)
    return "".join((
        '{"id":', _string(id), ',"object":"response","created_at":', _json(created_at),
        ',"status":"completed","background":false,"error":null,"incomplete_details":null,'
        '"instructions":', _json(options.get("instructions")),
        ',"max_output_tokens":', _json(options.get("max_output_tokens")),
        ',"model":', _string(model),
        ',"output":[{"id":', _string(item["id"]), ',"type":"message","status":"completed",'
        '"role":"assistant","content":[{"type":"output_text","text":', _string(text),
        ',"annotations":[],"logprobs":[]}]}]',
        ',"parallel_tool_calls":', _json(_given(options, "parallel_tool_calls", True)),
        ',"previous_response_id":', _json(options.get("previous_response_id")),
        ',"reasoning":{"effort":null,"summary":null},"service_tier":"default","store":',
        _json(_given(options, "store", True)),
        ',"temperature":', _json(_given(options, "temperature", 1.0)),
        ',"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":"auto",'
        '"tools":[],"top_p":', _json(_given(options, "top_p", 1.0)),
        ',"truncation":"disabled","usage":{"input_tokens":', str(counts["input_tokens"]),
        ',"input_tokens_details":{"cached_tokens":0},"output_tokens":',
        str(counts["output_tokens"]),
        ',"output_tokens_details":{"reasoning_tokens":0},"total_tokens":',
        str(counts["total_tokens"]),
        '},"user":', _json(options.get("user")),
        ',"metadata":', _json(_given(options, "metadata", {})), "}",
    ))


def _json(value: Any) -> str:
    """``value`` as the encoder writes it; its scalars without the encoder's set-up."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if kind is dict and not value:
        return "{}"
    return _encode(value)


def _given(options: Mapping[str, Any], name: str, default: Any) -> Any:
    value = options.get(name)
    return default if value is None else value


def events(
    options: Mapping[str, Any], conversation: Conversation, *, id: str, created_at: int,
    model: str, item: dict[str, Any],
) -> str:
    """The Server-Sent Events of a streamed response, in OpenAI's order, each named and
    numbered (``sequence_number``): created, in progress, the item and its part added, the
    text (one delta: the site does not stream) and its end, the part and the item done,
    completed."""
    started = response(options, id=id, created_at=created_at, model=model)
    frames: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        *message_frames(0, item),
        {"type": "response.completed", "response": response(
            options, id=id, created_at=created_at, model=model, conversation=conversation,
            item=item)},
    ]
    return "".join(
        f"event: {frame['type']}\ndata: {_encode({**frame, 'sequence_number': n})}\n\n"
        for n, frame in enumerate(frames)
    )


def message_frames(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of the message ``item`` at ``output_index`` ``index``: added, its part
    added, its text in one delta and done, the part and the item done."""
    text = item["content"][0]["text"]
    place = {"item_id": item["id"], "output_index": index, "content_index": 0}
    return [
        {"type": "response.output_item.added", "output_index": index,
         "item": output_item(item["id"], None)},
        {"type": "response.content_part.added", **place, "part": output_text("")},
        {"type": "response.output_text.delta", **place, "delta": text, "logprobs": []},
        {"type": "response.output_text.done", **place, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **place, "part": output_text(text)},
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]
