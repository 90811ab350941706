"""Earlier tool calls and their results, as text the site can read.

voigpt.com takes messages of text, so a conversation's tool use is written out: an
assistant's calls as the very JSON the model is asked to answer with (so the history
shows it the shape it must use), and each result as a user message that names the call
it answers::

    {"tool_calls":[{"id":"call_1","name":"get_weather","arguments":{"city":"Paris"}}]}
    Result of tool call call_1 (get_weather):
    sunny, 21 °C

Every dialect (OpenAI's messages, the Responses API's items, Anthropic's blocks) uses
these two, so the model sees one convention whichever API the caller spoke.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def calls_text(calls: Iterable[tuple[str | None, str, object]]) -> str:
    """``{"tool_calls": [...]}`` for ``(id, name, arguments)`` calls; arguments given as
    JSON text are written as the object they hold."""
    written = []
    for call_id, name, arguments in calls:
        call: dict[str, Any] = {} if call_id is None else {"id": call_id}
        call["name"] = name
        call["arguments"] = _object(arguments)
        written.append(call)
    return _encode({"tool_calls": written})


def result_text(call_id: str | None, content: str, *, name: str | None = None,
                is_error: bool = False) -> str:
    """A tool's result (or its error), naming the call it answers."""
    kind = "Error from" if is_error else "Result of"
    label = " ".join(part for part in (call_id, f"({name})" if name else None) if part)
    return f"{kind} tool call {label}:\n{content}" if label else f"{kind} a tool call:\n{content}"


def _object(arguments: object) -> object:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments
