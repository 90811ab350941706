"""The chat protocol's content, apart from HTTP: what the body of ``POST
/generate_response/`` must hold (checked as the site's Django view checks it), and the
emulator's default reply to it (the echo every test can predict, ``reply_for``).

Kept apart from ``site``, which routes and serves requests, because tests, fleets and
benchmarks call ``reply_for`` on their own to know what the emulator answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

ROLES = ("system", "user", "assistant")


def parse_request_body(body: bytes) -> list[dict[str, Any]]:
    """The messages of ``{"messages": [{"role": ..., "content": str}, ...]}`` (extra keys are
    ignored, as by a Django view), or a ``ValueError`` saying why the body is not that."""
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"Request body is not valid UTF-8 JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ValueError(f"Request body must be a JSON object, got {type(data).__name__}.")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError('Request body needs "messages", a non-empty list.')
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise ValueError(f"{where} must be an object, got {type(message).__name__}.")
        if message.get("role") not in ROLES:
            raise ValueError(f"{where}.role must be one of {', '.join(ROLES)}.")
        if not isinstance(message.get("content"), str):
            raise ValueError(f"{where}.content must be a string.")
    return messages


def reply_for(messages: Sequence[Mapping[str, object]]) -> str:
    """The emulator's answer to ``messages``: ``"[voigpt emulator] You said: {content}"`` for
    the last one whose role is "user", else ``"[voigpt emulator] No user message."``."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return f"[voigpt emulator] You said: {message.get('content')}"
    return "[voigpt emulator] No user message."
