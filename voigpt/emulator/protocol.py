"""The chat protocol as pure functions: validating a request body, and the emulator's reply."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

ROLES = ("system", "user", "assistant")
REPLY_PREFIX = "[voigpt emulator] "


class BadRequestBody(ValueError):
    """The body is not ``{"messages": [{"role": ..., "content": str}, ...]}``; ``str()`` says
    why, for the 400 response."""


def _check_message(index: int, item: object) -> dict[str, str]:
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        raise BadRequestBody(f"{where} must be an object, got {type(item).__name__}.")
    role, content = item.get("role"), item.get("content")
    if not isinstance(role, str) or role not in ROLES:
        allowed = ", ".join(f'"{r}"' for r in ROLES)
        raise BadRequestBody(f"{where}.role must be one of {allowed}.")
    if not isinstance(content, str):
        raise BadRequestBody(f"{where}.content must be a string.")
    return {"role": role, "content": content}


def parse_request_body(body: bytes) -> list[dict[str, str]]:
    """The validated messages of a request body, or ``BadRequestBody``. Extra keys are
    ignored, as by a Django view reading ``json.loads(request.body)["messages"]``."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadRequestBody(f"Request body is not valid UTF-8: {exc.reason}.") from None
    except json.JSONDecodeError as exc:
        raise BadRequestBody(f"Request body is not valid JSON: {exc.msg}.") from None
    if not isinstance(data, dict):
        raise BadRequestBody(f"Request body must be a JSON object, got {type(data).__name__}.")
    if "messages" not in data:
        raise BadRequestBody('Request body has no "messages" field.')
    messages = data["messages"]
    if not isinstance(messages, list):
        raise BadRequestBody(f'"messages" must be a list, got {type(messages).__name__}.')
    if not messages:
        raise BadRequestBody('"messages" must not be empty.')
    return [_check_message(i, item) for i, item in enumerate(messages)]


def reply_for(messages: Sequence[object]) -> str:
    """The emulator's answer to ``messages`` (mappings, or objects such as a domain ``Message``,
    with a role and a content): ``"[voigpt emulator] You said: {content}"`` for the last one
    whose role is "user" (a string, or an enum of that value), else ``"... No user message."``.
    """
    for message in reversed(messages):
        if isinstance(message, Mapping):
            role, content = message.get("role"), message.get("content")
        else:
            role, content = getattr(message, "role", None), getattr(message, "content", None)
        if getattr(role, "value", role) == "user":
            return f"{REPLY_PREFIX}You said: {content}"
    return f"{REPLY_PREFIX}No user message."
