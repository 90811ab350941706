"""Validation of the ``POST /generate_response/`` JSON body (pure, no I/O)."""

from __future__ import annotations

import json

ROLES = ("system", "user", "assistant")


class BadRequestBody(ValueError):
    """The body is not ``{"messages": [{"role": ..., "content": str}, ...]}``.

    ``str()`` says why, for the 400 response."""


def _parse_json(body: bytes) -> object:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequestBody(f"Request body is not valid UTF-8: {exc.reason}.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequestBody(f"Request body is not valid JSON: {exc.msg}.") from None


def _check_message(index: int, item: object) -> dict[str, str]:
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        raise BadRequestBody(f"{where} must be an object, got {type(item).__name__}.")
    role = item.get("role")
    if not isinstance(role, str) or role not in ROLES:
        allowed = ", ".join(f'"{r}"' for r in ROLES)
        raise BadRequestBody(f"{where}.role must be one of {allowed}.")
    content = item.get("content")
    if not isinstance(content, str):
        raise BadRequestBody(f"{where}.content must be a string.")
    return {"role": role, "content": content}


def parse_request_body(body: bytes) -> list[dict[str, str]]:
    """The validated messages of a request body, or ``BadRequestBody``.

    Extra keys (top-level or per message) are ignored, as a Django view reading
    ``json.loads(request.body)["messages"]`` would.
    """
    data = _parse_json(body)
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
