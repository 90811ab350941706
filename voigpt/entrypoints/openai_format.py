"""OpenAI's ``chat.completion`` shapes, as plain dicts: what ``voigpt serve`` answers and what
``voigpt batch`` writes, built in one place so the two agree to the byte; and the legacy
``text_completion`` shapes of ``POST /v1/completions``.

Stdlib only (no pydantic): the server's pydantic models in ``entrypoints.server.protocol``
*describe* these shapes for the OpenAPI document; they are built here, cheaply.

A reply with tool calls is OpenAI's: ``content: null``, ``message.tool_calls`` (ids
``call_...``, arguments as JSON text) and ``finish_reason: "tool_calls"``; a structured
answer is ``content`` holding its JSON. A plain reply's message is as it always was.

Usage is an estimate: voigpt.com reports no token counts, so a text counts one token per
four characters (rounded up), and each message three more for its framing, as OpenAI's
own rule of thumb for English has it; tool calls count their names and arguments. Good
enough for budgets; not a bill.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from voigpt.domain.tools import ToolCall
from voigpt.domain.values import Completion, Conversation

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING_TOKENS = 3


def completion_id(prefix: str = "chatcmpl-") -> str:
    """``prefix`` (``chatcmpl-``; ``cmpl-`` for a legacy completion) and 32 random hex
    digits."""
    return f"{prefix}{os.urandom(16).hex()}"


def estimate_tokens(text: str) -> int:
    """About one token per four characters, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def usage(conversation: Conversation, reply: str) -> dict[str, int]:
    prompt = REPLY_PRIMING_TOKENS + sum(
        TOKENS_PER_MESSAGE + estimate_tokens(message.content)
        for message in conversation.messages
    )
    answer = estimate_tokens(reply)
    return {"prompt_tokens": prompt, "completion_tokens": answer, "total_tokens": prompt + answer}


def chat_completion(
    conversation: Conversation,
    completion: Completion,
    *,
    id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """The ``chat.completion`` object for one reply."""
    calls = completion.tool_calls
    message: dict[str, Any] = (
        {"role": "assistant", "content": completion.text, "refusal": None} if not calls
        else {"role": "assistant", "content": None, "refusal": None,
              "tool_calls": [_call(call) for call in calls]})
    return {
        "id": id or completion_id(),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": completion.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if calls else "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(conversation, _answered(completion)),
        "system_fingerprint": None,
    }


def _call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function",
            "function": {"name": call.name, "arguments": call.arguments}}


def _answered(completion: Completion) -> str:
    """What the reply holds, as usage counts it: its text, or its calls' names and
    arguments."""
    if not completion.tool_calls:
        return completion.text
    return "".join(call.name + call.arguments for call in completion.tool_calls)


def chat_completion_chunks(
    conversation: Conversation,
    completion: Completion,
    *,
    id: str | None = None,
    created: int | None = None,
    include_usage: bool = False,
) -> Sequence[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed reply: the role, the content (in
    one piece, since the site does not stream), the ``finish_reason``, and, when asked for
    with ``stream_options.include_usage``, the usage chunk with empty ``choices``. With
    ``include_usage`` every other chunk carries ``"usage": null``, as OpenAI sends them.
    Tool calls are OpenAI's deltas: the role with ``content: null``, then for each call
    its index, id, type and name (with empty arguments), then its arguments whole; then
    ``finish_reason: "tool_calls"``."""
    base = {
        "id": id or completion_id(),
        "object": "chat.completion.chunk",
        "created": int(time.time()) if created is None else created,
        "model": completion.model,
        "system_fingerprint": None,
    }
    deltas = (_text_deltas(completion.text) if not completion.tool_calls
              else _call_deltas(completion.tool_calls))
    chunks: list[dict[str, Any]] = []
    for delta, finish_reason in deltas:
        chunk = {
            **base,
            "choices": [
                {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
            ],
        }
        if include_usage:
            chunk["usage"] = None
        chunks.append(chunk)
    if include_usage:
        chunks.append({**base, "choices": [],
                       "usage": usage(conversation, _answered(completion))})
    return chunks


Deltas = list[tuple[dict[str, Any], str | None]]


def _text_deltas(text: str) -> Deltas:
    return [({"role": "assistant", "content": "", "refusal": None}, None),
            ({"content": text}, None), ({}, "stop")]


def _call_deltas(calls: Sequence[ToolCall]) -> Deltas:
    deltas: Deltas = [({"role": "assistant", "content": None, "refusal": None}, None)]
    for index, call in enumerate(calls):
        deltas.append(({"tool_calls": [{
            "index": index, "id": call.id, "type": "function",
            "function": {"name": call.name, "arguments": ""}}]}, None))
        deltas.append(({"tool_calls": [{
            "index": index, "function": {"arguments": call.arguments}}]}, None))
    deltas.append(({}, "tool_calls"))
    return deltas


def text_completion(
    conversation: Conversation, completion: Completion, *, id: str, created: int | None = None,
) -> dict[str, Any]:
    """The legacy ``text_completion`` object for one reply (``POST /v1/completions``)."""
    return {
        **_text_base(completion, id, created),
        "choices": [_text_choice(completion.text, "stop")],
        "usage": usage(conversation, completion.text),
    }


def text_completion_chunks(
    conversation: Conversation, completion: Completion, *, id: str,
    created: int | None = None, include_usage: bool = False,
) -> Sequence[dict[str, Any]]:
    """The ``text_completion`` objects of a streamed legacy reply: the text (in one piece),
    then an empty text with ``finish_reason: "stop"``, and with ``include_usage`` a usage
    chunk with empty ``choices`` (every other chunk then carries ``"usage": null``)."""
    base = _text_base(completion, id, created)
    chunks = [{**base, "choices": [_text_choice(text, reason)]}
              for text, reason in ((completion.text, None), ("", "stop"))]
    if include_usage:
        for chunk in chunks:
            chunk["usage"] = None
        chunks.append({**base, "choices": [], "usage": usage(conversation, completion.text)})
    return chunks


def _text_base(completion: Completion, id: str, created: int | None) -> dict[str, Any]:
    return {
        "id": id, "object": "text_completion",
        "created": int(time.time()) if created is None else created,
        "model": completion.model, "system_fingerprint": None,
    }


def _text_choice(text: str, finish_reason: str | None) -> dict[str, Any]:
    return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}
