"""The ``input`` of a Responses request, read into the (role, text) turns sent upstream
and, when it holds more than messages, the items ``input_items`` lists.

``input`` is a string (one user message) or a list of items: messages (``{role,
content}`` or ``{type: "message", ...}``, with ``input_text``/``output_text`` parts),
``function_call`` items (an earlier answer's calls: consecutive ones are one assistant
turn, written by ``domain.tools.history.calls_text``) and ``function_call_output`` items
(a call's result, a user turn written by ``history.result_text``). Anything else (images,
files, hosted tools' items) is refused with a ``ValueError`` naming the item.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from voigpt.domain.tools.history import calls_text, result_text
from voigpt.entrypoints.responses_format import input_item

Turns = tuple[tuple[str, str], ...]
ROLES = ("user", "system", "developer", "assistant")
_TEXT_PARTS = ("input_text", "output_text", "text")  # a tuple: a part may hold a dict
_CALL = "function_call"
_OUTPUT = "function_call_output"


class Items(NamedTuple):
    """The turns; ``listed``: the items as ``input_items`` lists them, when one is not a
    message (None: each turn is a message, listed as such)."""

    turns: Turns
    listed: tuple[dict[str, Any], ...] | None = None


def read_input(value: object) -> Items:
    if isinstance(value, str):
        return Items((("user", value),))
    if not isinstance(value, list) or not value:
        raise ValueError("must be a string or a non-empty list of items")
    if not any(isinstance(item, dict) and item.get("type") in (_CALL, _OUTPUT)
               for item in value):
        return Items(tuple(_turn(item, index) for index, item in enumerate(value)))
    return _with_calls(value)


def _with_calls(value: list[Any]) -> Items:
    turns: list[tuple[str, str]] = []
    listed: list[dict[str, Any]] = []
    calls: list[tuple[str, str, str]] = []  # consecutive function_call items: one turn
    names: dict[str, str] = {}
    for index, item in enumerate(value):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == _CALL:
            call_id, name, arguments = (_string(item, key, index)
                                        for key in ("call_id", "name", "arguments"))
            calls.append((call_id, name, arguments))
            names[call_id] = name
            listed.append({"id": _id(item, "fc"), "type": _CALL, "status": "completed",
                           "arguments": arguments, "call_id": call_id, "name": name})
            continue
        if calls:
            turns.append(("assistant", calls_text(calls)))
            calls = []
        if kind == _OUTPUT:
            call_id = _string(item, "call_id", index)
            output = item.get("output")
            name = item.get("name")
            text = output if isinstance(output, str) else _text(output, index)
            turns.append(("user", result_text(call_id, text, name=name if isinstance(
                name, str) else names.get(call_id))))
            listed.append({"id": _id(item, "fco"), "type": _OUTPUT, "status": "completed",
                           "call_id": call_id, "output": output})
        else:
            turns.append(_turn(item, index))
            listed.append(input_item(*turns[-1]))
    if calls:
        turns.append(("assistant", calls_text(calls)))
    return Items(tuple(turns), tuple(listed))


def _turn(item: object, index: int) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise ValueError(f"item {index} must be a message object, got {type(item).__name__}")
    kind = item.get("type")
    if kind not in (None, "message"):
        raise ValueError(f"item {index} has type {str(kind)[:40]!r}: only messages, "
                         "function_call and function_call_output items are supported")
    role = item.get("role")
    if role not in ROLES:
        raise ValueError(f"item {index}: 'role' must be one of {', '.join(ROLES)}, "
                         f"got {str(role)[:40]!r}")
    content = item.get("content")
    if isinstance(content, str):
        return role, content
    return role, _text(content, index)


def _text(content: object, index: int) -> str:
    if not isinstance(content, list):
        raise ValueError(f"item {index}: its content must be a string or a list of text "
                         "parts")
    texts = []
    for number, part in enumerate(content):
        part_kind = part.get("type") if isinstance(part, dict) else None
        text = part.get("text") if isinstance(part, dict) else None
        if part_kind not in _TEXT_PARTS or not isinstance(text, str):
            raise ValueError(f"item {index}, part {number}: only text parts (input_text, "
                             f"output_text) are supported, got {str(part_kind)[:40]!r}")
        texts.append(text)
    return "".join(texts)


def _string(item: dict[str, Any], key: str, index: int) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise ValueError(f"item {index} ({item['type']}): {key!r} must be a string")
    return value


def _id(item: dict[str, Any], prefix: str) -> str:
    given = item.get("id")
    return given if isinstance(given, str) and given else f"{prefix}_{os.urandom(16).hex()}"
