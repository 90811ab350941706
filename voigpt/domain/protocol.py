"""The shape of voigpt.com's messages, as pure functions (no I/O).

Request body: ``{"messages": [{"role": ..., "content": ...}, ...]}``.
Reply body: ``{"response": "<text>"}``.
"""

from __future__ import annotations

import json
from typing import Any

from voigpt.domain.errors import MalformedReply
from voigpt.domain.values import Conversation

TOKEN_COOKIE = "csrftoken"
TOKEN_HEADER = "X-CSRFToken"
COMPLETION_PATH = "/generate_response/"


def encode_request(conversation: Conversation) -> bytes:
    """The JSON body of ``POST /generate_response/``, UTF-8 encoded."""
    payload: dict[str, Any] = {"messages": conversation.to_dicts()}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_reply(body: str, *, where: str = "the reply", status: int | None = None) -> str:
    """Extract the reply text, or raise ``MalformedReply`` with an excerpt of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedReply(
            f"{where} is not JSON", status=status, body=body or "<empty body>"
        ) from None
    if not isinstance(data, dict) or "response" not in data:
        raise MalformedReply(f'{where} has no "response" field', status=status, body=body)
    text = data["response"]
    if not isinstance(text, str):
        raise MalformedReply(
            f'{where} has a "response" of type {type(text).__name__}, not a string',
            status=status,
            body=body,
        )
    return text
